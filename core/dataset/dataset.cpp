// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dataset/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QImageReader>
#include <QSet>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include "core/dataset/splitstore.h"

namespace Winnow {

QString splitName(Split s)
{
    switch (s) {
    case Split::Train:
        return QStringLiteral("train");
    case Split::Valid:
        return QStringLiteral("valid");
    case Split::Unlabeled:
        return QStringLiteral("unlabeled");
    }
    return {};
}

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

QString layoutName(Layout l)
{
    return l == Layout::TrainValid ? QStringLiteral("train-valid") : QStringLiteral("folder-per-class");
}

// ---------------------------------------------------------------------------------------------------------------
// Dataset accessors

QString Dataset::absolutePath(const Sample& s) const
{
    return root + QLatin1Char('/') + s.relPath;
}

std::vector<int> Dataset::indices(Split split, bool readableOnly) const
{
    std::vector<int> out;
    for (int i = 0; i < samples.size(); ++i) {
        const Sample& s = samples.at(i);
        if (s.split == split && (!readableOnly || s.readable()))
            out.push_back(i);
    }
    return out;
}

QList<ClassCounts> Dataset::counts() const
{
    QList<ClassCounts> out;
    out.reserve(vocab.size());
    for (const QString& name : vocab)
        out.append(ClassCounts { name, 0, 0 });
    for (const Sample& s : samples) {
        if (!s.readable() || s.label < 0 || s.label >= out.size())
            continue;
        if (s.split == Split::Train)
            ++out[s.label].train;
        else if (s.split == Split::Valid)
            ++out[s.label].valid;
    }
    return out;
}

int Dataset::count(Split split, bool readableOnly) const
{
    return int(std::count_if(samples.cbegin(), samples.cend(),
        [&](const Sample& s) { return s.split == split && (!readableOnly || s.readable()); }));
}

int Dataset::oddNames() const
{
    return int(std::count_if(samples.cbegin(), samples.cend(), [](const Sample& s) { return s.oddName; }));
}

QList<const Sample*> Dataset::unreadable() const
{
    QList<const Sample*> out;
    for (const Sample& s : samples)
        if (!s.readable())
            out.append(&s);
    return out;
}

int Dataset::findSample(const QString& relPath) const
{
    const auto it = std::lower_bound(
        samples.cbegin(), samples.cend(), relPath, [](const Sample& s, const QString& p) { return s.relPath < p; });
    if (it == samples.cend() || it->relPath != relPath)
        return -1;
    return int(it - samples.cbegin());
}

// ---------------------------------------------------------------------------------------------------------------
// Split

namespace {

quint64 splitmix64(quint64 x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int validCount(double validPct, qsizetype n)
{
    if (!(validPct > 0.0)) // also catches NaN
        return 0;
    if (validPct >= 1.0)
        return int(n);
    return int(std::floor(validPct * double(n))); // fastai: int(valid_pct * n)
}

double clampPct(double p)
{
    if (std::isnan(p))
        return 0.2;
    return std::clamp(p, 0.0, 1.0);
}

} // namespace

quint64 splitHash(const QString& relPath, quint64 seed)
{
    quint64 h = 0xCBF29CE484222325ull ^ splitmix64(seed);
    const QByteArray bytes = relPath.toUtf8();
    for (const char c : bytes) {
        h ^= quint8(c);
        h *= 0x100000001B3ull;
    }
    return splitmix64(h);
}

QList<Split> assignSplits(const QStringList& relPaths, quint64 seed, double validPct)
{
    const qsizetype n = relPaths.size();
    std::vector<std::pair<quint64, int>> keyed;
    keyed.reserve(size_t(n));
    for (int i = 0; i < n; ++i)
        keyed.emplace_back(splitHash(relPaths.at(i), seed), i);
    std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first)
            return a.first < b.first;
        return relPaths.at(a.second) < relPaths.at(b.second);
    });
    QList<Split> out(n, Split::Train);
    const int cut = validCount(clampPct(validPct), n);
    for (int r = 0; r < cut; ++r)
        out[keyed[size_t(r)].second] = Split::Valid;
    return out;
}

Split splitFor(const QString& relPath, quint64 seed, double validPct)
{
    validPct = clampPct(validPct);
    if (validPct >= 1.0)
        return Split::Valid;
    // Top 53 bits as a double in [0, 1).
    const double u = double(splitHash(relPath, seed) >> 11) * (1.0 / 9007199254740992.0);
    return u < validPct ? Split::Valid : Split::Train;
}

