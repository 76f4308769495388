// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cleaning/transaction.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QRegularExpression>
#include <QSet>
#include <QStorageInfo>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"

namespace Winnow {

using Cleaning::Internal::crashPoint;

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

namespace {

using namespace Internal;

struct Txn
{
    Journal journal;
    LogState log;
    QString jsonPath;
    QString logPath;
    bool orphaned = false;

    TransactionState state() const
    {
        return log.pending != Phase::None ? TransactionState::Incomplete : log.state;
    }
    bool hasDeletes() const
    {
        return std::any_of(
            journal.steps.cbegin(), journal.steps.cend(), [](const Step& s) { return s.kind == MoveKind::Delete; });
    }
};

struct Context
{
    QString root; // absolute, clean
    QString winnowDir;
    QString journalDir;
    QString trashDir;

    explicit Context(const QString& r)
        : root(QDir::cleanPath(QDir(r).absolutePath()))
        , winnowDir(root + QStringLiteral("/.winnow"))
        , journalDir(winnowDir + QStringLiteral("/journal"))
        , trashDir(winnowDir + QStringLiteral("/trash"))
    { }
    QString abs(const QString& rel) const
    {
        return rel.isEmpty() ? root : root + QLatin1Char('/') + rel;
    }
    QString manifestPath(const QString& id) const
    {
        return trashDir + QLatin1Char('/') + id + QStringLiteral(".json");
    }
};

struct History
{
    QList<Txn> txns; // by seq
    QStringList errors;
    int maxSeq = 0;

    int undoIndex() const
    {
        for (int i = int(txns.size()) - 1; i >= 0; --i) {
            if (txns[i].state() == TransactionState::Applied)
                return i;
        }
        return -1;
    }
    int redoIndex() const
    {
        const int u = undoIndex();
        for (int i = u + 1; i < txns.size(); ++i) {
            if (txns[i].state() == TransactionState::Undone && !txns[i].orphaned)
                return i;
        }
        return -1;
    }
    bool hasIncomplete() const
    {
        return std::any_of(
            txns.cbegin(), txns.cend(), [](const Txn& t) { return t.state() == TransactionState::Incomplete; });
    }
};

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

/// Half-written files of Fs::writeFileDurably (".<name>.tmp-<hex>") that a killed transaction left in the journal
/// and trash folders: only transactions write there, and only under the lock, so any such file is stale once the
/// lock is ours. `remove`: delete them; returns how many there were.
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

/// The advisory lock on a dataset root. Taking it sweeps away what a killed transaction left half-written.
class RootLock
{
public:
    bool lock(const Context& ctx, QString* error)
    {
        QString err;
        if (!Fs::makePath(ctx.winnowDir, &err)) {
            *error = QStringLiteral("cannot write to %1 (%2); is the folder read-only?").arg(ctx.root, err);
            return false;
        }
        m_lock = std::make_unique<QLockFile>(ctx.winnowDir + QStringLiteral("/lock"));
        m_lock->setStaleLockTime(0); // stale only when its process is gone, however long a transaction runs
        bool ok = m_lock->tryLock(2000);
        qint64 pid = 0;
        QString host, app;
        if (!ok && m_lock->error() == QLockFile::LockFailedError && !m_lock->getLockInfo(&pid, &host, &app)) {
            // A lock file that names no process, through two seconds of retries: its writer died between creating
            // it and writing its pid (a crash or a kill at that instant). Nobody can hold it: without this, the
            // dataset would stay locked for ever ("pid 0").
            m_lock->removeStaleLockFile();
            ok = m_lock->tryLock(0);
        }
        if (ok) {
            staleTemps(ctx, true);
            return true;
        }
        if (m_lock->error() == QLockFile::LockFailedError) {
            m_busy = true;
            m_lock->getLockInfo(&pid, &host, &app);
            *error = QStringLiteral("another Winnow process (%1, pid %2) is changing this dataset; try again when it "
                                    "has finished")
                         .arg(app.isEmpty() ? QStringLiteral("unknown") : app)
                         .arg(pid);
        } else {
            *error = QStringLiteral("cannot create the lock file in %1 (read-only?)").arg(ctx.winnowDir);
        }
        m_lock.reset();
        return false;
    }

