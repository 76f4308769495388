// SPDX-License-Identifier: GPL-3.0-or-later
// The safetensors container without tensors: header parsing and validation, torch-free (fuzzed on its own,
// tests/fuzz/fuzz_safetensors.cpp). core/nn/weights.h turns a parsed layout into tensors.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace Winnow::nn {

/// Any problem with a weights file or with fitting tensors to a module. what() names the file/tensor and the fault.
class WeightsError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/// Safetensors "__metadata__": string -> string.
using Metadata = std::map<std::string, std::string>;

/// Sanity limits applied while reading (a corrupt or hostile file must fail cleanly, not allocate wildly).
struct SafetensorsLimits
{
    uint64_t maxHeaderBytes = 64ull << 20; ///< the JSON header
    uint64_t maxDataBytes = 8ull << 30; ///< the tensor byte buffer
    uint64_t maxTensors = 100000;
};

/// One tensor's entry in the header, validated against the data section.
struct SafetensorsEntry
{
    std::string name;
    std::string dtype; ///< "F32", "F16", "BF16" or "I64"
    std::vector<int64_t> shape;
    uint64_t begin = 0; ///< byte range in the data section: [begin, end)
    uint64_t end = 0;
};

/// What a safetensors header says, every entry checked: no tensor reaches outside the data section or overlaps another.
struct SafetensorsLayout
{
    std::vector<SafetensorsEntry> tensors; ///< in header order
    Metadata metadata;
    uint64_t dataOffset = 0; ///< where the data section starts in the file (8 + header length)
    uint64_t dataSize = 0;
};

/**
 * Parses and validates a safetensors image's header: 8-byte little-endian header length, JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}, data.
 * Checks: header length sane and within the file, JSON well-formed (nesting <= 32), dtype one of F32/F16/BF16/I64
 * (others rejected by name), shape x dtype size == byte length, offsets in bounds, no overlaps, no duplicates, limits.
 * Reads only `data[0, size)`; allocates in proportion to the header, never to what it claims.
 * @throws WeightsError with a precise message (prefixed by `what`, e.g. the file name).
 */
SafetensorsLayout parseSafetensorsHeader(
    const void* data, size_t size, const std::string& what = "safetensors", const SafetensorsLimits& limits = {});

/// Bytes per element of a supported dtype name ("F32" 4, "F16" 2, "BF16" 2, "I64" 8); 0 for any other.
uint64_t safetensorsDtypeSize(const std::string& dtype);

/// "[2, 3, 224, 224]": a shape as error messages show it.
std::string shapeString(const std::vector<int64_t>& shape);

} // namespace Winnow::nn
