// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace Winnow {

/// splitmix64 (Steele, Lea & Flood 2014): adds the golden-ratio increment to `x` and scrambles it into 64 well-mixed
/// bits. The seeded train/valid split, the training augmentations' seeds and the demo dataset's random stream all
/// come from it, so changing it reshuffles every user's split: tst_dataset `splitIsPinned` pins its values.
constexpr quint64 splitmix64(quint64 x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static_assert(splitmix64(0) == 0xE220A8397B1DCDAFull, "splitmix64's first output from state 0");

} // namespace Winnow
