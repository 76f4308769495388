// SPDX-License-Identifier: GPL-3.0-or-later
// Throughput printout for decoding and the batch loader on ../shared/datasets/bears-small (no timing assertions:
// numbers depend on the machine). Asserts only that every image decodes and every batch comes out.
#include <ctime>

#include <QDirIterator>
#include <QElapsedTimer>
#include <QTest>

#include "core/imaging/decode.h"
#include "core/imaging/loader.h"
#include "tests/testutils.h"

using namespace Winnow;

class TestLoaderBench : public QObject
{
    Q_OBJECT

private:
    std::vector<LoaderItem> m_items;

    /// Wall-clock img/s; *cpuMsPerImage gets the process CPU time per image (meaningful on a busy machine too).
    double runLoader(const LoaderOptions& opt, std::shared_ptr<PixelCache> cache, int epoch, int* images,
        double* cpuMsPerImage = nullptr)
    {
        BatchLoader loader(m_items, opt, std::move(cache));
        const std::clock_t c0 = std::clock();
        QElapsedTimer t;
        t.start();
        loader.startEpoch(epoch);
        Batch b;
        int n = 0;
        while (loader.next(b)) {
            n += b.n;
            for (quint8 f : b.failed)
                if (f)
                    qWarning("failed item in batch");
        }
        *images = n;
        if (cpuMsPerImage)
            *cpuMsPerImage = double(std::clock() - c0) / CLOCKS_PER_SEC * 1e3 / std::max(n, 1);
        return n / (t.nsecsElapsed() / 1e9);
    }

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QDirIterator it(shared + QStringLiteral("/datasets/bears-small"), { QStringLiteral("*.jpg") }, QDir::Files,
            QDirIterator::Subdirectories);
        while (it.hasNext())
            m_items.push_back({ it.next(), 0 });
        std::sort(m_items.begin(), m_items.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
        QVERIFY(m_items.size() > 100);
    }

    void decodeThroughput()
    {
        for (const LoaderItem& item : m_items) // warm-up: page cache, codec initialisation
            decodeImage(item.path);
        for (int minSide : { 0, 152 }) {
            DecodeOptions opt;
            opt.minShortSide = minSide;
            const std::clock_t c0 = std::clock();
            QElapsedTimer t;
            t.start();
            qint64 pixels = 0;
            for (const LoaderItem& item : m_items) {
                const DecodedImage img = decodeImage(item.path, opt);
                QVERIFY2(img.ok(), qPrintable(item.path + ": " + img.message));
                pixels += qint64(img.width) * img.height;
            }
            const double s = t.nsecsElapsed() / 1e9;
            const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
            qInfo("decode (file read + decode, 1 thread, minShortSide %d): %d images in %.2f s = %.0f img/s, "
                  "%.1f Mpx/s (%.2f CPU ms/img)",
                minSide, int(m_items.size()), s, m_items.size() / s, pixels / s / 1e6, cpu * 1e3 / m_items.size());
        }
    }

    void loaderThroughput()
    {
        for (bool train : { false, true }) {
            for (int threads : { 1, 2 }) {
                LoaderOptions opt;
                opt.size = 128;
                opt.batchSize = 64;
                opt.train = train;
                opt.dropLast = false;
                opt.threads = threads;
                int n = 0;
                double coldCpu = 0;
                double warmCpu = 0;
                const double cold = runLoader(opt, std::make_shared<PixelCache>(0), 0, &n, &coldCpu);
                QCOMPARE(n, int(m_items.size()));
                auto cache = std::make_shared<PixelCache>();
                runLoader(opt, cache, 0, &n);
                const double warm = runLoader(opt, cache, 1, &n, &warmCpu);
                qInfo("%s loader 128 px, %d thread(s): uncached %.0f img/s (%.2f CPU ms/img), cached %.0f img/s "
                      "(%.2f CPU ms/img; cache %.1f MB, %d entries)",
                    train ? "train (RRC + aug_transforms)" : "valid (squish 152, crop 128)", threads, cold, coldCpu,
                    warm, warmCpu, cache->bytes() / 1e6, cache->count());
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestLoaderBench)
#include "tst_loaderbench.moc"
