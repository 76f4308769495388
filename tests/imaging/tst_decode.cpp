// SPDX-License-Identifier: GPL-3.0-or-later
// Decoding to 8-bit RGB (core/imaging/decode.h): formats, EXIF orientation, reduced JPEG decode, failure reasons.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QFile>
#include <QImage>
#include <QImageReader>
#include <QTemporaryDir>
#include <QTest>

#include "core/imaging/cvimage.h"
#include "core/imaging/decode.h"

#ifdef WINNOW_HAVE_LIBJPEG
#include <cstdio>
#include <jpeglib.h>
#endif

using namespace Winnow;

namespace {

QByteArray encode(const cv::Mat& bgr, const char* ext, std::vector<int> params = {})
{
    std::vector<uchar> buf;
    if (!cv::imencode(ext, bgr, buf, params))
        return {};
    return QByteArray(reinterpret_cast<const char*>(buf.data()), qsizetype(buf.size()));
}

/// Inserts an EXIF APP1 segment carrying only the Orientation tag right after SOI.
QByteArray withExifOrientation(const QByteArray& jpeg, int orientation)
{
    QByteArray app1;
    app1.append("\xFF\xE1", 2);
    app1.append(char(0)).append(char(34)); // length incl. itself: 2 + 6 + 8 + 2 + 12 + 4
    app1.append("Exif\0\0", 6);
    app1.append("MM\0*", 4).append("\0\0\0\x08", 4); // big-endian TIFF header, IFD0 at offset 8
    app1.append("\0\x01", 2); // one entry
    app1.append("\x01\x12", 2).append("\0\x03", 2).append("\0\0\0\x01", 4); // Orientation, SHORT, count 1
    app1.append(char(0)).append(char(orientation)).append("\0\0", 2);
    app1.append("\0\0\0\0", 4); // no next IFD
    return jpeg.left(2) + app1 + jpeg.mid(2);
}

/// Top-left quadrant red, top-right green, bottom half blue (BGR order): every orientation is distinguishable.
cv::Mat quadrants(int w, int h)
{
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(255, 0, 0));
    m(cv::Rect(0, 0, w / 2, h / 2)).setTo(cv::Scalar(0, 0, 255));
    m(cv::Rect(w / 2, 0, w - w / 2, h / 2)).setTo(cv::Scalar(0, 255, 0));
    return m;
}

cv::Mat orient(const cv::Mat& m, int orientation)
{
    cv::Mat out;
    switch (orientation) {
    case 2:
        cv::flip(m, out, 1);
        break;
    case 3:
        cv::rotate(m, out, cv::ROTATE_180);
        break;
    case 6:
        cv::rotate(m, out, cv::ROTATE_90_CLOCKWISE);
        break;
    case 8:
        cv::rotate(m, out, cv::ROTATE_90_COUNTERCLOCKWISE);
        break;
    default:
        out = m.clone();
    }
    return out;
}

double meanAbsDiff(const cv::Mat& a, const cv::Mat& b)
{
    cv::Mat d;
    cv::absdiff(a, b, d);
    const cv::Scalar s = cv::mean(d);
    return (s[0] + s[1] + s[2]) / 3;
}

cv::Mat rgbOf(const DecodedImage& img)
{
    return asMat(img);
}

cv::Vec3b pixel(const DecodedImage& img, int x, int y)
{
    const size_t i = (size_t(y) * img.width + x) * 3;
    return { img.rgb[i], img.rgb[i + 1], img.rgb[i + 2] };
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

#ifdef WINNOW_HAVE_LIBJPEG
/// A 16x16 CMYK JPEG (Adobe convention: stored values are inverted ink) of one colour.
QByteArray cmykJpeg(const uchar cmyk[4])
{
    jpeg_compress_struct cinfo;
    jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* mem = nullptr;
    unsigned long memSize = 0;
    jpeg_mem_dest(&cinfo, &mem, &memSize);
    cinfo.image_width = 16;
    cinfo.image_height = 16;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 95, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<uchar> row(16 * 4);
    for (int x = 0; x < 16; ++x)
        std::copy(cmyk, cmyk + 4, row.begin() + x * 4);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW r = row.data();
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    QByteArray out(reinterpret_cast<const char*>(mem), qsizetype(memSize));
    free(mem);
    return out;
}
#endif

} // namespace