bool hasImageExtension(const QString& fileName)
{
    const qsizetype dot = fileName.lastIndexOf(QLatin1Char('.'));
    if (dot < 0 || dot == fileName.size() - 1)
        return false;
    const QString ext = fileName.mid(dot + 1).toLower();
    static const QSet<QString> kExtensions = {
        QStringLiteral("jpg"),
        QStringLiteral("jpeg"),
        QStringLiteral("jfif"),
        QStringLiteral("png"),
        QStringLiteral("bmp"),
        QStringLiteral("gif"),
        QStringLiteral("webp"),
        QStringLiteral("tif"),
        QStringLiteral("tiff"),
        QStringLiteral("ppm"),
        QStringLiteral("pgm"),
        QStringLiteral("pbm"),
    };
    return kExtensions.contains(ext);
}

QStringList expandImageInputs(const QStringList& inputs)
{
    QStringList files;
    for (const QString& in : inputs) {
        if (!QFileInfo(in).isDir()) {
            files << in;
            continue;
        }
        QStringList found;
        QDirIterator it(in, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString f = it.next();
            if (hasImageExtension(f))
                found << f;
        }
        std::sort(found.begin(), found.end());
        files << found;
    }
    return files;
}

// ---------------------------------------------------------------------------------------------------------------
// File checks

