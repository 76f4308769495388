// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dataset/importimages.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include "core/dataset/dataset.h"

namespace Winnow {

namespace {

bool isInside(const QString& path, const QString& root)
{
    const QString p = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    return p == root || p.startsWith(root + QLatin1Char('/'));
}

/// `dir/base.ext`, else `dir/base (2).ext`, `dir/base (3).ext`, ...: the n-th candidate name.
QString candidate(const QString& dir, const QFileInfo& source, int n)
{
    if (n <= 1)
        return dir + QLatin1Char('/') + source.fileName();
    const QString suffix = source.completeSuffix();
    const QString base = suffix.isEmpty() ? source.fileName() : source.fileName().chopped(suffix.size() + 1);
    return dir + QLatin1Char('/') + base + QStringLiteral(" (%1)").arg(n)
        + (suffix.isEmpty() ? QString() : QLatin1Char('.') + suffix);
}

} // namespace

ImportResult importImagesToLabel(
    const QString& rootIn, const QStringList& inputs, const QString& folder, const std::atomic<bool>* cancel)
{
    ImportResult result;
    const QFileInfo rootInfo(rootIn);
    if (rootIn.isEmpty() || !rootInfo.isDir()) {
        result.error = QStringLiteral("the dataset folder \"%1\" does not exist").arg(rootIn);
        return result;
    }
    const QString root = QDir::cleanPath(rootInfo.absoluteFilePath());
    const QString rel =
        QDir::cleanPath(QDir::fromNativeSeparators(folder.isEmpty() ? QStringLiteral("unlabeled") : folder));
    if (rel.startsWith(QLatin1Char('/')) || rel == QLatin1String("..") || rel.startsWith(QLatin1String("../"))) {
        result.error = QStringLiteral("\"%1\" is not a folder inside the dataset").arg(folder);
        return result;
    }
    const QString dest = root + QLatin1Char('/') + rel;

    // Expand folders, but say which inputs were not images rather than dropping them silently.
    QStringList files;
    for (const QString& in : inputs) {
        const QFileInfo info(in);
        if (!info.exists()) {
            result.skipped << QStringLiteral("%1: no such file").arg(in);
        } else if (info.isDir()) {
            if (isInside(in, root) || isInside(root, in))
                result.skipped << QStringLiteral("%1: the folder is part of the dataset").arg(in);
            else
                files << expandImageInputs({ in });
        } else if (!hasImageExtension(info.fileName())) {
            result.skipped << QStringLiteral("%1: not an image file").arg(in);
        } else {
            files << in;
        }
    }
    if (files.isEmpty())
        return result;
    if (!QDir().mkpath(dest)) {
        result.error = QStringLiteral("cannot create %1; is the dataset folder read-only?").arg(dest);
        return result;
    }

    for (const QString& file : std::as_const(files)) {
        if (cancel && cancel->load()) {
            result.cancelled = true;
            break;
        }
        const QFileInfo source(file);
        if (isInside(file, root)) {
            result.skipped << QStringLiteral("%1: already in the dataset").arg(file);
            continue;
        }
        const QString temp = dest + QStringLiteral("/.winnow-import-") + source.fileName() + QStringLiteral(".part");
        QFile::remove(temp); // a leftover of a crashed import: ours, never a user's file (hidden, .part)
        if (!QFile::copy(file, temp)) {
            QFile in(file);
            result.skipped << QStringLiteral("%1: %2").arg(
                file, in.open(QIODevice::ReadOnly) ? QStringLiteral("cannot write to %1").arg(dest) : in.errorString());
            continue;
        }
        if (QFileInfo(temp).size() != source.size()) {
            QFile::remove(temp);
            result.skipped << QStringLiteral("%1: the copy is incomplete (disk full?)").arg(file);
            continue;
        }
        QString target;
        for (int n = 1; n < 100000; ++n) {
            const QString name = candidate(dest, source, n);
            if (QFileInfo::exists(name))
                continue;
            if (QFile::rename(temp, name)) { // refuses an existing name: a file that appeared meanwhile is kept
                target = name;
                break;
            }
        }
        if (target.isEmpty()) {
            QFile::remove(temp);
            result.skipped << QStringLiteral("%1: no free name in %2").arg(file, dest);
            continue;
        }
        result.copied << target.mid(root.size() + 1);
    }
    return result;
}

} // namespace Winnow
