// SPDX-License-Identifier: GPL-3.0-or-later
// Internal: the hook calls placed in the transaction code (see testhooks.h).
#pragma once

namespace Winnow::Cleaning::Internal {

/// A numbered crash point; kills the process when the test hooks say so.
void crashPoint(const char* where);
/// Counts a file move; true when the test hooks want this one to fail.
bool injectMoveFailure();

} // namespace Winnow::Cleaning::Internal
