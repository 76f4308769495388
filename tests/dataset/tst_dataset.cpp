// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <atomic>
#include <random>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMutex>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include "core/dataset/dataset.h"
#include "core/metrics/duplicates.h"
#include "tests/testutils.h"

using namespace Winnow;

namespace {

QByteArray encode(const char* ext, int w = 24, int h = 16, int seed = 1)
{
    cv::Mat img(h, w, CV_8UC3);
    cv::RNG rng(static_cast<uint64>(seed));
    rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
    std::vector<uchar> buf;
    if (!cv::imencode(ext, img, buf))
        return {};
    return QByteArray(reinterpret_cast<const char*>(buf.data()), qsizetype(buf.size()));
}

QByteArray jpeg(int seed = 1)
{
    return encode(".jpg", 64, 48, seed);
}

void writeFile(const QString& path, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

// Smallest valid GIF: 1x1, one colour.
QByteArray tinyGif()
{
    static const unsigned char kGif[] = { 'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF,
        0xFF, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B };
    return QByteArray(reinterpret_cast<const char*>(kGif), sizeof(kGif));
}

QStringList names(int n, const QString& prefix = QStringLiteral("c/img"))
{
    QStringList out;
    for (int i = 0; i < n; ++i)
        out << QStringLiteral("%1%2.jpg").arg(prefix).arg(i, 5, 10, QLatin1Char('0'));
    return out;
}

QHash<QString, Split> splitMap(const QStringList& paths, quint64 seed, double pct)
{
    const QList<Split> s = assignSplits(paths, seed, pct);
    QHash<QString, Split> out;
    for (int i = 0; i < paths.size(); ++i)
        out.insert(paths.at(i), s.at(i));
    return out;
}

QHash<QString, Split> splitMap(const Dataset& ds)
{
    QHash<QString, Split> out;
    for (const Sample& s : ds.samples)
        out.insert(s.relPath, s.split);
    return out;
}

} // namespace

class TestDataset : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void extensions_data();
    void extensions();
    void folderPerClass();
    void unlabeledFolders();
    void trainValidLayout();
    void badFiles_data();
    void badFiles();
    void badFilesNeverFatal();
    void judgedByContent();
    void exactDuplicates();
    void permissionDenied();
    void symlinkLoop();
    void scanErrors();
    void exactValidCount_data();
    void exactValidCount();
    void splitIndependentOfOrder();
    void splitStableUnderAddRemove_data();
    void splitStableUnderAddRemove();
    void splitStableOnDisk();
    void splitForMatchesRate();
    void splitIsPinned();
    void seedChangesSplit();
    void accessors();
    void properImageNames_data();
    void properImageNames();
    void progressAndCancel();
    void scansFromInsideTheGlobalPool();
    void bearsSmall();
};

void TestDataset::extensions_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("image");
    const char* yes[] = { "a.jpg", "a.JPG", "a.jpeg", "a.JpEg", "a.png", "a.PNG", "a.bmp", "a.gif", "a.webp", "a.tif",
        "a.TIFF", "a.ppm", "a.pgm", "a.pbm", "a.jfif", "x.y.jpg" };
    const char* no[] = { "a.txt", "a", "jpg", "a.jpg.txt", "a.", "a.svg", "a.heic", "a.json", ".jpg2" };
    for (const char* n : yes)
        QTest::newRow(n) << QString::fromLatin1(n) << true;
    for (const char* n : no)
        QTest::newRow(n) << QString::fromLatin1(n) << false;
}

void TestDataset::extensions()
{
    QFETCH(QString, name);
    QFETCH(bool, image);
    QCOMPARE(hasImageExtension(name), image);
}

void TestDataset::folderPerClass()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString r = tmp.path();
    writeFile(r + "/cat/1.jpg", jpeg(1));
    writeFile(r + "/cat/deep/er/2.JPG", jpeg(2));
    writeFile(r + "/cat/.hidden.jpg", jpeg(3));
    writeFile(r + "/cat/.cache/4.jpg", jpeg(4));
    writeFile(r + "/cat/notes.txt", "hello");
    writeFile(r + "/dog/5.PnG", encode(".png"));
    writeFile(r + "/dog/6.Jpeg", jpeg(6));
    writeFile(r + "/.git/7.jpg", jpeg(7));
    writeFile(r + "/empty/readme.md", "no images");
    writeFile(r + "/loose.jpg", jpeg(8));
    writeFile(r + "/unlabeled/u1.jpg", jpeg(9));
    writeFile(r + "/unlabeled/more/u2.png", encode(".png"));

    const ScanResult res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.layout, Layout::FolderPerClass);
    QCOMPARE(ds.root, QDir::cleanPath(QDir(r).absolutePath()));
    QCOMPARE(ds.vocab, QStringList({ "cat", "dog" }));
    QStringList paths;
    for (const Sample& s : ds.samples)
        paths << s.relPath;
    QCOMPARE(paths,
        QStringList({ "cat/1.jpg", "cat/deep/er/2.JPG", "dog/5.PnG", "dog/6.Jpeg", "unlabeled/more/u2.png",
            "unlabeled/u1.jpg" }));
    for (const Sample& s : ds.samples) {
        QVERIFY2(s.readable(), qPrintable(s.relPath + ": " + s.detail));
        QVERIFY(s.bytes > 0);
        if (s.relPath.startsWith("unlabeled/")) {
            QCOMPARE(s.split, Split::Unlabeled);
            QCOMPARE(s.label, -1);
        } else {
            QVERIFY(s.split == Split::Train || s.split == Split::Valid);
            QCOMPARE(ds.vocab.at(s.label), s.relPath.section('/', 0, 0));
        }
    }
    QCOMPARE(ds.count(Split::Unlabeled), 2);
    QCOMPARE(ds.count(Split::Train) + ds.count(Split::Valid), 4);
    // floor(0.2 * 4) = 0 valid
    QCOMPARE(ds.count(Split::Valid), 0);
    const QString warnings = ds.warnings.join('\n');
    QVERIFY2(warnings.contains("directly in the dataset folder"), qPrintable(warnings));
    QVERIFY2(warnings.contains("'empty'"), qPrintable(warnings));
    QVERIFY2(!warnings.contains("'unlabeled'"), qPrintable(warnings));
}

