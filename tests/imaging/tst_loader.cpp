// SPDX-License-Identifier: GPL-3.0-or-later
// BatchLoader, PixelCache and preprocessForInference (core/imaging/loader.h) on a generated dataset.
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include <opencv2/core.hpp>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "core/imaging/cvimage.h"
#include "core/imaging/loader.h"
#include "core/imaging/transforms.h"
#include "tests/syntheticdataset.h"

using namespace Winnow;

namespace {

constexpr int kItems = 37;

struct Epoch
{
    std::vector<Batch> batches;
};

Epoch runEpoch(BatchLoader& loader, int epoch)
{
    Epoch e;
    loader.startEpoch(epoch);
    Batch b;
    while (loader.next(b))
        e.batches.push_back(b);
    return e;
}

bool samePixels(const Epoch& a, const Epoch& b)
{
    if (a.batches.size() != b.batches.size())
        return false;
    for (size_t i = 0; i < a.batches.size(); ++i) {
        const Batch& x = a.batches[i];
        const Batch& y = b.batches[i];
        if (x.n != y.n || x.pixels != y.pixels || x.labels != y.labels || x.items != y.items || x.failed != y.failed)
            return false;
    }
    return true;
}

} // namespace

class TestLoader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        for (int i = 0; i < kItems; ++i) {
            const int w = 40 + (i * 13) % 70;
            const int h = 40 + (i * 29) % 60;
            // Photo-like: a colour, broad stripes and a little noise, so JPEG stays close to the source.
            const WinnowTest::ImageSpec picture {
                .size = QSize(w, h), .noise = 24, .stripes = 50, .stripeAngle = (i * 37) % 180, .seed = quint32(i)
            };
            const bool png = i % 5 == 0;
            const QString path = m_dir.filePath(QStringLiteral("img%1.%2").arg(i).arg(png ? "png" : "jpg"));
            QString error;
            QVERIFY2(WinnowTest::writeImage(path, picture, &error), qPrintable(error));
            m_items.push_back({ path, qint64(i % 3) });
        }
        m_broken = m_dir.filePath(QStringLiteral("broken.jpg"));
        QFile f(m_broken);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a jpeg at all");
    }

    void batchShapes_data()
    {
        QTest::addColumn<bool>("train");
        QTest::addColumn<bool>("channelsLast");
        QTest::newRow("valid NCHW") << false << false;
        QTest::newRow("valid NHWC") << false << true;
        QTest::newRow("train NCHW") << true << false;
        QTest::newRow("train NHWC") << true << true;
    }
    void batchShapes()
    {
        QFETCH(bool, train);
        QFETCH(bool, channelsLast);
        LoaderOptions opt;
        opt.size = 32;
        opt.batchSize = 8;
        opt.train = train;
        opt.channelsLast = channelsLast;
        opt.threads = 2;
        BatchLoader loader(m_items, opt);
        QCOMPARE(loader.size(), kItems);
        QCOMPARE(loader.batchesPerEpoch(), train ? 4 : 5);
        const Epoch e = runEpoch(loader, 0);
        QCOMPARE(int(e.batches.size()), loader.batchesPerEpoch());
        std::multiset<int> seen;
        for (size_t i = 0; i < e.batches.size(); ++i) {
            const Batch& b = e.batches[i];
            const int expectN = (!train && i + 1 == e.batches.size()) ? kItems - 32 : 8;
            QCOMPARE(b.n, expectN);
            QCOMPARE(b.width, 32);
            QCOMPARE(b.height, 32);
            QCOMPARE(b.channelsLast, channelsLast);
            QCOMPARE(b.pixels.size(), size_t(b.n) * 3 * 32 * 32);
            QCOMPARE(int(b.labels.size()), b.n);
            for (int j = 0; j < b.n; ++j) {
                QCOMPARE(int(b.failed[size_t(j)]), 0);
                QCOMPARE(b.labels[size_t(j)], m_items[size_t(b.items[size_t(j)])].label);
                seen.insert(b.items[size_t(j)]);
            }
            // Normalised values of 8-bit data lie in [(0 - mean) / std, (1 - mean) / std].
            for (float v : b.pixels)
                QVERIFY(v >= -2.2f && v <= 2.7f);
        }
        QCOMPARE(int(seen.size()), train ? 32 : kItems);
        QCOMPARE(int(std::set<int>(seen.begin(), seen.end()).size()), int(seen.size())); // no duplicates
        if (!train) {
            int k = 0;
            for (const Batch& b : e.batches)
                for (int j = 0; j < b.n; ++j)
                    QCOMPARE(b.items[size_t(j)], k++); // validation keeps the item order
        }
        // The layouts hold the same values.
        if (!train && channelsLast) {
            LoaderOptions o2 = opt;
            o2.channelsLast = false;
            BatchLoader nchw(m_items, o2);
            const Epoch e2 = runEpoch(nchw, 0);
            const Batch& a = e.batches[0];
            const Batch& c = e2.batches[0];
            for (int y = 0; y < 32; y += 7)
                for (int x = 0; x < 32; x += 5)
                    for (int ch = 0; ch < 3; ++ch)
                        QCOMPARE(a.pixels[size_t((y * 32 + x) * 3 + ch)], c.pixels[size_t(ch * 1024 + y * 32 + x)]);
        }
    }

    void dropLastAndKeepLast_data()
    {
        QTest::addColumn<bool>("train");
        QTest::addColumn<bool>("dropLast");
        QTest::addColumn<int>("batchSize");
        QTest::addColumn<int>("batches");
        QTest::addColumn<int>("lastN");
        QTest::newRow("train drop") << true << true << 10 << 3 << 10;
        QTest::newRow("train keep") << true << false << 10 << 4 << 7;
        QTest::newRow("valid keeps (dropLast ignored)") << false << true << 10 << 4 << 7;
        QTest::newRow("exact multiple") << true << true << 37 << 1 << 37;
        QTest::newRow("batch larger than set, drop") << true << true << 64 << 0 << 0;
        QTest::newRow("batch larger than set, valid") << false << true << 64 << 1 << 37;
    }
    void dropLastAndKeepLast()
    {
        QFETCH(bool, train);
        QFETCH(bool, dropLast);
        QFETCH(int, batchSize);
        QFETCH(int, batches);
        QFETCH(int, lastN);
        LoaderOptions opt;
        opt.size = 16;
        opt.batchSize = batchSize;
        opt.train = train;
        opt.dropLast = dropLast;
        opt.threads = 2;
        BatchLoader loader(m_items, opt);
        QCOMPARE(loader.batchesPerEpoch(), batches);
        const Epoch e = runEpoch(loader, 0);
        QCOMPARE(int(e.batches.size()), batches);
        if (batches > 0)
            QCOMPARE(e.batches.back().n, lastN);
    }

    void deterministicAcrossThreadCounts()
    {
        LoaderOptions opt;
        opt.size = 24;
        opt.batchSize = 6;
        opt.train = true;
        opt.seed = 7;
        opt.threads = 1;
        opt.prefetch = 1;
        BatchLoader one(m_items, opt);
        const Epoch a0 = runEpoch(one, 0);
        const Epoch a1 = runEpoch(one, 1);

        opt.threads = 4;
        opt.prefetch = 3;
        auto shared = std::make_shared<PixelCache>();
        BatchLoader many(m_items, opt, shared);
        const Epoch b1 = runEpoch(many, 1); // other epoch first: no hidden state between epochs
        const Epoch b0 = runEpoch(many, 0);
        QVERIFY(samePixels(a0, b0));
        QVERIFY(samePixels(a1, b1));
        QVERIFY(!samePixels(a0, a1)); // a new epoch reshuffles and redraws
        QVERIFY(a0.batches[0].items != a1.batches[0].items);
        QVERIFY(shared->hits() > 0); // the second epoch came from the cache, and still matched

        // Same seed from a warm cache shared with another loader: identical. Other seed: different.
        BatchLoader warm(m_items, opt, shared);
        QVERIFY(samePixels(a0, runEpoch(warm, 0)));
        opt.seed = 8;
        BatchLoader other(m_items, opt, shared);
        QVERIFY(!samePixels(a0, runEpoch(other, 0)));
    }

    void noShuffleKeepsOrderWithTrainTransforms()
    {
        // fastai's cleaner/interpretation on the train split: dl.new(shuffle=False, drop_last=False).
        LoaderOptions opt;
        opt.size = 16;
        opt.batchSize = 8;
        opt.train = true;
        opt.shuffle = false;
        opt.dropLast = false;
        BatchLoader loader(m_items, opt);
        const Epoch e = runEpoch(loader, 3);
        int k = 0;
        for (const Batch& b : e.batches)
            for (int j = 0; j < b.n; ++j)
                QCOMPARE(b.items[size_t(j)], k++);
        QCOMPARE(k, kItems);
    }

    void failedItemsAreFlagged()
    {
        std::vector<LoaderItem> items(m_items.begin(), m_items.begin() + 5);
        items.insert(items.begin() + 2, { m_broken, 9 });
        items.push_back({ m_dir.filePath(QStringLiteral("missing.jpg")), 1 });
        for (bool train : { false, true }) {
            LoaderOptions opt;
            opt.size = 16;
            opt.batchSize = 4;
            opt.train = train;
            opt.shuffle = false;
            opt.dropLast = false;
            BatchLoader loader(items, opt);
            const Epoch e = runEpoch(loader, 0);
            QCOMPARE(int(e.batches.size()), 2);
            const Batch& b0 = e.batches[0];
            QCOMPARE(int(b0.failed[2]), 1);
            QCOMPARE(b0.labels[2], qint64(9));
            for (qint64 i = 0; i < b0.floatsPerImage(); ++i)
                QCOMPARE(b0.image(2)[i], 0.0f);
            QCOMPARE(int(b0.failed[1]), 0);
            QCOMPARE(int(e.batches[1].failed[2]), 1);
        }
    }

    void cancelDoesNotHang()
    {
        // Big-ish images and one worker so the epoch is slow; cancel from another thread while next() blocks.
        QTemporaryDir dir;
        std::vector<LoaderItem> items;
        const QString path = dir.filePath(QStringLiteral("big.png"));
        QVERIFY(WinnowTest::writeImage(path, { .size = QSize(1200, 900), .colour = QColor(30, 200, 10) }));
        for (int i = 0; i < 200; ++i)
            items.push_back({ path, 0 });
        LoaderOptions opt;
        opt.size = 64;
        opt.batchSize = 50;
        opt.threads = 1;
        opt.prefetch = 1;
        auto cache = std::make_shared<PixelCache>(0); // no caching: every item decodes
        auto loader = std::make_unique<BatchLoader>(items, opt, cache);
        loader->startEpoch(0);
        auto consumer = std::async(std::launch::async, [&] {
            Batch b;
            int got = 0;
            while (loader->next(b))
                ++got;
            return got;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        loader->cancel();
        QVERIFY(consumer.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        QVERIFY(consumer.get() < 4);
        Batch b;
        QVERIFY(!loader->next(b));

        // A new epoch after cancel runs to completion.
        std::vector<LoaderItem> few(m_items.begin(), m_items.begin() + 9);
        BatchLoader again(few, opt);
        again.startEpoch(0);
        again.cancel();
        QCOMPARE(int(runEpoch(again, 1).batches.size()), 1);

        // Destroying a loader mid-epoch returns promptly.
        loader->startEpoch(1);
        QVERIFY(loader->next(b));
        auto destroyed = std::async(std::launch::async, [&] { loader.reset(); });
        QVERIFY(destroyed.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    }

    void cacheBoundAndLru()
    {
        auto img = [](int bytes) {
            auto d = std::make_shared<DecodedImage>();
            d->width = bytes / 3;
            d->height = 1;
            d->rgb.assign(size_t(bytes), 1);
            return d;
        };
        PixelCache cache(3 * 1000 + 3 * 300); // three 1000-byte entries plus their overhead fit, not four
        cache.insert(QStringLiteral("a"), img(999));
        cache.insert(QStringLiteral("b"), img(999));
        cache.insert(QStringLiteral("c"), img(999));
        QCOMPARE(cache.count(), 3);
        QVERIFY(cache.find(QStringLiteral("a"))); // a becomes most recent
        cache.insert(QStringLiteral("d"), img(999)); // evicts b, the least recently used
        QVERIFY(!cache.find(QStringLiteral("b")));
        QVERIFY(cache.find(QStringLiteral("a")) && cache.find(QStringLiteral("c")) && cache.find(QStringLiteral("d")));
        QVERIFY(cache.bytes() <= cache.maxBytes());
        QCOMPARE(cache.hits(), quint64(4));
        QCOMPARE(cache.misses(), quint64(1));
        cache.insert(QStringLiteral("huge"), img(100000)); // larger than the bound: not stored, nothing evicted
        QVERIFY(!cache.find(QStringLiteral("huge")));
        QCOMPARE(cache.count(), 3);
        cache.setMaxBytes(1500);
        QCOMPARE(cache.count(), 1);
        QVERIFY(cache.bytes() <= 1500);
        cache.clear();
        QCOMPARE(cache.bytes(), qint64(0));

        // Through the loader: the bound holds at every step, and a roomy cache serves a whole second epoch.
        auto small = std::make_shared<PixelCache>(20000);
        LoaderOptions opt;
        opt.size = 32;
        opt.batchSize = 4;
        opt.train = true;
        BatchLoader loader(m_items, opt, small);
        loader.startEpoch(0);
        Batch b;
        while (loader.next(b))
            QVERIFY(small->bytes() <= 20000);
        QVERIFY(small->count() < kItems);

        auto roomy = std::make_shared<PixelCache>();
        opt.train = false;
        BatchLoader valid(m_items, opt, roomy);
        runEpoch(valid, 0);
        QCOMPARE(roomy->misses(), quint64(kItems));
        roomy->resetCounters();
        runEpoch(valid, 1);
        QCOMPARE(roomy->hits(), quint64(kItems));
        QCOMPARE(roomy->misses(), quint64(0));
    }

    void inferenceMatchesValidationLoader()
    {
        LoaderOptions opt;
        opt.size = 40;
        opt.batchSize = 16;
        BatchLoader loader(m_items, opt);
        const Epoch e = runEpoch(loader, 0);
        const Batch& b = e.batches[0];
        for (int j : { 0, 5, 11 }) {
            QString err;
            const std::vector<float> v = preprocessForInference(m_items[size_t(j)].path, 40, &err);
            QVERIFY2(err.isEmpty(), qPrintable(err));
            QCOMPARE(v.size(), size_t(3 * 40 * 40));
            QVERIFY(std::equal(v.begin(), v.end(), b.image(j)));
            QFile f(m_items[size_t(j)].path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(preprocessForInference(f.readAll(), 40), v);
        }
        // And both equal the transform applied by hand: decode, squish to 40 + 16, centre crop 40, normalise.
        DecodedImage info;
        const cv::Mat m = decodeFileToMat(m_items[3].path, {}, info);
        const cv::Mat crop = validationTransform(m, 40);
        std::vector<float> manual(3 * 40 * 40);
        normalizeToFloat(crop, manual.data(), false);
        QVERIFY(std::equal(manual.begin(), manual.end(), b.image(3)));
        // batchImage undoes the normalisation.
        const QImage shown = batchImage(b, 3);
        QCOMPARE(shown.size(), QSize(40, 40));
        const cv::Vec3b px = crop.at<cv::Vec3b>(7, 9);
        QCOMPARE(qRed(shown.pixel(9, 7)), int(px[0]));
        QCOMPARE(qBlue(shown.pixel(9, 7)), int(px[2]));

        QString err;
        QVERIFY(preprocessForInference(m_broken, 40, &err).empty());
        QVERIFY(!err.isEmpty());
        QVERIFY(preprocessForInference(QByteArray("garbage"), 40, &err).empty());
    }

    void noAllocationInSteadyState()
    {
        LoaderOptions opt;
        opt.size = 16;
        opt.batchSize = 5;
        opt.prefetch = 2;
        opt.train = true;
        BatchLoader loader(m_items, opt);
        Batch b;
        runEpoch(loader, 0); // warm up
        std::set<const float*> buffers;
        for (int epoch = 1; epoch < 4; ++epoch) {
            loader.startEpoch(epoch);
            while (loader.next(b))
                buffers.insert(b.pixels.data());
        }
        // Buffers only rotate between `out` and the prefetch slots; none is reallocated.
        QVERIFY(int(buffers.size()) <= opt.prefetch + 1);
    }

private:
    QTemporaryDir m_dir;
    std::vector<LoaderItem> m_items;
    QString m_broken;
};

QTEST_APPLESS_MAIN(TestLoader)
#include "tst_loader.moc"
