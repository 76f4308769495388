// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/cleaning: the few POSIX-level file operations the transaction code needs to be crash-safe
// (durable writes, fsync'd append-only logs, rename that never replaces). Not for the UI.
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

namespace Winnow::Cleaning::Fs {

/// fsync() on/off, process-wide (default on). Only the tests switch it off: it matters for power loss, not for a
/// killed process, and it dominates their run time on a busy disk.
void setSyncEnabled(bool on);

/// lstat() of a path (a symlink is described, not followed).
struct StatInfo
{
    bool exists = false;
    bool isDir = false;
    bool isRegular = false;
    bool isSymlink = false;
    qint64 size = -1;
    qint64 mtimeMs = -1;
    quint64 device = 0;
    quint64 inode = 0;
};
StatInfo lstatPath(const QString& path);

/// Writes `data` to `path` so that after return it survives a crash or power loss: write a temp file in the same
/// folder, fsync it, rename over `path`, fsync the folder. Without POSIX: writeFileAtomically (core/util/atomicfile.h).
bool writeFileDurably(const QString& path, const QByteArray& data, QString* error);

/// fsync() of a directory, so that entries created/renamed in it are durable. Best effort (returns success).
bool syncDir(const QString& dir);

/// Creates `dir` and missing parents; each folder it creates is fsync'd into its parent.
bool makePath(const QString& dir, QString* error);

/// Result of renameNoReplace().
struct MoveResult
{
    bool ok = false;
    bool targetExists = false;
    bool sourceMissing = false;
    int errnum = 0;
    QString error; ///< strerror text with the paths
};

/// Renames `from` to `to` atomically, failing (targetExists) instead of replacing an existing `to`: renameat2
/// (RENAME_NOREPLACE) on Linux, renamex_np(RENAME_EXCL) on macOS, else link()+unlink(), else a checked rename().
/// Both paths must be on the same filesystem.
MoveResult renameNoReplace(const QString& from, const QString& to);

/// Whether the current user may create and remove entries in `dir` (access(W_OK|X_OK)). As root this is true for any
/// folder of a writable filesystem, whatever its mode.
bool isWritableDir(const QString& dir);

/// Lowercase hex SHA-256 of a file's content; empty on error.
QString sha256File(const QString& path, QString* error = nullptr);

/// An append-only text log: each append() writes one line with a single write() and fsyncs it.
class AppendLog
{
public:
    AppendLog() = default;
    ~AppendLog();
    AppendLog(const AppendLog&) = delete;
    AppendLog& operator=(const AppendLog&) = delete;

    /// Opens (creating if needed) for appending. A new file's folder is fsync'd.
    bool open(const QString& path, QString* error);
    bool append(const QByteArray& line, QString* error); ///< `line` without '\n'
    void close();
    bool isOpen() const
    {
        return m_fd >= 0;
    }

private:
    int m_fd = -1;
    QString m_path;
};

/// Removes `dir` if it is an empty folder; returns whether it is gone.
bool removeEmptyDir(const QString& dir);

} // namespace Winnow::Cleaning::Fs
