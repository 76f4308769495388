// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input corpus: what the web and people's disks put in a dataset folder, generated here (nothing large is
// committed; a few formats the test cannot write come from tests/fuzz/seeds), each case with its expected outcome:
// a clear message naming the file, or correct handling. Every case is one data row or one test function, and the
// case count is checked (kCases).
#include <sys/resource.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "core/engine/predictor.h"
#include "core/imaging/decode.h"
#include "tests/syntheticdataset.h"
#include "tests/testutils.h"

using namespace Winnow;

namespace {

const QString kSeeds = QStringLiteral(WINNOW_SOURCE_DIR "/tests/fuzz/seeds/filecheck/");

bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QByteArray readBytes(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// A 24 x 16 picture: left half red, right half blue, so orientation and channel order are visible.
cv::Mat picture(int type = CV_8UC3)
{
    cv::Mat m(16, 24, CV_8UC3, cv::Scalar(0, 0, 255)); // BGR red
    m(cv::Rect(12, 0, 12, 16)).setTo(cv::Scalar(255, 0, 0)); // blue
    if (type == CV_16UC3)
        m.convertTo(m, CV_16UC3, 257.0);
    else if (type == CV_8UC4) {
        cv::cvtColor(m, m, cv::COLOR_BGR2BGRA);
        m(cv::Rect(0, 0, 24, 8)).setTo(cv::Scalar(0, 0, 0, 0)); // top half fully transparent
    }
    return m;
}

QByteArray encode(const cv::Mat& m, const char* ext, const std::vector<int>& params = {})
{
    std::vector<uchar> out;
    if (!cv::imencode(ext, m, out, params))
        return {};
    return QByteArray(reinterpret_cast<const char*>(out.data()), qsizetype(out.size()));
}

QByteArray jpeg(const std::vector<int>& params = {})
{
    return encode(picture(), ".jpg", params);
}

/// Inserts an EXIF APP1 segment with the given orientation after the JPEG's SOI marker.
QByteArray withExifOrientation(const QByteArray& jpegBytes, int orientation)
{
    QByteArray app1("\xFF\xE1\x00\x22"
                    "Exif\0\0"
                    "MM\0*\0\0\0\x08"
                    "\0\x01"
                    "\x01\x12\0\x03\0\0\0\x01\0",
        2 + 2 + 6 + 8 + 2 + 9);
    app1.append(char(orientation)).append("\0\0", 2).append("\0\0\0\0", 4);
    return jpegBytes.left(2) + app1 + jpegBytes.mid(2);
}

quint32 crc32(const QByteArray& data)
{
    quint32 c = 0xFFFFFFFFu;
    for (const char ch : data) {
        c ^= quint8(ch);
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

QByteArray pngChunk(const char* type, const QByteArray& body)
{
    QByteArray out;
    const quint32 n = quint32(body.size());
    out.append(char(n >> 24)).append(char(n >> 16)).append(char(n >> 8)).append(char(n));
    const QByteArray typed = QByteArray(type, 4) + body;
    out.append(typed);
    const quint32 c = crc32(typed);
    out.append(char(c >> 24)).append(char(c >> 16)).append(char(c >> 8)).append(char(c));
    return out;
}

/// A valid-looking PNG that claims width x height (gray, 8 bit) and holds `idat` as its compressed data: with a
/// large size and a deflate stream of zeros, a decompression bomb.
QByteArray pngClaiming(quint32 width, quint32 height, const QByteArray& idat)
{
    QByteArray ihdr;
    for (const quint32 v : { width, height })
        ihdr.append(char(v >> 24)).append(char(v >> 16)).append(char(v >> 8)).append(char(v));
    ihdr.append("\x08\x00\x00\x00\x00", 5); // 8-bit gray, deflate, no filter, no interlace
    return QByteArray("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IDAT", idat)
        + pngChunk("IEND", QByteArray());
}

/// zlib stream of `rows` PNG rows of zeros: qCompress() output is a 4-byte length then zlib.
QByteArray zeroRows(int rowBytes, int rows)
{
    return qCompress(QByteArray(qsizetype(rowBytes + 1) * rows, '\0'), 9).mid(4);
}

qint64 peakRssKb()
{
    struct rusage u
    {
    };
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/// Runs the built winnow with `args`; returns the exit code and fills stdout/stderr.
int runWinnow(const QStringList& args, QString* out, QString* err, const QStringList& prefix = {})
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    p.setProcessEnvironment(env);
    if (prefix.isEmpty())
        p.start(winnowBinary(), args);
    else
        p.start(prefix.first(), prefix.mid(1) + QStringList { winnowBinary() } + args);
    if (!p.waitForFinished(120000))
        return -1;
    *out = QString::fromUtf8(p.readAllStandardOutput());
    *err = QString::fromUtf8(p.readAllStandardError());
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

QMap<QString, QByteArray> hashTree(const QString& root)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString f = it.next();
        if (f.contains(QStringLiteral("/.winnow/")))
            continue;
        out.insert(QDir(root).relativeFilePath(f), QCryptographicHash::hash(readBytes(f), QCryptographicHash::Md5));
    }
    return out;
}

/// A plain two-class dataset of small JPEGs, the size of picture(): cats/c0..c3.jpg, dogs/d0..d3.jpg.
void makeTwoClasses(const QString& root)
{
    const auto written = WinnowTest::writeDataset({ .root = root,
        .classes = { "cats", "dogs" },
        .size = QSize(24, 16),
        .format = "JPEG",
        .trainName = "{initial}{i}" });
    QVERIFY2(written.ok(), qPrintable(written.error));
}

} // namespace

class TestBadInput : public QObject
{
    Q_OBJECT

    // Cases: kFileCases rows of files(), plus one per other test function below (checked by casesCounted).
    static constexpr int kFileCases = 25;
    static constexpr int kCases = kFileCases + 14;

private Q_SLOTS:
    void initTestCase();
    void decompressionBombIsRefused(); // first: it measures the process's peak memory
    void files_data();
    void files();
    void casesCounted();
    void symlinkLoop();
    void hugeJpegIsDecodedSmaller();
    void oneClass();
    void emptyClassAndReservedFolders();
    void readOnlyDatasetRefusesApply();
    void fileDeletedBeforeApply();
    void fileChangedBeforeApply();
    void secondWriterIsTold();
    void damagedPlanAndJournal();
    void malformedWeightsAndModelFiles();
    void mistypedCommandAndMissingFolder();
    void fileVanishesBetweenScanAndDecode();
    void badNamesInTrainValidLayout();

private:
    QTemporaryDir m_dir;
    QString m_root; // the files() dataset: each row adds its file beside the previous rows' files
};

void TestBadInput::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_root = m_dir.path() + QStringLiteral("/corpus");
    makeTwoClasses(m_root);
}

void TestBadInput::files_data()
{
    QTest::addColumn<QString>("file"); // relative to the dataset; written below from `bytes` (or linked)
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("status"); // Unreadable, or -1: not a sample but listed in Dataset::skipped
    QTest::addColumn<QString>("detail"); // a word the reason must contain ("" = any)
    QTest::addColumn<QSize>("decoded"); // for a readable file: the upright decoded size

    const auto none = int(Unreadable::None);
    const QSize picSize(24, 16);
    const QByteArray html = "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body></body></html>\n";
    QTest::newRow("html named jpg") << "cats/page.jpg" << html << int(Unreadable::NotAnImage) << "HTML" << QSize();
    QTest::newRow("text named jpg") << "cats/notes.jpg" << QByteArray("just some words\n")
                                    << int(Unreadable::NotAnImage) << "text" << QSize();
    QTest::newRow("pdf named png") << "cats/doc.png" << QByteArray("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n")
                                   << int(Unreadable::NotAnImage) << "PDF" << QSize();
    QTest::newRow("truncated jpeg") << "cats/cut.jpg" << jpeg().left(300) << int(Unreadable::Truncated) << "JPEG"
                                    << QSize();
    QTest::newRow("0-byte file") << "cats/zero.jpg" << QByteArray() << int(Unreadable::Empty) << "" << QSize();
    QTest::newRow("cmyk jpeg") << "cats/cmyk.jpg" << readBytes(kSeeds + "cmyk.jpg") << none << "" << picSize;
    QTest::newRow("progressive jpeg") << "cats/progressive.jpg" << jpeg({ cv::IMWRITE_JPEG_PROGRESSIVE, 1 }) << none
                                      << "" << picSize;
    QTest::newRow("16-bit png") << "cats/deep.png" << encode(picture(CV_16UC3), ".png") << none << "" << picSize;
    QTest::newRow("palette png") << "cats/palette.png" << readBytes(kSeeds + "palette.png") << none << "" << picSize;
    QTest::newRow("rgba png") << "cats/alpha.png" << encode(picture(CV_8UC4), ".png") << none << "" << picSize;
    QTest::newRow("animated gif") << "cats/animated.gif" << readBytes(kSeeds + "animated.gif") << none << "" << picSize;
    QTest::newRow("webp") << "cats/photo.webp" << encode(picture(), ".webp") << none << "" << picSize;
    QTest::newRow("tiff") << "cats/scan.tif" << encode(picture(), ".tiff") << none << "" << picSize;
    if (cv::haveImageWriter(".jp2")) { // OpenCV built with OpenJPEG (Debian's is)
        cv::Mat big; // OpenJPEG's default 6 resolution levels need sides of 32 px and more
        cv::resize(picture(), big, cv::Size(64, 48), 0, 0, cv::INTER_NEAREST);
        QTest::newRow("jpeg 2000") << "cats/scan.jp2" << encode(big, ".jp2") << none << "" << QSize(64, 48);
    } else {
        qWarning("this OpenCV cannot write JPEG 2000: the jpeg 2000 row is left out");
    }
    QTest::newRow("exif-rotated jpeg") << "cats/rotated.jpg" << withExifOrientation(jpeg(), 6) << none << ""
                                       << QSize(16, 24);
    QTest::newRow("1x1 image") << "cats/dot.png" << encode(cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3)), ".png") << none
                               << "" << QSize(1, 1);
    QTest::newRow("png claiming 20000 x 20000")
        << "cats/huge-claim.png" << pngClaiming(20000, 20000, zeroRows(20000, 4)) << int(Unreadable::Unsupported)
        << "too large" << QSize();
    QTest::newRow("unicode name") << QStringLiteral("dogs/ñandú 北极熊.jpg") << jpeg() << none << "" << picSize;
    QTest::newRow("spaces and newline in name")
        << QStringLiteral("dogs/a b\nc d.png") << encode(picture(), ".png") << none << "" << picSize;
    QTest::newRow("symlink to an image") << "dogs/link.jpg" << QByteArray("->cats/c0.jpg") << none << "" << picSize;
    QTest::newRow("broken symlink") << "dogs/gone.jpg" << QByteArray("->cats/never-there.jpg")
                                    << int(Unreadable::IoError) << "broken" << QSize();
    QTest::newRow("photo named like a URL") << "dogs/00000090.jpg?1518390504" << jpeg() << none << "" << picSize;
    QTest::newRow("web page named like a URL")
        << "dogs/show.php?itemNumber=5&w=1500" << html << -1 << "HTML page" << QSize();
    QTest::newRow("heic photo") << "dogs/IMG_0001.heic" << readBytes(kSeeds + "heic") << -1 << "HEIF" << QSize();
    QTest::newRow("random bytes named jpg") << "dogs/noise.jpg" << QByteArray("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9)
                                            << int(Unreadable::NotAnImage) << "unknown content" << QSize();
}

