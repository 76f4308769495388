// SPDX-License-Identifier: GPL-3.0-or-later
// Process-wide tuning of the C allocator for tensor work. No torch, no Qt: callable from main() before anything else.
#pragma once

namespace Winnow::nn {

/**
 * Makes glibc's malloc keep large freed blocks for reuse instead of returning them to the kernel after every batch.
 *
 * CPU LibTorch allocates activations with plain malloc. glibc serves blocks above its mmap threshold (at most 32 MiB,
 * and per-thread arenas top out at 64 MiB heaps) with a fresh mmap and unmaps them on free, so every batch pays page
 * faults and kernel zeroing for tens of megabytes per layer. Measured here (2-core EPYC, MobileNetV2 fine-tune on
 * bears-small, batch 32): 85 s -> 17 s per epoch at 224 px, 13 s -> 6 s at 128 px, same losses, same peak RSS.
 * So: one arena (training runs in a worker thread; extra arenas could not hold the blocks), mmap only above 1 GiB,
 * trim the heap top only above 1 GiB. releaseFreeMemory() hands the cached memory back after a job.
 *
 * Idempotent; a no-op off glibc, or when WINNOW_MALLOC=default is set (to compare, or if it misbehaves).
 * Returns true if it changed the settings (now or on an earlier call).
 */
bool tuneAllocatorForTensors();

/// Returns free heap memory to the system (malloc_trim) after a training or scoring job. No-op off glibc.
void releaseFreeMemory();

} // namespace Winnow::nn
