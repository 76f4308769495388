// SPDX-License-Identifier: GPL-3.0-or-later
// Cleaning transactions: preview, apply, rename, undo, redo and status (transaction.h); the machinery is in
// transactioncore.cpp, recovery in recovery.cpp, the trash in trash.cpp.

#include "core/cleaning/transaction.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"
#include "core/cleaning/transaction_p.h"

namespace Winnow {

QString transactionStateName(TransactionState s)
{
    switch (s) {
    case TransactionState::Incomplete:
        return QStringLiteral("incomplete");
    case TransactionState::Applied:
        return QStringLiteral("applied");
    case TransactionState::Undone:
        return QStringLiteral("undone");
    case TransactionState::RolledBack:
        return QStringLiteral("rolled back");
    }
    return {};
}

QString TransactionResult::message() const
{
    QStringList lines;
    if (recovery.acted() || !recovery.error.isEmpty())
        lines << recovery.message();
    if (ok) {
        lines << summary;
    } else {
        lines << error;
        constexpr int kMaxLines = 30;
        for (int i = 0; i < problems.size() && i < kMaxLines; ++i)
            lines << QStringLiteral("  ") + problems.at(i);
        if (problems.size() > kMaxLines)
            lines << QStringLiteral("  ... and %1 more").arg(problems.size() - kMaxLines);
    }
    for (const QString& w : warnings)
        lines << QStringLiteral("warning: ") + w;
    return lines.join(QLatin1Char('\n'));
}

namespace Cleaning {

using namespace Internal;

namespace Internal {

bool exists(const Context& ctx, const QString& rel)
{
    return Fs::lstatPath(ctx.abs(rel)).exists;
}

QString uniqueDestination(const Context& ctx, const QString& dest, QSet<QString>& reserved)
{
    auto isFree = [&](const QString& rel) { return !reserved.contains(rel.toLower()) && !exists(ctx, rel); };
    QString chosen = dest;
    if (!isFree(dest)) {
        const QString dir = parentOf(dest);
        const QString name = dest.section(QLatin1Char('/'), -1);
        const int dot = int(name.lastIndexOf(QLatin1Char('.')));
        QString base = dot > 0 ? name.left(dot) : name;
        const QString ext = dot > 0 ? name.mid(dot) : QString();
        int n = 1;
        static const QRegularExpression kNumbered(QStringLiteral("^(.*) \\((\\d+)\\)$"));
        if (const auto m = kNumbered.match(base); m.hasMatch()) {
            base = m.captured(1);
            n = m.captured(2).toInt() + 1;
        }
        do {
            const QString candidate = base + QStringLiteral(" (%1)").arg(n++) + ext;
            chosen = dir.isEmpty() ? candidate : dir + QLatin1Char('/') + candidate;
        } while (!isFree(chosen));
    }
    reserved.insert(chosen.toLower());
    return chosen;
}

void checkDestinationFolder(const Context& ctx, const QString& dirRel, QStringList* created, QStringList* problems)
{
    QStringList missing;
    QString p = dirRel;
    while (!p.isEmpty() && !Fs::lstatPath(ctx.abs(p)).exists) {
        missing.prepend(p);
        p = parentOf(p);
    }
    const QFileInfo fi(ctx.abs(p));
    if (!fi.isDir()) {
        problems->append(QStringLiteral("%1 is a file, not a folder: cannot put files into %2")
                             .arg(p.isEmpty() ? ctx.root : p, dirRel));
        return;
    }
    if (!Fs::isWritableDir(ctx.abs(p))) {
        problems->append(
            QStringLiteral("folder %1 is read-only: cannot put files into %2").arg(p.isEmpty() ? ctx.root : p, dirRel));
        return;
    }
    for (const QString& m : std::as_const(missing)) {
        if (created && !created->contains(m))
            created->append(m);
    }
}

void checkSourceFolder(const Context& ctx, const QString& fileRel, QStringList* problems)
{
    const QString dir = parentOf(fileRel);
    if (!Fs::isWritableDir(ctx.abs(dir)))
        problems->append(QStringLiteral("folder %1 is read-only: cannot move %2 out of it")
                             .arg(dir.isEmpty() ? ctx.root : dir, fileRel));
}

QString layoutText(Layout l)
{
    return l == Layout::TrainValid ? QStringLiteral("train/valid") : QStringLiteral("folder-per-class");
}

Journal buildApplyJournal(
    const Context& ctx, const History& h, const CleaningPlan& plan, const ApplyOptions& options, TransactionResult& res)
{
    Journal j = newJournal(ctx, h, TransactionKind::Apply);
    const Layout onDisk = detectLayout(ctx.root);
    if (plan.layout() != onDisk)
        res.problems << QStringLiteral("the plan is for a %1 dataset, but %2 looks %3")
                            .arg(layoutText(plan.layout()), ctx.root, layoutText(onDisk));
    if (!plan.root().isEmpty()) {
        const QString a = QFileInfo(plan.root()).canonicalFilePath();
        const QString b = QFileInfo(ctx.root).canonicalFilePath();
        if (a != b)
            res.warnings << QStringLiteral("the plan was made for %1, applying it to %2").arg(plan.root(), ctx.root);
    }
    QSet<QString> reserved;
    for (const CleanDecision& d : plan.decisions()) {
        if (d.action == CleanAction::Keep)
            continue;
        const Fs::StatInfo st = Fs::lstatPath(ctx.abs(d.file));
        if (!st.exists) {
            res.problems << QStringLiteral("%1 no longer exists").arg(d.file);
            continue;
        }
        if (st.isDir) {
            res.problems << QStringLiteral("%1 is a folder, not a file").arg(d.file);
            continue;
        }
        if ((d.size >= 0 && d.size != st.size) || (d.mtimeMs >= 0 && d.mtimeMs != st.mtimeMs)) {
            res.problems
                << QStringLiteral("%1 changed since the plan was made (size or modification time differ)").arg(d.file);
            continue;
        }
        checkSourceFolder(ctx, d.file, &res.problems);
        Step s;
        s.from = d.file;
        s.size = st.size;
        s.mtimeMs = st.mtimeMs;
        if (d.action == CleanAction::Delete) {
            s.kind = MoveKind::Delete;
            s.to = kTrashPrefix + j.id + QLatin1Char('/') + d.file;
            reserved.insert(s.to.toLower());
        } else {
            s.kind = MoveKind::Relabel;
            s.toClass = d.toClass;
            s.to = uniqueDestination(ctx, plan.relabelDestination(d.file, d.toClass), reserved);
        }
        checkDestinationFolder(ctx, parentOf(s.to), &j.createdDirs, &res.problems);
        if (options.verifyHash) {
            QString err;
            s.sha256 = Fs::sha256File(ctx.abs(s.from), &err);
            if (s.sha256.isEmpty())
                res.problems << err;
        }
        j.steps << s;
    }
    for (const Txn& t : h.txns) {
        if (t.state() == TransactionState::Undone && !t.orphaned)
            j.orphans << t.journal.id;
    }
    return j;
}

QString describeMoves(const QList<FileMove>& moves)
{
    int del = 0, rel = 0, res = 0, ren = 0;
    for (const FileMove& m : moves)
        ++(m.kind == MoveKind::Delete         ? del
                : m.kind == MoveKind::Relabel ? rel
                : m.kind == MoveKind::Rename  ? ren
                                              : res);
    QStringList parts;
    if (ren)
        parts << QStringLiteral("%1 renamed").arg(ren);
    if (del)
        parts << QStringLiteral("%1 moved to the trash").arg(del);
    if (rel)
        parts << QStringLiteral("%1 moved to another class").arg(rel);
    if (res)
        parts << QStringLiteral("%1 restored from the trash").arg(res);
    return parts.join(QStringLiteral(", "));
}

TransactionResult undoOrRedo(const QString& root, bool undo)
{
    const Context ctx(root);
    TransactionResult res;
    RootLock lock;
    if (!openForWriting(ctx, lock, res))
        return res;
    History h = loadHistory(ctx);
    const int idx = undo ? h.undoIndex() : h.redoIndex();
    if (idx < 0) {
        res.error = undo ? QStringLiteral("nothing to undo") : QStringLiteral("nothing to redo");
        return res;
    }
    Txn& t = h.txns[idx];
    res.transactionId = t.journal.id;
    if (t.log.purged) {
        res.error = QStringLiteral("cannot %1 transaction %2: the trash was emptied since, so its deleted files are "
                                   "gone for good")
                        .arg(undo ? QStringLiteral("undo") : QStringLiteral("redo"), t.journal.id);
        return res;
    }
    checkPhase(ctx, t, !undo, res);
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("cannot %1 transaction %2; nothing was moved")
                        .arg(undo ? QStringLiteral("undo") : QStringLiteral("redo"), t.journal.id);
        return res;
    }
    if (runPhase(ctx, t, undo ? Phase::Undo : Phase::Redo, nullptr, res)) {
        res.summary = undo ? QStringLiteral("Undid transaction %1: %2 file(s) returned to their original places.")
                                 .arg(t.journal.id)
                                 .arg(res.moves.size())
                           : QStringLiteral("Redid transaction %1: %2.").arg(t.journal.id, describeMoves(res.moves));
    }
    return res;
}

} // namespace Internal

TransactionResult preview(const QString& root, const CleaningPlan& plan, const ApplyOptions& options)
{
    const Context ctx(root);
    TransactionResult res;
    if (!QFileInfo(ctx.root).isDir()) {
        res.error = QStringLiteral("%1 is not a folder").arg(ctx.root);
        return res;
    }
    const History h = loadHistory(ctx);
    if (h.hasIncomplete())
        res.warnings << QStringLiteral("an interrupted transaction will be recovered first");
    ApplyOptions noHash = options;
    noHash.verifyHash = false;
    const Journal j = buildApplyJournal(ctx, h, plan, noHash, res);
    for (const Step& s : j.steps)
        res.moves << FileMove { s.kind, s.from, s.to, s.toClass };
    res.transactionId = j.id;
    if (plan.isEmpty()) {
        res.error = QStringLiteral("nothing to do: the plan is empty");
    } else if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("the plan cannot be applied as it is (%1 problem(s))").arg(res.problems.size());
    } else {
        res.ok = true;
        res.summary = QStringLiteral("Would apply: %1.").arg(describeMoves(res.moves));
    }
    return res;
}

