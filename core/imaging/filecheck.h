// SPDX-License-Identifier: GPL-3.0-or-later
// Judging one file by its bytes: what it is (sniffContent), whether it is whole (structure walks of JPEG and PNG,
// size fields of BMP and WebP) and whether it decodes. The imaging front end's checks: the scan
// (core/dataset/dataset.h) and the decoder (core/imaging/decode.h) both use them; fuzzed by
// tests/fuzz/fuzz_filecheck.cpp.
#pragma once

#include <QByteArray>
#include <QSize>
#include <QString>
#include <QtGlobal>

namespace Winnow {

/// Why a file cannot be used. Readable files carry `None`.
enum class Unreadable : quint8 {
    None,
    Empty, ///< 0 bytes
    NotAnImage, ///< content is not an image (an HTML page saved as x.jpg, a PDF, text, unknown bytes)
    Truncated, ///< a known format whose data ends early or is corrupt (JPEG without EOI, PNG without IEND, decode
               ///< fails)
    Unsupported, ///< an image format we recognise but cannot decode (HEIC/AVIF, PSD, JPEG XL, SVG, odd TIFF)
    IoError ///< could not be opened or read (permissions, broken link, I/O error)
};

QString unreadableReason(Unreadable r); ///< human-readable: "empty file", "not an image", ...
/// Stable machine name for JSON: "empty", "not-an-image", "truncated", "unsupported", "io-error" ("" for None).
QString unreadableKey(Unreadable r);

/// The image formats Winnow decodes, as their magic bytes say.
enum class ImageFormat : quint8 { Unknown, Jpeg, Png, Gif, Bmp, Webp, Tiff, Pnm, Jp2 };

/// What a file's first bytes (up to kSniffBytes) say it is.
struct ContentSniff
{
    ImageFormat id = ImageFormat::Unknown; ///< Unknown unless isImage()
    QString format; ///< "JPEG", "PNG", "GIF", "BMP", "WebP", "TIFF", "PNM", "JPEG 2000"; empty when not one of those
    Unreadable verdict = Unreadable::None; ///< set when the content is known to be unusable (HTML, PDF, HEIC, ...)
    QString
        kind; ///< for an unusable file: "HTML page", "text file", "PDF document", "unknown content (starts with ..)"
    bool isImage() const
    {
        return verdict == Unreadable::None && !format.isEmpty();
    }
};

/// How many leading bytes sniffContent looks at.
inline constexpr qint64 kSniffBytes = 1024;

/// Judges content by its magic bytes and, for text, its first characters. Pure; never throws. Winnow's one format
/// sniffer: the scan, the file checks (checkImageFile) and the decoder (core/imaging/decode.h) all ask it.
ContentSniff sniffContent(const QByteArray& head);
/// sniffContent(head).id: the decodable format the bytes start with, or Unknown.
ImageFormat sniffImageFormat(const QByteArray& head);

/// The pixel size an image's header declares: JPEG (SOF), PNG (IHDR), GIF (logical screen), BMP, WebP (VP8, VP8L,
/// VP8X). Invalid for other formats and damaged headers. Cheap: reads headers only. Pure; never throws.
QSize imageHeaderSize(const QByteArray& bytes);

/// Where a walk of a PNG's chunks (length, type, data, CRC) from the signature ends.
struct PngWalk
{
    enum End : quint8 {
        Complete, ///< reached IEND with every chunk inside the file
        NoEnd, ///< every chunk fits, but the bytes run out before IEND
        Overrun ///< a chunk declares more bytes than the file has left (or an invalid length): `chunk` names it
    };
    End end = NoEnd;
    QByteArray chunk; ///< the type of the chunk that overruns ("IDAT": cut off in the pixel data)
    quint32 declared = 0; ///< the length it declares
};

/// Walks a PNG's chunks (the bytes start with the PNG signature). Cheap: reads 8 bytes per chunk. libpng 1.6.39
/// allocates what a tEXt chunk declares before it reads it: a 300-byte file whose tEXt claims 1.8 GB takes 1.8 GB of
/// memory through cv::imdecode and through QImageReader alike (found by fuzz_decode). decodeImage refuses such files
/// before any decoder sees them.
/// Pure; never throws.
PngWalk walkPngChunks(const QByteArray& bytes);

/// What a walk of a JPEG's marker segments found.
struct JpegStructure
{
    int width = 0; ///< of the first frame header (SOF), not orientation-corrected; 0 if none was reached
    int height = 0;
    bool progressive = false; ///< SOF2/6/10/14: libjpeg buffers every coefficient at full size, whatever the scale
    bool twoFrames = false; ///< a second frame header (libjpeg refuses such files)
    qsizetype scanStart = -1; ///< offset of the first SOS marker, -1 if none was reached
    bool complete = false; ///< JpegWalk::ToEnd only: the walk reached EOI with every segment inside the data
};

/// How far walkJpeg goes.
enum class JpegWalk : quint8 {
    Header, ///< up to the first scan (SOS) or a second frame header: sizes, cheap
    ToEnd ///< through the entropy-coded data to EOI: whether the file is whole
};

/// Winnow's one JPEG marker walker (the bytes start with SOI). Segments are skipped by their length, so an EXIF
/// thumbnail's own EOI does not count and data appended after EOI is fine; stray bytes between segments and fill bytes
/// are skipped as libjpeg skips them. Entropy-coded data runs to the next marker that is not a stuffed FF 00 or an
/// RSTn. Pure; never throws.
JpegStructure walkJpeg(const QByteArray& bytes, JpegWalk walk);

/// The most pixels Winnow decodes into memory at once (100 megapixels: 300 MB as 8-bit RGB). A larger JPEG is decoded
/// at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) until it fits; any other larger image, such as a decompression
/// bomb (a few KB of PNG that inflate to gigabytes), is refused as Unreadable::Unsupported before it is decoded.
inline constexpr qint64 kMaxDecodePixels = 100'000'000;

/// The name a file with an odd name should have, judged by its content's format (ContentSniff::format): a URL query
/// or fragment is cut off ("00000090.jpg?1518390504" -> "00000090.jpg"), a web page's or another format's extension
/// is replaced ("show.php?w=1500" holding a PNG -> "show.png"), and a missing one is added ("photo" -> "photo.jpg").
/// A name that already fits comes back unchanged. Pure.
QString properImageName(const QString& fileName, const QString& format);

/// How far checkImageBytes goes.
enum class CheckDepth : quint8 {
    Quick, ///< magic bytes, declared sizes, an end marker near the end (what a scan without verification does)
    Structure, ///< Quick, plus a walk of the JPEG markers to EOI and of the PNG chunks to IEND
    Decode ///< Structure, plus a full decode (OpenCV; GIF through QImageReader) and the MD5 of the bytes
};

/// The result of checking one file.
struct FileCheck
{
    Unreadable status = Unreadable::None;
    QString detail;
    qint64 bytes = 0;
    QByteArray contentHash; ///< MD5 of the bytes, for a readable file checked with `verify` (else empty)
    bool readable() const
    {
        return status == Unreadable::None;
    }
};

/// Checks one image file the way scanDataset does: CheckDepth::Decode with `verify`, else CheckDepth::Quick (reading
/// only the head and the tail). Thread-safe; never throws. GIF (which OpenCV 4.6 cannot decode) is verified with
/// QImageReader.
FileCheck checkImageFile(const QString& absolutePath, bool verify = true);

/// The same checks on a file's bytes in memory (`bytes` is the whole file). Thread-safe; never throws.
FileCheck checkImageBytes(const QByteArray& bytes, CheckDepth depth = CheckDepth::Decode);

} // namespace Winnow
