// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cleaning/fsutil.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include "core/util/atomicfile.h"

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace Winnow::Cleaning::Fs {

namespace {

// Switched off only by tests, through TestHooks::setSyncEnabled (no environment variable reaches it).
std::atomic<bool> g_sync { true };

int doSync(int fd)
{
#ifdef Q_OS_UNIX
    return g_sync.load(std::memory_order_relaxed) ? ::fsync(fd) : 0;
#else
    Q_UNUSED(fd);
    return 0;
#endif
}

QString errText(int errnum, const QString& what)
{
    return what + QStringLiteral(": ") + QString::fromLocal8Bit(std::strerror(errnum));
}

#ifdef Q_OS_UNIX
bool writeAll(int fd, const char* data, qint64 size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size_t(size));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}
#endif

} // namespace

void setSyncEnabled(bool on)
{
    g_sync = on;
}

StatInfo lstatPath(const QString& path)
{
    StatInfo info;
#ifdef Q_OS_UNIX
    struct stat st;
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return info;
    info.exists = true;
    info.isDir = S_ISDIR(st.st_mode);
    info.isRegular = S_ISREG(st.st_mode);
    info.isSymlink = S_ISLNK(st.st_mode);
    info.size = qint64(st.st_size);
    info.device = quint64(st.st_dev);
    info.inode = quint64(st.st_ino);
#if defined(Q_OS_MACOS)
    info.mtimeMs = qint64(st.st_mtimespec.tv_sec) * 1000 + st.st_mtimespec.tv_nsec / 1000000;
#else
    info.mtimeMs = qint64(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
#endif
#else
    const QFileInfo fi(path);
    if (!fi.exists() && !fi.isSymLink())
        return info;
    info.exists = true;
    info.isDir = fi.isDir();
    info.isRegular = fi.isFile();
    info.isSymlink = fi.isSymLink();
    info.size = fi.size();
    info.mtimeMs = fi.lastModified().toMSecsSinceEpoch();
#endif
    return info;
}

bool syncDir(const QString& dir)
{
#ifdef Q_OS_UNIX
    if (!g_sync)
        return true;
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = doSync(fd) == 0;
    ::close(fd);
    return ok;
#else
    Q_UNUSED(dir);
    return true;
#endif
}

bool writeFileDurably(const QString& path, const QByteArray& data, QString* error)
{
    const QFileInfo fi(path);
    const QString dir = fi.absolutePath();
    const QString tmp = dir + QStringLiteral("/.") + fi.fileName() + QStringLiteral(".tmp-")
        + QString::number(QRandomGenerator::global()->generate(), 16);
#ifdef Q_OS_UNIX
    const QByteArray tmpName = QFile::encodeName(tmp);
    const int fd = ::open(tmpName.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (error)
            *error = errText(errno, QStringLiteral("cannot create %1").arg(tmp));
        return false;
    }
    if (!writeAll(fd, data.constData(), data.size()) || doSync(fd) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmpName.constData());
        if (error)
            *error = errText(e, QStringLiteral("cannot write %1").arg(tmp));
        return false;
    }
    ::close(fd);
    if (::rename(tmpName.constData(), QFile::encodeName(path).constData()) != 0) {
        const int e = errno;
        ::unlink(tmpName.constData());
        if (error)
            *error = errText(e, QStringLiteral("cannot rename %1 to %2").arg(tmp, path));
        return false;
    }
    syncDir(dir);
    return true;
#else
    Q_UNUSED(tmp);
    return writeFileAtomically(path, data, error); // QSaveFile: atomic, not durable (no folder fsync)
#endif
}

bool makePath(const QString& dir, QString* error)
{
    const QString clean = QDir::cleanPath(dir);
    const StatInfo st = lstatPath(clean);
    if (st.exists) {
        if (st.isDir)
            return true;
        if (error)
            *error = QStringLiteral("%1 exists and is not a folder").arg(clean);
        return false;
    }
    const QString parent = QFileInfo(clean).absolutePath();
    if (parent != clean && !makePath(parent, error))
        return false;
    if (!QDir().mkdir(clean) && !lstatPath(clean).isDir) {
        if (error)
            *error = QStringLiteral("cannot create folder %1 (read-only or no permission?)").arg(clean);
        return false;
    }
    syncDir(parent);
    return true;
}