void TestDataset::unlabeledFolders()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    writeFile(r + "/a/1.jpg", jpeg(1));
    writeFile(r + "/a/todo/2.jpg", jpeg(2));
    writeFile(r + "/b/3.jpg", jpeg(3));
    writeFile(r + "/inbox/4.jpg", jpeg(4));
    writeFile(r + "/Unlabeled/5.jpg", jpeg(5));

    ScanOptions opt;
    opt.unlabeledFolders = { QStringLiteral("inbox/"), QStringLiteral("a/todo") };
    const ScanResult res = scanDataset(r, opt);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.vocab, QStringList({ "a", "b" }));
    QCOMPARE(ds.samples.at(ds.findSample("a/todo/2.jpg")).split, Split::Unlabeled);
    QCOMPARE(ds.samples.at(ds.findSample("inbox/4.jpg")).split, Split::Unlabeled);
    QCOMPARE(ds.samples.at(ds.findSample("Unlabeled/5.jpg")).label, -1);
    QCOMPARE(ds.samples.at(ds.findSample("a/1.jpg")).label, 0);
    QCOMPARE(ds.count(Split::Unlabeled), 3);

    // Without the option, inbox is a class.
    const ScanResult plain = scanDataset(r);
    QVERIFY(plain.ok());
    QCOMPARE(plain.dataset->vocab, QStringList({ "a", "b", "inbox" }));
}

void TestDataset::trainValidLayout()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    for (int i = 0; i < 3; ++i) {
        writeFile(r + QStringLiteral("/train/bird/t%1.jpg").arg(i), jpeg(i));
        writeFile(r + QStringLiteral("/train/cat/nested/t%1.jpg").arg(i), jpeg(10 + i));
    }
    writeFile(r + "/valid/bird/v0.jpg", jpeg(20));
    writeFile(r + "/valid/zebra/v1.jpg", jpeg(21)); // only in valid
    writeFile(r + "/valid/loose.jpg", jpeg(22)); // no class folder
    writeFile(r + "/test/bird/x.jpg", jpeg(23)); // ignored
    writeFile(r + "/unlabeled/u.jpg", jpeg(24));

    ScanOptions opt;
    opt.validPct = 0.9; // ignored by this layout
    const ScanResult res = scanDataset(r, opt);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.layout, Layout::TrainValid);
    QCOMPARE(ds.vocab, QStringList({ "bird", "cat", "zebra" }));
    QCOMPARE(ds.count(Split::Train), 6);
    QCOMPARE(ds.count(Split::Valid), 2);
    QCOMPARE(ds.count(Split::Unlabeled), 1);
    QCOMPARE(ds.size(), 9);
    const Sample& z = ds.samples.at(ds.findSample("valid/zebra/v1.jpg"));
    QCOMPARE(z.split, Split::Valid);
    QCOMPARE(ds.vocab.at(z.label), QStringLiteral("zebra"));
    QCOMPARE(ds.samples.at(ds.findSample("train/cat/nested/t1.jpg")).label, 1);
    QCOMPARE(ds.findSample("test/bird/x.jpg"), -1);
    QCOMPARE(ds.findSample("valid/loose.jpg"), -1);
    const QString warnings = ds.warnings.join('\n');
    QVERIFY2(warnings.contains("'zebra'"), qPrintable(warnings));
    QVERIFY2(warnings.contains("'test'"), qPrintable(warnings));
    QVERIFY2(warnings.contains("directly in train/ or valid/"), qPrintable(warnings));
    const QList<ClassCounts> counts = ds.counts();
    QCOMPARE(counts.size(), 3);
    QCOMPARE(counts.at(0).train, 3);
    QCOMPARE(counts.at(0).valid, 1);
    QCOMPARE(counts.at(2).train, 0);
    QCOMPARE(counts.at(2).valid, 1);

    // Only train/ (no valid/): a plain folder-per-class dataset whose class is "train".
    QTemporaryDir tmp2;
    writeFile(tmp2.path() + "/train/a/1.jpg", jpeg(1));
    const ScanResult single = scanDataset(tmp2.path());
    QVERIFY(single.ok());
    QCOMPARE(single.dataset->layout, Layout::FolderPerClass);
    QCOMPARE(single.dataset->vocab, QStringList({ "train" }));
}

