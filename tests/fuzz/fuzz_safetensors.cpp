// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: the safetensors header parser (and the JSON reader under it) on arbitrary bytes. Beyond "no crash, no
// sanitizer report", every layout it accepts must keep its promises: each tensor inside the data section, sized by
// its shape and dtype, none overlapping another.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow::nn;
    SafetensorsLimits limits;
    limits.maxHeaderBytes = 1 << 20;
    try {
        const SafetensorsLayout layout = parseSafetensorsHeader(data, size, "fuzz", limits);
        if (layout.dataOffset > size || layout.dataOffset + layout.dataSize != size)
            std::abort();
        std::vector<std::pair<uint64_t, uint64_t>> spans;
        for (const SafetensorsEntry& e : layout.tensors) {
            const uint64_t element = safetensorsDtypeSize(e.dtype);
            if (element == 0 || e.begin > e.end || e.end > layout.dataSize || e.name.empty())
                std::abort();
            uint64_t numel = 1;
            for (const int64_t d : e.shape) {
                if (d < 0)
                    std::abort();
                numel *= uint64_t(d);
            }
            if (numel * element != e.end - e.begin)
                std::abort();
            spans.emplace_back(e.begin, e.end);
        }
        std::sort(spans.begin(), spans.end());
        for (size_t i = 1; i < spans.size(); ++i)
            if (spans[i].first < spans[i - 1].second)
                std::abort();
    } catch (const WeightsError&) {
        // a clean refusal is the expected outcome for almost every input
    }
    return 0;
}