/// The end of an apply and of a rename: check the space, save the splits the user sees (prepareSplits), write the
/// journal and run it. `nothing` ends each refusal ("nothing was moved"); `runOptions` go to runPhase.
static void commitJournal(const Context& ctx, const CleaningPlan& splitPlan, const ApplyOptions& options, Journal& j,
    const ApplyOptions* runOptions, const QString& nothing, TransactionResult& res)
{
    QString err;
    if (!enoughSpace(ctx, j, &err)) {
        res.error = err + QStringLiteral("; ") + nothing;
        return;
    }
    prepareSplits(ctx, splitPlan, options, j, &res.warnings);
    Txn t;
    if (!writeJournal(ctx, j, &t, &err)) {
        res.error = QStringLiteral("cannot write the journal (%1); %2").arg(err, nothing);
        return;
    }
    res.transactionId = j.id;
    crashPoint("journal written");
    if (runPhase(ctx, t, Phase::Apply, runOptions, res))
        res.summary = QStringLiteral("Applied transaction %1: %2.").arg(j.id, describeMoves(res.moves));
}

TransactionResult applyPlan(const QString& root, const CleaningPlan& plan, const ApplyOptions& options)
{
    const Context ctx(root);
    TransactionResult res;
    if (plan.isEmpty()) {
        res.error = QStringLiteral("nothing to do: the plan is empty");
        return res;
    }
    RootLock lock;
    if (!openForWriting(ctx, lock, res))
        return res;
    const History h = loadHistory(ctx);
    Journal j = buildApplyJournal(ctx, h, plan, options, res);
    if (!res.problems.isEmpty()) {
        res.error =
            QStringLiteral("the plan cannot be applied (%1 problem(s)); nothing was moved").arg(res.problems.size());
        return res;
    }
    commitJournal(ctx, plan, options, j, &options, QStringLiteral("nothing was moved"), res);
    return res;
}