void TestDataset::badFiles_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("verify");
    QTest::addColumn<int>("expected");

    const QByteArray good = jpeg(5);
    const QByteArray png = encode(".png", 40, 30);
    const QByteArray html = "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body>nope</body></html>";
    QByteArray heic("\0\0\0\x18"
                    "ftypheic\0\0\0\0mif1heic",
        24);
    heic += QByteArray(200, '\x01');
    QByteArray bmp = encode(".bmp", 20, 20);
    QByteArray webp = encode(".webp", 20, 20);
    QByteArray garbage(300, '\0');
    for (int i = 0; i < garbage.size(); ++i)
        garbage[i] = char((i * 37 + 11) & 0xFF);
    garbage[0] = '\x00';
    garbage[1] = '\x01';
    garbage[2] = '\x02';

    for (const bool verify : { true, false }) {
        const char* mode = verify ? "verify" : "cheap";
        const auto row = [&](const char* what, const char* name, const QByteArray& bytes, Unreadable want) {
            QTest::addRow("%s %s", what, mode) << QString::fromLatin1(name) << bytes << verify << int(want);
        };
        row("good jpeg", "ok.jpg", good, Unreadable::None);
        row("png named jpg", "png.jpg", png, Unreadable::None);
        row("jpeg with appended data", "appended.jpg", good + QByteArray(100, 'x'), Unreadable::None);
        row("bmp", "ok.bmp", bmp, Unreadable::None);
        row("html page", "x.jpg", html, Unreadable::NotAnImage);
        row("empty", "empty.jpg", QByteArray(), Unreadable::Empty);
        row("truncated jpeg", "cut.jpg", good.left(good.size() * 6 / 10), Unreadable::Truncated);
        row("jpeg header only", "head.jpg", good.left(20), Unreadable::Truncated);
        row("truncated png", "cut.png", png.left(png.size() - 30), Unreadable::Truncated);
        row("truncated bmp", "cut.bmp", bmp.left(bmp.size() / 2), Unreadable::Truncated);
        row("heic as jpg", "photo.jpg", heic, Unreadable::Unsupported);
        row("pdf", "doc.png", QByteArray("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n"), Unreadable::NotAnImage);
        row("text", "notes.jpg", QByteArray("just some words\nand more words\n"), Unreadable::NotAnImage);
        row("svg", "vector.png", QByteArray("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Unreadable::Unsupported);
        row("binary garbage", "noise.jpg", garbage, Unreadable::NotAnImage);
        if (!webp.isEmpty()) {
            row("webp", "ok.webp", webp, Unreadable::None);
            row("truncated webp", "cut.webp", webp.left(webp.size() / 2), Unreadable::Truncated);
        }
    }
    // Only a full decode catches a JPEG whose structure is intact but whose content is bad (8-bit -> 3-bit precision).
    QByteArray corrupt = good;
    const qsizetype sof = corrupt.indexOf("\xFF\xC0");
    QVERIFY(sof > 0);
    corrupt[sof + 4] = '\x03';
    QTest::newRow("corrupt jpeg verify") << QStringLiteral("corrupt.jpg") << corrupt << true
                                         << int(Unreadable::Truncated);
    QTest::newRow("gif verify") << QStringLiteral("tiny.gif") << tinyGif() << true << int(Unreadable::None);
}

void TestDataset::badFiles()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(bool, verify);
    QFETCH(int, expected);

    QTemporaryDir tmp;
    writeFile(tmp.path() + "/cls/" + name, bytes);
    writeFile(tmp.path() + "/cls/fine.jpg", jpeg(9));

    const FileCheck direct = checkImageFile(tmp.path() + "/cls/" + name, verify);
    QCOMPARE(int(direct.status), expected);
    QCOMPARE(direct.bytes, qint64(bytes.size()));
    if (expected != int(Unreadable::None) && expected != int(Unreadable::Empty))
        QVERIFY2(!direct.detail.isEmpty(), "an unreadable file should say why");

    ScanOptions opt;
    opt.verifyImages = verify;
    const ScanResult res = scanDataset(tmp.path(), opt);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.size(), 2);
    const int i = ds.findSample("cls/" + name);
    QVERIFY(i >= 0);
    QCOMPARE(int(ds.samples.at(i).status), expected);
    QCOMPARE(ds.samples.at(i).detail, direct.detail);
    QVERIFY(ds.samples.at(ds.findSample("cls/fine.jpg")).readable());
    QCOMPARE(int(ds.unreadable().size()), expected == int(Unreadable::None) ? 0 : 1);
    QVERIFY(!unreadableReason(Unreadable(expected)).isEmpty());
}

