// SPDX-License-Identifier: GPL-3.0-or-later
// Safetensors reading/writing and state-dict loading with precise errors.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/nn/safetensors.h"

namespace Winnow::nn {

/// Name -> tensor, ordered by name (deterministic files and messages).
using TensorMap = std::map<std::string, torch::Tensor>;

struct SafetensorsFile
{
    TensorMap tensors; ///< CPU, contiguous, owning their memory; dtype as stored (F32, F16, BF16 or I64)
    Metadata metadata;
};

/**
 * Parses a safetensors image in memory into tensors: parseSafetensorsHeader() (core/nn/safetensors.h) validates
 * everything first, then each tensor is copied out of the data section.
 * @throws WeightsError with a precise message (prefixed by `what`, e.g. the file name).
 */
SafetensorsFile parseSafetensors(
    const void* data, size_t size, const std::string& what = "safetensors", const SafetensorsLimits& limits = {});
/// Reads and parses a file (see parseSafetensors). @throws WeightsError (also for I/O errors).
SafetensorsFile readSafetensorsFile(const std::string& path, const SafetensorsLimits& limits = {});
/// readSafetensorsFile(path).tensors.
TensorMap readSafetensors(const std::string& path, const SafetensorsLimits& limits = {});

/// Serialises tensors (F32, F16, BF16 or I64; moved to CPU, made contiguous) to safetensors bytes.
/// @throws WeightsError for another dtype or an empty name.
std::string serializeSafetensors(const TensorMap& tensors, const Metadata& metadata = {});
/// Writes serializeSafetensors() to `path` atomically (temporary file + rename). @throws WeightsError.
void writeSafetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata = {});

/// A module's parameters and buffers by name (detached CPU clones, suitable for writeSafetensors).
/// num_batches_tracked buffers are included (I64), like torchvision's state_dict().
TensorMap stateDict(const torch::nn::Module& module);

/// Moves the entries whose name starts with `prefix` out of `tensors` (names kept whole), e.g. "quickhead.".
TensorMap takePrefixed(TensorMap& tensors, const std::string& prefix);

/// What loadStateDict did.
struct LoadReport
{
    size_t loaded = 0;
    std::vector<std::string> missing; ///< module tensors absent from the map (left unchanged)
    std::vector<std::string> unexpected; ///< map entries the module doesn't have (ignored)
};

/**
 * Copies tensors into the module's parameters and buffers by name (under NoGradGuard, converting dtype and device).
 * A shape mismatch always throws ("shape mismatch for 'fc.weight': file has [10, 512], model expects [3, 512]").
 * With `strict`, missing or unexpected names throw too (the message lists them). Nothing is modified when it throws.
 */
LoadReport loadStateDict(torch::nn::Module& module, const TensorMap& tensors, bool strict = true);

/**
 * Loads a torchvision state dict into a Body (or the body of a Classifier): drops "fc." / "classifier." keys, then a
 * strict loadStateDict. Missing BatchNorm `num_batches_tracked` counters (timm's files) are set to 0; any other
 * missing, unexpected or misshapen tensor throws. @throws WeightsError.
 */
LoadReport loadPretrainedBody(torch::nn::Module& body, const TensorMap& torchvisionStateDict);

} // namespace Winnow::nn