class TestDecode : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
    }

    void jpegColourAndChannelOrder()
    {
        const QByteArray jpg = encode(quadrants(64, 48), ".jpg", { cv::IMWRITE_JPEG_QUALITY, 95 });
        const DecodedImage img = decodeImage(jpg);
        QVERIFY2(img.ok(), qPrintable(img.message));
        QCOMPARE(img.width, 64);
        QCOMPARE(img.height, 48);
        QCOMPARE(img.rgb.size(), size_t(64 * 48 * 3));
        const cv::Vec3b red = pixel(img, 8, 8);
        QVERIFY(red[0] > 230 && red[1] < 30 && red[2] < 30);
        const cv::Vec3b blue = pixel(img, 32, 40);
        QVERIFY(blue[2] > 230 && blue[0] < 30);
        QCOMPARE(img.sourceWidth, 64);
        QCOMPARE(img.reduction, 1);
        const QImage q = toQImage(img);
        QCOMPARE(q.size(), QSize(64, 48));
        QVERIFY(qRed(q.pixel(8, 8)) > 230);
    }

    void exifOrientation_data()
    {
        QTest::addColumn<int>("orientation");
        QTest::addColumn<int>("minShortSide");
        for (int o : { 1, 2, 3, 6, 8 }) {
            QTest::addRow("orientation %d full", o) << o << 0;
            QTest::addRow("orientation %d reduced 1/2", o) << o << 40; // 96x80 -> 48x40
        }
    }
    void exifOrientation()
    {
        QFETCH(int, orientation);
        QFETCH(int, minShortSide);
        const cv::Mat src = quadrants(96, 80);
        const QByteArray jpg = withExifOrientation(encode(src, ".jpg", { cv::IMWRITE_JPEG_QUALITY, 95 }), orientation);
        // From a file (the loader's path) and from memory (uploads): both go through cv::imdecode.
        const QString path = m_dir.filePath(QStringLiteral("exif%1.jpg").arg(orientation));
        QVERIFY(writeFile(path, jpg));
        DecodeOptions opt;
        opt.minShortSide = minShortSide;
        for (const DecodedImage& img : { decodeImage(path, opt), decodeImage(jpg, opt) }) {
            QVERIFY2(img.ok(), qPrintable(img.message));
            const int r = minShortSide ? 2 : 1;
            QCOMPARE(img.reduction, r);
            cv::Mat expected = orient(src, orientation);
            cv::cvtColor(expected, expected, cv::COLOR_BGR2RGB);
            if (r > 1)
                cv::resize(expected, expected, cv::Size(), 1.0 / r, 1.0 / r, cv::INTER_AREA);
            QCOMPARE(img.width, expected.cols);
            QCOMPARE(img.height, expected.rows);
            QCOMPARE(img.sourceWidth, orient(src, orientation).cols);
            QCOMPARE(img.sourceHeight, orient(src, orientation).rows);
            const double diff = meanAbsDiff(rgbOf(img), expected);
            QVERIFY2(diff < 8, qPrintable(QString::number(diff)));
        }
    }

    void reductionFactor_data()
    {
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("minShortSide");
        QTest::addColumn<int>("factor");
        QTest::newRow("no request") << 1600 << 1200 << 0 << 1;
        QTest::newRow("1/8 exact") << 1600 << 1200 << 150 << 8;
        QTest::newRow("1/4") << 1600 << 1200 << 151 << 4;
        QTest::newRow("1/2") << 1600 << 1200 << 301 << 2;
        QTest::newRow("full") << 1600 << 1200 << 601 << 1;
        QTest::newRow("ceil rounding") << 1601 << 1201 << 151 << 8; // ceil(1201 / 8) = 151
        QTest::newRow("small image") << 275 << 183 << 152 << 1;
    }
    void reductionFactor()
    {
        QFETCH(int, w);
        QFETCH(int, h);
        QFETCH(int, minShortSide);
        QFETCH(int, factor);
        QCOMPARE(jpegReductionFor(w, h, minShortSide), factor);
    }

    void reducedDecodeOfBigJpeg()
    {
        cv::Mat big(1200, 1600, CV_8UC3);
        for (int y = 0; y < big.rows; ++y)
            big.row(y).setTo(cv::Scalar(y % 256, (y / 5) % 256, 128));
        const QByteArray jpg = encode(big, ".jpg");
        QCOMPARE(jpegHeaderSize(jpg), QSize(1600, 1200));
        DecodeOptions opt;
        opt.minShortSide = 150;
        DecodedImage img = decodeImage(jpg, opt);
        QVERIFY(img.ok());
        QCOMPARE(img.reduction, 8);
        QCOMPARE(QSize(img.width, img.height), QSize(200, 150));
        QCOMPARE(QSize(img.sourceWidth, img.sourceHeight), QSize(1600, 1200));
        opt.minShortSide = 151;
        img = decodeImage(jpg, opt);
        QCOMPARE(img.reduction, 4);
        QCOMPARE(QSize(img.width, img.height), QSize(400, 300));
        // Rotated by EXIF: the header size is the stored one; the result and source sizes are upright.
        const QByteArray rotated = withExifOrientation(jpg, 6);
        QCOMPARE(jpegHeaderSize(rotated), QSize(1600, 1200));
        img = decodeImage(rotated, opt);
        QCOMPARE(QSize(img.width, img.height), QSize(300, 400));
        QCOMPARE(QSize(img.sourceWidth, img.sourceHeight), QSize(1200, 1600));
        QVERIFY(!jpegHeaderSize(encode(big(cv::Rect(0, 0, 8, 8)), ".png")).isValid());
    }

    void grayscalePng()
    {
        const cv::Mat g(10, 12, CV_8UC1, cv::Scalar(77));
        const DecodedImage img = decodeImage(encode(g, ".png"));
        QVERIFY(img.ok());
        QCOMPARE(QSize(img.width, img.height), QSize(12, 10));
        QCOMPARE(pixel(img, 3, 3), cv::Vec3b(77, 77, 77));
    }

    void sixteenBitPng()
    {
        cv::Mat m(6, 6, CV_16UC3, cv::Scalar(0, 257 * 100, 65535)); // BGR: B=0, G=100*257, R=65535
        const DecodedImage img = decodeImage(encode(m, ".png"));
        QVERIFY2(img.ok(), qPrintable(img.message));
        QCOMPARE(pixel(img, 2, 2), cv::Vec3b(255, 100, 0));
        cv::Mat g(4, 4, CV_16UC1, cv::Scalar(257 * 40));
        const DecodedImage gi = decodeImage(encode(g, ".png"));
        QVERIFY(gi.ok());
        QCOMPARE(pixel(gi, 1, 1), cv::Vec3b(40, 40, 40));
    }

    void rgbaPng()
    {
        cv::Mat m(4, 4, CV_8UC4, cv::Scalar(0, 0, 0, 0)); // transparent black
        m.at<cv::Vec4b>(1, 1) = cv::Vec4b(0, 0, 255, 128); // half-transparent red
        m.at<cv::Vec4b>(2, 2) = cv::Vec4b(10, 20, 30, 255); // opaque
        const QByteArray png = encode(m, ".png");
        DecodeOptions white;
        const DecodedImage w = decodeImage(png, white);
        QVERIFY(w.ok());
        QCOMPARE(pixel(w, 0, 0), cv::Vec3b(255, 255, 255));
        QCOMPARE(pixel(w, 1, 1), cv::Vec3b(255, 127, 127)); // 255*a + 255*(1-a), 0*a + 255*(1-a)
        QCOMPARE(pixel(w, 2, 2), cv::Vec3b(30, 20, 10));
        DecodeOptions drop;
        drop.alpha = AlphaMode::Drop;
        const DecodedImage d = decodeImage(png, drop);
        QVERIFY(d.ok());
        QCOMPARE(pixel(d, 0, 0), cv::Vec3b(0, 0, 0));
        QCOMPARE(pixel(d, 1, 1), cv::Vec3b(255, 0, 0));
    }

    void palettePng()
    {
        QImage q(5, 5, QImage::Format_Indexed8);
        q.setColorTable({ qRgb(200, 10, 20), qRgb(0, 0, 255) });
        q.fill(0);
        q.setPixel(4, 4, 1);
        const QString path = m_dir.filePath(QStringLiteral("palette.png"));
        QVERIFY(q.save(path, "PNG"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QCOMPARE(int(uchar(bytes.at(25))), 3); // IHDR colour type 3 = palette: the fixture is what we think
        const DecodedImage img = decodeImage(path);
        QVERIFY2(img.ok(), qPrintable(img.message));
        QCOMPARE(pixel(img, 0, 0), cv::Vec3b(200, 10, 20));
        QCOMPARE(pixel(img, 4, 4), cv::Vec3b(0, 0, 255));
    }

    void gifThroughQt()
    {
        if (!QImageReader::supportedImageFormats().contains("gif"))
            QSKIP("Qt has no GIF plugin here");
        // 1x1 GIF89a, global palette {red, black}, one pixel of index 0.
        const QByteArray gif = QByteArray::fromHex("474946383961010001008000"
                                                   "00ff0000000000"
                                                   "2c00000000010001000002024401003b");
        const DecodedImage img = decodeImage(gif);
        QVERIFY2(img.ok(), qPrintable(img.message));
        QCOMPARE(pixel(img, 0, 0), cv::Vec3b(255, 0, 0));
    }

    void cmykJpeg()
    {
#ifdef WINNOW_HAVE_LIBJPEG
        const uchar red[4] = { 255, 0, 0, 255 }; // inverted: no cyan, full magenta and yellow, no black
        const DecodedImage img = decodeImage(::cmykJpeg(red));
        QVERIFY2(img.ok(), qPrintable(img.message));
        const cv::Vec3b p = pixel(img, 8, 8);
        QVERIFY2(
            p[0] > 220 && p[1] < 40 && p[2] < 40, qPrintable(QStringLiteral("%1 %2 %3").arg(p[0]).arg(p[1]).arg(p[2])));
#else
        QSKIP("libjpeg headers not available to write a CMYK fixture");
#endif
    }

    void failures_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("error");
        cv::Mat noisy(64, 64, CV_8UC3);
        cv::randu(noisy, 0, 256);
        const QByteArray jpg = encode(noisy, ".jpg");
        const QByteArray png = encode(noisy, ".png");
        QByteArray garbage(1000, '\0');
        for (int i = 0; i < garbage.size(); ++i)
            garbage[i] = char((i * 7919 + 13) % 251);
        QByteArray badPng = png.left(40) + QByteArray(200, 'x') + png.right(12); // keeps IEND
        QTest::newRow("empty") << QByteArray() << int(Unreadable::Empty);
        QTest::newRow("garbage") << garbage << int(Unreadable::NotAnImage);
        QTest::newRow("text") << QByteArray("hello, this is not an image\n") << int(Unreadable::NotAnImage);
        QTest::newRow("jpeg cut in the scan") << jpg.left(jpg.size() * 6 / 10) << int(Unreadable::Truncated);
        QTest::newRow("jpeg cut in the header") << jpg.left(100) << int(Unreadable::Truncated);
        QTest::newRow("png cut") << png.left(png.size() / 2) << int(Unreadable::Truncated);
        QTest::newRow("png corrupt") << badPng << int(Unreadable::Unsupported);
    }
    void failures()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, error);
        const DecodedImage img = decodeImage(bytes);
        QVERIFY(!img.ok());
        QCOMPARE(int(img.error), error);
        QVERIFY(!img.message.isEmpty());
        QVERIFY(img.rgb.empty());
        QVERIFY(toQImage(img).isNull());
    }

    void truncatedJpegAllowed()
    {
        cv::Mat noisy(64, 64, CV_8UC3);
        cv::randu(noisy, 0, 256); // a scan much longer than the headers, so the cut lands inside it
        const QByteArray jpg = encode(noisy, ".jpg");
        DecodeOptions opt;
        opt.allowTruncated = true;
        const DecodedImage img = decodeImage(jpg.left(jpg.size() * 8 / 10), opt);
        QVERIFY2(img.ok(), qPrintable(img.message));
        QCOMPARE(img.width, 64);
    }

    void trailingBytesAfterEoiAreFine()
    {
        const QByteArray jpg = encode(quadrants(32, 32), ".jpg") + QByteArray(300, 'z');
        QVERIFY(decodeImage(jpg).ok());
    }

    void fileErrors()
    {
        const DecodedImage missing = decodeImage(m_dir.filePath(QStringLiteral("nope.jpg")));
        QCOMPARE(int(missing.error), int(Unreadable::IoError));
        QVERIFY(!missing.message.isEmpty());
        const QString empty = m_dir.filePath(QStringLiteral("empty.jpg"));
        QVERIFY(writeFile(empty, {}));
        QCOMPARE(int(decodeImage(empty).error), int(Unreadable::Empty));
        QVERIFY(!decodeImage(m_dir.path()).ok()); // a directory
    }

private:
    QTemporaryDir m_dir;
};

QTEST_APPLESS_MAIN(TestDecode)
#include "tst_decode.moc"
