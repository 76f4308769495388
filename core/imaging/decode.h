// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <vector>

#include <QByteArray>
#include <QImage>
#include <QString>
#include <QtGlobal>

#include "core/dataset/dataset.h"

namespace Winnow {

/// What to do with an alpha channel. fastai (PIL `convert('RGB')`) drops it; compositing on white shows what a viewer
/// shows, which is what the user judged the image by.
enum class AlphaMode : quint8 { CompositeWhite, Drop };

struct DecodeOptions
{
    /// Allow a reduced-size JPEG decode (libjpeg DCT scaling by 1/2, 1/4 or 1/8) as long as the shorter side of the
    /// result stays >= this. 0 = always decode at full resolution. Ignored for non-JPEG files.
    int minShortSide = 0;
    AlphaMode alpha = AlphaMode::CompositeWhite;
    /// A JPEG without its end-of-image marker decodes (libjpeg fills the missing rows with grey) but is reported as
    /// Unreadable::Truncated unless this is set (PIL refuses such files too).
    bool allowTruncated = false;
};

/**
 * A decoded image: 8-bit RGB, packed rows (3 bytes per pixel, no padding), EXIF orientation applied (JPEG).
 *
 * Grayscale is expanded to RGB, 16-bit samples are scaled to 8 bits, palette images are expanded, CMYK JPEGs are
 * converted by libjpeg, alpha is handled per DecodeOptions::alpha. Plain value type.
 */
struct DecodedImage
{
    int width = 0;
    int height = 0;
    std::vector<quint8> rgb; ///< width*height*3 bytes, row-major RGB
    int sourceWidth = 0; ///< full-resolution size of the file after orientation (before any reduced decode)
    int sourceHeight = 0;
    int reduction = 1; ///< 1, 2, 4 or 8: the JPEG DCT scale that was used
    Unreadable error = Unreadable::None;
    QString message; ///< human-readable reason when !ok(), e.g. "truncated JPEG (no end-of-image marker)"

    bool ok() const
    {
        return error == Unreadable::None && width > 0 && height > 0;
    }
    qint64 bytes() const
    {
        return qint64(rgb.size());
    }
};

/// Decodes a file. Never throws; failures come back with error/message set (Empty, NotAnImage, Truncated,
/// Unsupported, IoError). Thread-safe: call it from any thread. Formats OpenCV cannot read (e.g. GIF) go through
/// QImageReader.
DecodedImage decodeImage(const QString& path, const DecodeOptions& options = {});

/// Same, from encoded bytes in memory (an HTTP upload, a file already read).
DecodedImage decodeImage(const QByteArray& encoded, const DecodeOptions& options = {});

/// The reduction factor (1, 2, 4, 8) a JPEG of this size gets for DecodeOptions::minShortSide = `minShortSide`: the
/// largest one keeping ceil(shorter side / factor) >= minShortSide. Exposed for tests.
int jpegReductionFor(int width, int height, int minShortSide);

/// The pixel size stored in a JPEG's SOF header (not orientation-corrected), or an invalid size if `encoded` is not a
/// JPEG or has no SOF before the scan data. Cheap: parses markers only.
QSize jpegHeaderSize(const QByteArray& encoded);

/// What a JPEG's first frame header (SOF) says, not orientation-corrected. Invalid size if `encoded` is not a JPEG,
/// has no SOF before the scan data or has two. Cheap: parses markers only.
struct JpegFrame
{
    QSize size;
    bool progressive = false; ///< decoding holds every coefficient at full size (about 3 bytes a pixel), any scale
};
JpegFrame jpegFrame(const QByteArray& encoded);

/// A deep copy as QImage::Format_RGB888 (null image if !image.ok()). For display and tests.
QImage toQImage(const DecodedImage& image);

} // namespace Winnow
