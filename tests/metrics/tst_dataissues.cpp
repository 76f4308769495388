// SPDX-License-Identifier: GPL-3.0-or-later
// The data-issue detectors on a copy of bears-small with planted problems (issue 15): exact and near copies, some
// across the split, outliers, darkened and blurred photos. Each detector must find its planted files with precision
// and recall >= 0.9. Files the detectors flag in the untouched copy are real findings of bears-small itself (three
// exact duplicate pairs, for one) and count neither way.
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/engine/engine.h"
#include "core/imaging/imagestats.h"
#include "core/metrics/dataissues.h"
#include "tests/testutils.h"

using namespace Winnow;

namespace {

cv::Mat readRgb(const QString& path)
{
    return cv::imread(QFile::encodeName(path).toStdString(), cv::IMREAD_COLOR);
}

bool writeJpeg(const QString& path, const cv::Mat& bgr, int quality = 90)
{
    return cv::imwrite(QFile::encodeName(path).toStdString(), bgr, { cv::IMWRITE_JPEG_QUALITY, quality });
}

struct Planted
{
    QVector<QPair<QString, QString>> exact; ///< (original, copy)
    QVector<QPair<QString, QString>> nearCopies;
    QSet<QString> leakedCopies; ///< copies put in valid, their original in train
    QSet<QString> outliers;
    QSet<QString> dark;
    QSet<QString> blurred;
};

struct Score
{
    int hits = 0, truth = 0, flagged = 0;
    double precision() const
    {
        return flagged ? double(hits) / flagged : 1.0;
    }
    double recall() const
    {
        return truth ? double(hits) / truth : 1.0;
    }
};

} // namespace

