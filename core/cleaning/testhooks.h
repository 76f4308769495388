// SPDX-License-Identifier: GPL-3.0-or-later
// Fault injection for the cleaning tests. Inert unless a test (or an environment variable) switches it on.
#pragma once

#include <QList>

namespace Winnow::Cleaning::TestHooks {

/**
 * Crash points are numbered places in the transaction code (after the journal is written, before and after each
 * move, after each log record, before the commit, ...). When the running count reaches `n` (1-based) the process
 * kills itself with SIGKILL, like a power cut for everything not yet written. 0 switches it off. The environment
 * variable WINNOW_CRASH_AT=n does the same for a child process (read once, at the first crash point).
 * The count is process-wide and starts at the first crash point after setCrashAt().
 */
void setCrashAt(int n);
/// Crash points passed since the last setCrashAt()/reset() (or process start).
int crashPointsPassed();

/// Makes the listed file moves (1-based, counted across operations from this call on) fail as if with EIO. The
/// environment variable WINNOW_FAIL_MOVES="3,4" does the same.
void setFailingMoves(const QList<int>& moves);

/// fsync() on (default) or off. Off is for tests that kill processes or run thousands of transactions: fsync only
/// matters for power loss. The environment variable WINNOW_TEST_NO_FSYNC=1 switches it off for a child process.
void setSyncEnabled(bool on);

/// Everything off (fsync back on), counters to zero.
void reset();

} // namespace Winnow::Cleaning::TestHooks
