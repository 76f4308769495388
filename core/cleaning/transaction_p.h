// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/cleaning: what the transaction files share (transaction.cpp, transactioncore.cpp, recovery.cpp,
// trash.cpp, transactionsplits.cpp). Not installed, not seen by ui/: the public API is transaction.h.
#pragma once

#include <algorithm>
#include <memory>

#include <QDir>
#include <QLockFile>
#include <QSet>
#include <QString>
#include <QStringList>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/transaction.h"
#include "core/util/layout.h"

namespace Winnow::Cleaning::Internal {

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
        , winnowDir(WinnowDir::dir(root))
        , journalDir(WinnowDir::journalDir(root))
        , trashDir(WinnowDir::trashDir(root))
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

struct RollbackOutcome
{
    bool resolved = true;
    int moved = 0;
    QStringList problems;
};

class RootLock;

// The journal folder, the lock, file moves and the phases of a transaction (transactioncore.cpp).
QByteArray readAll(const QString& path, bool* ok);
History loadHistory(const Context& ctx);
QString newId(int seq);
/// A journal for the next transaction of `h`: its seq, id, kind, creation time (now, UTC) and dataset root.
Journal newJournal(const Context& ctx, const History& h, TransactionKind kind);
/// Half-written files of Fs::writeFileDurably (".<name>.tmp-<hex>") that a killed transaction left in the journal
/// and trash folders: only transactions write there, and only under the lock, so any such file is stale once the
/// lock is ours. `remove`: delete them; returns how many there were.
int staleTemps(const Context& ctx, bool remove);
Fs::MoveResult moveFile(const Context& ctx, const QString& fromRel, const QString& toRel);
/// Where a step's file is now. A file present at both places is told apart by its fingerprint, then by the log.
Where locate(const Context& ctx, const Step& s, qint8 hint);
/// Puts folders and the trash manifest in line with where the files now are (`atTo`: every file at its `to`).
void tidy(const Context& ctx, const Txn& t, bool atTo);
void syncTouchedDirs(const Context& ctx, const Txn& t);
/// Returns every file of the interrupted or failed phase `p` to where it was before the phase began.
RollbackOutcome rollback(const Context& ctx, Txn& t, Phase p, Fs::AppendLog& log);
/// Runs one phase of a transaction: every move, each recorded; on failure rolls back. `res` gets moves and errors.
bool runPhase(const Context& ctx, Txn& t, Phase p, const ApplyOptions* options, TransactionResult& res);
bool enoughSpace(const Context& ctx, const Journal& j, QString* error);
bool writeJournal(const Context& ctx, const Journal& j, Txn* t, QString* error);
/// Opens a root for a writing operation: checks it, locks it, recovers. False with res.error set on failure.
bool openForWriting(const Context& ctx, RootLock& lock, TransactionResult& res);
/// Pre-checks moving every step of `t` forward (redo) or backward (undo).
void checkPhase(const Context& ctx, const Txn& t, bool forward, TransactionResult& res);

// Recovery of an interrupted transaction (recovery.cpp).
RecoveryAction resolveIncomplete(const Context& ctx, Txn& t);
RecoveryReport recoverLocked(const Context& ctx);

// The trash: .winnow/trash/<id>/<original path> and one manifest per transaction (trash.cpp).
/// ".winnow/trash/": where deleted files go, relative to the dataset root.
extern const QString kTrashPrefix;
/// Removes empty folders under .winnow/trash (left by restores and undos), deepest first.
void pruneTrash(const Context& ctx);
void writeManifest(const Context& ctx, const Txn& t);
/// `<orig>` of a trash path `.winnow/trash/<id>/<orig>`; empty if it is not one.
QString originalOfTrashPath(const QString& path);
QList<TrashEntry> listTrashImpl(const Context& ctx, const History& h);

// The saved split (.winnow/splits.tsv, core/dataset/splitstore.h); folder-per-class datasets only
// (transactionsplits.cpp).
/// Parses a recorded Step::split; false when none was recorded (or it is unknown).
bool splitFromName(const QString& name, Split* split);
/// Before an apply: gives a folder-per-class dataset a saved split if it has no usable one (see ApplyOptions::split)
/// and records in each step the split its file has now. Problems are warnings: the apply goes on without them.
void prepareSplits(
    const Context& ctx, const CleaningPlan& plan, const ApplyOptions& options, Journal& j, QStringList* warnings);
/// After a phase put every file of `t` at its `to` (forward) or its `from`: brings the saved split in line, so that a
/// relabelled or restored file keeps the split recorded in its step, undo gives each file its recorded split back, a
/// deleted file keeps its entry, and a newly labelled file (from an unlabeled folder) is left to the per-file rule.
/// Idempotent (recovery may run it again). Never creates a store: one that lists only these files would change the
/// split of every other file. A failure is a warning: the moves stand.
void updateSplitStore(const Context& ctx, const Txn& t, bool forward, QStringList* warnings);

// Building and describing transactions (transaction.cpp).
bool exists(const Context& ctx, const QString& rel);
/// `dest`, or `name (1).ext`, `name (2).ext`, ... : the first name free on disk and not reserved by another step.
QString uniqueDestination(const Context& ctx, const QString& dest, QSet<QString>& reserved);
/// Checks that a file can be put into folder `dirRel` (created if missing). Missing folders are added to `created`.
void checkDestinationFolder(const Context& ctx, const QString& dirRel, QStringList* created, QStringList* problems);
void checkSourceFolder(const Context& ctx, const QString& fileRel, QStringList* problems);
QString layoutText(Layout l);
/// Turns a plan into steps with final names, checking everything. Problems go to `res.problems`.
Journal buildApplyJournal(const Context& ctx, const History& h, const CleaningPlan& plan, const ApplyOptions& options,
    TransactionResult& res);
QString describeMoves(const QList<FileMove>& moves);
TransactionResult undoOrRedo(const QString& root, bool undo);

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
        m_lock = std::make_unique<QLockFile>(WinnowDir::lockFile(ctx.root));
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

} // namespace Winnow::Cleaning::Internal
