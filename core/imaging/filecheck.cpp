// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/imaging/filecheck.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <QBuffer>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QImageReader>
#include <QList>
#include <QRegularExpression>

#include "core/imaging/decode.h"

namespace Winnow {

QString unreadableReason(Unreadable r)
{
    switch (r) {
    case Unreadable::None:
        return QStringLiteral("readable");
    case Unreadable::Empty:
        return QStringLiteral("empty file");
    case Unreadable::NotAnImage:
        return QStringLiteral("not an image");
    case Unreadable::Truncated:
        return QStringLiteral("truncated or corrupt image");
    case Unreadable::Unsupported:
        return QStringLiteral("unsupported image format");
    case Unreadable::IoError:
        return QStringLiteral("cannot be read");
    }
    return {};
}

QString unreadableKey(Unreadable r)
{
    switch (r) {
    case Unreadable::None:
        return {};
    case Unreadable::Empty:
        return QStringLiteral("empty");
    case Unreadable::NotAnImage:
        return QStringLiteral("not-an-image");
    case Unreadable::Truncated:
        return QStringLiteral("truncated");
    case Unreadable::Unsupported:
        return QStringLiteral("unsupported");
    case Unreadable::IoError:
        return QStringLiteral("io-error");
    }
    return {};
}

namespace {

using Format = ImageFormat;

struct Sniff
{
    Format format = Format::Unknown;
    Unreadable verdict = Unreadable::None; // set for content we already know is unusable
    QString detail;
};

bool startsWith(const QByteArray& d, const char* magic, qsizetype len, qsizetype at = 0)
{
    return d.size() >= at + len && std::memcmp(d.constData() + at, magic, size_t(len)) == 0;
}

quint32 le32(const uchar* p)
{
    return quint32(p[0]) | (quint32(p[1]) << 8) | (quint32(p[2]) << 16) | (quint32(p[3]) << 24);
}

quint32 be32(const uchar* p)
{
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

Sniff sniff(const QByteArray& head)
{
    const auto* u = reinterpret_cast<const uchar*>(head.constData());
    const qsizetype n = head.size();
    Sniff s;
    auto bad = [&](Unreadable why, const char* what) {
        s.verdict = why;
        s.detail = QString::fromLatin1(what);
        return s;
    };
    if (n >= 3 && u[0] == 0xFF && u[1] == 0xD8 && u[2] == 0xFF) {
        s.format = Format::Jpeg;
        return s;
    }
    if (startsWith(head, "\x89PNG\r\n\x1a\n", 8)) {
        s.format = Format::Png;
        return s;
    }
    if (startsWith(head, "GIF87a", 6) || startsWith(head, "GIF89a", 6)) {
        s.format = Format::Gif;
        return s;
    }
    if (startsWith(head, "BM", 2) && n >= 14) {
        s.format = Format::Bmp;
        return s;
    }
    if (startsWith(head, "RIFF", 4) && startsWith(head, "WEBP", 4, 8)) {
        s.format = Format::Webp;
        return s;
    }
    if (startsWith(head, "II*\0", 4) || startsWith(head, "MM\0*", 4) || startsWith(head, "II+\0", 4)
        || startsWith(head, "MM\0+", 4)) {
        s.format = Format::Tiff;
        return s;
    }
    if (n >= 3 && u[0] == 'P' && u[1] >= '1' && u[1] <= '6'
        && (u[2] == ' ' || u[2] == '\n' || u[2] == '\r' || u[2] == '\t' || u[2] == '#')) {
        s.format = Format::Pnm;
        return s;
    }
    if (startsWith(head, "\0\0\0\x0cjP  \r\n\x87\n", 12)
        || (n >= 4 && u[0] == 0xFF && u[1] == 0x4F && u[2] == 0xFF && u[3] == 0x51)) {
        s.format = Format::Jp2;
        return s;
    }
    // Recognised images we cannot decode.
    if (startsWith(head, "ftyp", 4, 4) && n >= 12) {
        const QByteArray brand = head.mid(8, 4);
        static const QList<QByteArray> kHeif = { "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1",
            "msf1" };
        if (brand == "avif" || brand == "avis")
            return bad(Unreadable::Unsupported, "AVIF image");
        if (kHeif.contains(brand))
            return bad(Unreadable::Unsupported, "HEIF/HEIC image");
        return bad(Unreadable::NotAnImage, "video or ISO media file");
    }
    if (startsWith(head, "8BPS", 4))
        return bad(Unreadable::Unsupported, "Photoshop document");
    if ((n >= 2 && u[0] == 0xFF && u[1] == 0x0A) || startsWith(head, "\0\0\0\x0cJXL \r\n\x87\n", 12))
        return bad(Unreadable::Unsupported, "JPEG XL image");
    if (startsWith(head, "RIFF", 4))
        return bad(Unreadable::NotAnImage, "RIFF media file (not WebP)");
    if (startsWith(head, "%PDF", 4))
        return bad(Unreadable::NotAnImage, "PDF document");
    if (startsWith(head, "PK\x03\x04", 4))
        return bad(Unreadable::NotAnImage, "ZIP archive");
    if (n >= 2 && u[0] == 0x1F && u[1] == 0x8B)
        return bad(Unreadable::NotAnImage, "gzip archive");

    // Markup and text (web scrapes often save an HTML error page as x.jpg).
    qsizetype i = startsWith(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < n && (u[i] == ' ' || u[i] == '\t' || u[i] == '\r' || u[i] == '\n'))
        ++i;
    const QByteArray lower = head.mid(i, 1024).toLower();
    if (lower.startsWith('<')) {
        if (lower.contains("<svg"))
            return bad(Unreadable::Unsupported, "SVG vector image");
        if (lower.contains("<html") || lower.startsWith("<!doctype html") || lower.contains("<head")
            || lower.contains("<body"))
            return bad(Unreadable::NotAnImage, "HTML page");
        return bad(Unreadable::NotAnImage, "XML or markup text");
    }
    bool text = n > 0;
    for (qsizetype k = 0; k < std::min<qsizetype>(n, 512) && text; ++k)
        text = u[k] >= 0x20 || u[k] == '\t' || u[k] == '\n' || u[k] == '\r' || u[k] >= 0x80;
    if (text)
        return bad(Unreadable::NotAnImage, "text file");
    s.verdict = Unreadable::NotAnImage;
    s.detail = QStringLiteral("unknown content (starts with %1)").arg(QString::fromLatin1(head.left(8).toHex(' ')));
    return s;
}

bool tailContains(const QByteArray& tail, const char* needle, qsizetype len)
{
    return QByteArrayView(tail).indexOf(QByteArrayView(needle, len)) >= 0;
}

// Size fields that formats carry: a file shorter than it says it is was cut off.
FileCheck declaredSizeCheck(Format f, const QByteArray& head, qint64 size)
{
    const auto* u = reinterpret_cast<const uchar*>(head.constData());
    FileCheck c;
    if (f == Format::Bmp && head.size() >= 14) {
        const quint32 declared = le32(u + 2);
        const quint32 offset = le32(u + 10);
        if ((declared > 0 && qint64(declared) > size) || qint64(offset) > size) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("BMP is %1 bytes but its header says %2").arg(size).arg(declared);
        }
    } else if (f == Format::Webp && head.size() >= 12) {
        const qint64 declared = qint64(le32(u + 4)) + 8;
        if (declared > size) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("WebP is %1 bytes but its header says %2").arg(size).arg(declared);
        }
    }
    return c;
}

QString formatName(Format f)
{
    switch (f) {
    case Format::Jpeg:
        return QStringLiteral("JPEG");
    case Format::Png:
        return QStringLiteral("PNG");
    case Format::Gif:
        return QStringLiteral("GIF");
    case Format::Bmp:
        return QStringLiteral("BMP");
    case Format::Webp:
        return QStringLiteral("WebP");
    case Format::Tiff:
        return QStringLiteral("TIFF");
    case Format::Pnm:
        return QStringLiteral("PNM");
    case Format::Jp2:
        return QStringLiteral("JPEG 2000");
    case Format::Unknown:
        break;
    }
    return QStringLiteral("image");
}

bool haveGifDecoder()
{
    static const bool have = QImageReader::supportedImageFormats().contains("gif"); // thread-safe static init
    return have;
}

FileCheck decodeCheck(Format f, const QByteArray& data)
{
    FileCheck c;
    if (f == Format::Gif) {
        // OpenCV 4.6 has no GIF decoder; Qt's gif plugin does.
        if (!haveGifDecoder()) {
            c.status = Unreadable::Unsupported;
            c.detail = QStringLiteral("no GIF decoder available");
            return c;
        }
        QByteArray copy = data; // QBuffer wants a non-const array; implicitly shared, no deep copy
        QBuffer buffer(&copy);
        buffer.open(QIODevice::ReadOnly);
        QImageReader reader(&buffer, "gif");
        const QImage image = reader.read();
        if (image.isNull()) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("GIF decoder failed: ") + reader.errorString();
        }
        return c;
    }
    if (const JpegFrame frame = jpegFrame(data);
        f == Format::Jpeg && frame.progressive && qint64(frame.size.width()) * frame.size.height() > kMaxDecodePixels) {
        // libjpeg buffers a progressive JPEG's coefficients at full size even for the 1/8-scale check below.
        c.status = Unreadable::Unsupported;
        c.detail = QStringLiteral("progressive JPEG of %1 x %2 pixels is too large to decode (limit %3 megapixels)")
                       .arg(frame.size.width())
                       .arg(frame.size.height())
                       .arg(kMaxDecodePixels / 1'000'000);
        return c;
    }
    if (f != Format::Jpeg) { // a baseline JPEG is checked at 1/8 scale below, which always fits
        const QSize declared = imageHeaderSize(data);
        if (declared.isValid() && qint64(declared.width()) * declared.height() > kMaxDecodePixels) {
            c.status = Unreadable::Unsupported;
            c.detail = QStringLiteral("%1 of %2 x %3 pixels is too large to decode (limit %4 megapixels)")
                           .arg(formatName(f))
                           .arg(declared.width())
                           .arg(declared.height())
                           .arg(kMaxDecodePixels / 1'000'000);
            return c;
        }
    }
    // Reduced grayscale keeps the check cheap; for JPEG libjpeg still walks every coefficient. Other decoders
    // ignore the reduction request only via a resize that could assert on tiny images, so they decode full size.
    const int flags =
        cv::IMREAD_IGNORE_ORIENTATION | (f == Format::Jpeg ? cv::IMREAD_REDUCED_GRAYSCALE_8 : cv::IMREAD_GRAYSCALE);
    try {
        const cv::Mat raw(1, int(data.size()), CV_8U, const_cast<char*>(data.constData()));
        const cv::Mat image = cv::imdecode(raw, flags);
        if (image.empty() || image.cols <= 0 || image.rows <= 0) {
            const bool exotic = f == Format::Tiff || f == Format::Jp2;
            c.status = exotic ? Unreadable::Unsupported : Unreadable::Truncated;
            c.detail = exotic ? formatName(f) + QStringLiteral(" variant the decoder cannot read")
                              : formatName(f) + QStringLiteral(" data is corrupt or incomplete (decoder failed)");
        }
    } catch (const cv::Exception& e) {
        c.status = Unreadable::Unsupported;
        c.detail = QStringLiteral("decoder error: ") + QString::fromStdString(e.msg).trimmed();
    } catch (const std::exception& e) {
        c.status = Unreadable::Unsupported;
        c.detail = QStringLiteral("decoder error: ") + QString::fromLocal8Bit(e.what());
    }
    return c;
}