void TestBadInput::files()
{
    QFETCH(QString, file);
    QFETCH(QByteArray, bytes);
    QFETCH(int, status);
    QFETCH(QString, detail);
    QFETCH(QSize, decoded);
    QVERIFY2(!bytes.isNull() || status == int(Unreadable::Empty), "the generator produced nothing");
    const QString path = m_root + QLatin1Char('/') + file;
    if (bytes.startsWith("->")) {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile::remove(path);
        QVERIFY(QFile::link(m_root + QLatin1Char('/') + QString::fromUtf8(bytes.mid(2)), path));
    } else {
        QVERIFY(writeBytes(path, bytes));
    }

    const ScanResult scan = scanDataset(m_root);
    QVERIFY2(scan.ok(), qPrintable(scan.error));
    const Dataset& ds = *scan.dataset;
    const int i = ds.findSample(file);
    if (status < 0) {
        QCOMPARE(i, -1);
        const auto it = std::find_if(
            ds.skipped.cbegin(), ds.skipped.cend(), [&](const SkippedFile& s) { return s.relPath == file; });
        QVERIFY2(it != ds.skipped.cend(), "a file that is not an image must be listed as skipped");
        QVERIFY2(it->kind.contains(detail), qPrintable(it->kind));
    } else {
        QVERIFY2(i >= 0, "the file must be a sample (readable or with a reason)");
        const Sample& s = ds.samples.at(i);
        QCOMPARE(int(s.status), status);
        QVERIFY2(s.detail.contains(detail, Qt::CaseInsensitive), qPrintable(s.detail));
        if (status == int(Unreadable::None)) {
            const DecodedImage img = decodeImage(ds.absolutePath(s));
            QVERIFY2(img.ok(), qPrintable(img.message));
            QCOMPARE(QSize(img.width, img.height), decoded);
            QCOMPARE(s.oddName, !hasImageExtension(file));
            if (file == QLatin1String("cats/alpha.png")) // transparent top half shown on white
                QCOMPARE(int(img.rgb[0]), 255);
            if (file == QLatin1String("cats/rotated.jpg")) { // orientation 6: the red left half is now on top
                QVERIFY(img.rgb[0] > 200 && img.rgb[2] < 60);
                const size_t bottom = (size_t(img.height - 1) * img.width) * 3;
                QVERIFY(img.rgb[bottom + 2] > 200 && img.rgb[bottom] < 60);
            }
        } else {
            const DecodedImage img = decodeImage(ds.absolutePath(s));
            QVERIFY(!img.ok());
            QVERIFY(!img.message.isEmpty());
        }
    }
    // The good files are never hurt by their bad neighbours.
    QCOMPARE(ds.vocab, QStringList({ QStringLiteral("cats"), QStringLiteral("dogs") }));
    for (int k = 0; k < 4; ++k)
        QVERIFY(ds.samples.at(ds.findSample(QStringLiteral("cats/c%1.jpg").arg(k))).readable());
}