TransactionResult renameFiles(const QString& root, const QList<FileRename>& renames, const ApplyOptions& options,
    const QStringList& unlabeledFolders)
{
    const Context ctx(root);
    TransactionResult res;
    if (renames.isEmpty()) {
        res.error = QStringLiteral("nothing to do: no file to rename");
        return res;
    }
    RootLock lock;
    if (!openForWriting(ctx, lock, res))
        return res;
    const History h = loadHistory(ctx);
    Journal j = newJournal(ctx, h, TransactionKind::Apply);
    QSet<QString> reserved;
    QSet<QString> seen;
    for (const FileRename& r : renames) {
        if (const QString why = validateRelativePath(r.file); !why.isEmpty()) {
            res.problems << QStringLiteral("%1: %2").arg(r.file, why);
            continue;
        }
        const QString dir = parentOf(r.file);
        const QString target = dir.isEmpty() ? r.newName : dir + QLatin1Char('/') + r.newName;
        if (r.newName.contains(QLatin1Char('/')) || !validateRelativePath(target).isEmpty()
            || r.newName.startsWith(QLatin1Char('.'))) {
            res.problems << QStringLiteral("%1: '%2' is not a usable file name").arg(r.file, r.newName);
            continue;
        }
        if (seen.contains(r.file)) {
            res.problems << QStringLiteral("%1 is listed twice").arg(r.file);
            continue;
        }
        seen.insert(r.file);
        const Fs::StatInfo st = Fs::lstatPath(ctx.abs(r.file));
        if (!st.exists || st.isDir) {
            res.problems << (st.isDir ? QStringLiteral("%1 is a folder, not a file").arg(r.file)
                                      : QStringLiteral("%1 no longer exists").arg(r.file));
            continue;
        }
        if (target == r.file)
            continue; // already so named
        checkSourceFolder(ctx, r.file, &res.problems);
        Step s;
        s.kind = MoveKind::Rename;
        s.from = r.file;
        s.to = uniqueDestination(ctx, target, reserved);
        if (s.to.section(QLatin1Char('/'), -1).toUtf8().size() > 255) { // NAME_MAX: refuse now, not mid-way
            res.problems << QStringLiteral("%1: the new name '%2' is longer than a file name may be")
                                .arg(r.file, s.to.section(QLatin1Char('/'), -1));
            continue;
        }
        s.size = st.size;
        s.mtimeMs = st.mtimeMs;
        j.steps << s;
    }
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("nothing was renamed (%1 problem(s))").arg(res.problems.size());
        return res;
    }
    if (j.steps.isEmpty()) {
        res.error = QStringLiteral("nothing to do: every file already has that name");
        return res;
    }
    for (const Txn& t : h.txns) {
        if (t.state() == TransactionState::Undone && !t.orphaned)
            j.orphans << t.journal.id;
    }
    // A new name would draw a new split for the file (and, without a saved split, for others): save the split the
    // user sees first, and record each file's split in its step, as an apply does.
    const CleaningPlan splitContext(ctx.root, detectLayout(ctx.root), unlabeledFolders);
    commitJournal(ctx, splitContext, options, j, nullptr, QStringLiteral("nothing was renamed"), res);
    return res;
}

