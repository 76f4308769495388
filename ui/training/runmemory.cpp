// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/runmemory.h"

#include <algorithm>
#include <functional>

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace Winnow::RunMemory {

namespace {

QString lastRunKey(const QString& root)
{
    return QStringLiteral("lastRun/")
        + QString::fromLatin1(
            QCryptographicHash::hash(QDir::cleanPath(root).toUtf8(), QCryptographicHash::Sha1).toHex());
}

} // namespace

QString lastRunDir(const QString& datasetRoot)
{
    return QSettings().value(lastRunKey(datasetRoot)).toString();
}

void rememberRun(const QString& datasetRoot, const QString& runDir)
{
    QSettings().setValue(lastRunKey(datasetRoot), runDir);
}

QStringList runCandidates(const QString& datasetRoot, const QString& runsRoot)
{
    QStringList out;
    const QString remembered = lastRunDir(datasetRoot);
    if (!remembered.isEmpty() && QFileInfo(remembered).isDir())
        out << remembered;
    if (!runsRoot.isEmpty()) {
        const QString prefix = QFileInfo(datasetRoot).fileName() + QLatin1Char('-');
        QStringList names = QDir(runsRoot).entryList({ prefix + QLatin1Char('*') }, QDir::Dirs | QDir::NoDotAndDotDot);
        std::sort(names.begin(), names.end(), std::greater<>());
        for (const QString& name : std::as_const(names)) {
            const QString dir = QDir(runsRoot).filePath(name);
            if (!out.contains(dir))
                out << dir;
        }
    }
    return out;
}

} // namespace Winnow::RunMemory