void TestBadInput::casesCounted()
{
    // One function per case below this one; files() has kFileCases rows. Keep kCases >= 30 (issue 16).
    int functions = 0;
    const QMetaObject* mo = metaObject();
    for (int m = mo->methodOffset(); m < mo->methodCount(); ++m) {
        const QByteArray name = mo->method(m).name();
        if (mo->method(m).methodType() == QMetaMethod::Slot && name != "initTestCase" && name != "files"
            && name != "files_data" && name != "casesCounted")
            ++functions;
    }
    QCOMPARE(kFileCases + functions, kCases);
    QVERIFY(kCases >= 30);
}

void TestBadInput::symlinkLoop()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    QVERIFY(QFile::link(root + "/cats", root + "/cats/again")); // cats/again -> cats: a loop
    QVERIFY(QFile::link(root, root + "/dogs/up")); // dogs/up -> the root itself
    const ScanResult scan = scanDataset(root);
    QVERIFY2(scan.ok(), qPrintable(scan.error));
    QCOMPARE(scan.dataset->count(Split::Train) + scan.dataset->count(Split::Valid), 8); // each photo once
}

void TestBadInput::hugeJpegIsDecodedSmaller()
{
    // A real 20,000 x 20,000 JPEG (one gray channel keeps the test's own encoding at 400 MB).
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    {
        cv::Mat big(20000, 20000, CV_8UC1, cv::Scalar(128));
        cv::circle(big, { 10000, 10000 }, 6000, cv::Scalar(30), -1);
        QVERIFY(writeBytes(root + "/cats/huge.jpg", encode(big, ".jpg", { cv::IMWRITE_JPEG_QUALITY, 50 })));
    }
    const ScanResult scan = scanDataset(root);
    QVERIFY(scan.ok());
    const int i = scan.dataset->findSample(QStringLiteral("cats/huge.jpg"));
    QVERIFY(i >= 0);
    QVERIFY2(scan.dataset->samples.at(i).readable(), qPrintable(scan.dataset->samples.at(i).detail));

    DecodeOptions forTraining;
    forTraining.minShortSide = 224 + 32;
    const DecodedImage small = decodeImage(root + "/cats/huge.jpg", forTraining);
    QVERIFY2(small.ok(), qPrintable(small.message));
    QCOMPARE(small.reduction, 8);
    QCOMPARE(QSize(small.sourceWidth, small.sourceHeight), QSize(20000, 20000));

    const DecodedImage full = decodeImage(root + "/cats/huge.jpg"); // "full size" is capped by the pixel limit
    QVERIFY2(full.ok(), qPrintable(full.message));
    QVERIFY(qint64(full.width) * full.height <= kMaxDecodePixels);
    QCOMPARE(full.reduction, 2);
}