class TestDataIssues : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_root;
    Planted m_planted;
    Engine m_engine;
    TrainConfig m_features;
    QSet<QString> m_baseFlagged[kDataIssueCount];

    DataIssueReport detect(Dataset& ds, const QVector<ImageStats>& stats)
    {
        FeatureNeighbours graph;
        const auto st = m_engine.featureNeighbours(ds, 10, &graph, {}, &m_features);
        if (!st.ok())
            qFatal("featureNeighbours: %s", qPrintable(st.message));
        return findDataIssues(ds, stats, &graph, nullptr);
    }

    Score score(const DataIssueReport& r, const Dataset& ds, DataIssue type, const QSet<QString>& truth)
    {
        Score s;
        s.truth = int(truth.size());
        for (const FileDataIssues& f : r.files) {
            if (!f.has(type))
                continue;
            const QString& file = ds.samples.at(f.sample).relPath;
            if (truth.contains(file))
                ++s.hits;
            if (truth.contains(file) || !m_baseFlagged[int(type)].contains(file))
                ++s.flagged;
            else
                continue;
            if (!truth.contains(file))
                qInfo("  %s: unexpected %s", qPrintable(dataIssueKey(type)), qPrintable(file));
        }
        qInfo("%-16s precision %.3f recall %.3f (%d of %d found, %d flagged beyond bears-small's own)",
            qPrintable(dataIssueKey(type)), s.precision(), s.recall(), s.hits, s.truth, s.flagged);
        return s;
    }

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QVERIFY(m_tmp.isValid());
        m_features.weights = shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors");
        m_features.size = 224;
        QVERIFY(QFileInfo::exists(m_features.weights));
        const QString source = shared + QStringLiteral("/datasets/bears-small");
        m_root = m_tmp.filePath(QStringLiteral("bears"));
        QStringList files;
        for (const QString& cls : QDir(source).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QVERIFY(QDir().mkpath(m_root + QLatin1Char('/') + cls));
            for (const QString& f : QDir(source + QLatin1Char('/') + cls).entryList(QDir::Files, QDir::Name)) {
                QVERIFY(QFile::copy(source + QLatin1Char('/') + cls + QLatin1Char('/') + f,
                    m_root + QLatin1Char('/') + cls + QLatin1Char('/') + f));
                files << cls + QLatin1Char('/') + f;
            }
        }
        QCOMPARE(files.size(), 480);

        // The untouched copy first: what bears-small itself holds.
        {
            auto scan = scanDataset(m_root);
            QVERIFY2(scan.ok(), qPrintable(scan.error));
            const auto stats = measureDatasetImages(*scan.dataset);
            const auto base = detect(*scan.dataset, stats);
            for (const FileDataIssues& f : base.files)
                for (int t = 0; t < kDataIssueCount; ++t)
                    if ((f.flags >> t) & 1u)
                        m_baseFlagged[t].insert(scan.dataset->samples.at(f.sample).relPath);
            QCOMPARE(base.counts[int(DataIssue::ExactDuplicate)], 6); // its three known pairs
            QVector<QPair<float, QString>> byOutlier;
            for (const FileDataIssues& f : base.files)
                byOutlier.append({ f.score[size_t(DataIssue::Outlier)],
                    scan.dataset->samples.at(f.sample).relPath
                        + (f.has(DataIssue::Outlier) ? QStringLiteral(" (flagged)") : QString()) });
            std::sort(byOutlier.begin(), byOutlier.end());
            int junkInTop = 0;
            for (int i = 0; i < 20; ++i) {
                qInfo("  bears-small outlier #%d: %.3f %s", i + 1, byOutlier.at(i).first,
                    qPrintable(byOutlier.at(i).second));
                junkInTop += byOutlier.at(i).second.startsWith(QLatin1String("teddys/00000095.jpg"))
                    || byOutlier.at(i).second.startsWith(QLatin1String("black/00000079.jpg"))
                    || byOutlier.at(i).second.startsWith(QLatin1String("black/00000098.jpg"));
            }
            // The phone case, the beer logo and the painting of the review file are among the first 20 of 480.
            QCOMPARE(junkInTop, 3);
        }

        // Distinct originals for every planted change, drawn with a fixed seed.
        std::mt19937 rng(15);
        std::shuffle(files.begin(), files.end(), rng);
        int next = 0;
        auto take = [&]() -> QString { return files.at(next++); };
        auto abs = [&](const QString& rel) -> QString { return m_root + QLatin1Char('/') + rel; };
        auto sibling = [&](const QString& rel, const QString& name) -> QString {
            return rel.section(QLatin1Char('/'), 0, 0) + QLatin1Char('/') + name;
        };
        for (int i = 0; i < 20; ++i) {
            const QString orig = take();
            const QString copy = sibling(orig, QStringLiteral("copy_%1.jpg").arg(i));
            QVERIFY(QFile::copy(abs(orig), abs(copy)));
            m_planted.exact.append({ orig, copy });
            if (i < 5)
                m_planted.leakedCopies.insert(copy);
        }
        for (int i = 0; i < 20; ++i) {
            const QString orig = take();
            const QString copy = sibling(orig, QStringLiteral("near_%1.jpg").arg(i));
            cv::Mat img = readRgb(abs(orig));
            QVERIFY(!img.empty());
            // One of the three ways a copy changes on the web: resized to 60%, recompressed at JPEG quality 40, or
            // cropped by 10% (5% off each side).
            if (i % 3 == 0) {
                cv::Mat small;
                cv::resize(img, small, cv::Size(), 0.6, 0.6, cv::INTER_AREA);
                QVERIFY(writeJpeg(abs(copy), small));
            } else if (i % 3 == 1) {
                QVERIFY(writeJpeg(abs(copy), img, 40));
            } else {
                const int dx = img.cols / 20, dy = img.rows / 20;
                QVERIFY(writeJpeg(abs(copy), img(cv::Rect(dx, dy, img.cols - 2 * dx, img.rows - 2 * dy)).clone()));
            }
            m_planted.nearCopies.append({ orig, copy });
            if (i < 5)
                m_planted.leakedCopies.insert(copy);
        }
        // Outliers: a solid colour, two noise images, a screenshot of text and six photos of other subjects.
        const QStringList classes = { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };
        auto plantOutlier = [&](const cv::Mat& img) {
            const int i = int(m_planted.outliers.size());
            const QString rel = classes.at(i % 3) + QStringLiteral("/odd_%1.jpg").arg(i);
            if (!writeJpeg(abs(rel), img))
                return false;
            m_planted.outliers.insert(rel);
            return true;
        };
        QVERIFY(plantOutlier(cv::Mat(200, 300, CV_8UC3, cv::Scalar(200, 120, 40))));
        for (int seed = 0; seed < 2; ++seed) {
            cv::Mat noise(224, 224, CV_8UC3);
            cv::theRNG().state = 1234 + seed;
            cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(256));
            QVERIFY(plantOutlier(noise));
        }
        cv::Mat text(300, 400, CV_8UC3, cv::Scalar::all(255));
        for (int line = 0; line < 9; ++line)
            cv::putText(text, "winnow issues RUN_DIR --json > out.txt", cv::Point(10, 30 + 30 * line),
                cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar::all(20), 1, cv::LINE_AA);
        QVERIFY(plantOutlier(text));
        for (const char* photo :
            { "bird.bmp", "cat.bmp", "grace_hopper.bmp", "hot_dog.jpg", "owl.jpg", "parrot.jpg" }) {
            const cv::Mat img = readRgb(shared + QStringLiteral("/images/") + QLatin1String(photo));
            QVERIFY2(!img.empty(), photo);
            QVERIFY(plantOutlier(img));
        }
        // Ten photos darkened (about three stops), ten blurred, in place.
        for (int i = 0; i < 10; ++i) {
            const QString rel = take();
            cv::Mat img = readRgb(abs(rel));
            img.convertTo(img, -1, 0.2, 0);
            QVERIFY(writeJpeg(abs(rel), img));
            m_planted.dark.insert(rel);
        }
        for (int i = 0; i < 10; ++i) {
            const QString rel = take();
            cv::Mat img = readRgb(abs(rel));
            const double sigma = std::max(img.cols, img.rows) / 80.0;
            cv::GaussianBlur(img, img, cv::Size(), sigma);
            QVERIFY(writeJpeg(abs(rel), img));
            m_planted.blurred.insert(rel);
        }
    }

    void plantedProblemsAreFound()
    {
        auto scan = scanDataset(m_root);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        Dataset& ds = *scan.dataset;
        QCOMPARE(ds.size(), 480 + 40 + 10);
        // Ten copies across the split (their originals in train), every other planted copy beside its original in
        // train, so that the leakage truth is exactly the ten.
        QHash<QString, int> index;
        for (int i = 0; i < ds.size(); ++i)
            index.insert(ds.samples.at(i).relPath, i);
        for (const auto& pairs : { m_planted.exact, m_planted.nearCopies })
            for (const auto& [orig, copy] : pairs) {
                ds.samples[index.value(orig)].split = Split::Train;
                ds.samples[index.value(copy)].split =
                    m_planted.leakedCopies.contains(copy) ? Split::Valid : Split::Train;
            }

        const auto stats = measureDatasetImages(ds);
        QCOMPARE(stats.size(), ds.size());
        const DataIssueReport r = detect(ds, stats);
        QVERIFY(r.usedFeatures);
        QVERIFY(r.usedPixels);
        QSet<QString> exactTruth, nearTruth;
        for (const auto& [orig, copy] : m_planted.exact)
            exactTruth << orig << copy;
        for (const auto& [orig, copy] : m_planted.nearCopies)
            nearTruth << orig << copy;
        const Score exact = score(r, ds, DataIssue::ExactDuplicate, exactTruth);
        const Score nearDup = score(r, ds, DataIssue::NearDuplicate, nearTruth);
        const Score leak = score(r, ds, DataIssue::Leakage, m_planted.leakedCopies);
        const Score outlier = score(r, ds, DataIssue::Outlier, m_planted.outliers);
        const Score dark = score(r, ds, DataIssue::Dark, m_planted.dark);
        const Score blurry = score(r, ds, DataIssue::Blurry, m_planted.blurred);
        for (const Score& s : { exact, nearDup, leak, dark, blurry }) {
            QVERIFY(s.precision() >= 0.9);
            QVERIFY(s.recall() >= 0.9);
        }
        // Outliers: the distance to the nearest files alone found 7 of the 10 (precision 0.875): an owl, a parrot or
        // a hot dog is no farther from the bears than bears-small's own odd photos. What the pretrained network calls
        // them (concept rarity: none of their five likely ImageNet classes is shared by others) finds them.
        QVERIFY(outlier.recall() >= 0.9);
        QVERIFY(outlier.precision() >= 0.9);
        // What ranks first is no photo of a bear: the planted outliers, or bears-small's own junk (the review file's
        // phone case, painting, figurine, costume, beer logo).
        const QSet<QString> junk = { QStringLiteral("teddys/00000095.jpg"), QStringLiteral("black/00000098.jpg"),
            QStringLiteral("black/00000076.jpg"), QStringLiteral("black/00000059.jpg"),
            QStringLiteral("black/00000079.jpg") };
        QVector<QPair<float, QString>> byOutlier;
        for (const FileDataIssues& f : r.files)
            byOutlier.append({ f.score[size_t(DataIssue::Outlier)], ds.samples.at(f.sample).relPath });
        std::sort(byOutlier.begin(), byOutlier.end());
        int odd = 0;
        for (int i = 0; i < 10; ++i) {
            const QString& file = byOutlier.at(i).second;
            odd += m_planted.outliers.contains(file) || junk.contains(file);
            qInfo("  outlier #%d %.3f %s", i + 1, byOutlier.at(i).first, qPrintable(file));
        }
        QVERIFY2(odd >= 9, qPrintable(QString::number(odd))); // measured: 9 (the tenth is a bear far off on rocks)

        // Each planted copy sits in one group with its original, and a copy is never the one to keep.
        for (const auto& pairs : { m_planted.exact, m_planted.nearCopies })
            for (const auto& [orig, copy] : pairs) {
                const FileDataIssues* o = r.forSample(index.value(orig));
                const FileDataIssues* c = r.forSample(index.value(copy));
                QVERIFY(o && c);
                if (c->group < 0)
                    continue; // a missed copy: counted in the recall above
                QCOMPARE(o->group, c->group);
                QVERIFY2(!c->keep, qPrintable(copy)); // the original (or bears-small's own twin of it) is kept
                const int kept = r.groups.at(c->group).samples.first();
                QVERIFY2(!ds.samples.at(kept).relPath.contains(QStringLiteral("copy_"))
                        && !ds.samples.at(kept).relPath.contains(QStringLiteral("near_")),
                    qPrintable(ds.samples.at(kept).relPath));
            }
        // The summary names every issue type with its count.
        const QJsonObject summary = dataIssueSummaryJson(r, ds);
        QCOMPARE(summary.value(QStringLiteral("issues")).toArray().size(), kDataIssueCount);
        QCOMPARE(summary.value(QStringLiteral("files")).toInt(), ds.size());
    }

    void groupsFromOneSidedNeighbours();
    void conceptRarity();
    void classChecks();
    void blurAgainstTheSet();

    void qualityChecksOnSyntheticImages()
    {
        // Independent of any dataset: each check's own fixture.
        QTemporaryDir dir;
        auto stats = [&](const cv::Mat& img, const char* name) {
            const QString path = dir.filePath(QLatin1String(name));
            cv::imwrite(QFile::encodeName(path).toStdString(), img);
            return measureImageFile(path);
        };
        // A sharp, colourful photo stand-in: smooth colour ramps under a fine random texture.
        cv::Mat grad(120, 160, CV_8UC3);
        cv::theRNG().state = 7;
        cv::randu(grad, cv::Scalar::all(0), cv::Scalar::all(60));
        for (int y = 0; y < grad.rows; ++y)
            for (int x = 0; x < grad.cols; ++x)
                grad.at<cv::Vec3b>(y, x) += cv::Vec3b(uchar(x * 190 / 159), uchar(y), uchar(190 - x));
        const ImageStats g = stats(grad, "grad.png");
        QVERIFY(g.ok);
        QCOMPARE(g.width, 160);
        QCOMPARE(g.height, 120);
        QVERIFY(g.colourfulness > 0.2);
        QVERIFY(g.entropy > 5);
        const ImageStats flat = stats(cv::Mat(50, 400, CV_8UC3, cv::Scalar::all(128)), "flat.png");
        QVERIFY(flat.ok);
        QCOMPARE(flat.entropy, 0.0f);
        QCOMPARE(flat.colourfulness, 0.0f);
        QVERIFY(std::abs(flat.brightness - 128 / 255.0f) < 0.01f);
        QCOMPARE(flat.edgeVariance, 0.0f);
        cv::Mat greyBgr;
        cv::cvtColor(grad, greyBgr, cv::COLOR_BGR2GRAY);
        cv::cvtColor(greyBgr, greyBgr, cv::COLOR_GRAY2BGR);
        QVERIFY(stats(greyBgr, "grey.png").colourfulness < 0.001f);
        const ImageStats black = stats(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(3)), "black.png");
        QVERIFY(black.highlights < 0.05f);
        // A deep red rose (full red, no green or blue: luma 0.23) is saturated, not underexposed.
        const ImageStats red = stats(cv::Mat(64, 64, CV_8UC3, cv::Scalar(0, 0, 200)), "red.png"); // BGR
        QVERIFY2(red.highlights > 0.7f, qPrintable(QString::number(red.highlights)));
        QVERIFY(red.brightness < 0.5f);
        QVERIFY(!measureImageFile(dir.filePath(QStringLiteral("missing.png"))).ok);

        // The flags, on a hand-made set: one flat image among gradients is low-information and odd-sized.
        Dataset ds;
        ds.root = dir.path();
        ds.vocab = { QStringLiteral("a") };
        QVector<ImageStats> all;
        for (int i = 0; i < 8; ++i) {
            Sample s;
            s.relPath = QStringLiteral("a/%1.png").arg(i);
            s.label = 0;
            ds.samples.append(s);
            all.append(i == 7 ? flat : g);
        }
        all[6] = black;
        all[6].width = all[6].height = 16; // tiny
        const ImageStats white = stats(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(252)), "white.png");
        QVERIFY(white.ok);
        all[4] = white;
        all[5].width = 2000; // 12.5 times the median's side: odd size by the other rule
        all[5].height = 1500;
        for (int i = 0; i < all.size(); ++i) // the stand-ins share the gradient's pixels: not copies here
            all[i].pixelHash = quint64(100 + i);
        const DataIssueReport r = findDataIssues(ds, all, nullptr, nullptr);
        QCOMPARE(r.files.size(), 8);
        QVERIFY(r.files[7].has(DataIssue::LowInformation));
        QVERIFY(r.files[7].has(DataIssue::OddAspectRatio)); // 50 x 400
        QVERIFY(r.files[7].has(DataIssue::Grayscale));
        QVERIFY(r.files[6].has(DataIssue::Dark));
        QVERIFY(r.files[6].has(DataIssue::OddSize));
        QVERIFY(r.files[4].has(DataIssue::Light)); // no dark pixel at all
        QVERIFY(!r.files[4].has(DataIssue::Dark));
        QVERIFY(!r.files[6].has(DataIssue::Light));
        QCOMPARE(r.files[5].flags, 1u << int(DataIssue::OddSize));
        QVERIFY(r.files[5].score[size_t(DataIssue::OddSize)] < 0.1f);
        for (int i = 0; i < 4; ++i)
            QVERIFY2(r.files[i].flags == 0, qPrintable(QString::number(r.files[i].flags, 2)));
        QCOMPARE(r.counts[int(DataIssue::Light)], 1);
        QCOMPARE(r.counts[int(DataIssue::OddSize)], 2);
        QVERIFY(
            r.files[7].score[size_t(DataIssue::LowInformation)] < r.files[0].score[size_t(DataIssue::LowInformation)]);
        QVERIFY(!r.usedFeatures);

        // The same pixels in other bytes (PNG at two compression levels) are an exact copy, found by pixels alone
        // (this dataset was never scanned: no content hashes); a one-level change of one pixel is not.
        const QString a = dir.filePath(QStringLiteral("copy0.png")), b = dir.filePath(QStringLiteral("copy9.png"));
        cv::imwrite(QFile::encodeName(a).toStdString(), grad, { cv::IMWRITE_PNG_COMPRESSION, 0 });
        cv::imwrite(QFile::encodeName(b).toStdString(), grad, { cv::IMWRITE_PNG_COMPRESSION, 9 });
        QVERIFY(QFileInfo(a).size() != QFileInfo(b).size());
        cv::Mat touched = grad.clone();
        touched.at<cv::Vec3b>(60, 80)[1] ^= 1;
        const ImageStats t = stats(touched, "touched.png");
        QVERIFY(measureImageFile(a).pixelHash == measureImageFile(b).pixelHash);
        QVERIFY(t.pixelHash != g.pixelHash);
        QCOMPARE(g.pixelHash, measureImageFile(a).pixelHash);
        QVector<ImageStats> copies = all;
        copies[1] = measureImageFile(a);
        copies[2] = measureImageFile(b);
        copies[3] = t;
        const DataIssueReport c = findDataIssues(ds, copies, nullptr, nullptr);
        QCOMPARE(c.groups.size(), 1);
        QCOMPARE(c.groups[0].samples.size(), 2);
        QVERIFY(c.groups[0].exact);
        QVERIFY(c.files[1].has(DataIssue::ExactDuplicate) && c.files[2].has(DataIssue::ExactDuplicate));
        QVERIFY(!c.files[3].has(DataIssue::ExactDuplicate) && !c.files[0].has(DataIssue::ExactDuplicate));
        QCOMPARE(c.counts[int(DataIssue::ExactDuplicate)], 2);
        QVERIFY(c.files[1].keep != c.files[2].keep);
    }
};

