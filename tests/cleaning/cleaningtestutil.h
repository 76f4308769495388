// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for the cleaning tests: writing small trees, hashing every file, comparing trees.
#pragma once

#include <algorithm>

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QSet>
#include <QString>
#include <QStringList>

namespace CleaningTest {

/// A QTemporaryDir template on tmpfs (/dev/shm) when there is one, else in the temp folder. For the tests that run
/// thousands of small file operations: they test logic, and a busy shared disk makes metadata operations slow.
/// tst_apply runs on the normal temp folder, so the real filesystem is covered too.
inline QString fastTempTemplate(const QString& name)
{
    const QFileInfo shm(QStringLiteral("/dev/shm"));
    const QString base = shm.isDir() && shm.isWritable() ? shm.filePath() : QDir::tempPath();
    return base + QLatin1Char('/') + name + QStringLiteral("-XXXXXX");
}

/// Writes `content` to root/rel, creating folders. Returns false on failure.
inline bool writeFile(const QString& root, const QString& rel, const QByteArray& content)
{
    const QString path = root + QLatin1Char('/') + rel;
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return false;
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

inline QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

inline QByteArray sha(const QByteArray& data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

/// relPath -> sha256 of every file under root. `withWinnow`: include .winnow/ (journal excluded unless `journal`).
inline QMap<QString, QByteArray> hashTree(const QString& root, bool withTrash = false)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(
        root, QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString rel = path.mid(root.size() + 1);
        if (rel.startsWith(QLatin1String(".winnow/"))) {
            if (!withTrash || !rel.startsWith(QLatin1String(".winnow/trash/")) || rel.endsWith(QLatin1String(".json")))
                continue;
        }
        out.insert(rel, sha(readFile(path)));
    }
    return out;
}

/// Every folder under root (relative), .winnow excluded.
inline QSet<QString> dirSet(const QString& root)
{
    QSet<QString> out;
    QDirIterator it(root, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString rel = it.next().mid(root.size() + 1);
        if (rel != QLatin1String(".winnow") && !rel.startsWith(QLatin1String(".winnow/")))
            out.insert(rel);
    }
    return out;
}

/// Sorted list of content hashes of every dataset file plus every trashed file: "nothing lost" means this is equal.
inline QList<QByteArray> contentMultiset(const QString& root)
{
    QList<QByteArray> v = hashTree(root, true).values();
    std::sort(v.begin(), v.end());
    return v;
}

/// Trash contents keyed by the original path (the transaction id part dropped).
inline QMap<QString, QByteArray> trashByOriginal(const QString& root)
{
    QMap<QString, QByteArray> out;
    const QMap<QString, QByteArray> all = hashTree(root, true);
    for (auto it = all.cbegin(); it != all.cend(); ++it) {
        if (it.key().startsWith(QLatin1String(".winnow/trash/")))
            out.insert(it.key().section(QLatin1Char('/'), 3), it.value());
    }
    return out;
}

inline QMap<QString, QByteArray> withoutTrash(const QMap<QString, QByteArray>& m)
{
    QMap<QString, QByteArray> out;
    for (auto it = m.cbegin(); it != m.cend(); ++it) {
        if (!it.key().startsWith(QLatin1String(".winnow/")))
            out.insert(it.key(), it.value());
    }
    return out;
}

} // namespace CleaningTest