void TestBadInput::decompressionBombIsRefused()
{
    // 100,000 x 100,000 gray pixels (10 GB) from a few hundred bytes of deflate; and one that is honest about a
    // size within the limit but whose data is a bomb of its own kind (far more rows than it declares are absent).
    const QByteArray bomb = pngClaiming(100000, 100000, zeroRows(100000, 64));
    QVERIFY(bomb.size() < 64 * 1024);
    const qint64 before = peakRssKb();
    const DecodedImage img = decodeImage(bomb);
    QVERIFY(!img.ok());
    QCOMPARE(img.error, Unreadable::Unsupported);
    QVERIFY2(img.message.contains(QLatin1String("too large")), qPrintable(img.message));
    const FileCheck check = checkImageBytes(bomb);
    QCOMPARE(check.status, Unreadable::Unsupported);
    QVERIFY2(check.detail.contains(QLatin1String("100000 x 100000")), qPrintable(check.detail));
    QVERIFY2(peakRssKb() - before < 200 * 1024, "refusing a bomb must not allocate its pixels");

    // The same claim in the other formats whose headers carry a size (found in review: TIFF and PNM were decoded
    // before they were measured).
    auto le = [](quint32 v, int bytes) {
        QByteArray b;
        for (int i = 0; i < bytes; ++i)
            b.append(char((v >> (8 * i)) & 0xFF));
        return b;
    };
    QByteArray tiff("II*\0", 4);
    tiff += le(8, 4) + le(2, 2);
    tiff += le(256, 2) + le(4, 2) + le(1, 4) + le(100000, 4); // ImageWidth, LONG
    tiff += le(257, 2) + le(4, 2) + le(1, 4) + le(100000, 4); // ImageLength, LONG
    tiff += le(0, 4) + QByteArray(64, '\0');
    const QByteArray pnm = QByteArray("P5\n# a comment\n100000 100000\n255\n") + QByteArray(64, '\0');
    for (const QByteArray& claim : { tiff, pnm }) {
        const DecodedImage d = decodeImage(claim);
        QCOMPARE(d.error, Unreadable::Unsupported);
        QVERIFY2(d.message.contains(QLatin1String("100000 x 100000")), qPrintable(d.message));
        QCOMPARE(checkImageBytes(claim).status, Unreadable::Unsupported);
    }
    QVERIFY2(peakRssKb() - before < 200 * 1024, "refusing a bomb must not allocate its pixels");

    // A chunk that claims more than the file holds (found by fuzz_decode): libpng allocated the 1.8 GB a tEXt chunk
    // of a small file claimed, through OpenCV and Qt alike, before it found the bytes missing.
    QByteArray text = pngChunk("tEXt", QByteArray("Comment\0", 8) + QByteArray(100, 'x'));
    text[0] = char(0x6E); // length 0x6E000000 for a 108-byte body
    text[1] = text[2] = text[3] = char(0);
    const QByteArray good = pngClaiming(8, 8, zeroRows(8, 8));
    const QByteArray textClaim = good.left(33) + text + good.mid(33); // after the signature and IHDR
    const DecodedImage claimed = decodeImage(textClaim);
    QCOMPARE(claimed.error, Unreadable::Unsupported); // its IEND is there: corrupt, not cut off
    QVERIFY2(claimed.message.contains(QLatin1String("tEXt")), qPrintable(claimed.message));
    QCOMPARE(checkImageBytes(textClaim).status, Unreadable::Truncated);
    QVERIFY2(peakRssKb() - before < 200 * 1024, "a chunk's claimed length must not be allocated");
    QVERIFY2(decodeImage(good).ok(), qPrintable(decodeImage(good).message)); // the same file without it decodes

    const QByteArray shortData = pngClaiming(4000, 4000, zeroRows(4000, 10)); // within the limit, rows missing
    const DecodedImage cut = decodeImage(shortData);
    QVERIFY(!cut.ok() || (cut.width == 4000 && cut.height == 4000)); // refused, or decoded with what is there
    QVERIFY(cut.ok() || !cut.message.isEmpty());
}