constexpr qint64 kHeadBytes = kSniffBytes;
constexpr qint64 kTailBytes = 4096;

FileCheck checkContent(const QByteArray& data, const QByteArray& tail, qint64 bytes, CheckDepth depth)
{
    FileCheck c;
    c.bytes = bytes;
    const bool walk = depth != CheckDepth::Quick;
    const bool verify = depth == CheckDepth::Decode;
    const Sniff s = sniff(data.left(kHeadBytes));
    if (s.verdict != Unreadable::None) {
        c.status = s.verdict;
        c.detail = s.detail;
        return c;
    }

    const FileCheck declared = declaredSizeCheck(s.format, data.left(kHeadBytes), bytes);
    if (!declared.readable()) {
        c.status = declared.status;
        c.detail = declared.detail;
        return c;
    }

    if (s.format == Format::Jpeg) {
        const bool complete = walk ? walkJpeg(data, JpegWalk::ToEnd).complete : tailContains(tail, "\xFF\xD9", 2);
        if (!complete) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("JPEG ends before its end-of-image marker");
            return c;
        }
    } else if (s.format == Format::Png) {
        const bool complete = walk ? walkPngChunks(data).end == PngWalk::Complete : tailContains(tail, "IEND", 4);
        if (!complete) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("PNG ends before its IEND chunk");
            return c;
        }
    } else if (s.format == Format::Gif && !verify && !haveGifDecoder()) {
        c.status = Unreadable::Unsupported;
        c.detail = QStringLiteral("no GIF decoder available");
        return c;
    }

    if (verify) {
        const FileCheck decoded = decodeCheck(s.format, data);
        c.status = decoded.status;
        c.detail = decoded.detail;
        if (c.readable())
            c.contentHash = QCryptographicHash::hash(data, QCryptographicHash::Md5);
    }
    return c;
}

} // namespace