// What fastai's download_images leaves behind: photos whose names end in a URL query, and HTML pages saved as images.
// Images are used whatever their name; anything else in the folders is listed with its kind, never silently dropped.
void TestDataset::judgedByContent()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    writeFile(r + "/bears/00000090.jpg?1518390504", jpeg(1));
    writeFile(r + "/bears/00000119.png?v=1594136153", encode(".png", 40, 30, 2));
    writeFile(r + "/bears/photo", jpeg(3));
    writeFile(r + "/bears/fine.jpg", jpeg(4));
    writeFile(r + "/bears/show.php?itemNumber=5&w=1500", "<!DOCTYPE html><html><body>Not found</body></html>");
    writeFile(r + "/bears/notes.txt", "looked at these on Tuesday\n");
    writeFile(r + "/bears/clip.mp4",
        QByteArray("\0\0\0\x18"
                   "ftypmp42",
            12)
            + QByteArray(64, '\1'));
    writeFile(r + "/dogs/a.jpg", jpeg(5));
    writeFile(r + "/dogs/empty.bin", QByteArray());
    writeFile(r + "/README.txt", "not part of the dataset"); // root files are never part of it
    const ScanResult res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.vocab, QStringList({ "bears", "dogs" }));
    QCOMPARE(ds.size(), 5);
    for (const char* odd : { "bears/00000090.jpg?1518390504", "bears/00000119.png?v=1594136153", "bears/photo" }) {
        const int i = ds.findSample(QString::fromUtf8(odd));
        QVERIFY2(i >= 0, odd);
        QVERIFY2(ds.samples.at(i).readable(), odd);
        QVERIFY2(ds.samples.at(i).oddName, odd);
    }
    QVERIFY(!ds.samples.at(ds.findSample("bears/fine.jpg")).oddName);
    QCOMPARE(ds.oddNames(), 3);
    QCOMPARE(ds.unreadable().size(), 0);
    QStringList skipped;
    for (const SkippedFile& f : ds.skipped)
        skipped << f.relPath + QStringLiteral(": ") + f.kind;
    QCOMPARE(skipped,
        QStringList({ "bears/clip.mp4: video or ISO media file", "bears/notes.txt: text file",
            "bears/show.php?itemNumber=5&w=1500: HTML page", "dogs/empty.bin: empty file" }));
}

// Byte-identical copies: grouped, the train copy kept, valid copies of train files and copies filed under different
// classes counted; a re-encoded copy is not an exact duplicate.
void TestDataset::exactDuplicates()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    // Names chosen so that the split puts one copy in train and one in valid (checked below, not assumed).
    for (int i = 0; i < 30; ++i)
        writeFile(QStringLiteral("%1/black/%2.jpg").arg(r).arg(i), jpeg(100 + i));
    writeFile(r + "/grizzly/g0.jpg", jpeg(200));
    writeFile(r + "/grizzly/g1.jpg", jpeg(201));
    writeFile(r + "/grizzly/copy-of-black-3.jpg", jpeg(103)); // the same bytes under another class
    writeFile(r + "/unlabeled/u.jpg", jpeg(200)); // an unlabeled copy of a labeled file
    writeFile(r + "/grizzly/recoded.png", encode(".png", 64, 48, 201)); // same picture, other bytes: not exact
    ScanResult res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    Dataset ds = *res.dataset;
    // Plant one train/valid pair: copy a valid file into train under a new name, then rescan.
    int validIdx = -1;
    for (int i = 0; i < 30 && validIdx < 0; ++i)
        if (i != 3 && ds.samples.at(ds.findSample(QStringLiteral("black/%1.jpg").arg(i))).split == Split::Valid)
            validIdx = i;
    QVERIFY(validIdx >= 0);
    const QString validFile = QStringLiteral("black/%1.jpg").arg(validIdx);
    QString trainCopy;
    for (int k = 0; trainCopy.isEmpty() && k < 200; ++k) {
        const QString name = QStringLiteral("black/leak%1.jpg").arg(k);
        if (splitFor(name, ds.options.seed, ds.options.validPct) == Split::Train)
            trainCopy = name;
    }
    writeFile(r + "/" + trainCopy, jpeg(100 + validIdx));
    res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    ds = *res.dataset;
    QCOMPARE(ds.samples.at(ds.findSample(trainCopy)).split, Split::Train);
    QCOMPARE(ds.samples.at(ds.findSample(validFile)).split, Split::Valid);

    const DuplicateReport rep = findExactDuplicates(ds);
    QVERIFY(rep.checked);
    QCOMPARE(rep.groups.size(), 3);
    QCOMPARE(rep.redundant, 3);
    QCOMPARE(rep.leakedValid, 1);
    QCOMPARE(rep.conflicting, 1);
    auto groupOf = [&](const QString& file) {
        for (const DuplicateGroup& g : rep.groups)
            if (g.files.contains(file))
                return g;
        return DuplicateGroup {};
    };
    const DuplicateGroup leak = groupOf(validFile);
    QVERIFY(leak.acrossSplit);
    QCOMPARE(leak.files.first(), trainCopy); // the train copy is kept: deleting the other ends the leak
    const DuplicateGroup other = groupOf(QStringLiteral("grizzly/copy-of-black-3.jpg"));
    QVERIFY(other.conflictingLabels);
    const DuplicateGroup unl = groupOf(QStringLiteral("unlabeled/u.jpg"));
    QCOMPARE(unl.files, QStringList({ "grizzly/g0.jpg", "unlabeled/u.jpg" })); // labeled before unlabeled
    QVERIFY(!unl.conflictingLabels);
    QVERIFY(groupOf(QStringLiteral("grizzly/recoded.png")).files.isEmpty());
    // Without whole-file reads there are no hashes, and the report says it did not look.
    ScanOptions cheap;
    cheap.verifyImages = false;
    const ScanResult quick = scanDataset(r, cheap);
    QVERIFY(quick.ok());
    const DuplicateReport none = findExactDuplicates(*quick.dataset);
    QVERIFY(!none.checked);
    QVERIFY(none.groups.isEmpty());
}

