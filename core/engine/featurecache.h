// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <vector>

#include <QByteArray>
#include <QHash>
#include <QString>

namespace Winnow {

/**
 * Pooled backbone features per image, keyed by the file's content (MD5) under one model key (architecture, weights,
 * image size), kept in memory and persisted to `<cache>/features/<hash of model key>.bin` so later rounds and later
 * runs reuse them. A moved or relabelled file keeps its key; an edited file gets a new one.
 * The cache folder is $WINNOW_CACHE_DIR, else QStandardPaths::CacheLocation. Not thread-safe.
 * On-disk format: "WNFC" magic, int32 version 1, int32 dim, then records of 16 key bytes + dim float32.
 */
class FeatureCache
{
public:
    /// Switches to the store of `modelKey` (loading what is on disk). Does nothing if it is already current.
    void open(const QString& modelKey);
    bool contains(const QByteArray& key) const
    {
        return m_index.contains(key);
    }
    /// Pointer to `dim()` floats, or nullptr.
    const float* find(const QByteArray& key) const;
    void insert(const QByteArray& key, const float* values, int dim);
    /// Appends entries inserted since the last flush to the file (best effort: a read-only cache only costs time).
    void flush();
    int dim() const
    {
        return m_dim;
    }
    int size() const
    {
        return int(m_index.size());
    }
    QString filePath() const
    {
        return m_file;
    }

    /// MD5 of the file's bytes, memoised per (path, size, mtime) for the process. Empty if unreadable.
    static QByteArray fileKey(const QString& path);

private:
    QString m_modelKey;
    QString m_file;
    int m_dim = 0;
    std::vector<float> m_values;
    QHash<QByteArray, qsizetype> m_index; ///< key -> offset into m_values (in rows)
    std::vector<QByteArray> m_pending;
};

} // namespace Winnow
