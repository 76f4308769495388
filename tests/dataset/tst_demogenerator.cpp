// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/dataset/demogenerator.h"

using namespace Winnow;

namespace {

QJsonObject readManifest(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// relPath -> sha1 of every file under dir.
QHash<QString, QByteArray> fingerprint(const QString& dir)
{
    QHash<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            out.insert(
                QDir(dir).relativeFilePath(path), QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha1));
    }
    return out;
}

// Share of strongly coloured pixels whose hue falls near each class colour (OpenCV hue, 0-180).
int dominantColourClass(const QString& path)
{
    const cv::Mat bgr = cv::imread(path.toStdString(), cv::IMREAD_COLOR);
    if (bgr.empty())
        return -2;
    cv::Mat hsv;
    cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
    // circle red, ring purple, square blue, star yellow, triangle green
    const int hues[] = { 0, 143, 105, 25, 61 };
    int votes[5] = {};
    for (int y = 0; y < hsv.rows; ++y)
        for (int x = 0; x < hsv.cols; ++x) {
            const cv::Vec3b p = hsv.at<cv::Vec3b>(y, x);
            if (p[1] < 110 || p[2] < 90)
                continue;
            for (int c = 0; c < 5; ++c) {
                int d = std::abs(int(p[0]) - hues[c]);
                d = std::min(d, 180 - d);
                if (d <= 10)
                    ++votes[c];
            }
        }
    return int(std::max_element(votes, votes + 5) - votes);
}

} // namespace

class TestDemoGenerator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultDataset();
    void deterministic();
    void refusesForeignFolder();
    void regeneratesPreviousDemo();
    void manifestPath();
};

void TestDemoGenerator::defaultDataset()
{
    QTemporaryDir tmp;
    const QString dir = tmp.path() + "/demo";
    QElapsedTimer timer;
    timer.start();
    const DemoResult r = writeDemoDataset(dir);
    const qint64 ms = timer.elapsed();
    QVERIFY2(r.ok(), qPrintable(r.error));
    qInfo("demo: %d images in %lld ms", r.images, ms);
    QVERIFY2(ms < 20000, "demo generation should take a few seconds at most");

    QCOMPARE(r.root, QDir::cleanPath(dir));
    QCOMPARE(r.manifestPath, tmp.path() + "/demo.manifest.json");
    QVERIFY(QFileInfo::exists(r.manifestPath));
    QVERIFY(isDemoDataset(dir));
    QCOMPARE(r.classes, demoClasses());
    QCOMPARE(r.images, 5 * 60 + 3 + 10);

    // Manifest: every listed file exists; no other file is in the dataset.
    const QJsonObject m = readManifest(r.manifestPath);
    QCOMPARE(m.value("generator").toString(), QStringLiteral("winnow-demo"));
    QCOMPARE(m.value("seed").toInt(), 7);
    QCOMPARE(m.value("images").toInt(), r.images);
    const QJsonArray files = m.value("files").toArray();
    QCOMPARE(int(files.size()), r.images);
    QSet<QString> listed;
    for (const auto& f : files) {
        listed.insert(f.toString());
        QVERIFY2(QFileInfo::exists(dir + '/' + f.toString()), qPrintable(f.toString()));
    }
    QCOMPARE(QSet<QString>(fingerprint(dir).keyBegin(), fingerprint(dir).keyEnd()), listed);

    // Planted problems: 5% of 300 mislabeled, 3 junk, each really in the folder it claims, mislabels in a wrong one.
    const QJsonArray problems = m.value("problems").toArray();
    QCOMPARE(int(problems.size()), int(r.problems.size()));
    int mislabeled = 0, junk = 0;
    for (const auto& v : problems) {
        const QJsonObject p = v.toObject();
        const QString file = p.value("file").toString();
        const QString placed = p.value("placed_in").toString();
        QVERIFY(QFileInfo::exists(dir + '/' + file));
        QCOMPARE(file.section('/', 0, 0), placed);
        QVERIFY(demoClasses().contains(placed));
        if (p.value("kind").toString() == "mislabeled") {
            ++mislabeled;
            const QString truth = p.value("true_class").toString();
            QVERIFY(demoClasses().contains(truth));
            QVERIFY2(truth != placed, qPrintable(file));
        } else {
            QCOMPARE(p.value("kind").toString(), QStringLiteral("junk"));
            QVERIFY(p.value("true_class").isNull());
            ++junk;
        }
    }
    QCOMPARE(mislabeled, 15);
    QCOMPARE(junk, 3);
    QCOMPARE(int(m.value("unlabeled").toArray().size()), 10);

    // Scans as a clean 5-class dataset with unlabeled/; the manifest is not part of it.
    const ScanResult scan = scanDataset(dir);
    QVERIFY2(scan.ok(), qPrintable(scan.error));
    const Dataset& ds = *scan.dataset;
    QCOMPARE(ds.vocab, demoClasses());
    QCOMPARE(ds.size(), r.images);
    QCOMPARE(ds.unreadable().size(), 0);
    QCOMPARE(ds.count(Split::Unlabeled), 10);
    QVERIFY2(ds.warnings.isEmpty(), qPrintable(ds.warnings.join('\n')));
    const cv::Mat one = cv::imread(QString(dir + '/' + files.at(0).toString()).toStdString());
    QCOMPARE(one.cols, 160);
    QCOMPARE(one.rows, 160);

    // The classes are separable by colour alone for almost every image, and a mislabeled image shows its true
    // class, not its folder's (a cheap stand-in for "a CNN can learn it and will flag the plants").
    QHash<QString, QString> truth;
    for (const PlantedProblem& p : r.problems)
        truth.insert(p.file, p.kind == "junk" ? QString() : p.trueClass);
    int right = 0, counted = 0;
    for (const Sample& s : ds.samples) {
        if (s.label < 0)
            continue;
        const QString expected = truth.contains(s.relPath) ? truth.value(s.relPath) : ds.vocab.at(s.label);
        if (expected.isEmpty())
            continue; // junk
        ++counted;
        right += demoClasses().at(dominantColourClass(ds.absolutePath(s))) == expected;
    }
    QVERIFY2(right >= counted * 95 / 100, qPrintable(QStringLiteral("%1 of %2").arg(right).arg(counted)));
}