void TestDataset::badFilesNeverFatal()
{
    // A class made only of bad files still is a class (the user must see and fix them); counts skip them.
    QTemporaryDir tmp;
    const QString r = tmp.path();
    writeFile(r + "/bad/x.jpg", "<html><body>404</body></html>");
    writeFile(r + "/bad/empty.png", QByteArray());
    writeFile(r + "/good/1.jpg", jpeg(1));
    writeFile(r + "/good/2.jpg", jpeg(2));
    const ScanResult res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.vocab, QStringList({ "bad", "good" }));
    QCOMPARE(ds.unreadable().size(), 2);
    QCOMPARE(ds.counts().at(0).train + ds.counts().at(0).valid, 0);
    QCOMPARE(ds.counts().at(1).train + ds.counts().at(1).valid, 2);
    QCOMPARE(ds.count(Split::Train, false) + ds.count(Split::Valid, false), 4);
    QCOMPARE(ds.count(Split::Train) + ds.count(Split::Valid), 2);
    QCOMPARE(int(ds.indices(Split::Train, false).size() + ds.indices(Split::Valid, false).size()), 4);
}

void TestDataset::permissionDenied()
{
    if (::geteuid() == 0)
        QSKIP("running as root: file permissions are not enforced");
    QTemporaryDir tmp;
    const QString path = tmp.path() + "/a/locked.jpg";
    writeFile(path, jpeg(1));
    writeFile(tmp.path() + "/a/ok.jpg", jpeg(2));
    QVERIFY(QFile::setPermissions(path, QFileDevice::Permissions()));
    const ScanResult res = scanDataset(tmp.path());
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QVERIFY(res.ok());
    const Sample& s = res.dataset->samples.at(res.dataset->findSample("a/locked.jpg"));
    QCOMPARE(s.status, Unreadable::IoError);
    QVERIFY(!s.detail.isEmpty());
}

void TestDataset::symlinkLoop()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    writeFile(r + "/a/1.jpg", jpeg(1));
    QVERIFY(QFile::link(r + "/a", r + "/a/loop"));
    QVERIFY(QFile::link(r + "/nowhere.jpg", r + "/a/broken.jpg"));
    const ScanResult res = scanDataset(r);
    QVERIFY2(res.ok(), qPrintable(res.error));
    QCOMPARE(res.dataset->findSample("a/loop/1.jpg"), -1);
    QCOMPARE(res.dataset->size(), 2);
    const Sample& broken = res.dataset->samples.at(res.dataset->findSample("a/broken.jpg"));
    QCOMPARE(broken.status, Unreadable::IoError);
}

void TestDataset::scanErrors()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();

    ScanResult res = scanDataset(r + "/missing");
    QVERIFY(!res.ok());
    QVERIFY2(res.error.contains("does not exist"), qPrintable(res.error));

    writeFile(r + "/file.jpg", jpeg(1));
    res = scanDataset(r + "/file.jpg");
    QVERIFY(!res.ok());
    QVERIFY2(res.error.contains("Not a folder"), qPrintable(res.error));

    // Images only in the root and in unlabeled/: no classes.
    writeFile(r + "/unlabeled/u.jpg", jpeg(2));
    QDir(r).mkpath("emptyclass");
    res = scanDataset(r);
    QVERIFY(!res.ok());
    QVERIFY2(res.error.contains("No classes"), qPrintable(res.error));

    res = scanDataset(QString());
    QVERIFY(!res.ok());

    QTemporaryDir tv;
    QDir(tv.path()).mkpath("train");
    QDir(tv.path()).mkpath("valid");
    res = scanDataset(tv.path());
    QVERIFY(!res.ok());
    QVERIFY2(res.error.contains("train/"), qPrintable(res.error));
}

void TestDataset::exactValidCount_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<double>("pct");
    QTest::addColumn<int>("valid");
    QTest::newRow("480 at 0.2") << 480 << 0.2 << 96;
    QTest::newRow("4317 at 0.2") << 4317 << 0.2 << 863;
    QTest::newRow("10 at 0.25") << 10 << 0.25 << 2;
    QTest::newRow("7 at 0.5") << 7 << 0.5 << 3;
    QTest::newRow("1 at 0.2") << 1 << 0.2 << 0;
    QTest::newRow("0 at 0.2") << 0 << 0.2 << 0;
    QTest::newRow("100 at 0") << 100 << 0.0 << 0;
    QTest::newRow("100 at 1") << 100 << 1.0 << 100;
    QTest::newRow("100 at 1.5 clamps") << 100 << 1.5 << 100;
    QTest::newRow("100 at -1 clamps") << 100 << -1.0 << 0;
}

void TestDataset::exactValidCount()
{
    QFETCH(int, n);
    QFETCH(double, pct);
    QFETCH(int, valid);
    const QList<Split> s = assignSplits(names(n), 42, pct);
    QCOMPARE(int(s.size()), n);
    QCOMPARE(int(std::count(s.cbegin(), s.cend(), Split::Valid)), valid);
    QCOMPARE(int(std::count(s.cbegin(), s.cend(), Split::Train)), n - valid);
}

