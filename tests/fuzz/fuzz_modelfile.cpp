// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: the model file reader's torch-free part: the safetensors header, then the Winnow metadata in it
// (Predictor::load runs exactly these two before it touches a tensor). Accepted metadata must survive a round trip.
#include <cstdint>
#include <cstdlib>

#include "core/engine/modelfile.h"
#include "core/nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow;
    nn::SafetensorsLimits limits;
    limits.maxHeaderBytes = 1 << 20;
    try {
        const nn::SafetensorsLayout layout = nn::parseSafetensorsHeader(data, size, "fuzz", limits);
        QString error;
        const auto info = parseModelMetadata(layout.metadata, &error);
        if (!info) {
            if (error.isEmpty())
                std::abort(); // a refusal must say why
            return 0;
        }
        QString again;
        const auto back = parseModelMetadata(modelMetadata(*info), &again);
        if (!back || back->vocab != info->vocab || back->size != info->size || back->arch != info->arch
            || back->kind != info->kind || back->transform != info->transform)
            std::abort();
    } catch (const nn::WeightsError&) { }
    return 0;
}