void TestDataIssues::groupsFromOneSidedNeighbours()
{
    // Neighbour lists are one-sided: 2 lists 1 and 3 lists 2, but 1 and 2 list other files. Both pairs count; 3 is
    // linked to the kept file 1 only through 2, so it is grouped but not a copy of the kept one.
    Dataset ds;
    ds.root = QStringLiteral("/nonexistent");
    ds.vocab = { QStringLiteral("a") };
    for (int i = 0; i < 5; ++i) {
        Sample s;
        s.relPath = QStringLiteral("a/%1.jpg").arg(i);
        s.label = 0;
        ds.samples.append(s);
    }
    FeatureNeighbours g;
    g.samples = { 0, 1, 2, 3, 4 };
    g.k = 1;
    g.neighbours = { 4, 0, 1, 2, 0 };
    g.similarity = { 0.5f, 0.5f, 0.95f, 0.93f, 0.5f };
    const DataIssueReport r = findDataIssues(ds, {}, &g, nullptr);
    QCOMPARE(r.groups.size(), 1);
    QCOMPARE(r.groups.at(0).samples, (QVector<int> { 1, 2, 3 }));
    QCOMPARE(r.counts[int(DataIssue::NearDuplicate)], 3);
    QVERIFY(r.files[1].keep);
    QCOMPARE(r.files[2].keptSimilarity, 0.95f);
    QCOMPARE(r.files[3].keptSimilarity, -1.0f);
    QCOMPARE(r.files[2].file, QStringLiteral("a/2.jpg"));

    // The same report read against a later scan (a/0.jpg deleted, the rest in another order) by path.
    Dataset later = ds;
    later.samples.removeAt(0);
    std::reverse(later.samples.begin(), later.samples.end()); // a/4, a/3, a/2, a/1
    const DataIssueReport m = remapDataIssues(r, later);
    QCOMPARE(m.files.size(), 4);
    const FileDataIssues* kept = m.forSample(3); // a/1.jpg now
    QVERIFY(kept);
    QCOMPARE(kept->file, QStringLiteral("a/1.jpg"));
    QVERIFY(kept->keep);
    QCOMPARE(m.groups.size(), 1);
    QCOMPARE(m.groups.at(0).samples, (QVector<int> { 3, 2, 1 }));
    QCOMPARE(m.counts[int(DataIssue::NearDuplicate)], 3);
    // The kept file gone: the group is no group to act on any more, and its flags go with it.
    Dataset noKept = ds;
    noKept.samples.removeAt(1);
    const DataIssueReport n = remapDataIssues(r, noKept);
    QCOMPARE(n.groups.size(), 0);
    QCOMPARE(n.counts[int(DataIssue::NearDuplicate)], 0);
}