void TestDataset::splitIndependentOfOrder()
{
    const QStringList base = names(500);
    const QHash<QString, Split> expected = splitMap(base, 42, 0.2);
    std::mt19937 gen(123);
    for (int round = 0; round < 5; ++round) {
        QStringList shuffled = base;
        std::shuffle(shuffled.begin(), shuffled.end(), gen);
        QCOMPARE(splitMap(shuffled, 42, 0.2), expected);
    }
    QStringList reversed = base;
    std::reverse(reversed.begin(), reversed.end());
    QCOMPARE(splitMap(reversed, 42, 0.2), expected);

    // On disk: the same tree written in two different creation orders scans to the same split.
    QTemporaryDir a, b;
    QStringList files = names(60, QStringLiteral("k"));
    for (int i = 0; i < files.size(); ++i)
        files[i] = QStringLiteral("c%1/%2").arg(i % 3).arg(files.at(i));
    for (const QString& f : files)
        writeFile(a.path() + '/' + f, QByteArray("x"));
    QStringList rev = files;
    std::reverse(rev.begin(), rev.end());
    for (const QString& f : rev)
        writeFile(b.path() + '/' + f, QByteArray("x"));
    ScanOptions cheap;
    cheap.verifyImages = false;
    const ScanResult ra = scanDataset(a.path(), cheap), rb = scanDataset(b.path(), cheap);
    QVERIFY(ra.ok() && rb.ok());
    QCOMPARE(splitMap(*ra.dataset), splitMap(*rb.dataset));
    QCOMPARE(ra.dataset->count(Split::Valid, false), 12);
}

void TestDataset::splitStableUnderAddRemove_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<double>("pct");
    QTest::newRow("480 +-1") << 480 << 1 << 0.2;
    QTest::newRow("480 +-7") << 480 << 7 << 0.2;
    QTest::newRow("100 +-30 at 0.3") << 100 << 30 << 0.3;
    QTest::newRow("50 +-50 at 0.5") << 50 << 50 << 0.5;
}

void TestDataset::splitStableUnderAddRemove()
{
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(double, pct);
    const QStringList base = names(n);
    const QHash<QString, Split> before = splitMap(base, 42, pct);

    // Add k files.
    QStringList grown = base + names(k, QStringLiteral("new/extra"));
    const QHash<QString, Split> afterAdd = splitMap(grown, 42, pct);
    int changed = 0;
    for (const QString& p : base)
        changed += afterAdd.value(p) != before.value(p);
    QVERIFY2(changed <= k, qPrintable(QStringLiteral("%1 files moved after adding %2").arg(changed).arg(k)));

    // Remove k files (every (n/k)-th).
    QStringList shrunk = base;
    QSet<QString> removed;
    for (int i = 0; i < k && !shrunk.isEmpty(); ++i)
        removed.insert(shrunk.takeAt((i * 7919) % shrunk.size()));
    const QHash<QString, Split> afterRemove = splitMap(shrunk, 42, pct);
    changed = 0;
    for (const QString& p : shrunk)
        changed += afterRemove.value(p) != before.value(p);
    QVERIFY2(changed <= k, qPrintable(QStringLiteral("%1 files moved after removing %2").arg(changed).arg(k)));
}

void TestDataset::splitStableOnDisk()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    for (int i = 0; i < 50; ++i)
        writeFile(r + QStringLiteral("/c%1/f%2.jpg").arg(i % 2).arg(i), jpeg(i));
    const ScanResult first = scanDataset(r);
    QVERIFY(first.ok());
    QCOMPARE(first.dataset->count(Split::Valid), 10);

    // Breaking a file does not move anyone (unreadable files keep their rank).
    writeFile(r + "/c0/f0.jpg", "<html></html>");
    const ScanResult broken = scanDataset(r);
    QVERIFY(broken.ok());
    QCOMPARE(splitMap(*broken.dataset), splitMap(*first.dataset));

    // Adding three files moves at most three others.
    for (int i = 50; i < 53; ++i)
        writeFile(r + QStringLiteral("/c1/f%1.jpg").arg(i), jpeg(i));
    const ScanResult grown = scanDataset(r);
    QVERIFY(grown.ok());
    QCOMPARE(grown.dataset->count(Split::Valid, false), 10); // floor(0.2 * 53)
    const QHash<QString, Split> a = splitMap(*first.dataset), b = splitMap(*grown.dataset);
    int changed = 0;
    for (auto it = a.cbegin(); it != a.cend(); ++it)
        changed += b.value(it.key()) != it.value();
    QVERIFY(changed <= 3);
}

// Golden values: every user's train/valid split follows from these functions. A change here reshuffles splits that
// were never saved (read-only folders, train/ + valid/ datasets moved to folder-per-class): make it on purpose only.
void TestDataset::splitIsPinned()
{
    QStringList paths;
    for (const char* cls : { "black", "grizzly", "teddys" })
        for (int i = 0; i < 10; ++i)
            paths << QStringLiteral("%1/%2.jpg").arg(QLatin1String(cls)).arg(i, 8, 10, QLatin1Char('0'));
    const QList<Split> splits = assignSplits(paths, 42, 0.2);
    QStringList valid;
    for (int i = 0; i < paths.size(); ++i)
        if (splits.at(i) == Split::Valid)
            valid << paths.at(i);
    QCOMPARE(splitHash(QStringLiteral("black/00000000.jpg"), 42), quint64(15989307754077733034ull));
    QCOMPARE(splitHash(QStringLiteral("grizzly/00000017.jpg"), 0), quint64(17010566369267175951ull));
    QCOMPARE(valid.join(QLatin1Char(' ')),
        QStringLiteral("black/00000005.jpg grizzly/00000003.jpg grizzly/00000004.jpg grizzly/00000008.jpg "
                       "teddys/00000000.jpg teddys/00000006.jpg"));
}

