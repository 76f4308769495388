// SPDX-License-Identifier: GPL-3.0-or-later
// The machinery every transaction runs on: the journal folder and its history, the root lock, crash-safe moves,
// the apply/undo phases with their rollback, and the checks before writing.
#include <algorithm>
#include <cerrno>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>
#include <QStorageInfo>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"
#include "core/cleaning/transaction.h"
#include "core/cleaning/transaction_p.h"

namespace Winnow {

namespace Cleaning {

using namespace Internal;

namespace Internal {

QByteArray readAll(const QString& path, bool* ok)
{
    QFile f(path);
    *ok = f.open(QIODevice::ReadOnly);
    return *ok ? f.readAll() : QByteArray();
}

History loadHistory(const Context& ctx)
{
    History h;
    const QDir dir(ctx.journalDir);
    if (!dir.exists())
        return h;
    static const QRegularExpression kIdRe(QStringLiteral("^(\\d+)-.*\\.(json|log)$"));
    const QStringList names = dir.entryList(QDir::Files, QDir::Name); // temp files are hidden: skipped
    for (const QString& name : names) {
        const auto m = kIdRe.match(name);
        if (!m.hasMatch())
            continue;
        h.maxSeq = std::max(h.maxSeq, m.captured(1).toInt());
        if (m.captured(2) != QLatin1String("json"))
            continue;
        Txn t;
        t.jsonPath = dir.filePath(name);
        t.logPath = t.jsonPath.chopped(5) + QStringLiteral(".log");
        bool ok = false;
        const QByteArray data = readAll(t.jsonPath, &ok);
        QString err;
        if (!ok || !Journal::fromJson(data, &t.journal, &err)) {
            h.errors << QStringLiteral("journal %1 is unreadable (%2); move it out of .winnow/journal to continue")
                            .arg(t.jsonPath, ok ? err : QStringLiteral("cannot read"));
            continue;
        }
        bool logOk = false;
        const QByteArray log = readAll(t.logPath, &logOk);
        t.log = LogState::parse(logOk ? log : QByteArray(), int(t.journal.steps.size()));
        h.txns << t;
    }
    std::sort(h.txns.begin(), h.txns.end(), [](const Txn& a, const Txn& b) { return a.journal.seq < b.journal.seq; });
    QSet<QString> orphaned;
    for (const Txn& t : std::as_const(h.txns)) {
        if (t.state() != TransactionState::RolledBack)
            orphaned.unite(QSet<QString>(t.journal.orphans.cbegin(), t.journal.orphans.cend()));
    }
    for (Txn& t : h.txns)
        t.orphaned = orphaned.contains(t.journal.id);
    return h;
}

QString newId(int seq)
{
    return QStringLiteral("%1-%2")
        .arg(seq, 6, 10, QLatin1Char('0'))
        .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'")));
}

Journal newJournal(const Context& ctx, const History& h, TransactionKind kind)
{
    Journal j;
    j.seq = h.maxSeq + 1;
    j.id = newId(j.seq);
    j.kind = kind;
    j.created = QDateTime::currentDateTimeUtc();
    j.dataset = ctx.root;
    return j;
}

int staleTemps(const Context& ctx, bool remove)
{
    static const QRegularExpression kTemp(QStringLiteral("^\\..+\\.tmp-[0-9a-f]+$"));
    int n = 0;
    for (const QString& dir : { ctx.journalDir, ctx.trashDir }) {
        const QStringList names = QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System);
        for (const QString& name : names) {
            if (!kTemp.match(name).hasMatch())
                continue;
            ++n;
            if (remove)
                QFile::remove(dir + QLatin1Char('/') + name);
        }
    }
    return n;
}

Fs::MoveResult moveFile(const Context& ctx, const QString& fromRel, const QString& toRel)
{
    Fs::MoveResult r;
    if (Internal::injectMoveFailure()) {
        r.errnum = EIO;
        r.error = QStringLiteral("cannot move %1 to %2: Input/output error (simulated)").arg(fromRel, toRel);
        return r;
    }
    QString err;
    if (!Fs::makePath(ctx.abs(parentOf(toRel)), &err)) {
        r.error = QStringLiteral("cannot move %1 to %2: %3").arg(fromRel, toRel, err);
        return r;
    }
    r = Fs::renameNoReplace(ctx.abs(fromRel), ctx.abs(toRel));
    if (!r.ok) // report root-relative paths
        r.error.replace(ctx.root + QLatin1Char('/'), QString());
    return r;
}

Where locate(const Context& ctx, const Step& s, qint8 hint)
{
    const Fs::StatInfo a = Fs::lstatPath(ctx.abs(s.from));
    const Fs::StatInfo b = Fs::lstatPath(ctx.abs(s.to));
    if (a.exists && b.exists && !a.isDir && a.device == b.device && a.inode == b.inode) {
        // Interrupted link()+unlink() move: finish it (the content stays at `to`).
        QFile::remove(ctx.abs(s.from));
        return Where::To;
    }
    if (a.exists && !b.exists)
        return Where::From;
    if (b.exists && !a.exists)
        return Where::To;
    if (!a.exists && !b.exists)
        return Where::Neither;
    const bool matchA = a.size == s.size && a.mtimeMs == s.mtimeMs;
    const bool matchB = b.size == s.size && b.mtimeMs == s.mtimeMs;
    if (matchA != matchB)
        return matchA ? Where::From : Where::To;
    return hint == 1 ? Where::To : Where::From;
}

void tidy(const Context& ctx, const Txn& t, bool atTo)
{
    if (t.journal.kind == TransactionKind::Apply && t.hasDeletes()) {
        if (!atTo)
            QFile::remove(ctx.manifestPath(t.journal.id));
        else if (!QFileInfo::exists(ctx.manifestPath(t.journal.id)))
            writeManifest(ctx, t);
    }
    pruneTrash(ctx);
    if (!atTo) {
        for (auto it = t.journal.createdDirs.crbegin(); it != t.journal.createdDirs.crend(); ++it)
            Fs::removeEmptyDir(ctx.abs(*it));
    }
}

void syncTouchedDirs(const Context& ctx, const Txn& t)
{
    QSet<QString> dirs;
    for (const Step& s : t.journal.steps) {
        dirs.insert(ctx.abs(parentOf(s.from)));
        dirs.insert(ctx.abs(parentOf(s.to)));
    }
    for (const QString& d : std::as_const(dirs))
        Fs::syncDir(d);
}

RollbackOutcome rollback(const Context& ctx, Txn& t, Phase p, Fs::AppendLog& log)
{
    RollbackOutcome out;
    QString err;
    if (!t.log.rollingBack && !log.append("begin rollback", &err))
        out.problems << err;
    t.log.rollingBack = true;
    crashPoint("rollback begun");
    const bool forward = isForward(p);
    const Where needed = forward ? Where::From : Where::To;
    for (int i = int(t.journal.steps.size()) - 1; i >= 0; --i) {
        const Step& s = t.journal.steps.at(i);
        const Where w = locate(ctx, s, t.log.pos.value(i, -1));
        if (w == needed)
            continue;
        if (w == Where::Neither) {
            out.problems << QStringLiteral("%1 is missing: it is neither at %1 nor at %2 (removed by something else?)")
                                .arg(s.from, s.to);
            continue;
        }
        const QString src = w == Where::To ? s.to : s.from;
        const QString dst = w == Where::To ? s.from : s.to;
        crashPoint("rollback before move");
        const Fs::MoveResult mr = moveFile(ctx, src, dst);
        if (!mr.ok) {
            if (mr.targetExists) {
                out.problems << QStringLiteral("cannot return %1 to %2: another file now has that name; it stays at %1")
                                    .arg(src, dst);
            } else {
                out.problems << mr.error;
                out.resolved = false;
            }
            continue;
        }
        crashPoint("rollback after move");
        ++out.moved;
        t.log.pos[i] = needed == Where::To ? 1 : 0;
        if (!log.append((needed == Where::To ? "fwd " : "back ") + QByteArray::number(i), &err))
            out.problems << err;
        crashPoint("rollback after record");
    }
    if (!out.resolved)
        return out; // left incomplete: recover() retries
    syncTouchedDirs(ctx, t);
    tidy(ctx, t, !forward);
    crashPoint("rollback before commit");
    if (!log.append("commit rollback", &err)) {
        out.problems << err;
        out.resolved = false;
        return out;
    }
    t.log.pending = Phase::None;
    t.log.rollingBack = false;
    t.log.state = p == Phase::Apply ? TransactionState::RolledBack
        : p == Phase::Undo          ? TransactionState::Applied
                                    : TransactionState::Undone;
    crashPoint("rollback committed");
    return out;
}

bool runPhase(const Context& ctx, Txn& t, Phase p, const ApplyOptions* options, TransactionResult& res)
{
    Fs::AppendLog log;
    QString err;
    if (!log.open(t.logPath, &err) || !log.append("begin " + phaseName(p), &err)) {
        res.error = QStringLiteral("cannot write the journal: %1; nothing was moved").arg(err);
        return false;
    }
    t.log.hasLog = true;
    t.log.pending = p;
    t.log.rollingBack = false;
    crashPoint("phase begun");

    const bool forward = isForward(p);
    const int n = int(t.journal.steps.size());
    auto fail = [&](const QString& why) {
        res.error = why;
        const RollbackOutcome rb = rollback(ctx, t, p, log);
        res.problems << rb.problems;
        res.moves.clear();
        if (rb.resolved) {
            res.rolledBack = true;
            res.error += QStringLiteral("; every file moved so far was put back");
        } else {
            res.incomplete = true;
            res.error += QStringLiteral("; some files could not be put back yet (see below); Winnow retries when the "
                                        "dataset is next opened");
        }
        return false;
    };

    if (forward) {
        for (const QString& d : t.journal.createdDirs) {
            if (!Fs::makePath(ctx.abs(d), &err))
                return fail(err);
        }
        if (t.journal.kind == TransactionKind::Apply && t.hasDeletes())
            writeManifest(ctx, t);
        crashPoint("folders made");
    }
    for (int k = 0; k < n; ++k) {
        const int i = forward ? k : n - 1 - k;
        const Step& s = t.journal.steps.at(i);
        const QString src = forward ? s.from : s.to;
        const QString dst = forward ? s.to : s.from;
        crashPoint("before move");
        const Fs::MoveResult mr = moveFile(ctx, src, dst);
        if (!mr.ok) {
            res.problems << mr.error;
            return fail(QStringLiteral("moving %1 failed").arg(src));
        }
        crashPoint("after move");
        t.log.pos[i] = forward ? 1 : 0;
        res.moves << FileMove { s.kind, src, dst, s.toClass };
        if (!log.append((forward ? "fwd " : "back ") + QByteArray::number(i), &err)) {
            res.problems << err;
            return fail(QStringLiteral("cannot record progress in the journal"));
        }
        crashPoint("after record");
        if (options && options->progress && !options->progress(k + 1, n)) {
            res.cancelled = true;
            return fail(QStringLiteral("cancelled"));
        }
    }
    syncTouchedDirs(ctx, t);
    tidy(ctx, t, forward);
    updateSplitStore(ctx, t, forward, &res.warnings);
    crashPoint("before commit");
    if (!log.append("commit " + phaseName(p), &err)) {
        // Every file is in place; only the record is missing. The next recover() sees that and commits.
        res.warnings << QStringLiteral("could not record the end of the transaction (%1); it will be completed when "
                                       "the dataset is next opened")
                            .arg(err);
    } else {
        t.log.pending = Phase::None;
        t.log.state = forward ? TransactionState::Applied : TransactionState::Undone;
    }
    crashPoint("committed");
    res.ok = true;
    res.transactionId = t.journal.id;
    return true;
}

bool enoughSpace(const Context& ctx, const Journal& j, QString* error)
{
    const QStorageInfo storage(ctx.root);
    if (!storage.isValid() || storage.bytesAvailable() < 0)
        return true;
    const qint64 needed = qint64(j.steps.size()) * 2048 + (1 << 20); // journal + log + manifest, with margin
    if (storage.bytesAvailable() < needed) {
        *error = QStringLiteral("not enough disk space for the journal (%1 KiB free, %2 KiB needed)")
                     .arg(storage.bytesAvailable() / 1024)
                     .arg(needed / 1024);
        return false;
    }
    return true;
}

bool writeJournal(const Context& ctx, const Journal& j, Txn* t, QString* error)
{
    if (!Fs::makePath(ctx.journalDir, error))
        return false;
    t->journal = j;
    t->jsonPath = ctx.journalDir + QLatin1Char('/') + j.id + QStringLiteral(".json");
    t->logPath = ctx.journalDir + QLatin1Char('/') + j.id + QStringLiteral(".log");
    t->log = LogState::parse({}, int(j.steps.size()));
    return Fs::writeFileDurably(t->jsonPath, j.toJson(), error);
}

bool openForWriting(const Context& ctx, RootLock& lock, TransactionResult& res)
{
    if (!QFileInfo(ctx.root).isDir()) {
        res.error = QStringLiteral("%1 is not a folder").arg(ctx.root);
        return false;
    }
    QString err;
    if (!lock.lock(ctx, &err)) {
        res.error = err;
        return false;
    }
    res.recovery = recoverLocked(ctx);
    if (!res.recovery.ok()) {
        res.error = QStringLiteral("an interrupted transaction could not be recovered; nothing was done");
        return false;
    }
    return true;
}

void checkPhase(const Context& ctx, const Txn& t, bool forward, TransactionResult& res)
{
    for (const Step& s : t.journal.steps) {
        const QString src = forward ? s.from : s.to;
        const QString dst = forward ? s.to : s.from;
        const Fs::StatInfo st = Fs::lstatPath(ctx.abs(src));
        if (!st.exists) {
            res.problems << QStringLiteral("%1 is missing (expected at %2)").arg(s.from, src);
            continue;
        }
        if (s.size >= 0 && (st.size != s.size || st.mtimeMs != s.mtimeMs))
            res.warnings << QStringLiteral("%1 was modified after it was moved; moving it anyway").arg(src);
        if (exists(ctx, dst))
            res.problems << QStringLiteral("%1 already exists: cannot move %2 there").arg(dst, src);
        checkSourceFolder(ctx, src, &res.problems);
        checkDestinationFolder(ctx, parentOf(dst), nullptr, &res.problems);
    }
}

} // namespace Internal

} // namespace Cleaning
} // namespace Winnow
