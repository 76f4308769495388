// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Winnow {
/// The version string baked in at build time.
QString version();
} // namespace Winnow