JpegStructure walkJpeg(const QByteArray& bytes, JpegWalk walk)
{
    JpegStructure s;
    const auto* d = reinterpret_cast<const uchar*>(bytes.constData());
    const qsizetype n = bytes.size();
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return s;
    qsizetype i = 2;
    while (i < n) {
        if (d[i] != 0xFF) { // stray bytes between segments: libjpeg skips them too
            ++i;
            continue;
        }
        while (i < n && d[i] == 0xFF) // fill bytes
            ++i;
        if (i >= n)
            return s;
        const qsizetype at = i - 1; // the marker's last 0xFF
        const uchar m = d[i++];
        if (m == 0xD9) {
            s.complete = walk == JpegWalk::ToEnd;
            return s;
        }
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
            continue; // a stuffed 0xFF00 (not a marker) and standalone markers
        if (i + 2 > n)
            return s;
        const int len = (d[i] << 8) | d[i + 1];
        if (m == 0xDA && s.scanStart < 0) {
            s.scanStart = at;
            if (walk == JpegWalk::Header)
                return s;
        }
        const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof && i + 6 < n) { // length (2), precision (1), height (2), width (2)
            if (s.width > 0 || s.height > 0) {
                s.twoFrames = true;
                if (walk == JpegWalk::Header)
                    return s;
            } else {
                s.height = (d[i + 3] << 8) | d[i + 4];
                s.width = (d[i + 5] << 8) | d[i + 6];
                s.progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
            }
        }
        if (len < 2)
            return s;
        i += len;
        if (i > n)
            return s;
        if (m == 0xDA) { // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or RSTn
            for (;;) {
                const void* ff = std::memchr(d + i, 0xFF, size_t(n - i));
                if (!ff)
                    return s;
                i = static_cast<const uchar*>(ff) - d;
                if (i + 1 >= n)
                    return s;
                const uchar x = d[i + 1];
                if (x == 0x00 || (x >= 0xD0 && x <= 0xD7)) {
                    i += 2;
                    continue;
                }
                if (x == 0xFF) {
                    ++i;
                    continue;
                }
                break;
            }
        }
    }
    return s;
}

