// SPDX-License-Identifier: GPL-3.0-or-later
// Fault injection for the cleaning tests. Inert unless a test calls these functions: nothing in the shipped program
// (no environment variable, no option) can switch it on.
#pragma once

#include <functional>

#include <QList>

namespace Winnow::Cleaning::TestHooks {

/**
 * Crash points are numbered places in the transaction code (after the journal is written, before and after each
 * move, after each log record, before the commit, ...). When the running count reaches `n` (1-based) the process
 * kills itself with SIGKILL, like a power cut for everything not yet written. 0 switches it off. Test child
 * processes (tests/cleaning/cleaning_crash_helper) take n from their own environment and call this.
 * The count is process-wide and starts at the first crash point after setCrashAt().
 */
void setCrashAt(int n);
/// At crash point `n` (counted like setCrashAt's, from this call on) calls `pause` with the point's name instead of
/// crashing, in the thread that reached it, with every lock the transaction holds still held: a test child waits
/// there so that another process can try the same dataset. 0 (or reset()) switches it off.
void setPauseAt(int n, std::function<void(const char* where)> pause);

/// Makes the listed file moves (1-based, counted across operations from this call on) fail as if with EIO.
void setFailingMoves(const QList<int>& moves);

/// fsync() on (default) or off. Off is for tests that kill processes or run thousands of transactions: fsync only
/// matters for power loss.
void setSyncEnabled(bool on);

/// Everything off (fsync back on), counters to zero.
void reset();

} // namespace Winnow::Cleaning::TestHooks