    /// The last lock() failed because another live process holds the lock.
    bool busy() const
    {
        return m_busy;
    }

private:
    std::unique_ptr<QLockFile> m_lock;
    bool m_busy = false;
};

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

/// Where a step's file is now. A file present at both places is told apart by its fingerprint, then by the log.
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

/// Removes empty folders under .winnow/trash (left by restores and undos), deepest first.
void pruneTrash(const Context& ctx)
{
    if (!QFileInfo(ctx.trashDir).isDir())
        return;
    QStringList dirs;
    QDirIterator it(ctx.trashDir, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext())
        dirs << it.next();
    std::sort(dirs.begin(), dirs.end(), [](const QString& a, const QString& b) { return a.size() > b.size(); });
    for (const QString& d : std::as_const(dirs))
        Fs::removeEmptyDir(d);
}

void writeManifest(const Context& ctx, const Txn& t)
{
    QJsonArray files;
    for (const Step& s : t.journal.steps) {
        if (s.kind != MoveKind::Delete)
            continue;
        QJsonObject o;
        o.insert(QStringLiteral("file"), s.from);
        o.insert(QStringLiteral("trashed"), s.to);
        o.insert(QStringLiteral("size"), double(s.size));
        o.insert(QStringLiteral("mtime"), double(s.mtimeMs));
        files.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), QStringLiteral("winnow-trash-manifest"));
    root.insert(QStringLiteral("version"), 1);
    root.insert(QStringLiteral("transaction"), t.journal.id);
    root.insert(QStringLiteral("deleted"), t.journal.created.toString(Qt::ISODateWithMs));
    root.insert(QStringLiteral("files"), files);
    QString err;
    if (Fs::makePath(ctx.trashDir, &err))
        Fs::writeFileDurably(ctx.manifestPath(t.journal.id), QJsonDocument(root).toJson(), &err);
}

/// Puts folders and the trash manifest in line with where the files now are (`atTo`: every file at its `to`).
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

// ---------------------------------------------------------------------------------------------------------------
// The saved split (.winnow/splits.tsv, core/dataset/splitstore.h); folder-per-class datasets only.

const QString kTrashPrefix = QStringLiteral(".winnow/trash/");

/// `<orig>` of a trash path `.winnow/trash/<id>/<orig>`; empty if it is not one.
QString originalOfTrashPath(const QString& path)
{
    if (!path.startsWith(kTrashPrefix))
        return {};
    const qsizetype slash = path.indexOf(QLatin1Char('/'), kTrashPrefix.size());
    return slash < 0 ? QString() : path.mid(slash + 1);
}

/// Parses a recorded Step::split; false when none was recorded (or it is unknown).
bool splitFromName(const QString& name, Split* split)
{
    if (name == QLatin1String("train"))
        *split = Split::Train;
    else if (name == QLatin1String("valid"))
        *split = Split::Valid;
    else if (name == QLatin1String("unlabeled"))
        *split = Split::Unlabeled;
    else
        return false;
    return true;
}

/// Before an apply: gives a folder-per-class dataset a saved split if it has no usable one (see ApplyOptions::split)
/// and records in each step the split its file has now. Problems are warnings: the apply goes on without them.
void prepareSplits(
    const Context& ctx, const CleaningPlan& plan, const ApplyOptions& options, Journal& j, QStringList* warnings)
{
    if (detectLayout(ctx.root) != Layout::FolderPerClass)
        return;
    const SplitStoreRead read = readSplitStore(ctx.root);
    std::optional<SplitStore> store;
    if (read.store && (!options.split || read.store->settings.sameAs(*options.split)))
        store = read.store;
    if (!store) {
        ScanOptions so;
        if (options.split) {
            so.seed = options.split->seed;
            so.validPct = options.split->validPct;
        }
        so.verifyImages = false; // only the paths matter
        so.unlabeledFolders = plan.unlabeledFolders();
        const ScanResult scan = scanDataset(ctx.root, so); // no usable store: the seeded rule, as the user sees it
        if (scan.ok()) {
            store = SplitStore::fromDataset(*scan.dataset);
        } else if (scan.error.startsWith(QLatin1String("No classes found"))) {
            store = SplitStore { SplitSettings { so.seed, so.validPct }, {} }; // nothing labeled yet: nothing to keep
        } else {
            *warnings << QStringLiteral("the split could not be saved (%1): moved files may change between train "
                                        "and valid")
                             .arg(scan.error);
            return;
        }
        QString err;
        if (!writeSplitStore(ctx.root, *store, &err)) {
            *warnings << QStringLiteral("the split could not be saved (%1): moved files may change between train "
                                        "and valid")
                             .arg(err);
            return;
        }
        if (!read.error.isEmpty())
            *warnings << QStringLiteral("the saved split %1 was damaged (%2); it was written anew from the current "
                                        "split")
                             .arg(splitStoreRelPath(), read.error);
    }
    j.split = store->settings;
    for (Step& s : j.steps) {
        Split split = Split::Unlabeled;
        if (!plan.classOf(s.from).isEmpty()) {
            const auto it = store->entries.constFind(s.from);
            split = it != store->entries.cend() ? it.value()
                                                : splitFor(s.from, store->settings.seed, store->settings.validPct);
        }
        s.split = splitName(split);
    }
}

/// After a phase put every file of `t` at its `to` (forward) or its `from`: brings the saved split in line, so that a
/// relabelled or restored file keeps the split recorded in its step, undo gives each file its recorded split back, a
/// deleted file keeps its entry, and a newly labelled file (from an unlabeled folder) is left to the per-file rule.
/// Idempotent (recovery may run it again). Never creates a store: one that lists only these files would change the
/// split of every other file. A failure is a warning: the moves stand.
void updateSplitStore(const Context& ctx, const Txn& t, bool forward, QStringList* warnings)
{
    if (detectLayout(ctx.root) != Layout::FolderPerClass)
        return;
    SplitStoreRead read = readSplitStore(ctx.root);
    if (!read.store)
        return;
    SplitStore& store = *read.store;
    // Splits recorded under other settings (the store was replaced since) say nothing about this store.
    const bool useRecorded = t.journal.split && t.journal.split->sameAs(store.settings);
    bool changed = false;
    auto set = [&](const QString& path, Split split) {
        if (split == Split::Unlabeled) {
            changed = store.entries.remove(path) > 0 || changed;
            return;
        }
        const auto it = store.entries.constFind(path);
        if (it == store.entries.cend() || it.value() != split) {
            store.entries.insert(path, split);
            changed = true;
        }
    };
    auto copy = [&](const QString& from, const QString& to) { // journals without recorded splits: by path
        const auto it = store.entries.constFind(from);
        if (it != store.entries.cend())
            set(to, it.value());
    };
    for (const Step& s : t.journal.steps) {
        Split recorded = Split::Unlabeled;
        const bool haveRecorded = useRecorded && splitFromName(s.split, &recorded);
        if (s.kind == MoveKind::Delete) { // the entry stays, for undo and restore
            if (haveRecorded)
                set(s.from, recorded);
        } else if (forward) {
            if (haveRecorded)
                set(s.to, recorded);
            else
                copy(s.kind == MoveKind::Restore ? originalOfTrashPath(s.from) : s.from, s.to);
        } else if (s.kind == MoveKind::Relabel || s.kind == MoveKind::Rename) { // a restore undone: its entry stays
            if (haveRecorded)
                set(s.from, recorded);
            else
                copy(s.to, s.from);
        }
    }
    if (!changed)
        return;
    QString err;
    if (!writeSplitStore(ctx.root, store, &err))
        *warnings << QStringLiteral("could not update the saved split (%1): moved files may change between train and "
                                    "valid at the next scan")
                         .arg(err);
    crashPoint("split updated");
}

struct RollbackOutcome
{
    bool resolved = true;
    int moved = 0;
    QStringList problems;
};

/// Returns every file of the interrupted or failed phase `p` to where it was before the phase began.
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

/// Runs one phase of a transaction: every move, each recorded; on failure rolls back. `res` gets moves and errors.
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

bool exists(const Context& ctx, const QString& rel)
{
    return Fs::lstatPath(ctx.abs(rel)).exists;
}

/// `dest`, or `name (1).ext`, `name (2).ext`, ... : the first name free on disk and not reserved by another step.
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

/// Checks that a file can be put into folder `dirRel` (created if missing). Missing folders are added to `created`.
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

QString layoutText(Layout l)
{
    return l == Layout::TrainValid ? QStringLiteral("train/valid") : QStringLiteral("folder-per-class");
}

/// Turns a plan into steps with final names, checking everything. Problems go to `res.problems`.
Journal buildApplyJournal(
    const Context& ctx, const History& h, const CleaningPlan& plan, const ApplyOptions& options, TransactionResult& res)
{
    Journal j;
    j.seq = h.maxSeq + 1;
    j.id = newId(j.seq);
    j.kind = TransactionKind::Apply;
    j.created = QDateTime::currentDateTimeUtc();
    j.dataset = ctx.root;
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
            s.to = QStringLiteral(".winnow/trash/") + j.id + QLatin1Char('/') + d.file;
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

/// Opens a root for a writing operation: checks it, locks it, recovers. False with res.error set on failure.
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

/// Pre-checks moving every step of `t` forward (redo) or backward (undo).
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

QList<TrashEntry> listTrashImpl(const Context& ctx, const History& h)
{
    QList<TrashEntry> out;
    const QDir trash(ctx.trashDir);
    if (!trash.exists())
        return out;
    QHash<QString, QDateTime> created;
    for (const Txn& t : h.txns)
        created.insert(t.journal.id, t.journal.created);
    const QStringList ids = trash.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString& id : ids) {
        const QString base = trash.filePath(id);
        QDirIterator it(
            base, QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        QList<TrashEntry> entries;
        while (it.hasNext()) {
            const QString path = it.next();
            TrashEntry e;
            e.transactionId = id;
            e.originalPath = path.mid(base.size() + 1);
            e.trashPath = QStringLiteral(".winnow/trash/") + id + QLatin1Char('/') + e.originalPath;
            e.size = Fs::lstatPath(path).size;
            e.deleted = created.value(id);
            entries << e;
        }
        std::sort(entries.begin(), entries.end(),
            [](const TrashEntry& a, const TrashEntry& b) { return a.originalPath < b.originalPath; });
        out << entries;
    }
    return out;
}

} // namespace

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
    Journal j;
    j.seq = h.maxSeq + 1;
    j.id = newId(j.seq);
    j.kind = TransactionKind::Apply;
    j.created = QDateTime::currentDateTimeUtc();
    j.dataset = ctx.root;
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

QList<TrashEntry> listTrash(const QString& root)
{
    const Context ctx(root);
    return listTrashImpl(ctx, loadHistory(ctx));
}

TransactionResult restoreFromTrash(const QString& root, const QStringList& files)
{
    const Context ctx(root);
    TransactionResult res;
    RootLock lock;
    if (!openForWriting(ctx, lock, res))
        return res;
    const History h = loadHistory(ctx);
    const QList<TrashEntry> entries = listTrashImpl(ctx, h);
    QList<TrashEntry> chosen;
    if (files.isEmpty()) {
        chosen = entries;
    } else {
        QSet<QString> taken;
        for (const QString& f : files) {
            const QString want = QDir::cleanPath(f);
            const TrashEntry* match = nullptr;
            for (const TrashEntry& e : entries) {
                if (e.trashPath == want)
                    match = &e;
                else if (e.originalPath == want && (!match || match->originalPath == want))
                    match = &e; // entries are in id order: the last one is the newest deletion
            }
            if (!match)
                res.problems << QStringLiteral("%1 is not in the trash").arg(f);
            else if (!taken.contains(match->trashPath)) {
                taken.insert(match->trashPath);
                chosen << *match;
            }
        }
    }
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("nothing was restored");
        return res;
    }
    if (chosen.isEmpty()) {
        res.error = QStringLiteral("the trash is empty");
        return res;
    }
    Journal j;
    j.seq = h.maxSeq + 1;
    j.id = newId(j.seq);
    j.kind = TransactionKind::Restore;
    j.created = QDateTime::currentDateTimeUtc();
    j.dataset = ctx.root;
    // The split each file had when it was deleted (recorded by its delete step, else its entry in the saved split).
    const SplitStoreRead stored =
        detectLayout(ctx.root) == Layout::FolderPerClass ? readSplitStore(ctx.root) : SplitStoreRead {};
    QHash<QString, QString> deletedSplit; // trash path -> split name
    if (stored.store) {
        j.split = stored.store->settings;
        for (const Txn& t : h.txns) {
            if (!t.journal.split || !t.journal.split->sameAs(stored.store->settings))
                continue;
            for (const Step& s : t.journal.steps)
                if (s.kind == MoveKind::Delete && !s.split.isEmpty())
                    deletedSplit.insert(s.to, s.split);
        }
    }
    QSet<QString> reserved;
    for (const TrashEntry& e : std::as_const(chosen)) {
        Step s;
        s.kind = MoveKind::Restore;
        s.from = e.trashPath;
        s.to = uniqueDestination(ctx, e.originalPath, reserved);
        const Fs::StatInfo st = Fs::lstatPath(ctx.abs(s.from));
        s.size = st.size;
        s.mtimeMs = st.mtimeMs;
        s.split = deletedSplit.value(e.trashPath);
        if (s.split.isEmpty() && stored.store && stored.store->entries.contains(e.originalPath))
            s.split = splitName(stored.store->entries.value(e.originalPath));
        if (s.to != e.originalPath)
            res.warnings << QStringLiteral("%1 is taken: restoring as %2").arg(e.originalPath, s.to);
        checkSourceFolder(ctx, s.from, &res.problems);
        checkDestinationFolder(ctx, parentOf(s.to), &j.createdDirs, &res.problems);
        j.steps << s;
    }
    for (const Txn& t : h.txns) {
        if (t.state() == TransactionState::Undone && !t.orphaned)
            j.orphans << t.journal.id;
    }
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("nothing was restored");
        return res;
    }
    QString err;
    Txn t;
    if (!enoughSpace(ctx, j, &err) || !writeJournal(ctx, j, &t, &err)) {
        res.error = err + QStringLiteral("; nothing was restored");
        return res;
    }
    res.transactionId = j.id;
    crashPoint("journal written");
    if (runPhase(ctx, t, Phase::Apply, nullptr, res))
        res.summary = QStringLiteral("Restored (transaction %1): %2.").arg(j.id, describeMoves(res.moves));
    return res;
}

