// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core: OpenCV views of the imaging types. Never include this from ui/ or from a public header.
#pragma once

#include <opencv2/core.hpp>

#include <QByteArray>
#include <QString>

#include "core/imaging/decode.h"

namespace Winnow {

/// Decodes to an owning CV_8UC3 RGB cv::Mat. `out` keeps size/reduction/error fields; its rgb vector stays empty.
cv::Mat decodeToMat(const QByteArray& encoded, const DecodeOptions& options, DecodedImage& info);
/// Reads the file and decodes it; IoError/Empty are reported in `info`.
cv::Mat decodeFileToMat(const QString& path, const DecodeOptions& options, DecodedImage& info);

/// A non-owning CV_8UC3 view of a DecodedImage (empty Mat if it has no pixels). Valid while `image` lives.
cv::Mat asMat(const DecodedImage& image);
/// Copies a CV_8UC3 RGB Mat (any stride) into `image` (width, height, rgb).
void copyToDecoded(const cv::Mat& rgb, DecodedImage& image);

} // namespace Winnow