namespace {

enum class Format { Unknown, Jpeg, Png, Gif, Bmp, Webp, Tiff, Pnm, Jp2 };

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

// Walks the JPEG marker structure to EOI; false if the data ends first. Segments (EXIF thumbnails included) are
// skipped by their length, so an embedded EOI does not count and data appended after EOI is fine.
bool jpegComplete(const uchar* d, qsizetype n)
{
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return false;
    qsizetype i = 2;
    while (i < n) {
        if (d[i] != 0xFF) { // stray bytes between segments: libjpeg skips them too
            ++i;
            continue;
        }
        while (i < n && d[i] == 0xFF)
            ++i;
        if (i >= n)
            return false;
        const uchar m = d[i++];
        if (m == 0xD9)
            return true;
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
            continue; // standalone markers
        if (i + 2 > n)
            return false;
        const int len = (d[i] << 8) | d[i + 1];
        if (len < 2)
            return false;
        i += len;
        if (i > n)
            return false;
        if (m == 0xDA) { // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or RSTn
            for (;;) {
                const void* ff = std::memchr(d + i, 0xFF, size_t(n - i));
                if (!ff)
                    return false;
                i = static_cast<const uchar*>(ff) - d;
                if (i + 1 >= n)
                    return false;
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
    return false;
}

// Walks PNG chunks to IEND.
bool pngComplete(const uchar* d, qsizetype n)
{
    qsizetype i = 8;
    while (i + 8 <= n) {
        const quint32 len = be32(d + i);
        const bool iend = std::memcmp(d + i + 4, "IEND", 4) == 0;
        if (len > quint32(0x7FFFFFFF))
            return false;
        i += 12 + qsizetype(len);
        if (i > n)
            return false;
        if (iend)
            return true;
    }
    return false;
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

constexpr qint64 kHeadBytes = 1024;
constexpr qint64 kTailBytes = 4096;

} // namespace

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

    const Sniff s = sniff(data.left(kHeadBytes));
    if (s.verdict != Unreadable::None) {
        c.status = s.verdict;
        c.detail = s.detail;
        return c;
    }

    const FileCheck declared = declaredSizeCheck(s.format, data.left(kHeadBytes), c.bytes);
    if (!declared.readable()) {
        c.status = declared.status;
        c.detail = declared.detail;
        return c;
    }

    const auto* u = reinterpret_cast<const uchar*>(data.constData());
    if (s.format == Format::Jpeg) {
        const bool complete = verify ? jpegComplete(u, data.size()) : tailContains(tail, "\xFF\xD9", 2);
        if (!complete) {
            c.status = Unreadable::Truncated;
            c.detail = QStringLiteral("JPEG ends before its end-of-image marker");
            return c;
        }
    } else if (s.format == Format::Png) {
        const bool complete = verify ? pngComplete(u, data.size()) : tailContains(tail, "IEND", 4);
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

// ---------------------------------------------------------------------------------------------------------------
// Scan

namespace {

const QString kUnlabeled = QStringLiteral("unlabeled");

struct Walker
{
    QStringList files; // relative paths
    QStringList others; // relative paths of regular files without an image extension
    QStringList warnings;
    QSet<QString> visited; // canonical dirs, against symlink loops

    void walk(const QString& absDir, const QString& relDir, int depth)
    {
        if (depth > 64)
            return;
        const QDir dir(absDir);
        if (!dir.isReadable()) {
            warnings << QStringLiteral("Could not list folder '%1'; its files were skipped.").arg(relDir);
            return;
        }
        const QFileInfoList entries = dir.entryInfoList(
            QDir::Dirs | QDir::Files | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System, QDir::NoSort);
        for (const QFileInfo& fi : entries) {
            const QString name = fi.fileName();
            if (name.startsWith(QLatin1Char('.')))
                continue;
            const QString rel = relDir.isEmpty() ? name : relDir + QLatin1Char('/') + name;
            if (fi.isDir()) {
                const QString canonical = fi.canonicalFilePath();
                if (canonical.isEmpty() || visited.contains(canonical))
                    continue;
                visited.insert(canonical);
                walk(fi.absoluteFilePath(), rel, depth + 1);
            } else if (hasImageExtension(name)) {
                files << rel;
            } else if (fi.isFile()) {
                others << rel;
            }
        }
    }
};

QString firstComponent(const QString& rel)
{
    const qsizetype slash = rel.indexOf(QLatin1Char('/'));
    return slash < 0 ? QString() : rel.left(slash);
}

} // namespace

ScanResult scanDataset(const QString& root, const ScanOptions& options)
{
    return scanDataset(root, options, ScanControl {});
}

ScanResult scanDataset(const QString& rootIn, const ScanOptions& optionsIn, const ScanControl& control)
{
    ScanResult result;
    if (rootIn.trimmed().isEmpty()) {
        result.error = QStringLiteral("No dataset folder given.");
        return result;
    }
    const QFileInfo rootInfo(rootIn);
    if (!rootInfo.exists()) {
        result.error = QStringLiteral("Folder does not exist: %1").arg(rootIn);
        return result;
    }
    if (!rootInfo.isDir()) {
        result.error = QStringLiteral("Not a folder: %1").arg(rootIn);
        return result;
    }
    const QString root = QDir::cleanPath(rootInfo.absoluteFilePath());
    if (!QDir(root).isReadable()) {
        result.error = QStringLiteral("Cannot read folder: %1").arg(root);
        return result;
    }

    Dataset ds;
    ds.root = root;
    ds.options = optionsIn;
    ds.options.validPct = clampPct(optionsIn.validPct);

    const QFileInfo trainInfo(root + QStringLiteral("/train"));
    const QFileInfo validInfo(root + QStringLiteral("/valid"));
    ds.layout = trainInfo.isDir() && validInfo.isDir() ? Layout::TrainValid : Layout::FolderPerClass;

    // Unlabeled prefixes: the built-in top-level folder (any case) plus the user's folders.
    QStringList unlabeledPrefixes;
    for (const QString& f : optionsIn.unlabeledFolders) {
        QString p = QDir::cleanPath(QDir::fromNativeSeparators(f));
        while (p.startsWith(QLatin1Char('/')))
            p.remove(0, 1);
        while (p.endsWith(QLatin1Char('/')))
            p.chop(1);
        if (!p.isEmpty() && p != QLatin1String("."))
            unlabeledPrefixes << p + QLatin1Char('/');
    }
    const auto isUnlabeled = [&](const QString& rel) {
        if (firstComponent(rel).compare(kUnlabeled, Qt::CaseInsensitive) == 0)
            return true;
        return std::any_of(
            unlabeledPrefixes.cbegin(), unlabeledPrefixes.cend(), [&](const QString& p) { return rel.startsWith(p); });
    };

    // Top-level folders, for the "no images" and "ignored" warnings.
    QStringList topDirs;
    {
        const QFileInfoList top =
            QDir(root).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System, QDir::Name);
        for (const QFileInfo& fi : top)
            if (!fi.fileName().startsWith(QLatin1Char('.')))
                topDirs << fi.fileName();
    }

    Walker walker;
    walker.visited.insert(QFileInfo(root).canonicalFilePath());
    walker.walk(root, QString(), 0);
    ds.warnings << walker.warnings;
    QStringList files = walker.files;
    // Files without an image extension are judged by their first bytes (web scrapes name photos
    // `00000090.jpg?1518390504` or `x.php?w=1500` and save HTML error pages too). Files directly in the root are
    // never part of the dataset, whatever they hold.
    QSet<QString> oddNames;
    for (const QString& rel : std::as_const(walker.others)) {
        if (!rel.contains(QLatin1Char('/')))
            continue;
        if (ds.layout == Layout::TrainValid && !isUnlabeled(rel)) {
            const QString top = firstComponent(rel);
            if (top != QLatin1String("train") && top != QLatin1String("valid"))
                continue; // an ignored folder (already warned about)
        }
        QFile f(root + QLatin1Char('/') + rel);
        if (!f.open(QIODevice::ReadOnly)) {
            ds.skipped.append({ rel, QStringLiteral("could not be read: %1").arg(f.errorString()) });
            continue;
        }
        const QByteArray head = f.read(kHeadBytes);
        if (head.isEmpty()) {
            ds.skipped.append({ rel, QStringLiteral("empty file") });
            continue;
        }
        const Sniff sn = sniff(head);
        if (sn.verdict == Unreadable::None && sn.format != Format::Unknown) {
            files << rel;
            oddNames.insert(rel);
        } else {
            ds.skipped.append({ rel, sn.detail });
        }
    }
    std::sort(files.begin(), files.end());
    std::sort(ds.skipped.begin(), ds.skipped.end(),
        [](const SkippedFile& a, const SkippedFile& b) { return a.relPath < b.relPath; });

    // Classify every file: unlabeled, labeled (class + split source) or ignored.
    QList<Sample> samples;
    samples.reserve(files.size());
    QList<QString> sampleClass; // parallel to samples; empty = unlabeled
    int rootFiles = 0;
    int looseTrainValid = 0;
    QSet<QString> ignoredTop;
    QSet<QString> trainClasses, validClasses;
    for (const QString& rel : std::as_const(files)) {
        Sample s;
        s.relPath = rel;
        s.oddName = oddNames.contains(rel);
        if (!rel.contains(QLatin1Char('/'))) {
            ++rootFiles;
            continue;
        }
        if (isUnlabeled(rel)) {
            s.split = Split::Unlabeled;
            samples.append(s);
            sampleClass.append(QString());
            continue;
        }
        const QStringList parts = rel.split(QLatin1Char('/'));
        if (ds.layout == Layout::FolderPerClass) {
            s.split = Split::Train; // decided below
            samples.append(s);
            sampleClass.append(parts.at(0));
            continue;
        }
        const QString& top = parts.at(0);
        if (top != QLatin1String("train") && top != QLatin1String("valid")) {
            ignoredTop.insert(top);
            continue;
        }
        if (parts.size() < 3) {
            ++looseTrainValid;
            continue;
        }
        s.split = top == QLatin1String("train") ? Split::Train : Split::Valid;
        (s.split == Split::Train ? trainClasses : validClasses).insert(parts.at(1));
        samples.append(s);
        sampleClass.append(parts.at(1));
    }

    // Vocabulary.
    QSet<QString> classSet;
    for (const QString& c : std::as_const(sampleClass))
        if (!c.isEmpty())
            classSet.insert(c);
    ds.vocab = QStringList(classSet.cbegin(), classSet.cend());
    std::sort(ds.vocab.begin(), ds.vocab.end());
    QHash<QString, int> labelOf;
    for (int i = 0; i < ds.vocab.size(); ++i)
        labelOf.insert(ds.vocab.at(i), i);
    for (int i = 0; i < samples.size(); ++i)
        samples[i].label = sampleClass.at(i).isEmpty() ? -1 : labelOf.value(sampleClass.at(i), -1);

    // Warnings.
    if (rootFiles > 0)
        ds.warnings << QStringLiteral("%1 image file(s) directly in the dataset folder were ignored: put them in a "
                                      "class folder (or in unlabeled/).")
                           .arg(rootFiles);
    if (ds.layout == Layout::FolderPerClass) {
        for (const QString& d : std::as_const(topDirs))
            if (!classSet.contains(d) && d.compare(kUnlabeled, Qt::CaseInsensitive) != 0
                && !unlabeledPrefixes.contains(d + QLatin1Char('/')))
                ds.warnings << QStringLiteral("Folder '%1' holds no image files, so it is not a class.").arg(d);
    } else {
        QStringList ignored(ignoredTop.cbegin(), ignoredTop.cend());
        std::sort(ignored.begin(), ignored.end());
        for (const QString& d : std::as_const(ignored))
            ds.warnings << QStringLiteral("Folder '%1' was ignored: a train/valid dataset uses only train/, valid/ "
                                          "and unlabeled/.")
                               .arg(d);
        if (looseTrainValid > 0)
            ds.warnings << QStringLiteral("%1 image file(s) directly in train/ or valid/ were ignored: put them in a "
                                          "class folder.")
                               .arg(looseTrainValid);
        QStringList validOnly;
        for (const QString& c : std::as_const(validClasses))
            if (!trainClasses.contains(c))
                validOnly << c;
        std::sort(validOnly.begin(), validOnly.end());
        for (const QString& c : std::as_const(validOnly))
            ds.warnings << QStringLiteral("Class '%1' has images only in valid/: a model cannot learn it.").arg(c);
    }

    if (ds.vocab.isEmpty()) {
        result.error = ds.layout == Layout::TrainValid
            ? QStringLiteral("No classes found in %1: train/ and valid/ hold no class folders with image files "
                             "(expected %1/train/<class>/<image>).")
                  .arg(root)
            : QStringLiteral("No classes found in %1: expected one folder per class with image files inside "
                             "(%1/<class>/<image>).")
                  .arg(root);
        return result;
    }

    // Seeded split (FolderPerClass): rank labeled files by hash, independent of listing order and of readability.
    if (ds.layout == Layout::FolderPerClass) {
        QStringList labeled;
        QList<int> labeledIndex;
        for (int i = 0; i < samples.size(); ++i)
            if (samples.at(i).label >= 0) {
                labeled << samples.at(i).relPath;
                labeledIndex << i;
            }
        // A saved split made with the same seed and validPct pins every file it lists; files it does not list (added
        // since) get the per-file rule, which moves nobody. No usable store: the rank rule, as before stores existed.
        const SplitStoreRead stored = readSplitStore(root);
        if (!stored.error.isEmpty())
            ds.warnings << QStringLiteral("The saved split %1 is damaged (%2) and was not used: the split was drawn by "
                                          "the seeded rule, so it may differ from earlier runs. Training again or "
                                          "applying cleaning decisions rewrites it.")
                               .arg(splitStoreRelPath(), stored.error);
        if (stored.store && stored.store->settings.sameAs(SplitSettings::of(ds.options))) {
            const QHash<QString, Split>& kept = stored.store->entries;
            for (int k = 0; k < labeledIndex.size(); ++k) {
                const QString& rel = labeled.at(k);
                const auto it = kept.constFind(rel);
                samples[labeledIndex.at(k)].split =
                    it != kept.cend() ? it.value() : splitFor(rel, ds.options.seed, ds.options.validPct);
            }
        } else {
            const QList<Split> splits = assignSplits(labeled, ds.options.seed, ds.options.validPct);
            for (int k = 0; k < labeledIndex.size(); ++k)
                samples[labeledIndex.at(k)].split = splits.at(k);
        }
    }

    // Check every file, in parallel.
    std::atomic<int> done { 0 };
    std::atomic<bool> cancelled { false };
    const int total = int(samples.size());
    const bool verify = ds.options.verifyImages;
    const auto check = [&](Sample& s) {
        if (cancelled.load(std::memory_order_relaxed))
            return;
        if (control.cancel && control.cancel->load(std::memory_order_relaxed)) {
            cancelled.store(true);
            return;
        }
        const FileCheck c = checkImageFile(root + QLatin1Char('/') + s.relPath, verify);
        s.status = c.status;
        s.detail = c.detail;
        s.bytes = c.bytes;
        s.contentHash = c.contentHash;
        const int d = done.fetch_add(1) + 1;
        if (control.progress && (d % 16 == 0 || d == total))
            control.progress(d, total);
    };
    QThreadPool* pool = control.pool ? control.pool : QThreadPool::globalInstance();
    QtConcurrent::blockingMap(pool, samples, check);
    if (cancelled.load() || (control.cancel && control.cancel->load())) {
        result.error = QStringLiteral("cancelled");
        return result;
    }

    ds.samples = std::move(samples);
    result.dataset = std::move(ds);
    return result;
}

} // namespace Winnow