void TestBadInput::oneClass()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    for (int i = 0; i < 3; ++i)
        QVERIFY(writeBytes(root + QStringLiteral("/cats/c%1.jpg").arg(i), jpeg()));
    const ScanResult scan = scanDataset(root);
    QVERIFY(scan.ok()); // a one-class folder is a dataset (to label, to find duplicates in) ...
    QCOMPARE(scan.dataset->vocab.size(), 1);
    QString out, err;
    const int rc =
        runWinnow({ QStringLiteral("train"), root, QStringLiteral("--size"), QStringLiteral("64") }, &out, &err);
    QVERIFY2(rc != 0, qPrintable(out + err)); // ... but not one a classifier can be trained on, and it says so
    QVERIFY2(err.contains(QLatin1String("at least two classes")), qPrintable(err));
}

void TestBadInput::emptyClassAndReservedFolders()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    QVERIFY(QDir().mkpath(root + "/birds")); // an empty class folder
    QVERIFY(writeBytes(root + "/unlabeled/u0.jpg", jpeg())); // the built-in unlabeled folder
    QVERIFY(writeBytes(root + "/.winnow/trash/x/cats/t.jpg", jpeg())); // Winnow's own folder: never scanned
    QVERIFY(writeBytes(root + "/train/t0.jpg", jpeg())); // "train" alone (no valid/): an ordinary class folder
    const ScanResult scan = scanDataset(root);
    QVERIFY2(scan.ok(), qPrintable(scan.error));
    const Dataset& ds = *scan.dataset;
    QCOMPARE(ds.layout, Layout::FolderPerClass);
    QCOMPARE(ds.vocab, QStringList({ "cats", "dogs", "train" }));
    QVERIFY(ds.warnings.join('\n').contains(QLatin1String("'birds' holds no image files")));
    const int u = ds.findSample(QStringLiteral("unlabeled/u0.jpg"));
    QVERIFY(u >= 0);
    QCOMPARE(ds.samples.at(u).split, Split::Unlabeled);
    QCOMPARE(ds.samples.at(u).label, -1);
    for (const Sample& s : ds.samples)
        QVERIFY2(!s.relPath.startsWith(QLatin1String(".winnow")), qPrintable(s.relPath));
    // A class cannot be created with a reserved name.
    QVERIFY(!validateClassName(QStringLiteral("unlabeled")).isEmpty());
    QVERIFY(!validateClassName(QStringLiteral(".winnow")).isEmpty());
    QVERIFY(!validateClassName(QStringLiteral("valid")).isEmpty());
}

