// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/memory.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>

namespace Winnow::Memory {

namespace {

/// The highest peak of the phases before the last reset. Resetting the peak through clear_refs resets ru_maxrss
/// too (both read the kernel's high-water mark), so the process peak keeps its own memory of earlier phases.
std::atomic<double> g_earlierPeakMb { 0 };

double rusagePeakMb()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0; // kilobytes on Linux
}

} // namespace

double processPeakRssMb()
{
    return std::max(g_earlierPeakMb.load(), rusagePeakMb());
}

void resetPhasePeak()
{
    const double before = std::max(phasePeakRssMb(), rusagePeakMb());
    double earlier = g_earlierPeakMb.load();
    while (before > earlier && !g_earlierPeakMb.compare_exchange_weak(earlier, before)) { }
    std::ofstream f("/proc/self/clear_refs");
    if (f)
        f << "5";
}

double phasePeakRssMb()
{
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("VmHWM:", 0) == 0) {
            std::istringstream fields(line.substr(6));
            double kb = 0;
            if (fields >> kb)
                return kb / 1024.0;
        }
    return rusagePeakMb();
}

} // namespace Winnow::Memory
