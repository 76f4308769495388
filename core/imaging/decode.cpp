// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/imaging/decode.h"

#include <cstring>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QBuffer>
#include <QFile>
#include <QImageReader>

#include "core/imaging/cvimage.h"
#include "core/imaging/filecheck.h"

namespace Winnow {

namespace {

using Format = ImageFormat; // sniffed by the scan's sniffer (sniffContent, core/imaging/filecheck.h)

bool jpegHasEoi(const QByteArray& b, qsizetype scanStart)
{
    if (scanStart < 0)
        return false;
    return b.lastIndexOf(QByteArrayView("\xFF\xD9", 2)) > scanStart;
}

bool pngHasEnd(const QByteArray& b)
{
    return b.lastIndexOf(QByteArrayView("IEND", 4)) > 8;
}

bool gifHasTrailer(const QByteArray& b)
{
    // The trailer is 0x3B; trailing zero padding is common.
    qsizetype i = b.size() - 1;
    while (i > 0 && b.at(i) == '\0')
        --i;
    return i > 0 && b.at(i) == ';';
}

void fail(DecodedImage& info, Unreadable error, const QString& message)
{
    info.error = error;
    info.message = message;
    info.width = info.height = 0;
}

/// Brings any decoded Mat to 8-bit 3-channel RGB. `bgrOrder`: OpenCV's channel order (else Qt's RGB(A)).
bool toRgb8(cv::Mat& m, bool bgrOrder, AlphaMode alpha, QString* why)
{
    switch (m.depth()) {
    case CV_8U:
        break;
    case CV_16U:
        m.convertTo(m, CV_8U, 1.0 / 257.0);
        break;
    case CV_32F:
    case CV_64F:
        m.convertTo(m, CV_8U, 255.0); // saturating; [0, 1] floats by convention (TIFF, PFM)
        break;
    default:
        *why = QStringLiteral("unsupported sample format");
        return false;
    }
    const int ch = m.channels();
    if (ch == 1) {
        cv::cvtColor(m, m, cv::COLOR_GRAY2RGB);
        return true;
    }
    if (ch == 2) { // gray + alpha
        std::vector<cv::Mat> planes;
        cv::split(m, planes);
        cv::Mat rgba;
        cv::merge(std::vector<cv::Mat> { planes[0], planes[0], planes[0], planes[1] }, rgba);
        m = rgba;
        bgrOrder = false;
    }
    if (m.channels() == 4) {
        if (alpha == AlphaMode::Drop) {
            cv::cvtColor(m, m, bgrOrder ? cv::COLOR_BGRA2RGB : cv::COLOR_RGBA2RGB);
            return true;
        }
        cv::Mat out(m.rows, m.cols, CV_8UC3);
        for (int y = 0; y < m.rows; ++y) {
            const uchar* s = m.ptr<uchar>(y);
            uchar* d = out.ptr<uchar>(y);
            for (int x = 0; x < m.cols; ++x, s += 4, d += 3) {
                const int a = s[3];
                const int r = bgrOrder ? s[2] : s[0];
                const int g = s[1];
                const int b = bgrOrder ? s[0] : s[2];
                // over white: c * a + 255 * (1 - a), rounded
                d[0] = uchar((r * a + 255 * (255 - a) + 127) / 255);
                d[1] = uchar((g * a + 255 * (255 - a) + 127) / 255);
                d[2] = uchar((b * a + 255 * (255 - a) + 127) / 255);
            }
        }
        m = out;
        return true;
    }
    if (m.channels() == 3) {
        if (bgrOrder)
            cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
        return true;
    }
    *why = QStringLiteral("unsupported channel count %1").arg(m.channels());
    return false;
}

cv::Mat imdecodeSafe(const QByteArray& b, int flags)
{
    try {
        const cv::Mat raw(1, int(b.size()), CV_8UC1, const_cast<char*>(b.constData()));
        return cv::imdecode(raw, flags);
    } catch (const cv::Exception&) {
        return {};
    }
}

/// QImageReader fallback for what OpenCV cannot read (GIF, ...), with EXIF orientation applied.
cv::Mat decodeWithQt(const QByteArray& b, AlphaMode alpha, QString* why)
{
    QBuffer buffer;
    buffer.setData(b);
    if (!buffer.open(QIODevice::ReadOnly))
        return {};
    QImageReader reader(&buffer);
    reader.setAutoTransform(true);
    QImage img = reader.read();
    if (img.isNull()) {
        *why = reader.errorString();
        return {};
    }
    const bool hasAlpha = img.hasAlphaChannel();
    img = img.convertToFormat(hasAlpha ? QImage::Format_RGBA8888 : QImage::Format_RGB888);
    cv::Mat view(img.height(), img.width(), hasAlpha ? CV_8UC4 : CV_8UC3, img.bits(), size_t(img.bytesPerLine()));
    cv::Mat m = view.clone();
    if (!toRgb8(m, false, alpha, why))
        return {};
    return m;
}

} // namespace

int jpegReductionFor(int width, int height, int minShortSide)
{
    if (minShortSide <= 0 || width <= 0 || height <= 0)
        return 1;
    const int shorter = std::min(width, height);
    for (int r : { 8, 4, 2 }) {
        if ((shorter + r - 1) / r >= minShortSide)
            return r;
    }
    return 1;
}

QSize jpegHeaderSize(const QByteArray& encoded)
{
    return jpegFrame(encoded).size;
}

JpegFrame jpegFrame(const QByteArray& encoded)
{
    if (sniffImageFormat(encoded) != Format::Jpeg)
        return {};
    const JpegStructure info = walkJpeg(encoded, JpegWalk::Header);
    if (info.width <= 0 || info.height <= 0 || info.twoFrames)
        return {};
    return { QSize(info.width, info.height), info.progressive };
}

namespace {

QString tooLarge(const QString& what, QSize size)
{
    return QStringLiteral("%1 of %2 x %3 pixels is too large to decode (limit %4 megapixels)")
        .arg(what)
        .arg(size.width())
        .arg(size.height())
        .arg(kMaxDecodePixels / 1'000'000);
}

cv::Mat decodeToMatImpl(const QByteArray& encoded, const DecodeOptions& options, DecodedImage& info)
{
    info = DecodedImage {};
    if (encoded.isEmpty()) {
        fail(info, Unreadable::Empty, QStringLiteral("empty file"));
        return {};
    }
    const ContentSniff content = sniffContent(encoded);
    const Format format = content.id;
    cv::Mat m;
    QString why;

    if (format == Format::Jpeg) {
        const JpegStructure jpeg = walkJpeg(encoded, JpegWalk::Header);
        if (jpeg.twoFrames) {
            fail(info, Unreadable::Truncated, QStringLiteral("corrupt JPEG (two frame headers)"));
            return {};
        }
        if (jpeg.progressive && qint64(jpeg.width) * jpeg.height > kMaxDecodePixels) {
            // libjpeg keeps every DCT coefficient of a progressive JPEG at full size: scaling saves nothing.
            fail(info, Unreadable::Unsupported,
                tooLarge(QStringLiteral("progressive JPEG"), QSize(jpeg.width, jpeg.height)));
            return {};
        }
        if (jpeg.width <= 0 || jpeg.height <= 0 || jpeg.scanStart < 0) {
            fail(info, Unreadable::Truncated, QStringLiteral("truncated JPEG (no frame header or scan)"));
            return {};
        }
        if (!options.allowTruncated && !jpegHasEoi(encoded, jpeg.scanStart)) {
            fail(info, Unreadable::Truncated, QStringLiteral("truncated JPEG (no end-of-image marker)"));
            return {};
        }
        int r = jpegReductionFor(jpeg.width, jpeg.height, options.minShortSide);
        // Never more than kMaxDecodePixels in memory: a huge JPEG is decoded at a smaller scale instead.
        auto pixelsAt = [&](int f) { return qint64((jpeg.width + f - 1) / f) * ((jpeg.height + f - 1) / f); };
        while (r < 8 && pixelsAt(r) > kMaxDecodePixels)
            r *= 2;
        if (pixelsAt(r) > kMaxDecodePixels) {
            fail(info, Unreadable::Unsupported, tooLarge(QStringLiteral("JPEG"), QSize(jpeg.width, jpeg.height)));
            return {};
        }
        const int flags = r == 8 ? cv::IMREAD_REDUCED_COLOR_8
            : r == 4             ? cv::IMREAD_REDUCED_COLOR_4
            : r == 2             ? cv::IMREAD_REDUCED_COLOR_2
                                 : cv::IMREAD_COLOR;
        m = imdecodeSafe(encoded, flags); // applies EXIF orientation (verified by tst_decode)
        if (m.empty()) {
            fail(info, Unreadable::Unsupported, QStringLiteral("corrupt or unsupported JPEG"));
            return {};
        }
        cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
        info.reduction = r;
        // Orientation 5-8 swaps the axes: detect it from the decoded shape.
        const int rw = (jpeg.width + r - 1) / r;
        const int rh = (jpeg.height + r - 1) / r;
        const bool swapped = rw != rh && m.cols == rh && m.rows == rw;
        info.sourceWidth = swapped ? jpeg.height : jpeg.width;
        info.sourceHeight = swapped ? jpeg.width : jpeg.height;
    } else {
        if (!content.isImage()) { // never hand OpenCV a format the scan does not take (PFM, HDR, Sun raster...)
            fail(info, content.verdict == Unreadable::None ? Unreadable::NotAnImage : content.verdict,
                content.kind.isEmpty() ? QStringLiteral("not an image (unknown format)") : content.kind);
            return {};
        }
        if (format == Format::Png) {
            // Before any decoder: a chunk that claims more than the file holds is either a cut-off file or a few
            // bytes that would make libpng allocate the claimed length up front (fuzz_decode found a file of under
            // 64 KB that took 1.85 GB). Only a cut in the pixel data may go on when truncation is allowed.
            const PngWalk walk = walkPngChunks(encoded);
            if (walk.end == PngWalk::Overrun && (walk.chunk != "IDAT" || !options.allowTruncated)) {
                // With its IEND still there, the file is whole and its chunk lengths are wrong; else it was cut.
                fail(info, pngHasEnd(encoded) ? Unreadable::Unsupported : Unreadable::Truncated,
                    QStringLiteral("corrupt or truncated PNG (its %1 chunk claims %2 bytes, more than the file holds)")
                        .arg(QString::fromLatin1(walk.chunk.toPercentEncoding()))
                        .arg(walk.declared));
                return {};
            }
        }
        const QSize declared = imageHeaderSize(encoded);
        if (declared.isValid() && qint64(declared.width()) * declared.height() > kMaxDecodePixels) {
            fail(info, Unreadable::Unsupported, tooLarge(QStringLiteral("image"), declared));
            return {};
        }
        if (format != Format::Gif)
            m = imdecodeSafe(encoded, cv::IMREAD_UNCHANGED); // keeps alpha and 16 bits; no EXIF for non-JPEG
        if (!m.empty()) {
            if (!toRgb8(m, true, options.alpha, &why)) {
                fail(info, Unreadable::Unsupported, why);
                return {};
            }
        } else {
            if (format == Format::Png && !pngHasEnd(encoded)) {
                fail(info, Unreadable::Truncated, QStringLiteral("truncated PNG (no IEND chunk)"));
                return {};
            }
            m = decodeWithQt(encoded, options.alpha, &why);
            if (m.empty()) {
                if (format == Format::Gif && !gifHasTrailer(encoded))
                    fail(info, Unreadable::Truncated, QStringLiteral("truncated GIF"));
                else if (format == Format::Unknown)
                    fail(info, Unreadable::NotAnImage, QStringLiteral("not an image (unknown format)"));
                else
                    fail(info, Unreadable::Unsupported,
                        QStringLiteral("corrupt or unsupported image") + (why.isEmpty() ? QString() : ": " + why));
                return {};
            }
        }
        info.sourceWidth = m.cols;
        info.sourceHeight = m.rows;
    }
    if (!m.empty() && qint64(m.cols) * m.rows > kMaxDecodePixels) { // a format whose header we do not read (TIFF)
        fail(info, Unreadable::Unsupported, tooLarge(QStringLiteral("image"), QSize(m.cols, m.rows)));
        return {};
    }
    if (m.empty() || m.type() != CV_8UC3) {
        fail(info, Unreadable::Unsupported, QStringLiteral("unsupported image layout"));
        return {};
    }
    info.width = m.cols;
    info.height = m.rows;
    return m;
}

} // namespace

cv::Mat decodeToMat(const QByteArray& encoded, const DecodeOptions& options, DecodedImage& info)
{
    try {
        return decodeToMatImpl(encoded, options, info);
    } catch (const std::exception& e) { // bad_alloc on a decompression bomb, a cv::Exception from a conversion
        info = DecodedImage {};
        fail(info, Unreadable::Unsupported, QStringLiteral("decode failed: %1").arg(QString::fromLocal8Bit(e.what())));
        return {};
    }
}

cv::Mat decodeFileToMat(const QString& path, const DecodeOptions& options, DecodedImage& info)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        info = DecodedImage {};
        fail(info, Unreadable::IoError, QStringLiteral("cannot read: %1").arg(file.errorString()));
        return {};
    }
    const QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        info = DecodedImage {};
        fail(info, Unreadable::IoError, QStringLiteral("read error: %1").arg(file.errorString()));
        return {};
    }
    return decodeToMat(bytes, options, info);
}

