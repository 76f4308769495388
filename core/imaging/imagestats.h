// SPDX-License-Identifier: GPL-3.0-or-later
// Pixel statistics behind the image-quality checks (core/metrics/dataissues.h): brightness, information, sharpness,
// colour and size. OpenCV-free header.
#pragma once

#include <QString>

#include "core/imaging/decode.h"

namespace Winnow {

/// What an image's pixels say about its quality. Plain value type; all zero when !ok.
struct ImageStats
{
    int width = 0; ///< full-resolution pixels, after EXIF orientation
    int height = 0;
    /// Perceived brightness of the mean colour, 0 (black) to 1 (white): sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255
    /// (CleanVision's formula).
    float brightness = 0;
    /// The 99th percentile of the brightest channel (max(R, G, B)) and the 1st percentile of the grey level, 0..1:
    /// a photo too dark to see has no highlights, an overexposed one no shadows (a black bear in shade has a low
    /// mean but bright sky; a teddy on white a high mean but a dark teddy). The brightest channel, not the grey
    /// level, so that a deep red rose (luma 0.3 at full red) is not taken for an underexposed photo.
    float highlights = 0;
    float shadows = 0;
    /// Shannon entropy of the grey-level histogram (256 bins), in bits: 0 for a flat image, 8 at most.
    float entropy = 0;
    /// Variance of the 3x3 edge filter (8 at the centre, -1 around: PIL's FIND_EDGES) on the grey image scaled to
    /// at most kSharpnessSide pixels on its longer side: low for a blurred photo.
    float edgeVariance = 0;
    /// edgeVariance over the grey image's own variance: sharpness independent of contrast (1 for a flat image).
    float relativeEdgeVariance = 0;
    /// Mean over pixels of (max(R, G, B) - min(R, G, B)) / 255: 0 for a grey image whatever its file says.
    float colourfulness = 0;
    /// Hash of the decoded pixels (as measured, at the reduced size) and the full size: two files with the same
    /// pixels in different bytes (re-saved, other compression, stripped metadata) share it. 0 when !ok.
    quint64 pixelHash = 0;
    bool ok = false;

    static constexpr int kSharpnessSide = 256; ///< CleanVision's (later) resolution for its blur check
};

/// Decodes `path` at a reduced size (shorter side >= kSharpnessSide where the JPEG allows) and measures it.
/// Thread-safe.
ImageStats measureImageFile(const QString& path);

} // namespace Winnow