void TestBadInput::readOnlyDatasetRefusesApply()
{
    QTemporaryDir dir;
    const QString root = dir.path() + "/data";
    makeTwoClasses(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("cats/c0.jpg")));
    QVERIFY(plan.relabel(QStringLiteral("cats/c1.jpg"), QStringLiteral("dogs")));
    const QString planFile = dir.path() + "/plan.json";
    QVERIFY(plan.save(planFile));
    const auto before = hashTree(root);
    QString out, err;
    int rc = 0;
    if (::geteuid() == 0) {
        // Root may write anywhere: apply as an unprivileged user, to whom the root-owned folder is read-only.
        const QStringList asNobody { QStringLiteral("setpriv"), QStringLiteral("--reuid=65534"),
            QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups"), QStringLiteral("env"),
            QStringLiteral("HOME=/tmp") };
        if (runWinnow({ QStringLiteral("--version") }, &out, &err, asNobody) != 0)
            QSKIP("running as root, and an unprivileged user cannot run the built winnow (a folder above it is "
                  "private): the read-only case needs either");
        QVERIFY(QFile::setPermissions(dir.path(), QFileDevice::Permissions(0x7755)));
        for (const QString& d : QStringList { root, root + "/cats", root + "/dogs" })
            QVERIFY(QFile::setPermissions(d, QFileDevice::Permissions(0x7755)));
        const QString home = dir.path() + "/home";
        QVERIFY(QDir().mkpath(home));
        QVERIFY(QFile::setPermissions(home, QFileDevice::Permissions(0x7777)));
        QVERIFY(QFile::setPermissions(planFile, QFileDevice::Permissions(0x6644)));
        rc = runWinnow({ QStringLiteral("clean"), root, QStringLiteral("--plan"), planFile, QStringLiteral("--apply") },
            &out, &err,
            { QStringLiteral("setpriv"), QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"),
                QStringLiteral("--clear-groups"), QStringLiteral("env"), QStringLiteral("HOME=") + home,
                QStringLiteral("WINNOW_CACHE_DIR=") + home });
    } else {
        QVERIFY(QFile::setPermissions(root, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        for (const char* c : { "cats", "dogs" })
            QVERIFY(QFile::setPermissions(root + '/' + c, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        rc = runWinnow({ QStringLiteral("clean"), root, QStringLiteral("--plan"), planFile, QStringLiteral("--apply") },
            &out, &err);
        for (const QString& d : QStringList { root, root + "/cats", root + "/dogs" })
            QFile::setPermissions(d, QFileDevice::Permissions(0x7700));
    }
    QVERIFY2(rc != 0 && rc != -1, qPrintable(out + err));
    const QString said = out + err;
    QVERIFY2(said.contains(QLatin1String("read-only")), qPrintable(said));
    QCOMPARE(hashTree(root), before); // nothing moved
}

void TestBadInput::fileDeletedBeforeApply()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("cats/c0.jpg")));
    QVERIFY(plan.relabel(QStringLiteral("cats/c1.jpg"), QStringLiteral("dogs")));
    QVERIFY(QFile::remove(root + "/cats/c0.jpg")); // deleted by hand after the decision
    const auto before = hashTree(root);
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY2(r.problems.join('\n').contains(QLatin1String("cats/c0.jpg")), qPrintable(r.message()));
    QCOMPARE(hashTree(root), before);
}

void TestBadInput::fileChangedBeforeApply()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("cats/c2.jpg"))); // records size and mtime
    QTest::qWait(20);
    QVERIFY(writeBytes(root + "/cats/c2.jpg", jpeg() + QByteArray(100, 'x'))); // replaced since
    const auto before = hashTree(root);
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY2(r.problems.join('\n').contains(QLatin1String("changed")), qPrintable(r.message()));
    QCOMPARE(hashTree(root), before);
}

