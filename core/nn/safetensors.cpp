// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "core/nn/json.h"

namespace Winnow::nn {

namespace {

std::optional<uint64_t> parseUInt(const JsonValue& v)
{
    if (v.kind != JsonValue::Kind::Number || v.text.empty() || v.text.size() > 20)
        return std::nullopt;
    uint64_t r = 0;
    for (char c : v.text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (r > (std::numeric_limits<uint64_t>::max() - d) / 10)
            return std::nullopt;
        r = r * 10 + d;
    }
    return r;
}

uint64_t readLe64(const unsigned char* p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

} // namespace

std::string shapeString(const std::vector<int64_t>& shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

uint64_t safetensorsDtypeSize(const std::string& dtype)
{
    if (dtype == "F32")
        return 4;
    if (dtype == "F16" || dtype == "BF16")
        return 2;
    if (dtype == "I64")
        return 8;
    return 0;
}

SafetensorsLayout parseSafetensorsHeader(
    const void* data, size_t size, const std::string& what, const SafetensorsLimits& limits)
{
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (size < 8)
        throw WeightsError(
            what + ": file too short (" + std::to_string(size) + " bytes) to hold a safetensors header length");
    const uint64_t headerLen = readLe64(bytes);
    if (headerLen < 2 || headerLen > limits.maxHeaderBytes)
        throw WeightsError(what + ": header length " + std::to_string(headerLen) + " is not plausible (limit "
            + std::to_string(limits.maxHeaderBytes) + " bytes); not a safetensors file?");
    if (headerLen > size - 8)
        throw WeightsError(what + ": header length " + std::to_string(headerLen) + " exceeds the file size ("
            + std::to_string(size) + " bytes): truncated file?");
    const uint64_t dataSize = size - 8 - headerLen;
    if (dataSize > limits.maxDataBytes)
        throw WeightsError(what + ": tensor data of " + std::to_string(dataSize) + " bytes exceeds the limit of "
            + std::to_string(limits.maxDataBytes));

    const std::string_view headerText(reinterpret_cast<const char*>(bytes + 8), headerLen);
    const JsonValue root = [&] {
        try {
            return parseJson(headerText);
        } catch (const JsonError& e) {
            throw WeightsError(
                what + ": corrupt header: " + e.why + " at byte " + std::to_string(e.offset) + " of the JSON");
        }
    }();
    if (root.kind != JsonValue::Kind::Object)
        throw WeightsError(what + ": corrupt header: the JSON header is not an object");
    if (root.members.size() > limits.maxTensors + 1)
        throw WeightsError(what + ": too many tensors (" + std::to_string(root.members.size()) + ")");

    SafetensorsLayout result;
    result.dataOffset = 8 + headerLen;
    result.dataSize = dataSize;
    struct Span
    {
        uint64_t begin, end;
        const std::string* name;
    };
    std::vector<Span> spans;
    std::set<std::string> seen;
    for (const auto& [name, entry] : root.members) {
        if (!seen.insert(name).second)
            throw WeightsError(what + ": corrupt header: duplicate entry '" + name + "'");
        if (name == "__metadata__") {
            if (entry.kind != JsonValue::Kind::Object)
                throw WeightsError(what + ": corrupt header: __metadata__ is not an object");
            for (const auto& [k, v] : entry.members) {
                if (v.kind != JsonValue::Kind::String)
                    throw WeightsError(what + ": corrupt header: __metadata__ value '" + k + "' is not a string");
                result.metadata[k] = v.text;
            }
            continue;
        }
        const std::string where = what + ": tensor '" + name + "': ";
        if (name.empty())
            throw WeightsError(what + ": corrupt header: empty tensor name");
        if (entry.kind != JsonValue::Kind::Object)
            throw WeightsError(where + "entry is not an object");
        const JsonValue* dtype = nullptr;
        const JsonValue* shape = nullptr;
        const JsonValue* offsets = nullptr;
        for (const auto& [k, v] : entry.members) {
            if (k == "dtype")
                dtype = &v;
            else if (k == "shape")
                shape = &v;
            else if (k == "data_offsets")
                offsets = &v;
        }
        if (!dtype || dtype->kind != JsonValue::Kind::String)
            throw WeightsError(where + "missing or non-string \"dtype\"");
        if (!shape || shape->kind != JsonValue::Kind::Array)
            throw WeightsError(where + "missing or non-array \"shape\"");
        if (!offsets || offsets->kind != JsonValue::Kind::Array || offsets->items.size() != 2)
            throw WeightsError(where + "\"data_offsets\" must be an array [begin, end]");
        const uint64_t elementSize = safetensorsDtypeSize(dtype->text);
        if (elementSize == 0)
            throw WeightsError(where + "unsupported dtype '" + dtype->text + "' (supported: F32, F16, BF16, I64)");
        std::vector<int64_t> dims;
        uint64_t numel = 1;
        bool overflow = false;
        for (const auto& d : shape->items) {
            const auto n = parseUInt(d);
            if (!n || *n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                throw WeightsError(where + "shape entries must be non-negative integers");
            if (*n != 0 && numel > std::numeric_limits<uint64_t>::max() / *n)
                overflow = true;
            else
                numel *= *n;
            dims.push_back(static_cast<int64_t>(*n));
        }
        if (std::find(dims.begin(), dims.end(), 0) != dims.end()) { // an empty tensor, whatever its other sides
            numel = 0;
            overflow = false;
        }
        if (dims.size() > 16)
            throw WeightsError(where + "too many dimensions (" + std::to_string(dims.size()) + ")");
        const auto begin = parseUInt(offsets->items[0]);
        const auto end = parseUInt(offsets->items[1]);
        if (!begin || !end)
            throw WeightsError(where + "data_offsets must be non-negative integers");
        if (*begin > *end)
            throw WeightsError(
                where + "data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) + "] are reversed");
        if (*end > dataSize)
            throw WeightsError(where + "data_offsets end " + std::to_string(*end) + " lies beyond the data section ("
                + std::to_string(dataSize) + " bytes): truncated file?");
        if (overflow || numel > std::numeric_limits<uint64_t>::max() / elementSize
            || numel * elementSize != *end - *begin)
            throw WeightsError(where + "shape " + shapeString(dims) + " x " + dtype->text + " needs "
                + (overflow ? std::string("an impossible number of") : std::to_string(numel * elementSize))
                + " bytes but data_offsets span " + std::to_string(*end - *begin));
        spans.push_back({ *begin, *end, &name });
        result.tensors.push_back(SafetensorsEntry { name, dtype->text, std::move(dims), *begin, *end });
    }
    std::sort(spans.begin(), spans.end(),
        [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    for (size_t i = 1; i < spans.size(); ++i) {
        if (spans[i].begin < spans[i - 1].end)
            throw WeightsError(what + ": tensors '" + *spans[i - 1].name + "' and '" + *spans[i].name
                + "' have overlapping data_offsets");
    }
    return result;
}

} // namespace Winnow::nn