MoveResult renameNoReplace(const QString& from, const QString& to)
{
    MoveResult r;
    const QByteArray f = QFile::encodeName(from);
    const QByteArray t = QFile::encodeName(to);
    const QString what = QStringLiteral("cannot move %1 to %2").arg(from, to);
    auto fail = [&](int e) {
        r.errnum = e;
        r.targetExists = e == EEXIST;
        r.sourceMissing = e == ENOENT && !lstatPath(from).exists;
        r.error = r.targetExists ? QStringLiteral("%1: the destination exists").arg(what) : errText(e, what);
        return r;
    };
#if defined(Q_OS_LINUX) && defined(RENAME_NOREPLACE)
    if (::renameat2(AT_FDCWD, f.constData(), AT_FDCWD, t.constData(), RENAME_NOREPLACE) == 0) {
        r.ok = true;
        return r;
    }
    // ENOTSUP and EOPNOTSUPP are the same number on Linux, not on every system: both are named on purpose.
    // NOLINTNEXTLINE(misc-redundant-expression)
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
        return fail(errno);
#elif defined(Q_OS_MACOS)
    if (::renamex_np(f.constData(), t.constData(), RENAME_EXCL) == 0) {
        r.ok = true;
        return r;
    }
    if (errno != ENOTSUP && errno != EINVAL)
        return fail(errno);
#endif
#ifdef Q_OS_UNIX
    // Filesystems without RENAME_NOREPLACE: link() fails with EEXIST atomically; then drop the old name.
    if (::link(f.constData(), t.constData()) == 0) {
        if (::unlink(f.constData()) != 0) {
            const int e = errno;
            ::unlink(t.constData());
            return fail(e);
        }
        r.ok = true;
        return r;
    }
    if (errno == EEXIST || errno == ENOENT || errno == EACCES || errno == EROFS || errno == ENOSPC)
        return fail(errno);
    // No hard links here (FAT, some FUSE): check, then rename. Racy only against other writers.
    if (lstatPath(to).exists)
        return fail(EEXIST);
    if (::rename(f.constData(), t.constData()) != 0)
        return fail(errno);
    r.ok = true;
    return r;
#else
    if (QFileInfo::exists(to))
        return fail(EEXIST);
    if (!QFile::rename(from, to)) {
        r.error = what;
        return r;
    }
    r.ok = true;
    return r;
#endif
}

bool isWritableDir(const QString& dir)
{
#ifdef Q_OS_UNIX
    return ::access(QFile::encodeName(dir).constData(), W_OK | X_OK) == 0;
#else
    return QFileInfo(dir).isWritable();
#endif
}

QString sha256File(const QString& path, QString* error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    return QString::fromLatin1(hash.result().toHex());
}

AppendLog::~AppendLog()
{
    close();
}

bool AppendLog::open(const QString& path, QString* error)
{
    close();
    m_path = path;
#ifdef Q_OS_UNIX
    const bool existed = lstatPath(path).exists;
    m_fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) {
        if (error)
            *error = errText(errno, QStringLiteral("cannot open %1").arg(path));
        return false;
    }
    if (!existed) {
        doSync(m_fd);
        syncDir(QFileInfo(path).absolutePath());
    }
    return true;
#else
    m_fd = 1;
    Q_UNUSED(error);
    return true;
#endif
}

bool AppendLog::append(const QByteArray& line, QString* error)
{
    const QByteArray data = line + '\n';
#ifdef Q_OS_UNIX
    if (m_fd < 0 || !writeAll(m_fd, data.constData(), data.size()) || doSync(m_fd) != 0) {
        if (error)
            *error = errText(errno, QStringLiteral("cannot write %1").arg(m_path));
        return false;
    }
    return true;
#else
    QFile f(m_path);
    if (!f.open(QIODevice::Append) || f.write(data) != data.size() || !f.flush()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(m_path, f.errorString());
        return false;
    }
    return true;
#endif
}

void AppendLog::close()
{
#ifdef Q_OS_UNIX
    if (m_fd >= 0)
        ::close(m_fd);
#endif
    m_fd = -1;
}

bool removeEmptyDir(const QString& dir)
{
    const StatInfo st = lstatPath(dir);
    if (!st.exists)
        return true;
    if (!st.isDir)
        return false;
    return QDir().rmdir(dir); // rmdir(2) refuses a non-empty folder
}

} // namespace Winnow::Cleaning::Fs
