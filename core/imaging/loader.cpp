// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/imaging/loader.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <thread>
#include <utility>

#include <opencv2/imgproc.hpp>

#include <QFile>
#include <QHash>

#include "core/imaging/cvimage.h"
#include "core/imaging/transforms.h"
#include "core/util/threads.h"

namespace Winnow {

namespace {

/// Train working images: an image whose shorter side is at most kExactLimit * size is cached at full resolution, so
/// RandomResizedCrop runs on the same pixels as fastai's (bit-identical crops). Bigger images are reduced (JPEG DCT
/// scaling, then PIL-bilinear) to a shorter side of kTrainWorkingScale * size: RandomResizedCrop keeps at least half
/// the area, so the worst case upsamples by ~1.3x while far fewer pixels are decoded and cached.
constexpr double kExactLimit = 2.0;
constexpr double kTrainWorkingScale = 1.25;
/// Book-keeping charged per cache entry on top of its pixels, so failed decodes (0 pixels) are bounded too.
constexpr qint64 kEntryOverhead = 256;

enum class CacheKind : int { TrainWorking = 0, ValidFinal = 1 };

QString cacheKey(CacheKind kind, int size, const QString& path)
{
    // Size and mtime make a file rewritten in place a new key (one stat per item: microseconds). std::filesystem
    // rather than QFileInfo::lastModified(), which converts to local time (tzset is not thread-safe in glibc).
    std::error_code ec;
    const std::filesystem::path p(QFile::encodeName(path).toStdString());
    const auto bytes = std::filesystem::file_size(p, ec);
    const qint64 fileSize = ec ? -1 : qint64(bytes);
    const auto mtime = std::filesystem::last_write_time(p, ec);
    const qint64 stamp = ec ? 0 : qint64(mtime.time_since_epoch().count());
    return QString::number(int(kind)) + QLatin1Char(':') + QString::number(size) + QLatin1Char(':')
        + QString::number(fileSize) + QLatin1Char(':') + QString::number(stamp) + QLatin1Char(':') + path;
}

int trainWorkingSide(int size)
{
    return int(std::ceil(size * kTrainWorkingScale));
}

std::shared_ptr<DecodedImage> failedImage(const DecodedImage& info)
{
    auto out = std::make_shared<DecodedImage>(info);
    out->rgb.clear();
    out->width = out->height = 0;
    if (out->error == Unreadable::None) {
        out->error = Unreadable::Unsupported;
        out->message = QStringLiteral("decode failed");
    }
    return out;
}

/// Decodes (reduced JPEG decode where possible) and shrinks big images; see kExactLimit.
std::shared_ptr<const DecodedImage> makeTrainWorking(const QString& path, int size)
{
    const int side = trainWorkingSide(size);
    const int exactLimit = int(size * kExactLimit);
    QFile file(path);
    DecodedImage info;
    if (!file.open(QIODevice::ReadOnly)) {
        info.error = Unreadable::IoError;
        info.message = QStringLiteral("cannot read: %1").arg(file.errorString());
        return failedImage(info);
    }
    const QByteArray bytes = file.readAll();
    DecodeOptions options;
    const QSize header = jpegHeaderSize(bytes);
    if (header.isValid() && std::min(header.width(), header.height()) > exactLimit)
        options.minShortSide = side;
    cv::Mat m = decodeToMat(bytes, options, info);
    if (m.empty())
        return failedImage(info);
    const int shorter = std::min(m.cols, m.rows);
    if (shorter > exactLimit || (options.minShortSide > 0 && shorter > side)) {
        const double f = double(side) / shorter;
        const cv::Size to(std::max(1, int(std::lround(m.cols * f))), std::max(1, int(std::lround(m.rows * f))));
        cv::Mat small;
        resizeTo(m, small, to);
        m = small;
    }
    auto out = std::make_shared<DecodedImage>(info);
    copyToDecoded(m, *out);
    return out;
}

/// The final validation crop (size x size) from a decoded Mat.
std::shared_ptr<const DecodedImage> finishValidation(const cv::Mat& m, const DecodedImage& info, int size)
{
    if (m.empty())
        return failedImage(info);
    auto out = std::make_shared<DecodedImage>(info);
    copyToDecoded(validationTransform(m, size), *out);
    return out;
}

DecodeOptions validationDecodeOptions(int size)
{
    DecodeOptions options;
    options.minShortSide = size + validationExtra(size);
    return options;
}

std::shared_ptr<const DecodedImage> makeValidation(const QString& path, int size)
{
    DecodedImage info;
    const cv::Mat m = decodeFileToMat(path, validationDecodeOptions(size), info);
    return finishValidation(m, info, size);
}

template <typename Make> std::shared_ptr<const DecodedImage> cached(PixelCache* cache, const QString& key, Make&& make)
{
    if (cache) {
        if (auto hit = cache->find(key))
            return hit;
    }
    auto made = make();
    if (cache)
        cache->insert(key, made);
    return made;
}

std::vector<float> inferenceTensor(const cv::Mat& m, const DecodedImage& info, int size, QString* error)
{
    const auto img = finishValidation(m, info, size);
    if (!img->ok()) {
        if (error)
            *error = img->message;
        return {};
    }
    std::vector<float> out(size_t(3) * size * size);
    normalizeToFloat(asMat(*img), out.data(), false);
    return out;
}

} // namespace

int defaultLoaderThreads()
{
    return threads::loaderThreads();
}

QImage batchImage(const Batch& batch, int i)
{
    if (i < 0 || i >= batch.n || batch.pixels.size() < size_t(batch.n) * batch.floatsPerImage())
        return {};
    QImage out(batch.width, batch.height, QImage::Format_RGB888);
    const float* src = batch.image(i);
    const size_t plane = size_t(batch.width) * batch.height;
    for (int y = 0; y < batch.height; ++y) {
        uchar* d = out.scanLine(y);
        for (int x = 0; x < batch.width; ++x) {
            const size_t p = size_t(y) * batch.width + x;
            for (int c = 0; c < 3; ++c) {
                const float v = batch.channelsLast ? src[p * 3 + c] : src[c * plane + p];
                const float x01 = v * kImageNetStd[c] + kImageNetMean[c];
                d[x * 3 + c] = uchar(std::clamp(int(std::lround(x01 * 255.0f)), 0, 255));
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// PixelCache

struct PixelCache::Private
{
    struct Entry
    {
        QString key;
        std::shared_ptr<const DecodedImage> image;
        qint64 cost = 0;
    };
    mutable std::mutex mutex;
    std::list<Entry> lru; // front = most recently used
    QHash<QString, std::list<Entry>::iterator> index;
    qint64 maxBytes = 0;
    qint64 bytes = 0;
    quint64 hits = 0;
    quint64 misses = 0;

    void evictTo(qint64 bound)
    {
        while (bytes > bound && !lru.empty()) {
            bytes -= lru.back().cost;
            index.remove(lru.back().key);
            lru.pop_back();
        }
    }
    void erase(const QString& key)
    {
        const auto it = index.find(key);
        if (it == index.end())
            return;
        bytes -= it.value()->cost;
        lru.erase(it.value());
        index.erase(it);
    }
};

PixelCache::PixelCache(qint64 maxBytes)
    : d(std::make_unique<Private>())
{
    d->maxBytes = std::max<qint64>(0, maxBytes);
}

PixelCache::~PixelCache() = default;

qint64 PixelCache::maxBytes() const
{
    std::lock_guard lock(d->mutex);
    return d->maxBytes;
}

void PixelCache::setMaxBytes(qint64 maxBytes)
{
    std::lock_guard lock(d->mutex);
    d->maxBytes = std::max<qint64>(0, maxBytes);
    d->evictTo(d->maxBytes);
}

qint64 PixelCache::bytes() const
{
    std::lock_guard lock(d->mutex);
    return d->bytes;
}

int PixelCache::count() const
{
    std::lock_guard lock(d->mutex);
    return int(d->lru.size());
}

quint64 PixelCache::hits() const
{
    std::lock_guard lock(d->mutex);
    return d->hits;
}

quint64 PixelCache::misses() const
{
    std::lock_guard lock(d->mutex);
    return d->misses;
}

void PixelCache::resetCounters()
{
    std::lock_guard lock(d->mutex);
    d->hits = d->misses = 0;
}

void PixelCache::clear()
{
    std::lock_guard lock(d->mutex);
    d->lru.clear();
    d->index.clear();
    d->bytes = 0;
}

std::shared_ptr<const DecodedImage> PixelCache::find(const QString& key)
{
    std::lock_guard lock(d->mutex);
    const auto it = d->index.constFind(key);
    if (it == d->index.constEnd()) {
        ++d->misses;
        return {};
    }
    ++d->hits;
    d->lru.splice(d->lru.begin(), d->lru, it.value());
    return d->lru.front().image;
}

void PixelCache::insert(const QString& key, std::shared_ptr<const DecodedImage> image)
{
    if (!image)
        return;
    const qint64 cost = image->bytes() + kEntryOverhead + key.size() * 2;
    std::lock_guard lock(d->mutex);
    d->erase(key);
    if (cost > d->maxBytes)
        return;
    d->evictTo(d->maxBytes - cost);
    d->lru.push_front({ key, std::move(image), cost });
    d->index.insert(key, d->lru.begin());
    d->bytes += cost;
}

// ---------------------------------------------------------------------------------------------------------------
// BatchLoader

struct BatchLoader::Private
{
    struct Slot
    {
        Batch batch;
        int done = 0; ///< items finished for the batch this slot currently holds
    };

    std::vector<LoaderItem> items;
    LoaderOptions opt;
    std::shared_ptr<PixelCache> cache;
    int threadCount = 1;
    std::vector<std::thread> workers;

    std::mutex mutex;
    std::condition_variable workCv; // workers wait for tasks
    std::condition_variable doneCv; // consumer waits for a batch; startEpoch waits for in-flight items
    bool stopping = false;
    bool running = false;
    quint64 generation = 0; // bumped by startEpoch/cancel: results of older generations are dropped
    int epoch = 0;
    std::vector<int> order;
    int batches = 0;
    int tasks = 0; // items to process this epoch
    int nextTask = 0;
    int consumed = 0; // batches handed to the consumer
    int inFlight = 0;
    std::vector<Slot> slots;

    qint64 floatsPerImage() const
    {
        return qint64(3) * opt.size * opt.size;
    }
    int batchItems(int b) const
    {
        return std::min(opt.batchSize, tasks - b * opt.batchSize);
    }

    void prepareSlot(Slot& s, int b)
    {
        const int n = batchItems(b);
        s.done = 0;
        s.batch.n = n;
        s.batch.height = s.batch.width = opt.size;
        s.batch.channelsLast = opt.channelsLast;
        s.batch.pixels.resize(size_t(n) * floatsPerImage());
        s.batch.labels.resize(size_t(n));
        s.batch.items.resize(size_t(n));
        s.batch.failed.resize(size_t(n));
    }

    void workerLoop();
    bool processItem(int itemIndex, int epochNo, float* dst, cv::Mat& crop, cv::Mat& warped) const;
};

bool BatchLoader::Private::processItem(int itemIndex, int epochNo, float* dst, cv::Mat& crop, cv::Mat& warped) const
{
    const LoaderItem& item = items[size_t(itemIndex)];
    const int size = opt.size;
    try {
        if (!opt.train || !opt.augment) {
            const auto img = cached(cache.get(), cacheKey(CacheKind::ValidFinal, size, item.path),
                [&] { return makeValidation(item.path, size); });
            if (!img->ok())
                return false;
            normalizeToFloat(asMat(*img), dst, opt.channelsLast);
            return true;
        }
        const auto img = cached(cache.get(), cacheKey(CacheKind::TrainWorking, size, item.path),
            [&] { return makeTrainWorking(item.path, size); });
        if (!img->ok())
            return false;
        Rng rng(mixSeed(opt.seed, quint64(epochNo), quint64(itemIndex)));
        // The box is drawn on the full-resolution size (fastai's numbers), then mapped onto the working image.
        RrcOptions rrc;
        rrc.minScale = opt.minScale;
        const cv::Rect box = randomResizedCropBox(img->sourceWidth, img->sourceHeight, rng, rrc);
        const cv::Mat work = asMat(*img);
        const double fx = double(work.cols) / img->sourceWidth;
        const double fy = double(work.rows) / img->sourceHeight;
        int x0 = int(std::lround(box.x * fx));
        int y0 = int(std::lround(box.y * fy));
        int x1 = int(std::lround((box.x + box.width) * fx));
        int y1 = int(std::lround((box.y + box.height) * fy));
        x0 = std::clamp(x0, 0, work.cols - 1);
        y0 = std::clamp(y0, 0, work.rows - 1);
        x1 = std::clamp(x1, x0 + 1, work.cols);
        y1 = std::clamp(y1, y0 + 1, work.rows);
        resizeTo(work(cv::Rect(x0, y0, x1 - x0, y1 - y0)), crop, { size, size });
        const AugmentParams aug = drawAugment(rng);
        const cv::Mat* out = &crop;
        if (aug.hasGeometry()) {
            applyGeometry(crop, warped, aug);
            out = &warped;
        }
        normalizeToFloat(*out, dst, opt.channelsLast, &aug);
        return true;
    } catch (const std::exception&) {
        return false; // cv::Exception, bad_alloc: the item is flagged, the loader goes on
    }
}

void BatchLoader::Private::workerLoop()
{
    cv::Mat crop;
    cv::Mat warped;
    std::unique_lock lock(mutex);
    for (;;) {
        workCv.wait(lock, [this] {
            return stopping || (running && nextTask < tasks && nextTask / opt.batchSize < consumed + opt.prefetch);
        });
        if (stopping)
            return;
        const int pos = nextTask++;
        const int b = pos / opt.batchSize;
        const int j = pos % opt.batchSize;
        Slot& slot = slots[size_t(b % opt.prefetch)];
        const quint64 gen = generation;
        const int itemIndex = order[size_t(pos)];
        const int epochNo = epoch;
        float* dst = slot.batch.pixels.data() + j * floatsPerImage();
        ++inFlight;
        lock.unlock();

        const bool ok = processItem(itemIndex, epochNo, dst, crop, warped);
        if (!ok)
            std::fill(dst, dst + floatsPerImage(), 0.0f);

        lock.lock();
        --inFlight;
        bool wake = inFlight == 0; // startEpoch() may be waiting for stragglers
        if (gen == generation) {
            slot.batch.labels[size_t(j)] = items[size_t(itemIndex)].label;
            slot.batch.items[size_t(j)] = itemIndex;
            slot.batch.failed[size_t(j)] = ok ? 0 : 1;
            ++slot.done;
            if (slot.done == batchItems(b))
                wake = true; // the consumer only waits for whole batches
        }
        if (wake)
            doneCv.notify_all();
    }
}

BatchLoader::BatchLoader(std::vector<LoaderItem> items, LoaderOptions options, std::shared_ptr<PixelCache> cache)
    : d(std::make_unique<Private>())
{
    options.size = std::max(1, options.size);
    options.batchSize = std::max(1, options.batchSize);
    options.prefetch = std::max(1, options.prefetch);
    if (!options.train) {
        options.shuffle = false;
        options.dropLast = false;
        options.augment = false;
    }
    d->items = std::move(items);
    d->opt = options;
    d->cache = cache ? std::move(cache) : std::make_shared<PixelCache>();
    d->threadCount = options.threads > 0 ? options.threads : defaultLoaderThreads();
    d->slots.resize(size_t(options.prefetch));
    d->workers.reserve(size_t(d->threadCount));
    for (int i = 0; i < d->threadCount; ++i)
        d->workers.emplace_back([p = d.get()] { p->workerLoop(); });
}

BatchLoader::~BatchLoader()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
        d->running = false;
        ++d->generation;
    }
    d->workCv.notify_all();
    d->doneCv.notify_all();
    for (auto& t : d->workers)
        t.join();
}

int BatchLoader::size() const
{
    return int(d->items.size());
}

int BatchLoader::batchesPerEpoch() const
{
    const int n = size();
    const int bs = d->opt.batchSize;
    return d->opt.dropLast ? n / bs : (n + bs - 1) / bs;
}

int BatchLoader::threads() const
{
    return d->threadCount;
}

const LoaderOptions& BatchLoader::options() const
{
    return d->opt;
}

const std::vector<LoaderItem>& BatchLoader::items() const
{
    return d->items;
}

std::shared_ptr<PixelCache> BatchLoader::cache() const
{
    return d->cache;
}

void BatchLoader::startEpoch(int epoch)
{
    std::unique_lock lock(d->mutex);
    d->running = false;
    ++d->generation;
    // Items still being processed write into the slots: let them finish before the slots are reset.
    d->doneCv.wait(lock, [this] { return d->inFlight == 0; });

    const int n = size();
    d->epoch = epoch;
    d->order.resize(size_t(n));
    for (int i = 0; i < n; ++i)
        d->order[size_t(i)] = i;
    if (d->opt.shuffle) {
        // Fisher-Yates with our own portable draws: the permutation depends on (seed, epoch) only.
        Rng rng(mixSeed(d->opt.seed, quint64(epoch), 0x5348554646ull));
        for (int i = n - 1; i > 0; --i)
            std::swap(d->order[size_t(i)], d->order[size_t(randInt(rng, 0, i))]);
    }
    d->batches = batchesPerEpoch();
    d->tasks = d->opt.dropLast ? d->batches * d->opt.batchSize : n;
    d->nextTask = 0;
    d->consumed = 0;
    for (int b = 0; b < d->opt.prefetch && b < d->batches; ++b)
        d->prepareSlot(d->slots[size_t(b)], b);
    d->running = true;
    lock.unlock();
    d->workCv.notify_all();
}

bool BatchLoader::next(Batch& out)
{
    std::unique_lock lock(d->mutex);
    if (!d->running || d->consumed >= d->batches)
        return false;
    const quint64 gen = d->generation;
    const int b = d->consumed;
    Private::Slot& slot = d->slots[size_t(b % d->opt.prefetch)];
    const int n = d->batchItems(b);
    d->doneCv.wait(lock, [&] { return d->generation != gen || slot.done >= n; });
    if (d->generation != gen || !d->running)
        return false;

    // Hand over by swapping buffers: the slot gets out's old buffers back, so steady state allocates nothing.
    std::swap(out.pixels, slot.batch.pixels);
    std::swap(out.labels, slot.batch.labels);
    std::swap(out.items, slot.batch.items);
    std::swap(out.failed, slot.batch.failed);
    out.n = n;
    out.height = out.width = d->opt.size;
    out.channelsLast = d->opt.channelsLast;
    out.pixels.resize(size_t(n) * d->floatsPerImage());
    out.labels.resize(size_t(n));
    out.items.resize(size_t(n));
    out.failed.resize(size_t(n));

    ++d->consumed;
    const int refill = b + d->opt.prefetch;
    if (refill < d->batches)
        d->prepareSlot(slot, refill);
    lock.unlock();
    d->workCv.notify_all();
    return true;
}

void BatchLoader::cancel()
{
    {
        std::lock_guard lock(d->mutex);
        d->running = false;
        ++d->generation;
    }
    d->workCv.notify_all();
    d->doneCv.notify_all();
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

std::vector<float> preprocessForInference(const QString& path, int size, QString* error)
{
    DecodedImage info;
    const cv::Mat m = decodeFileToMat(path, validationDecodeOptions(size), info);
    return inferenceTensor(m, info, size, error);
}

std::vector<float> preprocessForInference(const QByteArray& encoded, int size, QString* error)
{
    DecodedImage info;
    const cv::Mat m = decodeToMat(encoded, validationDecodeOptions(size), info);
    return inferenceTensor(m, info, size, error);
}

} // namespace Winnow
