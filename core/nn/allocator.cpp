// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/allocator.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace Winnow::nn {

bool tuneAllocatorForTensors()
{
#if defined(__GLIBC__)
    static bool tuned = false;
    static std::once_flag once;
    std::call_once(once, [] {
        const char* mode = std::getenv("WINNOW_MALLOC");
        if (mode && std::strcmp(mode, "default") == 0)
            return;
        constexpr int kOneGiB = 1 << 30;
        tuned = mallopt(M_ARENA_MAX, 1) == 1;
        tuned = (mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1) && tuned;
        tuned = (mallopt(M_TRIM_THRESHOLD, kOneGiB) == 1) && tuned;
    });
    return tuned;
#else
    return false;
#endif
}

namespace {
// Before main() and so before any thread has its own arena: a worker thread that already owns one keeps it, and
// thread arenas cannot hold blocks above 64 MiB, so setting this later (say, when training starts) is too late for
// a GUI's worker thread. Linked in whenever setCpuThreads() is.
[[maybe_unused]] const bool g_tunedAtStartup = tuneAllocatorForTensors();
} // namespace

void releaseFreeMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

} // namespace Winnow::nn