void TestBadInput::secondWriterIsTold()
{
    // Two processes: a first one (tests/cleaning/cleaning_crash_helper) stops in the middle of an apply, after its
    // first move, with the dataset's lock held; a second, the real `winnow clean --apply`, and this process's own
    // applyPlan() must be refused with a message and change nothing, not even the journal; then the first finishes.
    QTemporaryDir dir;
    const QString root = dir.path() + "/data";
    QVERIFY(QDir().mkpath(root));
    makeTwoClasses(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("dogs/d0.jpg")));
    QVERIFY(plan.relabel(QStringLiteral("cats/c1.jpg"), QStringLiteral("dogs")));
    const QString planFile = dir.path() + "/plan.json";
    QVERIFY(plan.save(planFile));
    const auto original = hashTree(root);

    const QString marker = dir.path() + "/paused";
    QProcess first;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("WINNOW_PAUSE_AT"), QStringLiteral("5")); // journal, phase, folders, move, after move
    env.insert(QStringLiteral("WINNOW_PAUSE_FILE"), marker);
    first.setProcessEnvironment(env);
    first.start(QStringLiteral(CRASH_HELPER), { QStringLiteral("apply"), root, planFile });
    QVERIFY(first.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(marker), 60000);
    QCOMPARE(readBytes(marker), QByteArray("after move"));

    // Everything under the root, .winnow included: the refused writers may not touch the journal or the log.
    auto everything = [&] {
        QMap<QString, QByteArray> out;
        QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString f = it.next();
            if (!f.endsWith(QLatin1String("/.winnow/lock")))
                out.insert(
                    QDir(root).relativeFilePath(f), QCryptographicHash::hash(readBytes(f), QCryptographicHash::Md5));
        }
        return out;
    };
    const auto midway = everything();
    QVERIFY2(hashTree(root) != original, "the first process is half-way: it has moved a file");

    QString out, err;
    const int rc = runWinnow(
        { QStringLiteral("clean"), root, QStringLiteral("--plan"), planFile, QStringLiteral("--apply") }, &out, &err);
    QVERIFY2(rc == 1, qPrintable(QStringLiteral("exit %1: %2%3").arg(rc).arg(out, err)));
    QVERIFY2(err.contains(QLatin1String("another Winnow process")), qPrintable(err));
    QVERIFY2(err.contains(QString::number(first.processId())), qPrintable(err)); // names who holds it
    QVERIFY2(!err.contains(QLatin1String("could not be recovered")), qPrintable(err)); // it is running, not broken
    const TransactionResult mine = Cleaning::applyPlan(root, plan);
    QVERIFY(!mine.ok);
    QVERIFY2(mine.message().contains(QLatin1String("another Winnow process")), qPrintable(mine.message()));
    const TransactionResult undo = Cleaning::undoLast(root);
    QVERIFY(!undo.ok);
    QCOMPARE(everything(), midway);

    QVERIFY(QFile::remove(marker)); // the first process carries on and commits
    QVERIFY(first.waitForFinished(60000));
    QVERIFY2(first.exitStatus() == QProcess::NormalExit && first.exitCode() == 0,
        qPrintable(QString::fromUtf8(first.readAllStandardError())));
    QVERIFY(!QFileInfo::exists(root + "/dogs/d0.jpg"));
    QVERIFY(QFileInfo::exists(root + "/dogs/c1.jpg"));
    const TransactionResult back = Cleaning::undoLast(root); // and the lock is free again
    QVERIFY2(back.ok, qPrintable(back.message()));
    QCOMPARE(hashTree(root), original);
}

void TestBadInput::damagedPlanAndJournal()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("cats/c3.jpg")));
    const QByteArray json = plan.toJson();
    QString error;
    QVERIFY(!CleaningPlan::fromJson(json.left(json.size() / 2), &error));
    QVERIFY2(error.contains(QLatin1String("line")) || error.contains(QLatin1String("JSON")), qPrintable(error));

    // An applied transaction whose journal is then damaged: undo refuses with a message; no file moves.
    const TransactionResult applied = Cleaning::applyPlan(root, plan);
    QVERIFY2(applied.ok, qPrintable(applied.message()));
    const QString journal = root + "/.winnow/journal/" + applied.transactionId + ".json";
    QVERIFY(QFileInfo::exists(journal));
    const QByteArray good = readBytes(journal);
    QVERIFY(writeBytes(journal, good.left(good.size() / 3)));
    const auto before = hashTree(root);
    const TransactionResult undo = Cleaning::undoLast(root);
    QVERIFY(!undo.ok);
    QVERIFY2(!undo.message().isEmpty(), "a refused undo says why");
    QCOMPARE(hashTree(root), before);
    QVERIFY(!Cleaning::status(root).errors.isEmpty()); // and status names the unreadable journal
    QVERIFY(writeBytes(journal, good)); // repaired: undo works again
    const TransactionResult undo2 = Cleaning::undoLast(root);
    QVERIFY2(undo2.ok, qPrintable(undo2.message()));
    QVERIFY(QFileInfo::exists(root + "/cats/c3.jpg"));
}

void TestBadInput::malformedWeightsAndModelFiles()
{
    QTemporaryDir dir;
    const QString garbage = dir.path() + "/garbage.winnow";
    QVERIFY(writeBytes(garbage, QByteArray("this is not a model at all, just text\n")));
    Predictor p;
    QString error;
    QVERIFY(!p.load(garbage, &error));
    QVERIFY2(error.contains(QLatin1String("garbage.winnow")) || error.contains(QLatin1String("safetensors")),
        qPrintable(error));

    // A safetensors header that promises more data than the file holds (a download cut short).
    QByteArray header = R"({"__metadata__":{"format":"winnow-model"},"w":{"dtype":"F32","shape":[1000],)"
                        R"("data_offsets":[0,4000]}})";
    while (header.size() % 8)
        header.append(' ');
    QByteArray cut;
    const quint64 n = quint64(header.size());
    for (int i = 0; i < 8; ++i)
        cut.append(char((n >> (8 * i)) & 0xFF));
    cut += header + QByteArray(100, '\0');
    const QString truncated = dir.path() + "/cut.winnow";
    QVERIFY(writeBytes(truncated, cut));
    QVERIFY(!p.load(truncated, &error));
    QVERIFY2(error.contains(QLatin1String("truncated")), qPrintable(error));

    // The same, given as pretrained weights to train with: a clear message, exit code not 0.
    QTemporaryDir data;
    makeTwoClasses(data.path());
    QString out, err;
    const int rc =
        runWinnow({ QStringLiteral("train"), data.path(), QStringLiteral("--weights"), truncated,
                      QStringLiteral("--size"), QStringLiteral("64"), QStringLiteral("--epochs"), QStringLiteral("1") },
            &out, &err);
    QVERIFY2(rc != 0 && rc != -1, qPrintable(out + err));
    QVERIFY2(err.contains(QLatin1String("cut.winnow")), qPrintable(err));
}

