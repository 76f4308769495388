// SPDX-License-Identifier: GPL-3.0-or-later
// The supported architectures by name. Torch-free, so that model-file metadata can be read without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Winnow::nn {

/// The supported backbones. Names and tensor shapes of the first four match torchvision's `resnet18()` etc. exactly.
/// Tiny is Winnow's own: five stride-2 conv-BN-ReLU6 layers (8 to 64 channels, about 61k weights, no pretrained
/// weights), for tests and smoke runs that exercise the whole training path in a fraction of a ResNet's time.
enum class Arch { ResNet18, ResNet34, ResNet50, MobileNetV2, Tiny };

/// "resnet18", "resnet34", "resnet50", "mobilenet_v2", "tiny".
std::string archName(Arch arch);
/// Parses archName()'s strings (case-insensitive; "mobilenetv2" and "mobilenet-v2" accepted too).
std::optional<Arch> parseArch(std::string_view name);
/// Every supported arch, in enum order.
std::vector<Arch> allArchs();
/// Channels of the body's last feature map: 512 (resnet18/34), 2048 (resnet50), 1280 (mobilenet_v2), 64 (tiny).
int64_t archFeatureChannels(Arch arch);

} // namespace Winnow::nn
