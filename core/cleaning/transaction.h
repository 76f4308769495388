// SPDX-License-Identifier: GPL-3.0-or-later
// Applying a cleaning plan to a dataset folder as one journaled, crash-safe, undoable transaction; the trash.
#pragma once

#include <functional>
#include <optional>

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include "core/cleaning/cleaningplan.h"
#include "core/dataset/splitstore.h"
#include "core/util/layout.h"

/**
 * @file
 * On-disk layout (all inside the dataset root, in a hidden folder that dataset scans skip):
 *
 *     <root>/.winnow/lock                      QLockFile held while a transaction runs (one writer per dataset)
 *     <root>/.winnow/journal/<id>.json         the transaction: every planned step (from, to, size, mtime[, sha256]),
 *                                              written durably (temp + fsync + rename + fsync dir) before any move
 *     <root>/.winnow/journal/<id>.log          append-only, fsync'd event log: "begin apply", "fwd 3", "commit apply",
 *                                              "begin undo", "back 3", "commit undo", "begin rollback", "purged", ...
 *     <root>/.winnow/trash/<id>/<relPath>      files deleted by transaction <id>, at their original relative path
 *     <root>/.winnow/trash/<id>.json           trash manifest of <id> (informational; the files are the truth)
 *     <root>/.winnow/splits.tsv                the saved train/valid split (core/dataset/splitstore.h), kept up to
 *                                              date by every transaction below: a relabelled or restored file keeps
 *                                              the split it had, undo gives every file its old split back, a deleted
 *                                              file keeps its entry (for undo and restore), no other file moves
 *
 * `<id>` is `<6-digit sequence>-<UTC yyyyMMddTHHmmssZ>`, e.g. `000003-20250114T093012Z`; ids sort in history order.
 * Full format: core/cleaning/FORMAT.md.
 *
 * Guarantees: a file is only ever renamed inside the root, never copied, never overwritten (renames fail if the
 * destination exists), never removed except by emptyTrash(). A crash or kill at any point leaves a journal from which
 * recover() rolls the transaction back (or, when every file already reached its destination, completes it); every
 * public operation below runs recover() first.
 *
 * Threading: every function is blocking, may run on any thread, and takes `<root>/.winnow/lock` (a second process or
 * thread working on the same root gets a clear "busy" error instead of waiting). Nothing here throws.
 */
