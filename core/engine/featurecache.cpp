// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/featurecache.h"

#include <cstring>

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutex>
#include <QStandardPaths>

namespace Winnow {

namespace {

constexpr char kMagic[4] = { 'W', 'N', 'F', 'C' };
constexpr qint32 kVersion = 1;
constexpr int kKeyBytes = 16;

QString cacheDir()
{
    QString dir = qEnvironmentVariable("WINNOW_CACHE_DIR");
    if (dir.isEmpty())
        dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    return QDir(dir).filePath(QStringLiteral("features"));
}

} // namespace

QByteArray FeatureCache::fileKey(const QString& path)
{
    static QMutex mutex;
    static QHash<QString, QByteArray> memo;
    const QFileInfo fi(path);
    if (!fi.isFile())
        return {};
    const QString memoKey = path + QLatin1Char('|') + QString::number(fi.size()) + QLatin1Char('|')
        + QString::number(fi.lastModified().toMSecsSinceEpoch());
    {
        QMutexLocker lock(&mutex);
        if (auto it = memo.constFind(memoKey); it != memo.constEnd())
            return *it;
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Md5);
    if (!h.addData(&f))
        return {};
    const QByteArray key = h.result();
    QMutexLocker lock(&mutex);
    memo.insert(memoKey, key);
    return key;
}

void FeatureCache::open(const QString& modelKey)
{
    if (modelKey == m_modelKey && !m_file.isEmpty())
        return;
    m_modelKey = modelKey;
    m_dim = 0;
    m_values.clear();
    m_index.clear();
    m_pending.clear();
    const QByteArray name = QCryptographicHash::hash(modelKey.toUtf8(), QCryptographicHash::Sha1).toHex();
    m_file = QDir(cacheDir()).filePath(QString::fromLatin1(name) + QStringLiteral(".bin"));

    QFile f(m_file);
    if (!f.open(QIODevice::ReadOnly))
        return;
    const QByteArray all = f.readAll();
    if (all.size() < 12 || std::memcmp(all.constData(), kMagic, 4) != 0)
        return;
    qint32 version = 0, dim = 0;
    std::memcpy(&version, all.constData() + 4, 4);
    std::memcpy(&dim, all.constData() + 8, 4);
    if (version != kVersion || dim <= 0 || dim > (1 << 20))
        return;
    const qsizetype record = kKeyBytes + qsizetype(dim) * 4;
    const qsizetype count = (all.size() - 12) / record; // a torn last record (crash mid-append) is ignored
    m_dim = dim;
    m_values.resize(size_t(count) * dim);
    for (qsizetype i = 0; i < count; ++i) {
        const char* rec = all.constData() + 12 + i * record;
        m_index.insert(QByteArray(rec, kKeyBytes), i);
        std::memcpy(m_values.data() + i * dim, rec + kKeyBytes, size_t(dim) * 4);
    }
}

const float* FeatureCache::find(const QByteArray& key) const
{
    const auto it = m_index.constFind(key);
    return it == m_index.constEnd() ? nullptr : m_values.data() + *it * m_dim;
}

void FeatureCache::insert(const QByteArray& key, const float* values, int dim)
{
    if (key.size() != kKeyBytes || dim <= 0)
        return;
    if (m_dim == 0)
        m_dim = dim;
    if (dim != m_dim)
        return;
    if (auto it = m_index.constFind(key); it != m_index.constEnd()) {
        std::memcpy(m_values.data() + *it * m_dim, values, size_t(dim) * 4);
        return;
    }
    const qsizetype row = qsizetype(m_values.size() / m_dim);
    m_values.insert(m_values.end(), values, values + dim);
    m_index.insert(key, row);
    m_pending.push_back(key);
}

void FeatureCache::flush()
{
    if (m_pending.empty() || m_file.isEmpty())
        return;
    QDir().mkpath(QFileInfo(m_file).absolutePath());
    QFile f(m_file);
    const bool fresh = !f.exists() || f.size() < 12;
    if (!f.open(QIODevice::ReadWrite)) {
        m_pending.clear();
        return;
    }
    if (fresh) {
        f.resize(0);
        f.write(kMagic, 4);
        f.write(reinterpret_cast<const char*>(&kVersion), 4);
        f.write(reinterpret_cast<const char*>(&m_dim), 4);
    } else {
        // Keep whole records only (drop a torn tail), then append.
        const qsizetype record = kKeyBytes + qsizetype(m_dim) * 4;
        f.resize(12 + (f.size() - 12) / record * record);
    }
    f.seek(f.size());
    for (const auto& key : m_pending) {
        f.write(key);
        f.write(reinterpret_cast<const char*>(find(key)), qint64(m_dim) * 4);
    }
    m_pending.clear();
}

} // namespace Winnow