cv::Mat asMat(const DecodedImage& image)
{
    if (image.rgb.empty() || image.width <= 0 || image.height <= 0)
        return {};
    return cv::Mat(image.height, image.width, CV_8UC3, const_cast<quint8*>(image.rgb.data()));
}

void copyToDecoded(const cv::Mat& rgb, DecodedImage& image)
{
    image.width = rgb.cols;
    image.height = rgb.rows;
    image.rgb.resize(size_t(rgb.cols) * rgb.rows * 3);
    const size_t row = size_t(rgb.cols) * 3;
    for (int y = 0; y < rgb.rows; ++y)
        std::memcpy(image.rgb.data() + y * row, rgb.ptr<uchar>(y), row);
}

DecodedImage decodeImage(const QString& path, const DecodeOptions& options)
{
    DecodedImage image;
    const cv::Mat m = decodeFileToMat(path, options, image);
    if (!m.empty())
        copyToDecoded(m, image);
    return image;
}

DecodedImage decodeImage(const QByteArray& encoded, const DecodeOptions& options)
{
    DecodedImage image;
    const cv::Mat m = decodeToMat(encoded, options, image);
    if (!m.empty())
        copyToDecoded(m, image);
    return image;
}

QImage toQImage(const DecodedImage& image)
{
    if (!image.ok())
        return {};
    QImage out(image.width, image.height, QImage::Format_RGB888);
    for (int y = 0; y < image.height; ++y)
        std::memcpy(out.scanLine(y), image.rgb.data() + size_t(y) * image.width * 3, size_t(image.width) * 3);
    return out;
}

} // namespace Winnow