EmptyTrashResult emptyTrash(const QString& root)
{
    const Context ctx(root);
    EmptyTrashResult out;
    TransactionResult res;
    RootLock lock;
    if (!openForWriting(ctx, lock, res)) {
        out.error = res.error;
        out.recovery = res.recovery;
        return out;
    }
    out.recovery = res.recovery;
    History h = loadHistory(ctx);
    const QList<TrashEntry> entries = listTrashImpl(ctx, h);
    QSet<QString> doomed;
    for (const TrashEntry& e : entries)
        doomed.insert(e.trashPath);
    // Mark first, remove after: a crash in between leaves files that can still be restored, never a journal that
    // promises an undo it cannot do.
    for (Txn& t : h.txns) {
        const TransactionState s = t.state();
        if (t.log.purged || (s != TransactionState::Applied && s != TransactionState::Undone))
            continue;
        const bool hit = std::any_of(t.journal.steps.cbegin(), t.journal.steps.cend(),
            [&](const Step& step) { return doomed.contains(s == TransactionState::Applied ? step.to : step.from); });
        if (!hit)
            continue;
        Fs::AppendLog log;
        QString err;
        if (!log.open(t.logPath, &err) || !log.append("purged", &err)) {
            out.error = err;
            return out;
        }
    }
    crashPoint("purge marked");
    for (const TrashEntry& e : entries) {
        if (QFile::remove(ctx.abs(e.trashPath))) {
            ++out.filesRemoved;
            out.bytesFreed += e.size;
        } else {
            out.error = QStringLiteral("cannot remove %1").arg(e.trashPath);
        }
    }
    QDir trash(ctx.trashDir);
    for (const QString& f : trash.entryList(QDir::Files | QDir::Hidden))
        trash.remove(f); // manifests
    pruneTrash(ctx);
    out.ok = out.error.isEmpty();
    return out;
}

} // namespace Cleaning
} // namespace Winnow
