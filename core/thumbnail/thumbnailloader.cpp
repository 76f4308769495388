// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/thumbnail/thumbnailloader.h"

#include <QHashFunctions>

#include "core/imaging/decode.h"

namespace Winnow {

size_t qHash(const ThumbnailKey& key, size_t seed) noexcept
{
    return qHashMulti(seed, key.path, key.px);
}

namespace {

qsizetype costOf(const QImage& image)
{
    return qMax<qsizetype>(1, image.sizeInBytes());
}

QImage finish(QImage image, int px)
{
    if (image.width() > px || image.height() > px)
        image = image.scaled(px, px, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    const QImage::Format format = image.hasAlphaChannel() ? QImage::Format_ARGB32_Premultiplied : QImage::Format_RGB32;
    if (image.format() != format)
        image = std::move(image).convertToFormat(format);
    return image;
}

} // namespace

ThumbnailLoader::ThumbnailLoader(QObject* parent)
    : QObject(parent)
{
    m_pool.setObjectName(QStringLiteral("ThumbnailPool"));
    m_pool.setMaxThreadCount(kMaxThreads);
    m_cache.setMaxCost(kDefaultCacheBytes);
}

ThumbnailLoader::~ThumbnailLoader()
{
    m_queue.clear();
    // Running decodes post their result to `this`; those events die with the object.
    m_pool.waitForDone();
}

QImage ThumbnailLoader::decode(const QString& path, int px, QString* error)
{
    px = qMax(1, px);
    // The imaging front end, as the scan and the batch loader use it: EXIF orientation, CMYK, 16-bit and alpha
    // (composited on white) come out as the model sees them. A big JPEG decodes at 1/2, 1/4 or 1/8 scale (libjpeg's
    // DCT scaling) while its shorter side stays >= px, then is smooth-scaled to fit.
    DecodeOptions options;
    options.minShortSide = px;
    options.allowTruncated = true; // show what there is: the scan has already marked the file unreadable
    const DecodedImage decoded = decodeImage(path, options);
    if (!decoded.ok()) {
        if (error)
            *error = decoded.message.isEmpty() ? QStringLiteral("cannot decode image") : decoded.message;
        return {};
    }
    return finish(toQImage(decoded), px);
}

void ThumbnailLoader::request(quint64 id, const QString& path, int px)
{
    const ThumbnailKey key { path, px };
    const auto wanted = m_wanted.constFind(id);
    if (wanted != m_wanted.constEnd()) {
        if (*wanted == key)
            return; // already pending
        detach(id);
    }
    m_wanted.insert(id, key);

    if (m_cache.contains(key) || m_failed.contains(key)) {
        m_ready.append(id);
        scheduleFlush();
        return;
    }
    auto job = m_jobs.find(key);
    if (job == m_jobs.end()) {
        job = m_jobs.insert(key, Job {});
        m_queue.append(key);
    }
    job->ids.append(id);
    pump();
}

void ThumbnailLoader::detach(quint64 id)
{
    const auto it = m_wanted.find(id);
    if (it == m_wanted.end())
        return;
    const ThumbnailKey key = *it;
    m_wanted.erase(it);
    const auto job = m_jobs.find(key);
    if (job == m_jobs.end())
        return; // a cache answer in m_ready: flushReady() skips ids no longer wanted
    job->ids.removeAll(id);
    if (job->ids.isEmpty() && !job->running) {
        m_jobs.erase(job);
        m_queue.removeOne(key);
    }
}

void ThumbnailLoader::cancel(quint64 id)
{
    detach(id);
}

void ThumbnailLoader::cancelAllExcept(const QSet<quint64>& keep)
{
    QList<quint64> drop;
    for (auto it = m_wanted.cbegin(); it != m_wanted.cend(); ++it) {
        if (!keep.contains(it.key()))
            drop.append(it.key());
    }
    for (quint64 id : std::as_const(drop))
        detach(id);
}

void ThumbnailLoader::cancelAll()
{
    cancelAllExcept({});
}

void ThumbnailLoader::pump()
{
    while (m_running < kMaxThreads && !m_queue.isEmpty()) {
        const ThumbnailKey key = m_queue.takeFirst();
        const auto job = m_jobs.find(key);
        Q_ASSERT(job != m_jobs.end());
        job->running = true;
        ++m_running;
        m_pool.start([this, key] {
            QString error;
            QImage image = decode(key.path, key.px, &error);
            QMetaObject::invokeMethod(
                this, [this, key, image = std::move(image), error] { onDecoded(key, image, error); },
                Qt::QueuedConnection);
        });
    }
}

void ThumbnailLoader::onDecoded(const ThumbnailKey& key, const QImage& image, const QString& error)
{
    --m_running;
    const Job job = m_jobs.take(key);
    if (image.isNull())
        m_failed.insert(key, error.isEmpty() ? QStringLiteral("cannot decode image") : error);
    else
        m_cache.insert(key, new QImage(image), costOf(image));

    for (quint64 id : job.ids) {
        const auto it = m_wanted.find(id);
        if (it == m_wanted.end() || !(*it == key))
            continue;
        m_wanted.erase(it);
        if (image.isNull())
            Q_EMIT thumbnailFailed(id, m_failed.value(key));
        else
            Q_EMIT thumbnailLoaded(id, image);
    }
    pump();
}

void ThumbnailLoader::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    QMetaObject::invokeMethod(this, &ThumbnailLoader::flushReady, Qt::QueuedConnection);
}

void ThumbnailLoader::flushReady()
{
    m_flushScheduled = false;
    const QList<quint64> ready = std::exchange(m_ready, {});
    for (quint64 id : ready) {
        const auto it = m_wanted.find(id);
        if (it == m_wanted.end())
            continue; // cancelled meanwhile
        const ThumbnailKey key = *it;
        if (const auto job = m_jobs.find(key); job != m_jobs.end()) {
            if (!job->ids.contains(id))
                job->ids.append(id); // evicted and being decoded again: that decode answers it
            continue;
        }
        m_wanted.erase(it);
        if (const QImage* image = m_cache.object(key)) {
            Q_EMIT thumbnailLoaded(id, *image);
        } else if (const auto failed = m_failed.constFind(key); failed != m_failed.constEnd()) {
            Q_EMIT thumbnailFailed(id, *failed);
        } else {
            request(id, key.path, key.px); // evicted before delivery: decode again
        }
    }
}

QImage ThumbnailLoader::cached(const QString& path, int px) const
{
    const QImage* image = m_cache.object(ThumbnailKey { path, px });
    return image ? *image : QImage();
}

bool ThumbnailLoader::hasFailed(const QString& path, int px, QString* reason) const
{
    const auto it = m_failed.constFind(ThumbnailKey { path, px });
    if (it == m_failed.constEnd())
        return false;
    if (reason)
        *reason = *it;
    return true;
}

void ThumbnailLoader::setCacheLimit(qint64 bytes)
{
    m_cache.setMaxCost(qMax<qint64>(0, bytes));
}

qint64 ThumbnailLoader::cacheLimit() const
{
    return m_cache.maxCost();
}

qint64 ThumbnailLoader::cacheBytes() const
{
    return m_cache.totalCost();
}

int ThumbnailLoader::cachedCount() const
{
    return int(m_cache.count());
}

int ThumbnailLoader::pendingCount() const
{
    return int(m_jobs.size());
}

bool ThumbnailLoader::isPending(quint64 id) const
{
    return m_wanted.contains(id);
}

} // namespace Winnow