void TestDataset::splitForMatchesRate()
{
    const QStringList paths = names(20000);
    int valid = 0;
    for (const QString& p : paths)
        valid += splitFor(p, 42, 0.2) == Split::Valid;
    QVERIFY2(valid > 3700 && valid < 4300, qPrintable(QString::number(valid)));
    // Pure function.
    QCOMPARE(splitFor(paths.at(3), 42, 0.2), splitFor(paths.at(3), 42, 0.2));
    QCOMPARE(splitFor(paths.at(3), 42, 0.0), Split::Train);
    QCOMPARE(splitFor(paths.at(3), 42, 1.0), Split::Valid);
    // The threshold rule and the rank rule agree on the vast majority of files.
    const QList<Split> ranked = assignSplits(paths, 42, 0.2);
    int agree = 0;
    for (int i = 0; i < paths.size(); ++i)
        agree += ranked.at(i) == splitFor(paths.at(i), 42, 0.2);
    QVERIFY2(agree > paths.size() * 97 / 100, qPrintable(QString::number(agree)));
    // The hash sees every byte and the seed.
    QVERIFY(splitHash(QStringLiteral("a/b.jpg"), 1) != splitHash(QStringLiteral("a/b.jpg"), 2));
    QVERIFY(splitHash(QStringLiteral("a/b.jpg"), 1) != splitHash(QStringLiteral("a/c.jpg"), 1));
    QVERIFY(splitHash(QStringLiteral("ä/b.jpg"), 1) != splitHash(QStringLiteral("a/b.jpg"), 1));
}

void TestDataset::seedChangesSplit()
{
    const QStringList paths = names(300);
    const QList<Split> a = assignSplits(paths, 42, 0.2), b = assignSplits(paths, 43, 0.2);
    QCOMPARE(a, assignSplits(paths, 42, 0.2));
    int diff = 0;
    for (int i = 0; i < paths.size(); ++i)
        diff += a.at(i) != b.at(i);
    QVERIFY2(diff > 30, qPrintable(QString::number(diff)));
}

void TestDataset::accessors()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    for (int i = 0; i < 20; ++i)
        writeFile(
            r + QStringLiteral("/%1/%2.jpg").arg(i % 2 ? "odd" : "even").arg(i, 2, 10, QLatin1Char('0')), jpeg(i));
    writeFile(r + "/odd/zz.jpg", QByteArray());
    writeFile(r + "/unlabeled/u.jpg", jpeg(99));
    ScanOptions opt;
    opt.validPct = 0.25;
    opt.seed = 7;
    const ScanResult res = scanDataset(r, opt);
    QVERIFY(res.ok());
    const Dataset& ds = *res.dataset;
    QCOMPARE(ds.options.seed, quint64(7));
    QCOMPARE(ds.size(), 22);
    // Sorted by relPath, findSample is exact.
    for (int i = 0; i < ds.size(); ++i) {
        if (i > 0)
            QVERIFY(ds.samples.at(i - 1).relPath < ds.samples.at(i).relPath);
        QCOMPARE(ds.findSample(ds.samples.at(i).relPath), i);
        QVERIFY(QFileInfo::exists(ds.absolutePath(ds.samples.at(i))));
        QCOMPARE(ds.absolutePath(i), ds.absolutePath(ds.samples.at(i)));
    }
    QCOMPARE(ds.findSample("nope.jpg"), -1);
    QCOMPARE(ds.findSample("odd/zz.jpgx"), -1);
    QCOMPARE(ds.findSample(""), -1);
    // 21 labeled files (the empty one too) -> floor(0.25 * 21) = 5 valid.
    QCOMPARE(ds.count(Split::Valid, false), 5);
    QCOMPARE(ds.count(Split::Train, false), 16);
    QCOMPARE(ds.count(Split::Unlabeled), 1);
    const std::vector<int> train = ds.indices(Split::Train), valid = ds.indices(Split::Valid);
    QCOMPARE(int(train.size()), ds.count(Split::Train));
    QCOMPARE(int(valid.size()), ds.count(Split::Valid));
    for (int i : train)
        QVERIFY(ds.samples.at(i).split == Split::Train && ds.samples.at(i).readable());
    int total = 0;
    for (const ClassCounts& c : ds.counts())
        total += c.train + c.valid;
    QCOMPARE(total, 20);
    QCOMPARE(ds.unreadable().size(), 1);
    QCOMPARE(ds.unreadable().first()->relPath, QStringLiteral("odd/zz.jpg"));
    QCOMPARE(ds.unreadable().first()->status, Unreadable::Empty);
    // The result matches the public rule.
    QStringList labeled;
    for (const Sample& s : ds.samples)
        if (s.label >= 0)
            labeled << s.relPath;
    const QList<Split> rule = assignSplits(labeled, 7, 0.25);
    for (int i = 0; i < labeled.size(); ++i)
        QCOMPARE(ds.samples.at(ds.findSample(labeled.at(i))).split, rule.at(i));
    QCOMPARE(splitName(Split::Valid), QStringLiteral("valid"));
    QCOMPARE(layoutName(Layout::TrainValid), QStringLiteral("train-valid"));
    QCOMPARE(unreadableKey(Unreadable::NotAnImage), QStringLiteral("not-an-image"));
}

