// SPDX-License-Identifier: GPL-3.0-or-later
// Recovery: an interrupted transaction (a crash, a kill, a power cut) is completed or rolled back before anything
// else touches the dataset.
#include <algorithm>

#include <QFileInfo>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"
#include "core/cleaning/transaction.h"
#include "core/cleaning/transaction_p.h"

namespace Winnow {

QString RecoveryAction::text() const
{
    QString s;
    if (!resolved)
        s = QStringLiteral("Interrupted %1 of transaction %2 could not be fully rolled back; it will be retried.")
                .arg(phase, transactionId);
    else if (completed)
        s = QStringLiteral("Interrupted %1 of transaction %2 was completed (every file had already moved).")
                .arg(phase, transactionId);
    else
        s = QStringLiteral("Interrupted %1 of transaction %2 was rolled back (%3 file(s) returned).")
                .arg(phase, transactionId)
                .arg(filesMoved);
    return s;
}

bool RecoveryReport::ok() const
{
    if (!error.isEmpty())
        return false;
    return std::all_of(actions.cbegin(), actions.cend(), [](const RecoveryAction& a) { return a.resolved; });
}

QString RecoveryReport::message() const
{
    QStringList lines;
    if (!error.isEmpty())
        lines << QStringLiteral("Recovery failed: ") + error;
    for (const RecoveryAction& a : actions) {
        lines << a.text();
        for (const QString& p : a.problems)
            lines << QStringLiteral("  ") + p;
    }
    return lines.join(QLatin1Char('\n'));
}

namespace Cleaning {

using namespace Internal;

namespace Internal {

RecoveryAction resolveIncomplete(const Context& ctx, Txn& t)
{
    RecoveryAction a;
    a.transactionId = t.journal.id;
    a.phase = QString::fromLatin1(phaseName(t.log.pending));
    Fs::AppendLog log;
    QString err;
    if (!log.open(t.logPath, &err)) {
        a.problems << err;
        return a;
    }
    if (!t.log.hasLog) {
        if (!log.append("begin apply", &err)) {
            a.problems << err;
            return a;
        }
        t.log.hasLog = true;
    }
    const Phase p = t.log.pending;
    if (!t.log.rollingBack) {
        const Where target = isForward(p) ? Where::To : Where::From;
        bool allThere = true;
        for (int i = 0; i < t.journal.steps.size() && allThere; ++i)
            allThere = locate(ctx, t.journal.steps.at(i), t.log.pos.value(i, -1)) == target;
        if (allThere) {
            syncTouchedDirs(ctx, t);
            tidy(ctx, t, isForward(p));
            updateSplitStore(ctx, t, isForward(p), &a.problems);
            crashPoint("recovery before commit");
            if (!log.append("commit " + phaseName(p), &err)) {
                a.problems << err;
                return a;
            }
            t.log.pending = Phase::None;
            a.completed = true;
            a.resolved = true;
            return a;
        }
    }
    const RollbackOutcome rb = rollback(ctx, t, p, log);
    a.resolved = rb.resolved;
    a.filesMoved = rb.moved;
    a.problems = rb.problems;
    return a;
}

RecoveryReport recoverLocked(const Context& ctx)
{
    RecoveryReport report;
    History h = loadHistory(ctx);
    if (!h.errors.isEmpty())
        report.error = h.errors.join(QStringLiteral("; "));
    for (Txn& t : h.txns) {
        if (t.state() == TransactionState::Incomplete)
            report.actions << resolveIncomplete(ctx, t);
    }
    return report;
}

} // namespace Internal

RecoveryReport recover(const QString& root)
{
    const Context ctx(root);
    if (!QFileInfo(ctx.journalDir).isDir())
        return {};
    const History quick = loadHistory(ctx);
    if (!quick.hasIncomplete() && quick.errors.isEmpty() && staleTemps(ctx, false) == 0)
        return {};
    RootLock lock;
    RecoveryReport report;
    if (!lock.lock(ctx, &report.error)) {
        report.busy = lock.busy();
        return report;
    }
    return recoverLocked(ctx);
}

} // namespace Cleaning
} // namespace Winnow
