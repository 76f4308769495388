// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: what the scan does with a file's bytes before any decoder sees them: content sniffing, the JPEG marker
// and PNG chunk walks, declared-size checks and the header size reader.
#include <cstdint>
#include <cstdlib>

#include "core/imaging/filecheck.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow;
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
    const ContentSniff sniff = sniffContent(bytes);
    if (!sniff.isImage() && sniff.kind.isEmpty() && !bytes.isEmpty())
        std::abort(); // a file that is not used must be described
    const FileCheck quick = checkImageBytes(bytes, CheckDepth::Quick);
    const FileCheck walked = checkImageBytes(bytes, CheckDepth::Structure);
    if (walked.readable() && !sniff.isImage())
        std::abort();
    if (!quick.readable() && quick.status != Unreadable::Truncated && walked.readable())
        std::abort(); // only the end-marker heuristics may differ
    const QSize s = imageHeaderSize(bytes);
    if (s.isValid() && (s.width() <= 0 || s.height() <= 0))
        std::abort();
    return 0;
}
