// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for the engine's end-to-end tests: dataset copies and the shared pretrained weights.
#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QSet>
#include <QString>
#include <QVector>
#include <QtEndian>

namespace WinnowTest {

/// One F32 tensor for safetensorsBytes().
struct F32Tensor
{
    QString name;
    QList<int> shape;
    QVector<float> values;
};

/// A safetensors file written by hand (F32 only), independent of the reader under test.
inline QByteArray safetensorsBytes(const QList<F32Tensor>& tensors)
{
    QJsonObject header;
    QByteArray data;
    for (const F32Tensor& t : tensors) {
        QJsonArray shape;
        for (int s : t.shape)
            shape.append(s);
        const qint64 begin = data.size();
        data.append(reinterpret_cast<const char*>(t.values.constData()), t.values.size() * qsizetype(sizeof(float)));
        header.insert(t.name,
            QJsonObject { { QStringLiteral("dtype"), QStringLiteral("F32") }, { QStringLiteral("shape"), shape },
                { QStringLiteral("data_offsets"), QJsonArray { begin, qint64(data.size()) } } });
    }
    QByteArray h = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (h.size() % 8)
        h.append(' ');
    QByteArray len(8, '\0');
    qToLittleEndian<quint64>(quint64(h.size()), len.data());
    return len + h + data;
}

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

/// Hex MD5 of a file's bytes (the engine's content key), computed here independently of the engine.
inline QByteArray md5Hex(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Md5).toHex();
}

/// A run folder's trained.tsv: network name ("model", "cv0", ...) -> hex content keys it trained on.
inline QHash<QByteArray, QSet<QString>> readTrainedKeys(const QString& runDir)
{
    QHash<QByteArray, QSet<QString>> out;
    QFile f(QDir(runDir).filePath(QStringLiteral("trained.tsv")));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        const auto parts = f.readLine().trimmed().split('\t');
        if (parts.size() == 2)
            out[parts[0]].insert(QString::fromLatin1(parts[1]));
    }
    return out;
}

} // namespace WinnowTest