void TestDataIssues::conceptRarity()
{
    // Twenty files all at the same distance from their neighbours; what the network calls them differs. Nineteen
    // list "brown bear" (294) among their five likely classes, some first, some after a dog; one lists only birds.
    Dataset ds;
    ds.root = QStringLiteral("/nonexistent");
    ds.vocab = { QStringLiteral("a") };
    FeatureNeighbours g;
    g.k = 2;
    const int rows = 20;
    for (int i = 0; i < rows; ++i) {
        ds.samples.append(Sample { QStringLiteral("a/%1.jpg").arg(i), 0, Split::Train });
        g.samples.append(i);
        g.neighbours << (i + 1) % rows << (i + 2) % rows;
        g.similarity << 0.8f << 0.7f;
        if (i == 7)
            g.concepts << 24 << 21 << 22 << 23 << 80; // an owl: great grey owl, kite, bald eagle, vulture, black grouse
        else if (i % 3 == 0)
            g.concepts << 256 << 294 << 295 << 296 << 150; // a bear taken for a Newfoundland dog first
        else
            g.concepts << 294 << 295 << 296 << 297 << 388;
    }
    const DataIssueReport r = findDataIssues(ds, {}, &g, nullptr);
    QCOMPARE(r.counts[int(DataIssue::Outlier)], 1);
    QVERIFY(r.files[7].has(DataIssue::Outlier));
    QVERIFY(r.files[7].score[size_t(DataIssue::Outlier)] < r.files[0].score[size_t(DataIssue::Outlier)]);
    QCOMPARE(r.files[3].score[size_t(DataIssue::Outlier)], r.files[4].score[size_t(DataIssue::Outlier)]);

    // Two owls support each other only when the set is small enough: at least outlierConceptMin others must share.
    for (int j = 0; j < FeatureNeighbours::kConcepts; ++j) // a second owl
        g.concepts[8 * FeatureNeighbours::kConcepts + j] = g.concepts[7 * FeatureNeighbours::kConcepts + j];
    DataIssueOptions o;
    o.outlierConceptMin = 1;
    QCOMPARE(findDataIssues(ds, {}, &g, nullptr, o).counts[int(DataIssue::Outlier)], 0);
    o.outlierConceptMin = 2;
    QCOMPARE(findDataIssues(ds, {}, &g, nullptr, o).counts[int(DataIssue::Outlier)], 2);
    // Without concepts (weights without an ImageNet classifier) the distance decides alone.
    g.concepts.clear();
    QCOMPARE(findDataIssues(ds, {}, &g, nullptr).counts[int(DataIssue::Outlier)], 0);
}