void TestBadInput::mistypedCommandAndMissingFolder()
{
    QString out, err;
    QCOMPARE(runWinnow({ QStringLiteral("isues") }, &out, &err), 2);
    QVERIFY2(err.contains(QLatin1String("did you mean 'winnow issues'")), qPrintable(err));
    QCOMPARE(runWinnow({ QStringLiteral("/no/such/folder") }, &out, &err), 2);
    QVERIFY2(err.contains(QLatin1String("no such folder")), qPrintable(err));
    QCOMPARE(runWinnow({ QStringLiteral("scan"), QStringLiteral("/no/such/folder") }, &out, &err), 2);
    QVERIFY2(err.contains(QLatin1String("/no/such/folder")), qPrintable(err));
    // The throughput benchmark is not a command of the shipped CLI: it says where it went.
    QCOMPARE(runWinnow({ QStringLiteral("bench") }, &out, &err), 2);
    QVERIFY2(err.contains(QLatin1String("winnow-bench")), qPrintable(err));

    // winnow-bench itself: its usage errors are said with exit code 2, before any work.
    auto bench = [&](const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(WINNOW_BENCH_BINARY), args);
        if (!p.waitForFinished(60000))
            return -1;
        out = QString::fromUtf8(p.readAllStandardOutput());
        err = QString::fromUtf8(p.readAllStandardError());
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QCOMPARE(bench({ QStringLiteral("--help") }), 0);
    QVERIFY2(out.contains(QLatin1String("--reference")), qPrintable(out));
    QCOMPARE(bench({ QStringLiteral("stray") }), 2);
    QVERIFY2(err.contains(QLatin1String("winnow-bench: no positional arguments")), qPrintable(err));
    QCOMPARE(bench({ QStringLiteral("--threads"), QStringLiteral("x") }), 2);
    QVERIFY2(err.contains(QLatin1String("--threads")), qPrintable(err));
    QCOMPARE(bench({ QStringLiteral("--no-such-option") }), 2);
    QVERIFY2(err.startsWith(QLatin1String("winnow-bench: ")), qPrintable(err));
}

void TestBadInput::fileVanishesBetweenScanAndDecode()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    makeTwoClasses(root);
    const ScanResult scan = scanDataset(root);
    QVERIFY(scan.ok());
    QVERIFY(QFile::remove(root + "/dogs/d1.jpg")); // deleted while the app holds the scan (training, scoring)
    QVERIFY(writeBytes(root + "/dogs/d2.jpg", QByteArray("<html>replaced</html>"))); // or replaced by junk
    const Dataset& ds = *scan.dataset;
    const DecodedImage gone = decodeImage(ds.absolutePath(ds.findSample(QStringLiteral("dogs/d1.jpg"))));
    QCOMPARE(gone.error, Unreadable::IoError);
    QVERIFY2(gone.message.contains(QLatin1String("cannot read")), qPrintable(gone.message));
    const DecodedImage junk = decodeImage(ds.absolutePath(ds.findSample(QStringLiteral("dogs/d2.jpg"))));
    QVERIFY(!junk.ok());
    // The CLI's scoring of a run whose files vanished is covered by tst_trainingcontroller; here: a fresh scan
    // tells the user what happened to each.
    const ScanResult again = scanDataset(root);
    QCOMPARE(again.dataset->findSample(QStringLiteral("dogs/d1.jpg")), -1);
    QCOMPARE(again.dataset->samples.at(again.dataset->findSample(QStringLiteral("dogs/d2.jpg"))).status,
        Unreadable::NotAnImage);
}

void TestBadInput::badNamesInTrainValidLayout()
{
    // train/ + valid/ with a class only in valid/ and a stray file: used as far as it can be, and each oddity said.
    QTemporaryDir dir;
    const QString root = dir.path();
    for (const char* f : { "train/cats/a.jpg", "train/dogs/b.jpg", "valid/cats/c.jpg", "valid/birds/d.jpg" })
        QVERIFY(writeBytes(root + '/' + f, jpeg()));
    QVERIFY(writeBytes(root + "/train/loose.jpg", jpeg()));
    const ScanResult scan = scanDataset(root);
    QVERIFY2(scan.ok(), qPrintable(scan.error));
    QCOMPARE(scan.dataset->layout, Layout::TrainValid);
    const QString w = scan.dataset->warnings.join('\n');
    QVERIFY2(w.contains(QLatin1String("'birds' has images only in valid/")), qPrintable(w));
    QVERIFY2(w.contains(QLatin1String("directly in train/ or valid/")), qPrintable(w));
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