void TestDataset::progressAndCancel()
{
    QTemporaryDir tmp;
    for (int i = 0; i < 40; ++i)
        writeFile(tmp.path() + QStringLiteral("/c/%1.jpg").arg(i), jpeg(i));
    QMutex mutex;
    int last = 0, calls = 0, totalSeen = 0;
    ScanControl control;
    control.progress = [&](int done, int total) {
        QMutexLocker lock(&mutex);
        last = std::max(last, done);
        totalSeen = total;
        ++calls;
    };
    const ScanResult res = scanDataset(tmp.path(), {}, control);
    QVERIFY(res.ok());
    QVERIFY(calls >= 1);
    QCOMPARE(last, 40);
    QCOMPARE(totalSeen, 40);

    std::atomic<bool> cancel { true };
    ScanControl cancelled;
    cancelled.cancel = &cancel;
    const ScanResult none = scanDataset(tmp.path(), {}, cancelled);
    QVERIFY(!none.ok());
    QCOMPARE(none.error, QStringLiteral("cancelled"));
}

/// The GUI runs scans as tasks of the global pool. A scan that put its file checks on that same pool waited for work
/// queued behind itself: with two scans on a two-thread pool (or one on a one-thread pool), for ever.
void TestDataset::scansFromInsideTheGlobalPool()
{
    QTemporaryDir tmp;
    for (int i = 0; i < 24; ++i)
        writeFile(tmp.path() + QStringLiteral("/c%1/%2.jpg").arg(i % 2).arg(i), jpeg(i));
    QThreadPool* global = QThreadPool::globalInstance();
    const int before = global->maxThreadCount();
    global->setMaxThreadCount(1);
    QFuture<ScanResult> first = QtConcurrent::run([&] { return scanDataset(tmp.path(), {}); });
    QFuture<ScanResult> second = QtConcurrent::run([&] { return scanDataset(tmp.path(), {}); });
    QElapsedTimer clock;
    clock.start();
    while (!(first.isFinished() && second.isFinished()) && clock.elapsed() < 30000)
        QTest::qWait(20);
    const bool finished = first.isFinished() && second.isFinished();
    global->setMaxThreadCount(before);
    QVERIFY2(finished, "a scan inside the global pool never finished");
    QVERIFY(first.result().ok());
    QCOMPARE(second.result().dataset->size(), 24);
}

void TestDataset::bearsSmall()
{
    WINNOW_REQUIRE_SHARED(shared);
    const QString root = shared + "/datasets/bears-small";
    QElapsedTimer timer;
    timer.start();
    const ScanResult res = scanDataset(root);
    const qint64 ms = timer.elapsed();
    QVERIFY2(res.ok(), qPrintable(res.error));
    const Dataset& ds = *res.dataset;
    qInfo("bears-small: %d files scanned and decoded in %lld ms", ds.size(), ms);
    QCOMPARE(ds.layout, Layout::FolderPerClass);
    QCOMPARE(ds.vocab, QStringList({ "black", "grizzly", "teddys" }));
    QCOMPARE(ds.size(), 480);
    QCOMPARE(ds.count(Split::Train), 384);
    QCOMPARE(ds.count(Split::Valid), 96);
    QCOMPARE(ds.count(Split::Unlabeled), 0);
    QCOMPARE(ds.unreadable().size(), 0);
    for (const ClassCounts& c : ds.counts())
        QCOMPARE(c.train + c.valid, 160);

    ScanOptions cheap;
    cheap.verifyImages = false;
    const ScanResult quick = scanDataset(root, cheap);
    QVERIFY(quick.ok());
    QCOMPARE(splitMap(*quick.dataset), splitMap(ds));
}

void TestDataset::properImageNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("proper");
    QTest::newRow("url query") << "00000090.jpg?1518390504"
                               << "JPEG"
                               << "00000090.jpg";
    QTest::newRow("url query png") << "00000119.png?v=1594136153"
                                   << "PNG"
                                   << "00000119.png";
    QTest::newRow("php page holding a png") << "show.php?itemNumber=5&w=1500"
                                            << "PNG"
                                            << "show.png";
    QTest::newRow("no extension") << "photo"
                                  << "JPEG"
                                  << "photo.jpg";
    QTest::newRow("wrong image extension") << "x.png"
                                           << "JPEG"
                                           << "x.jpg";
    QTest::newRow("fits already") << "x.JPEG"
                                  << "JPEG"
                                  << "x.JPEG";
    QTest::newRow("dots in the name") << "v1.2 final"
                                      << "WebP"
                                      << "v1.2 final.webp";
    QTest::newRow("fragment") << "a.gif#frame"
                              << "GIF"
                              << "a.gif";
    QTest::newRow("not an image format") << "page.html"
                                         << ""
                                         << "page.html";
}

void TestDataset::properImageNames()
{
    QFETCH(QString, name);
    QFETCH(QString, format);
    QFETCH(QString, proper);
    QCOMPARE(properImageName(name, format), proper);
    if (!format.isEmpty())
        QVERIFY(hasImageExtension(properImageName(name, format)));
}

QTEST_APPLESS_MAIN(TestDataset)
#include "tst_dataset.moc"
