// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/arch.h"

#include <algorithm>
#include <cctype>

namespace Winnow::nn {

std::string archName(Arch arch)
{
    switch (arch) {
    case Arch::ResNet18:
        return "resnet18";
    case Arch::ResNet34:
        return "resnet34";
    case Arch::ResNet50:
        return "resnet50";
    case Arch::MobileNetV2:
        return "mobilenet_v2";
    case Arch::Tiny:
        return "tiny";
    }
    return "unknown";
}

std::optional<Arch> parseArch(std::string_view name)
{
    std::string s;
    for (char ch : name) {
        if (ch == '-' || ch == '_')
            continue;
        s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    for (Arch a : allArchs()) {
        std::string n = archName(a);
        n.erase(std::remove(n.begin(), n.end(), '_'), n.end());
        if (n == s)
            return a;
    }
    return std::nullopt;
}

std::vector<Arch> allArchs()
{
    return { Arch::ResNet18, Arch::ResNet34, Arch::ResNet50, Arch::MobileNetV2, Arch::Tiny };
}

int64_t archFeatureChannels(Arch arch)
{
    switch (arch) {
    case Arch::ResNet18:
    case Arch::ResNet34:
        return 512;
    case Arch::ResNet50:
        return 2048;
    case Arch::MobileNetV2:
        return 1280;
    case Arch::Tiny:
        return 64;
    }
    return 0;
}

} // namespace Winnow::nn