TransactionResult undoLast(const QString& root)
{
    return undoOrRedo(root, true);
}

TransactionResult redo(const QString& root)
{
    return undoOrRedo(root, false);
}

HistoryStatus status(const QString& root)
{
    const Context ctx(root);
    HistoryStatus st;
    const History h = loadHistory(ctx);
    st.errors = h.errors;
    for (const Txn& t : h.txns) {
        TransactionInfo info;
        info.id = t.journal.id;
        info.seq = t.journal.seq;
        info.kind = t.journal.kind;
        info.created = t.journal.created;
        for (const Step& s : t.journal.steps)
            ++(s.kind == MoveKind::Delete         ? info.deletes
                    : s.kind == MoveKind::Relabel ? info.moves
                    : s.kind == MoveKind::Rename  ? info.renames
                                                  : info.restores);
        info.state = t.state();
        if (info.state == TransactionState::Incomplete)
            info.pendingPhase = QString::fromLatin1(phaseName(t.log.pending));
        info.purged = t.log.purged;
        info.orphaned = t.orphaned;
        st.transactions << info;
    }
    st.hasIncomplete = h.hasIncomplete();
    if (!st.hasIncomplete) {
        if (const int u = h.undoIndex(); u >= 0)
            st.undoTarget = h.txns[u].journal.id;
        if (const int r = h.redoIndex(); r >= 0)
            st.redoTarget = h.txns[r].journal.id;
    }
    for (const TrashEntry& e : listTrashImpl(ctx, h)) {
        ++st.trashFiles;
        st.trashBytes += e.size;
    }
    return st;
}

} // namespace Cleaning
} // namespace Winnow
