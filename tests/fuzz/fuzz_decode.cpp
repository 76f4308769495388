// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: decodeImage on arbitrary bytes (our JPEG marker and EXIF parsing, the pixel limit, the alpha and bit
// depth conversions around OpenCV and Qt's decoders). A decoded image must be what it says it is, and never larger
// than the pixel limit.
#include <cstdint>
#include <cstdlib>

#include "core/imaging/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow;
    if (size < 1)
        return 0;
    DecodeOptions options;
    options.minShortSide = (data[0] & 3) == 0 ? 0 : 16 << (data[0] & 3);
    options.alpha = (data[0] & 4) ? AlphaMode::Drop : AlphaMode::CompositeWhite;
    options.allowTruncated = (data[0] & 8) != 0;
    const QByteArray bytes(reinterpret_cast<const char*>(data) + 1, qsizetype(size - 1));
    const DecodedImage image = decodeImage(bytes, options);
    if (image.ok()) {
        if (image.rgb.size() != size_t(image.width) * size_t(image.height) * 3)
            std::abort();
        if (qint64(image.width) * image.height > kMaxDecodePixels)
            std::abort();
    } else if (image.error == Unreadable::None || image.message.isEmpty()) {
        std::abort();
    }
    return 0;
}