PngWalk walkPngChunks(const QByteArray& bytes)
{
    PngWalk w;
    const auto* d = reinterpret_cast<const uchar*>(bytes.constData());
    const qsizetype n = bytes.size();
    qsizetype i = 8;
    while (i + 8 <= n) {
        const quint32 len = be32(d + i);
        const QByteArray type(reinterpret_cast<const char*>(d + i + 4), 4);
        // A length over 2^31 - 1 is invalid (PNG spec 5.3); one past the end of the file is a truncated file, or a
        // few bytes that would make a decoder allocate what the chunk claims before reading it.
        if (len > quint32(0x7FFFFFFF) || qint64(len) + 12 > n - i) {
            w.end = PngWalk::Overrun;
            w.chunk = type;
            w.declared = len;
            return w;
        }
        i += 12 + qsizetype(len);
        if (type == "IEND") {
            w.end = PngWalk::Complete;
            return w;
        }
    }
    w.end = PngWalk::NoEnd;
    return w;
}

ContentSniff sniffContent(const QByteArray& head)
{
    const Sniff s = sniff(head.left(kSniffBytes));
    ContentSniff out;
    out.verdict = s.verdict;
    out.kind = s.detail;
    if (s.verdict == Unreadable::None && s.format != Format::Unknown) {
        out.id = s.format;
        out.format = formatName(s.format);
    }
    return out;
}

ImageFormat sniffImageFormat(const QByteArray& head)
{
    return sniffContent(head).id;
}

