// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

/// Peak memory of this process, for the benchmarks' figures (plain C++; Linux figures, a portable fallback).
namespace Winnow::Memory {

/// Peak resident set size since the process started, MiB: getrusage's ru_maxrss, and the peaks of the phases before
/// the last resetPhasePeak() (which resets ru_maxrss too).
double processPeakRssMb();
/// Starts a new phase: the kernel forgets the peak so far (`/proc/self/clear_refs` = 5, Linux >= 4.0).
void resetPhasePeak();
/// Peak resident set size since the last resetPhasePeak() (VmHWM of `/proc/self/status`), MiB; the process peak
/// where /proc cannot be read (ru_maxrss, which the reset resets as well).
double phasePeakRssMb();

} // namespace Winnow::Memory