void TestDemoGenerator::deterministic()
{
    QTemporaryDir a, b, c;
    DemoOptions opt;
    opt.imagesPerClass = 12;
    opt.unlabeledImages = 2;
    const DemoResult ra = writeDemoDataset(a.path() + "/demo", opt);
    const DemoResult rb = writeDemoDataset(b.path() + "/demo", opt);
    QVERIFY(ra.ok() && rb.ok());
    const QHash<QString, QByteArray> fa = fingerprint(a.path()), fb = fingerprint(b.path());
    QCOMPARE(fa.size(), 5 * 12 + 3 + 2 + 1); // + manifest
    QCOMPARE(fa, fb);
    QCOMPARE(ra.problems.size(), 3 + 3); // round(0.05 * 60) = 3 mislabeled, 3 junk

    opt.seed = 8;
    const DemoResult rc = writeDemoDataset(c.path() + "/demo", opt);
    QVERIFY(rc.ok());
    QVERIFY(fingerprint(c.path()) != fa);
}

void TestDemoGenerator::refusesForeignFolder()
{
    QTemporaryDir tmp;
    QFile f(tmp.path() + "/precious.txt");
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("mine");
    f.close();
    DemoOptions opt;
    opt.imagesPerClass = 2;
    const DemoResult r = writeDemoDataset(tmp.path(), opt);
    QVERIFY(!r.ok());
    QVERIFY2(r.error.contains("not empty"), qPrintable(r.error));
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot), QStringList { "precious.txt" });
    QVERIFY(!QFileInfo::exists(demoManifestPath(tmp.path())));

    // A file where the folder should be.
    const DemoResult onFile = writeDemoDataset(tmp.path() + "/precious.txt", opt);
    QVERIFY(!onFile.ok());

    // An empty existing folder is fine.
    QDir(tmp.path()).mkdir("empty");
    QVERIFY(writeDemoDataset(tmp.path() + "/empty", opt).ok());
}

void TestDemoGenerator::regeneratesPreviousDemo()
{
    QTemporaryDir tmp;
    const QString dir = tmp.path() + "/demo";
    DemoOptions opt;
    opt.imagesPerClass = 20;
    QVERIFY(writeDemoDataset(dir, opt).ok());
    // The user cleans a bit: moves a file, adds their own, the app keeps hidden state.
    const QString moved = QDir(dir + "/circle").entryList(QDir::Files).first();
    QVERIFY(QFile::rename(dir + "/circle/" + moved, dir + "/square/" + moved));
    QFile own(dir + "/square/my-photo.jpg");
    QVERIFY(own.open(QIODevice::WriteOnly));
    own.write("x");
    own.close();
    QDir(dir).mkpath(".winnow");

    opt.imagesPerClass = 10;
    const DemoResult again = writeDemoDataset(dir, opt);
    QVERIFY2(again.ok(), qPrintable(again.error));
    QVERIFY(QFileInfo::exists(dir + "/square/my-photo.jpg"));
    QVERIFY(QFileInfo::exists(dir + "/.winnow"));
    const ScanResult scan = scanDataset(dir);
    QVERIFY(scan.ok());
    QCOMPARE(scan.dataset->size(), again.images + 1); // only the new demo files plus the user's own
}

void TestDemoGenerator::manifestPath()
{
    QCOMPARE(demoManifestPath("/tmp/x/demo/"), QStringLiteral("/tmp/x/demo.manifest.json"));
    QCOMPARE(demoManifestPath("/tmp/x/demo"), QStringLiteral("/tmp/x/demo.manifest.json"));
    QVERIFY(!isDemoDataset("/nonexistent/folder"));
}

QTEST_APPLESS_MAIN(TestDemoGenerator)
#include "tst_demogenerator.moc"
