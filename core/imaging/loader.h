// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>
#include <vector>

#include <QByteArray>
#include <QImage>
#include <QString>
#include <QtGlobal>

#include "core/imaging/decode.h"

namespace Winnow {

/// ImageNet statistics (RGB, on values / 255) used by every pretrained torchvision model.
inline constexpr float kImageNetMean[3] = { 0.485f, 0.456f, 0.406f };
inline constexpr float kImageNetStd[3] = { 0.229f, 0.224f, 0.225f };

/// fastai's RandomResizedCrop val_xtra: the validation path squishes to size + validationExtra(size) then centre-crops.
/// ceil(size * 0.14 / 8) * 8: 32 for 224, 24 for 128.
int validationExtra(int size);

/// One image to load: an absolute path and its class index (any value, copied into Batch::labels; -1 if unlabeled).
struct LoaderItem
{
    QString path;
    qint64 label = -1;
};

struct LoaderOptions
{
    int size = 224; ///< square output side
    int batchSize = 64;
    /// true: train transforms (RandomResizedCrop(size, minScale) + aug_transforms, when `augment`), and `shuffle` /
    /// `dropLast` are honoured. false: validation transform (squish to size+xtra, centre crop), items in order,
    /// last partial batch kept; `augment`, `shuffle`, `dropLast` are ignored.
    bool train = false;
    /// train only. false: the deterministic validation transform is used on the train split too (still shuffled).
    bool augment = true;
    bool shuffle = true; ///< train only; the permutation is a function of (seed, epoch)
    bool dropLast = true; ///< train only
    quint64 seed = 42; ///< every random draw is a function of (seed, epoch, item index): thread-count independent
    int threads = 0; ///< decode/transform workers; 0 = defaultLoaderThreads()
    int prefetch = 2; ///< batches prepared ahead of the consumer (>= 1)
    bool channelsLast = false; ///< pixels as NHWC instead of NCHW
    double minScale = 0.5; ///< RandomResizedCrop min_scale (fastbook uses 0.5)
};

/// A batch of normalised float pixels. Reused by BatchLoader::next(): keep one per consumer.
struct Batch
{
    int n = 0;
    int height = 0;
    int width = 0;
    bool channelsLast = false;
    std::vector<float> pixels; ///< n*3*h*w floats: NCHW, or NHWC when channelsLast; ImageNet-normalised
    std::vector<qint64> labels; ///< n
    std::vector<int> items; ///< n indices into the loader's item list
    std::vector<quint8> failed; ///< n; 1 if the image could not be decoded (its pixels are all 0)

    qint64 floatsPerImage() const
    {
        return qint64(3) * height * width;
    }
    const float* image(int i) const
    {
        return pixels.data() + i * floatsPerImage();
    }
};

/// Undoes the normalisation of image `i` of a batch (for show_batch-like views and debugging).
QImage batchImage(const Batch& batch, int i);

/// The worker count used for LoaderOptions::threads = 0: the thread policy's threads::loaderThreads()
/// (core/util/threads.h: 1 on two CPUs or fewer, else half of them, at most 8).
int defaultLoaderThreads();

/**
 * A bounded, thread-safe LRU cache of decoded pixels, shared (std::shared_ptr) by loaders, epochs and training rounds.
 *
 * Entries are 8-bit RGB images at a working resolution, keyed by (path, kind, size): for training the decoded image
 * (at full resolution when its shorter side is <= 2 * size, so crops are bit-identical to fastai's; else reduced to a
 * shorter side of 1.25 * size); for validation the final size x size crop. Keys include the
 * file's size and modification time, so a file rewritten in place is decoded again. The byte bound counts pixel bytes
 * plus a small per-entry overhead (failed decodes are cached too); an entry larger than the bound is not stored.
 * All members may be called from any thread.
 */
class PixelCache
{
public:
    explicit PixelCache(qint64 maxBytes = qint64(512) << 20);
    ~PixelCache();
    PixelCache(const PixelCache&) = delete;
    PixelCache& operator=(const PixelCache&) = delete;

    qint64 maxBytes() const;
    void setMaxBytes(qint64 maxBytes); ///< evicts down to the new bound
    qint64 bytes() const; ///< pixel bytes held now; always <= maxBytes()
    int count() const;
    quint64 hits() const;
    quint64 misses() const;
    void resetCounters();
    void clear();

    /// Low-level access used by the loader. find() counts a hit or a miss; insert() replaces an existing entry.
    std::shared_ptr<const DecodedImage> find(const QString& key);
    void insert(const QString& key, std::shared_ptr<const DecodedImage> image);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/**
 * A multi-threaded, prefetching batch loader over a fixed item list (fastai's DataLoader for one split).
 *
 * Decoding and transforms run on a small dedicated pool of std::threads owned by the loader (not the global
 * QThreadPool, which thumbnails use). At most LoaderOptions::prefetch batches are prepared ahead. Batches come out in
 * a deterministic order with deterministic pixels, whatever the thread count or timing.
 *
 * Thread affinity: one consumer thread calls startEpoch()/next(); cancel() may be called from any thread. A failed
 * decode never stops the loader: the item is flagged in Batch::failed.
 */
class BatchLoader
{
public:
    BatchLoader(std::vector<LoaderItem> items, LoaderOptions options, std::shared_ptr<PixelCache> cache = {});
    ~BatchLoader(); ///< cancels and joins the workers
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    int size() const; ///< number of items
    int batchesPerEpoch() const; ///< floor(n / bs) with train && dropLast, else ceil(n / bs)
    int threads() const; ///< worker threads actually used
    const LoaderOptions& options() const;
    const std::vector<LoaderItem>& items() const;
    std::shared_ptr<PixelCache> cache() const; ///< never null (a private cache is made if none was given)

    /// Starts (or restarts, dropping unfinished work) an epoch: the shuffle and augmentation draws depend on
    /// (seed, epoch). Begins prefetching immediately.
    void startEpoch(int epoch);
    /// Blocks until the next batch is ready and swaps it into `out` (buffers are reused: no allocation once every
    /// buffer has reached its size). Returns false at the end of the epoch, after cancel(), or if startEpoch() was
    /// never called.
    bool next(Batch& out);
    /// Stops the workers' current epoch as soon as their current item is done; a blocked next() returns false.
    void cancel();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/// The exact validation transform (decode, squish to size+xtra, centre crop size, ImageNet normalise) for one image,
/// NCHW (3*size*size floats). Used by predict. Returns an empty vector and sets *error on failure. Thread-safe.
std::vector<float> preprocessForInference(const QString& path, int size, QString* error = nullptr);
/// Same from encoded bytes in memory (HTTP uploads).
std::vector<float> preprocessForInference(const QByteArray& encoded, int size, QString* error = nullptr);

} // namespace Winnow
