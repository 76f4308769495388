// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for the engine's end-to-end tests: dataset copies and the shared pretrained weights.
#pragma once

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QString>

namespace WinnowTest {

/// Copies a folder tree (files only, hidden entries included). Returns false on the first failure.
inline bool copyTree(const QString& from, const QString& to)
{
    QDirIterator it(from, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    const QDir src(from);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString target = QDir(to).filePath(src.relativeFilePath(path));
        if (!QDir().mkpath(QFileInfo(target).absolutePath()) || !QFile::copy(path, target))
            return false;
    }
    return true;
}

inline QString mobilenetWeights(const QString& shared)
{
    return QDir(shared).filePath(QStringLiteral("weights/mobilenet_v2-imagenet.safetensors"));
}

/// Runs the winnow binary; returns exit code, fills stdout/stderr.
inline int runWinnow(const QStringList& args, QByteArray* out, QByteArray* err = nullptr, int timeoutMs = 900000)
{
    QProcess p;
    p.start(QStringLiteral(WINNOW_BINARY), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return -1;
    }
    if (out)
        *out = p.readAllStandardOutput();
    if (err)
        *err = p.readAllStandardError();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
}

} // namespace WinnowTest