QSize imageHeaderSize(const QByteArray& bytes)
{
    const auto* u = reinterpret_cast<const uchar*>(bytes.constData());
    const qsizetype n = bytes.size();
    auto le16 = [&](qsizetype at) { return int(u[at]) | (int(u[at + 1]) << 8); };
    auto le24 = [&](qsizetype at) { return int(u[at]) | (int(u[at + 1]) << 8) | (int(u[at + 2]) << 16); };
    // Any positive size counts, however absurd (clamped to what QSize holds): a huge claim must be refused as too
    // large, never waved through as "unknown".
    auto valid = [](qint64 w, qint64 h) {
        constexpr qint64 kMax = std::numeric_limits<int>::max();
        return w > 0 && h > 0 ? QSize(int(std::min(w, kMax)), int(std::min(h, kMax))) : QSize();
    };
    auto be16 = [&](qsizetype at) { return (int(u[at]) << 8) | int(u[at + 1]); };
    const Sniff s = sniff(bytes.left(kSniffBytes));
    switch (s.format) {
    case Format::Jpeg:
        return jpegHeaderSize(bytes);
    case Format::Png: // signature, then IHDR: length, "IHDR", width, height (big-endian)
        if (n >= 24 && std::memcmp(u + 12, "IHDR", 4) == 0)
            return valid(be32(u + 16), be32(u + 20));
        return {};
    case Format::Gif:
        return n >= 10 ? valid(le16(6), le16(8)) : QSize();
    case Format::Bmp: {
        if (n < 26)
            return {};
        const quint32 header = le32(u + 14);
        if (header == 12) // OS/2 BITMAPCOREHEADER
            return valid(le16(18), le16(20));
        const qint64 w = qint32(le32(u + 18));
        const qint64 h = qint32(le32(u + 22)); // negative: top-down rows
        return valid(w, h < 0 ? -h : h);
    }
    case Format::Webp: {
        if (n < 30)
            return {};
        if (std::memcmp(u + 12, "VP8X", 4) == 0)
            return valid(qint64(le24(24)) + 1, qint64(le24(27)) + 1);
        if (std::memcmp(u + 12, "VP8 ", 4) == 0) // frame tag (3), start code (3), then 14-bit sizes
            return valid(le16(26) & 0x3FFF, le16(28) & 0x3FFF);
        if (std::memcmp(u + 12, "VP8L", 4) == 0 && u[20] == 0x2F) {
            const quint32 bits = le32(u + 21);
            return valid(qint64(bits & 0x3FFF) + 1, qint64((bits >> 14) & 0x3FFF) + 1);
        }
        return {};
    }
    case Format::Pnm: { // "P6 <width> <height> ...", with '#' comments anywhere between the fields
        qint64 dims[2] = { 0, 0 };
        qsizetype i = 2;
        for (qint64& d : dims) {
            while (i < n && (std::isspace(u[i]) || u[i] == '#')) {
                if (u[i] == '#')
                    while (i < n && u[i] != '\n')
                        ++i;
                else
                    ++i;
            }
            if (i >= n || !std::isdigit(u[i]))
                return {};
            while (i < n && std::isdigit(u[i]) && d < (qint64(1) << 40))
                d = d * 10 + (u[i++] - '0');
        }
        return valid(dims[0], dims[1]);
    }
    case Format::Tiff: { // the first image directory's ImageWidth (256) and ImageLength (257)
        if (n < 8)
            return {};
        const bool le = u[0] == 'I';
        auto r16 = [&](qsizetype at) { return le ? le16(at) : be16(at); };
        auto r32 = [&](qsizetype at) { return le ? qint64(le32(u + at)) : qint64(be32(u + at)); };
        const qint64 ifd = r32(4);
        if (u[2] != (le ? 42 : 0) || ifd < 8 || ifd + 2 > n)
            return {};
        const int entries = r16(ifd);
        qint64 w = 0, h = 0;
        for (int e = 0; e < entries && ifd + 2 + 12 * (e + 1) <= n; ++e) {
            const qsizetype at = qsizetype(ifd + 2 + 12 * e);
            const int tag = r16(at), type = r16(at + 2);
            const qint64 value = type == 3 ? r16(at + 8) : type == 4 ? r32(at + 8) : 0;
            if (tag == 256)
                w = value;
            else if (tag == 257)
                h = value;
        }
        return valid(w, h);
    }
    case Format::Jp2: {
        if (n >= 4 && u[0] == 0xFF && u[1] == 0x4F) { // codestream: SIZ follows SOC
            if (n < 4 + 2 + 2 + 16 || u[2] != 0xFF || u[3] != 0x51)
                return {};
            const qint64 xs = be32(u + 8), ys = be32(u + 12), x0 = be32(u + 16), y0 = be32(u + 20);
            return valid(xs - x0, ys - y0);
        }
        const qsizetype ihdr = bytes.indexOf("ihdr");
        if (ihdr < 0 || ihdr + 12 > n)
            return {};
        return valid(be32(u + ihdr + 8), be32(u + ihdr + 4));
    }
    default:
        return {};
    }
}