void TestDataIssues::classChecks()
{
    // Classes a and b, 40 files each, whose members' nearest file is as often in the other class as in their own;
    // c has 2 files (under a tenth of an even share, 82 / 3), each the other's neighbour.
    Dataset ds;
    ds.root = QStringLiteral("/nonexistent");
    ds.vocab = { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") };
    FeatureNeighbours g;
    g.k = 1;
    for (int i = 0; i < 82; ++i) {
        const int label = i < 40 ? 0 : i < 80 ? 1 : 2;
        ds.samples.append(Sample { QStringLiteral("%1/%2.jpg").arg(ds.vocab[label]).arg(i), label, Split::Train });
        g.samples.append(i);
        int near = 0;
        if (label == 2)
            near = i == 80 ? 81 : 80;
        else if (i % 2 == 0)
            near = label == 0 ? i + 40 : i - 40; // the same-numbered file of the other class
        else
            near = label == 0 ? (i + 2) % 40 : 40 + (i - 40 + 2) % 40; // one of its own
        g.neighbours << near;
        g.similarity << 0.8f;
    }
    const DataIssueReport r = findDataIssues(ds, {}, &g, nullptr);
    QCOMPARE(r.classCounts, (QVector<int> { 40, 40, 2 }));
    QCOMPARE(r.underrepresented, (QVector<bool> { false, false, true }));
    QCOMPARE(r.similarClasses.size(), 3); // every pair, largest overlap first
    QCOMPARE(r.similarClasses[0].a, 0);
    QCOMPARE(r.similarClasses[0].b, 1);
    QCOMPARE(r.similarClasses[0].overlap, 0.5f);
    QVERIFY(r.similarClasses[0].flagged);
    QCOMPARE(r.similarClasses[1].overlap, 0.0f);
    QVERIFY(!r.similarClasses[1].flagged && !r.similarClasses[2].flagged);
    // The thresholds decide: a stricter overlap flags no pair; an even split flags no class.
    DataIssueOptions o;
    o.similarClassesOverlap = 0.6;
    o.imbalanceShare = 0.05;
    const DataIssueReport strict = findDataIssues(ds, {}, &g, nullptr, o);
    QVERIFY(!strict.similarClasses[0].flagged);
    QCOMPARE(strict.underrepresented, (QVector<bool> { false, false, false }));
}

void TestDataIssues::blurAgainstTheSet()
{
    // Forty photos of one set; sharpness (relativeEdgeVariance) spread as in a set of sharp photos, then as in a
    // set of small soft JPEGs (every one under the absolute 0.06). One file in each is blurred far beyond the rest.
    Dataset ds;
    ds.root = QStringLiteral("/nonexistent");
    ds.vocab = { QStringLiteral("a") };
    QVector<ImageStats> sharp, soft;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int i = 0; i < 40; ++i) {
        ds.samples.append(Sample { QStringLiteral("a/%1.jpg").arg(i), 0, Split::Train });
        ImageStats s;
        s.ok = true;
        s.width = s.height = 256;
        s.highlights = 0.9f;
        s.shadows = 0.1f;
        s.entropy = 7;
        s.colourfulness = 0.2f;
        s.pixelHash = quint64(i + 1);
        s.relativeEdgeVariance = float(0.2 * std::pow(4.0, unit(rng))); // 0.2 to 0.8
        sharp.append(s);
        s.relativeEdgeVariance = float(0.025 * std::pow(2.0, unit(rng))); // 0.025 to 0.05
        soft.append(s);
    }
    sharp[5].relativeEdgeVariance = 0.04f; // blurred: under the absolute threshold, far under the set
    sharp[6].relativeEdgeVariance = 0.07f; // soft but over the absolute threshold
    soft[5].relativeEdgeVariance = 0.004f;
    const DataIssueReport a = findDataIssues(ds, sharp, nullptr, nullptr);
    QCOMPARE(a.blurryThreshold, DataIssueOptions().blurryBelow); // the set's fence is higher: the absolute one holds
    QCOMPARE(a.counts[int(DataIssue::Blurry)], 1);
    QVERIFY(a.files[5].has(DataIssue::Blurry));
    const DataIssueReport b = findDataIssues(ds, soft, nullptr, nullptr);
    QVERIFY2(b.blurryThreshold < 0.025 && b.blurryThreshold > 0.004, qPrintable(QString::number(b.blurryThreshold)));
    QCOMPARE(b.counts[int(DataIssue::Blurry)], 1); // not the other 39 soft photos
    QVERIFY(b.files[5].has(DataIssue::Blurry));
    QVERIFY(b.files[5].score[size_t(DataIssue::Blurry)] < b.files[0].score[size_t(DataIssue::Blurry)]);
    // Without the fence (a wide one) the absolute threshold alone flags every soft photo.
    DataIssueOptions wide;
    wide.blurryFence = 100;
    QCOMPARE(findDataIssues(ds, soft, nullptr, nullptr, wide).counts[int(DataIssue::Blurry)], 0);
    wide.blurryFence = -100;
    QCOMPARE(findDataIssues(ds, soft, nullptr, nullptr, wide).counts[int(DataIssue::Blurry)], 40);
}

QTEST_GUILESS_MAIN(TestDataIssues)
#include "tst_dataissues.moc"