namespace Winnow {

enum class MoveKind : quint8 {
    Delete, ///< dataset file -> trash
    Relabel, ///< dataset file -> another class folder
    Restore, ///< trash -> dataset
    Rename ///< a dataset file given another name in its own folder (renameFiles(): a web scrape's odd file names)
};

/// "delete", "relabel", "restore", "rename": the journal's spelling, also what `winnow clean` prints.
QString moveKindName(MoveKind k);

/// One file move, root-relative paths with '/' separators.
struct FileMove
{
    MoveKind kind = MoveKind::Delete;
    QString from;
    QString to;
    QString toClass; ///< Relabel only
};

struct ApplyOptions
{
    /// Also record each source's SHA-256 in the journal (slower: reads every file). Size + mtime are always recorded.
    bool verifyHash = false;
    /// Called on the calling thread after each file move with (done, total). Return false to cancel: the moves done
    /// so far are rolled back and the result says "cancelled".
    std::function<bool(int done, int total)> progress;
    /// The split settings the dataset is used with (pass SplitSettings::of(dataset.options)). Before the first move a
    /// folder-per-class dataset gets `.winnow/splits.tsv` (core/dataset/splitstore.h) written from a scan of the
    /// root with these settings when it has none, a damaged one, or one made with other settings, so that every moved
    /// file keeps its split. Unset: an existing store is used whatever its settings; a missing one is made with the
    /// ScanOptions defaults (seed 42, validPct 0.2).
    std::optional<SplitSettings> split;
};

enum class TransactionKind : quint8 {
    Apply, ///< applying a cleaning plan
    Restore ///< restoring files from the trash
};

enum class TransactionState : quint8 {
    Incomplete, ///< interrupted; recover() will roll it back or complete it
    Applied,
    Undone,
    RolledBack ///< failed or interrupted and rolled back: it never happened
};

QString transactionStateName(TransactionState s); ///< "incomplete", "applied", "undone", "rolled back"

/// What recover() did to one interrupted transaction.
struct RecoveryAction
{
    QString transactionId;
    QString phase; ///< the interrupted phase: "apply", "undo" or "redo"
    bool completed = false; ///< every file had reached its destination: the phase was completed, not rolled back
    bool resolved = false; ///< false: still incomplete (a move failed); details in `problems`
    int filesMoved = 0; ///< files moved by the recovery itself
    QStringList problems; ///< per-file notes (missing files, occupied places, errors)
    QString text() const; ///< one line for people
};

struct RecoveryReport
{
    QList<RecoveryAction> actions;
    QString error; ///< the recovery itself could not run (unreadable journal, lock busy, ...)
    /// The recovery did not run because another process holds the dataset's lock (`error` names it): what looks
    /// interrupted may be that process's transaction, still running.
    bool busy = false;
    bool acted() const
    {
        return !actions.isEmpty();
    }
    bool ok() const; ///< no error and every action resolved
    QString message() const; ///< multi-line summary; empty when nothing was done
};

/// Outcome of applyPlan(), preview(), undoLast(), redo() and restoreFromTrash().
struct TransactionResult
{
    bool ok = false;
    QString transactionId;
    QString summary; ///< one line on success: "Applied 000003-...: 2 moved to the trash, 3 moved to another class."
    QString error; ///< one-line reason when !ok
    QStringList problems; ///< per-file reasons (pre-check failures, rollback notes)
    QStringList warnings; ///< did not stop the operation (e.g. plan made for another folder, file modified)
    QList<FileMove> moves; ///< moves done (or, for preview(), that would be done), in order
    bool cancelled = false;
    bool rolledBack = false; ///< it failed mid-way and the moves done were rolled back
    bool incomplete = false; ///< the rollback itself failed: the transaction is left for recover()
    RecoveryReport recovery; ///< what recovery did before this operation
    QString message() const; ///< summary for people (several lines on failure)
};

/// One transaction in the history (status()).
struct TransactionInfo
{
    QString id;
    int seq = 0;
    TransactionKind kind = TransactionKind::Apply;
    QDateTime created; ///< UTC
    int deletes = 0;
    int moves = 0; ///< relabels
    int restores = 0;
    int renames = 0;
    TransactionState state = TransactionState::Incomplete;
    QString pendingPhase; ///< for Incomplete: "apply", "undo" or "redo"
    bool purged = false; ///< some of its files were removed for good by emptyTrash(): it cannot be undone/redone
    bool orphaned = false; ///< undone, then a newer transaction was made: it can no longer be redone
};

struct HistoryStatus
{
    QList<TransactionInfo> transactions; ///< oldest first
    QString undoTarget; ///< id undoLast() would undo; empty if none
    QString redoTarget; ///< id redo() would re-apply; empty if none
    bool hasIncomplete = false;
    int trashFiles = 0;
    qint64 trashBytes = 0;
    QStringList errors; ///< unreadable journal files
};

/// A file in the trash.
struct TrashEntry
{
    QString transactionId; ///< the transaction that deleted it
    QString originalPath; ///< where it was (root-relative); restore puts it back there (or "name (1).ext")
    QString trashPath; ///< where it is now (root-relative, under .winnow/trash/)
    qint64 size = 0;
    QDateTime deleted; ///< the transaction's time (UTC), or invalid if its journal is gone
};

struct EmptyTrashResult
{
    bool ok = false;
    int filesRemoved = 0;
    qint64 bytesFreed = 0;
    QString error;
    RecoveryReport recovery;
};

namespace Cleaning {

/// Relative name of Winnow's folder inside a dataset root (core/util/layout.h).
inline QString winnowDirName()
{
    return WinnowDir::dirName();
}

/// Looks for interrupted transactions and rolls each back (or completes it when all of its files already reached
/// their destination). Cheap when there is nothing to do (reads `.winnow/journal/*.log`; creates nothing).
RecoveryReport recover(const QString& root);

/// Dry run: the moves applyPlan() would make (collision renames included) and every pre-check problem. Touches
/// nothing (no lock, no recovery).
TransactionResult preview(const QString& root, const CleaningPlan& plan, const ApplyOptions& options = {});

/**
 * Applies a plan as one transaction. Pre-checks every file first (exists, unchanged since the plan recorded it,
 * folders writable, plan layout matches the folder, disk space for the journal); on any problem nothing is moved.
 * Deletes go to `.winnow/trash/<id>/<relPath>`; relabels go to the target class folder (created if needed), renamed
 * `name (1).ext`, `name (2).ext`... when the name is taken. If a move fails mid-way, the moves already done are rolled
 * back. An empty plan is an error ("nothing to do").
 */
TransactionResult applyPlan(const QString& root, const CleaningPlan& plan, const ApplyOptions& options = {});

/// A file to rename in place: its path relative to the root, and the new file name (one path component).
struct FileRename
{
    QString file;
    QString newName;
};

/**
 * Renames files in their own folders as one journaled, undoable transaction, like applyPlan() (pre-checks first; on
 * any problem nothing moves; a taken name gets `name (1).ext`). Every file keeps its split: the split the user sees
 * (`options.split`, `unlabeledFolders` as the scan had them) is saved first when the folder has no saved split yet.
 * `winnow scan --fix-extensions` and the dataset summary use it to give photos saved as `00000090.jpg?1518390504` or
 * `photo` a name with the extension of their content. An empty list is an error ("nothing to do").
 */
TransactionResult renameFiles(const QString& root, const QList<FileRename>& renames, const ApplyOptions& options = {},
    const QStringList& unlabeledFolders = {});

/// Undoes the most recent applied transaction (an apply or a restore): every file returns to its exact original path.
/// Refused (nothing moved) if a file is missing, an original path is now taken, or the trash was emptied since.
TransactionResult undoLast(const QString& root);

/// Re-applies the most recently undone transaction, if no newer transaction was made since.
TransactionResult redo(const QString& root);

/// The transaction history, undo/redo targets and trash size. Read-only (no lock, no recovery).
HistoryStatus status(const QString& root);

/// Every file in the trash, sorted by transaction then original path. Read-only.
QList<TrashEntry> listTrash(const QString& root);

/**
 * Restores files from the trash as one (undoable) transaction. `files` name entries by original path or by trash
 * path; an original path deleted by several transactions picks the newest. Empty `files` restores everything. A
 * taken original path gets `name (1).ext`. Unknown names: error, nothing moved.
 */
TransactionResult restoreFromTrash(const QString& root, const QStringList& files = {});

/// Permanently removes everything in the trash (the only destructive operation; callers must confirm). Transactions
/// whose files were removed become "purged": they can no longer be undone or redone.
EmptyTrashResult emptyTrash(const QString& root);

} // namespace Cleaning
} // namespace Winnow

Q_DECLARE_METATYPE(Winnow::TransactionResult)
