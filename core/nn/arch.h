// SPDX-License-Identifier: GPL-3.0-or-later
// The supported architectures by name. Torch-free, so that model-file metadata can be read without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Winnow::nn {

/// The supported backbones. Names and tensor shapes match torchvision's `resnet18()` etc. exactly.
enum class Arch { ResNet18, ResNet34, ResNet50, MobileNetV2 };

/// "resnet18", "resnet34", "resnet50", "mobilenet_v2".
std::string archName(Arch arch);
/// Parses archName()'s strings (case-insensitive; "mobilenetv2" and "mobilenet-v2" accepted too).
std::optional<Arch> parseArch(std::string_view name);
/// Every supported arch, in enum order.
std::vector<Arch> allArchs();
/// Channels of the body's last feature map: 512 (resnet18/34), 2048 (resnet50), 1280 (mobilenet_v2).
int64_t archFeatureChannels(Arch arch);

} // namespace Winnow::nn