QString properImageName(const QString& fileName, const QString& format)
{
    static const QHash<QString, QStringList> kExtensions = {
        { QStringLiteral("JPEG"), { QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("jfif") } },
        { QStringLiteral("PNG"), { QStringLiteral("png") } },
        { QStringLiteral("GIF"), { QStringLiteral("gif") } },
        { QStringLiteral("BMP"), { QStringLiteral("bmp") } },
        { QStringLiteral("WebP"), { QStringLiteral("webp") } },
        { QStringLiteral("TIFF"), { QStringLiteral("tif"), QStringLiteral("tiff") } },
        { QStringLiteral("PNM"), { QStringLiteral("ppm"), QStringLiteral("pgm"), QStringLiteral("pbm") } },
        { QStringLiteral("JPEG 2000"), { QStringLiteral("jp2"), QStringLiteral("j2k") } },
    };
    static const QStringList kWebPages = { QStringLiteral("php"), QStringLiteral("asp"), QStringLiteral("aspx"),
        QStringLiteral("jsp"), QStringLiteral("cgi"), QStringLiteral("htm"), QStringLiteral("html"),
        QStringLiteral("ashx"), QStringLiteral("axd"), QStringLiteral("do") };
    const QStringList wanted = kExtensions.value(format);
    if (wanted.isEmpty())
        return fileName;
    QString name = fileName;
    const qsizetype query = name.indexOf(QRegularExpression(QStringLiteral("[?#]")));
    if (query > 0)
        name = name.left(query);
    const qsizetype dot = name.lastIndexOf(QLatin1Char('.'));
    const QString ext = dot > 0 ? name.mid(dot + 1).toLower() : QString();
    if (wanted.contains(ext))
        return name;
    bool otherImage = false;
    for (const QStringList& exts : kExtensions)
        otherImage = otherImage || exts.contains(ext);
    const QString base = (otherImage || kWebPages.contains(ext)) ? name.left(dot) : name;
    return base + QLatin1Char('.') + wanted.first();
}

FileCheck checkImageBytes(const QByteArray& bytes, CheckDepth depth)
{
    if (bytes.isEmpty()) {
        FileCheck c;
        c.status = Unreadable::Empty;
        return c;
    }
    return checkContent(bytes, bytes.right(kTailBytes), bytes.size(), depth);
}

FileCheck checkImageFile(const QString& absolutePath, bool verify)
{
    FileCheck c;
    const QFileInfo info(absolutePath);
    if (info.isSymLink() && !info.exists()) {
        c.status = Unreadable::IoError;
        c.detail = QStringLiteral("broken symbolic link");
        return c;
    }
    if (!info.exists()) {
        c.status = Unreadable::IoError;
        c.detail = QStringLiteral("file not found");
        return c;
    }
    if (info.isDir()) {
        c.status = Unreadable::IoError;
        c.detail = QStringLiteral("is a folder");
        return c;
    }
    c.bytes = info.size();
    if (c.bytes == 0) {
        c.status = Unreadable::Empty;
        return c;
    }
    QFile file(absolutePath);
    if (!file.open(QIODevice::ReadOnly)) {
        c.status = Unreadable::IoError;
        c.detail = file.errorString();
        return c;
    }

    QByteArray data; // whole file (verify) or just the head
    QByteArray tail;
    try {
        if (verify) {
            data = file.readAll();
            if (data.size() != c.bytes && file.error() != QFileDevice::NoError) {
                c.status = Unreadable::IoError;
                c.detail = file.errorString();
                return c;
            }
            c.bytes = data.size(); // the file may have changed since it was listed
            tail = data.right(kTailBytes);
        } else {
            data = file.read(kHeadBytes);
            if (c.bytes > kHeadBytes && file.seek(std::max<qint64>(c.bytes - kTailBytes, 0)))
                tail = file.read(kTailBytes);
            else
                tail = data.right(kTailBytes);
        }
    } catch (const std::bad_alloc&) {
        c.status = Unreadable::IoError;
        c.detail = QStringLiteral("file too large to read into memory");
        return c;
    }
    if (data.isEmpty()) {
        c.status = file.error() != QFileDevice::NoError ? Unreadable::IoError : Unreadable::Empty;
        c.detail = file.error() != QFileDevice::NoError ? file.errorString() : QString();
        return c;
    }
    const FileCheck content = checkContent(data, tail, c.bytes, verify ? CheckDepth::Decode : CheckDepth::Quick);
    return content;
}

} // namespace Winnow
