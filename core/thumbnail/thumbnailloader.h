// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCache>
#include <QHash>
#include <QImage>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThreadPool>

#include "core/util/threads.h"

namespace Winnow {

/// Cache key of a thumbnail: the file and the bounding square it was decoded for.
struct ThumbnailKey
{
    QString path;
    int px = 0;
    friend bool operator==(const ThumbnailKey& a, const ThumbnailKey& b)
    {
        return a.px == b.px && a.path == b.path;
    }
};
size_t qHash(const ThumbnailKey& key, size_t seed = 0) noexcept;

/**
 * Asynchronous, cancellable, cached thumbnail decoder. Headless (QtGui only), so it is testable without widgets.
 *
 * Callers name each request with their own id (e.g. a sample index) and get exactly one answer per request that is
 * not cancelled: thumbnailLoaded() or thumbnailFailed(). Answers are always delivered asynchronously (never from
 * inside request()), in the loader's thread. A new request for an id that is still pending replaces the old one.
 *
 * - Decoded images are kept in a byte-bounded QCache (default 256 MiB); failures are remembered too, so a broken file
 *   is decoded once.
 * - Requests for the same (path, px) while it is queued or decoding are merged into one decode.
 * - cancel()/cancelAllExcept() drop requests that have not started decoding (e.g. rows that scrolled away). A decode
 *   already running finishes and is cached, but cancelled ids get no signal.
 * - Decoding runs on a private QThreadPool capped at 2 threads, so thumbnails never starve the training threads.
 *   Requests start in FIFO order.
 *
 * Thread affinity: all member functions must be called from the thread the loader lives in (normally the GUI
 * thread). The destructor drops queued requests and waits for running decodes.
 */
class ThumbnailLoader : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kDefaultCacheBytes = qint64(256) * 1024 * 1024;
    static constexpr int kMaxThreads = threads::kThumbnailThreads; ///< the thread policy's (core/util/threads.h)

    explicit ThumbnailLoader(QObject* parent = nullptr);
    ~ThumbnailLoader() override;

    /// Ask for a thumbnail of `path` that fits in a `px` x `px` square (aspect ratio kept, never upscaled).
    void request(quint64 id, const QString& path, int px);
    /// Drop the request of `id` if it has not started decoding. No signal follows for a cancelled id.
    void cancel(quint64 id);
    /// Cancel every pending request whose id is not in `keep` (typically: the rows now visible).
    void cancelAllExcept(const QSet<quint64>& keep);
    /// Cancel every pending request.
    void cancelAll();

    /// The cached thumbnail, or a null image. Never decodes.
    QImage cached(const QString& path, int px) const;
    /// True if decoding (path, px) failed before; `reason` receives the message.
    bool hasFailed(const QString& path, int px, QString* reason = nullptr) const;

    void setCacheLimit(qint64 bytes); ///< bytes of decoded pixels kept; shrinking evicts at once
    qint64 cacheLimit() const;
    qint64 cacheBytes() const; ///< bytes now held
    int cachedCount() const;

    int pendingCount() const; ///< distinct (path, px) decodes queued or running
    bool isPending(quint64 id) const; ///< `id` waits for an answer

    /// Decode synchronously (what the workers run) through the imaging front end (core/imaging/decode.h: the pixels
    /// the model sees, alpha composited on white). Returns a null image and sets `error` on failure.
    /// Thread-safe. Result format: RGB32.
    static QImage decode(const QString& path, int px, QString* error = nullptr);

Q_SIGNALS:
    void thumbnailLoaded(quint64 id, const QImage& image);
    void thumbnailFailed(quint64 id, const QString& reason);

private:
    struct Job
    {
        QList<quint64> ids; ///< waiting callers
        bool running = false;
    };

    void pump();
    void onDecoded(const ThumbnailKey& key, const QImage& image, const QString& error);
    void scheduleFlush();
    void flushReady();
    void detach(quint64 id);

    QThreadPool m_pool;
    QCache<ThumbnailKey, QImage> m_cache;
    QHash<ThumbnailKey, QString> m_failed;
    QHash<ThumbnailKey, Job> m_jobs; ///< queued or running decodes
    QList<ThumbnailKey> m_queue; ///< not started yet, FIFO
    QHash<quint64, ThumbnailKey> m_wanted; ///< id -> what it waits for
    QList<quint64> m_ready; ///< ids answerable from the cache, delivered by flushReady()
    int m_running = 0;
    bool m_flushScheduled = false;
};

} // namespace Winnow
