// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/weights.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/nn/json.h"

namespace Winnow::nn {

namespace {

struct DtypeInfo
{
    const char* name;
    torch::ScalarType type;
    uint64_t size;
};

constexpr DtypeInfo kDtypes[] = { { "F32", torch::kFloat32, 4 }, { "F16", torch::kFloat16, 2 },
    { "BF16", torch::kBFloat16, 2 }, { "I64", torch::kInt64, 8 } };

const DtypeInfo* dtypeByName(const std::string& name)
{
    for (const auto& d : kDtypes)
        if (name == d.name)
            return &d;
    return nullptr;
}

const DtypeInfo* dtypeByType(torch::ScalarType t)
{
    for (const auto& d : kDtypes)
        if (t == d.type)
            return &d;
    return nullptr;
}

std::string listNames(const std::vector<std::string>& names)
{
    std::string s;
    const size_t shown = std::min<size_t>(names.size(), 8);
    for (size_t i = 0; i < shown; ++i)
        s += (i ? ", '" : "'") + names[i] + "'";
    if (names.size() > shown)
        s += " and " + std::to_string(names.size() - shown) + " more";
    return s;
}

} // namespace

SafetensorsFile parseSafetensors(
    const void* data, size_t size, const std::string& what, const SafetensorsLimits& limits)
{
    const SafetensorsLayout layout = parseSafetensorsHeader(data, size, what, limits);
    const auto* payload = static_cast<const unsigned char*>(data) + layout.dataOffset;
    SafetensorsFile result;
    result.metadata = layout.metadata;
    for (const SafetensorsEntry& e : layout.tensors) {
        const DtypeInfo* info = dtypeByName(e.dtype);
        if (!info) // parseSafetensorsHeader accepts only the dtypes of kDtypes
            throw WeightsError(what + ": tensor '" + e.name + "': unsupported dtype '" + e.dtype + "'");
        torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(info->type));
        if (e.end > e.begin)
            std::memcpy(t.data_ptr(), payload + e.begin, e.end - e.begin); // safetensors is little-endian, as x86/ARM
        result.tensors.emplace(e.name, std::move(t));
    }
    return result;
}

SafetensorsFile readSafetensorsFile(const std::string& path, const SafetensorsLimits& limits)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw WeightsError(path + ": cannot read weights file: " + ec.message());
    if (size > limits.maxDataBytes + limits.maxHeaderBytes + 8)
        throw WeightsError(path + ": file of " + std::to_string(size) + " bytes exceeds the size limit");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw WeightsError(path + ": cannot open weights file");
    std::string buffer(static_cast<size_t>(size), '\0');
    if (size > 0 && !in.read(buffer.data(), static_cast<std::streamsize>(size)))
        throw WeightsError(path + ": read error");
    return parseSafetensors(buffer.data(), buffer.size(), path, limits);
}

TensorMap readSafetensors(const std::string& path, const SafetensorsLimits& limits)
{
    return readSafetensorsFile(path, limits).tensors;
}

std::string serializeSafetensors(const TensorMap& tensors, const Metadata& metadata)
{
    std::vector<torch::Tensor> prepared;
    std::string header = "{";
    bool first = true;
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        for (auto it = metadata.begin(); it != metadata.end(); ++it) {
            if (it != metadata.begin())
                header += ",";
            header += "\"" + jsonEscape(it->first) + "\":\"" + jsonEscape(it->second) + "\"";
        }
        header += "}";
        first = false;
    }
    uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        if (name.empty() || name == "__metadata__")
            throw WeightsError("cannot write a tensor named '" + name + "'");
        if (!tensor.defined())
            throw WeightsError("cannot write undefined tensor '" + name + "'");
        const DtypeInfo* info = dtypeByType(tensor.scalar_type());
        if (!info)
            throw WeightsError("cannot write tensor '" + name + "' of dtype "
                + std::string(c10::toString(tensor.scalar_type())) + " (supported: F32, F16, BF16, I64)");
        torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * info->size;
        header += std::string(first ? "" : ",") + "\"" + jsonEscape(name) + "\":{\"dtype\":\"" + info->name
            + "\",\"shape\":[";
        for (int64_t d = 0; d < t.dim(); ++d)
            header += (d ? "," : "") + std::to_string(t.size(d));
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
        offset += bytes;
        first = false;
        prepared.push_back(t);
    }
    header += "}";
    while (header.size() % 8 != 0)
        header.push_back(' ');
    std::string out;
    out.reserve(8 + header.size() + offset);
    const uint64_t len = header.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
    out += header;
    for (const auto& t : prepared)
        out.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel() * t.element_size()));
    return out;
}

void writeSafetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata)
{
    const std::string bytes = serializeSafetensors(tensors, metadata);
    const std::string tmp = path + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw WeightsError(path + ": cannot create file");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            out.close();
            std::remove(tmp.c_str());
            throw WeightsError(path + ": write error (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw WeightsError(path + ": cannot replace file: " + ec.message());
    }
}

TensorMap takePrefixed(TensorMap& tensors, const std::string& prefix)
{
    TensorMap taken;
    for (auto it = tensors.begin(); it != tensors.end();) {
        if (it->first.rfind(prefix, 0) == 0) {
            taken.emplace(it->first, std::move(it->second));
            it = tensors.erase(it);
        } else {
            ++it;
        }
    }
    return taken;
}

TensorMap stateDict(const torch::nn::Module& module)
{
    TensorMap out;
    for (const auto& p : module.named_parameters(/*recurse=*/true))
        if (p.value().defined())
            out.emplace(p.key(), p.value().detach().to(torch::kCPU).contiguous().clone());
    for (const auto& b : module.named_buffers(/*recurse=*/true))
        if (b.value().defined())
            out.emplace(b.key(), b.value().detach().to(torch::kCPU).contiguous().clone());
    return out;
}

LoadReport loadStateDict(torch::nn::Module& module, const TensorMap& tensors, bool strict)
{
    std::map<std::string, torch::Tensor> targets;
    for (const auto& p : module.named_parameters(true))
        if (p.value().defined())
            targets.emplace(p.key(), p.value());
    for (const auto& b : module.named_buffers(true))
        if (b.value().defined())
            targets.emplace(b.key(), b.value());

    LoadReport report;
    std::vector<std::string> mismatches;
    for (const auto& [name, target] : targets) {
        auto it = tensors.find(name);
        if (it == tensors.end()) {
            report.missing.push_back(name);
            continue;
        }
        if (!it->second.defined() || it->second.sizes() != target.sizes())
            mismatches.push_back("shape mismatch for '" + name + "': file has "
                + (it->second.defined() ? shapeString(it->second.sizes().vec()) : std::string("nothing"))
                + ", model expects " + shapeString(target.sizes().vec()));
    }
    for (const auto& [name, t] : tensors)
        if (!targets.count(name))
            report.unexpected.push_back(name);
    if (!mismatches.empty()) {
        std::string msg = mismatches.front();
        if (mismatches.size() > 1)
            msg += " (and " + std::to_string(mismatches.size() - 1) + " more shape mismatches)";
        throw WeightsError(msg);
    }
    if (strict && (!report.missing.empty() || !report.unexpected.empty())) {
        std::string msg = "weights do not fit the model:";
        if (!report.missing.empty())
            msg += " missing " + std::to_string(report.missing.size()) + " key(s): " + listNames(report.missing) + ";";
        if (!report.unexpected.empty())
            msg += " unexpected " + std::to_string(report.unexpected.size())
                + " key(s): " + listNames(report.unexpected) + ";";
        msg.pop_back();
        throw WeightsError(msg);
    }
    torch::NoGradGuard noGrad;
    for (auto& [name, target] : targets) {
        auto it = tensors.find(name);
        if (it == tensors.end())
            continue;
        target.copy_(it->second);
        ++report.loaded;
    }
    return report;
}

LoadReport loadPretrainedBody(torch::nn::Module& body, const TensorMap& torchvisionStateDict)
{
    TensorMap filtered;
    for (const auto& [name, t] : torchvisionStateDict)
        if (name.rfind("fc.", 0) != 0 && name.rfind("classifier.", 0) != 0)
            filtered.emplace(name, t);
    // BatchNorm's num_batches_tracked is a step counter, not a weight: files exported without it (timm's, or
    // torchvision's before BatchNorm version 2) load with it reset to 0, as PyTorch's load_state_dict does.
    static const std::string counter = "num_batches_tracked";
    for (const auto& item : body.named_buffers(/*recurse=*/true)) {
        const std::string& name = item.key();
        if (name.size() >= counter.size() && name.compare(name.size() - counter.size(), counter.size(), counter) == 0
            && !filtered.count(name))
            filtered.emplace(name, torch::zeros({}, torch::kLong));
    }
    return loadStateDict(body, filtered, /*strict=*/true);
}

} // namespace Winnow::nn
