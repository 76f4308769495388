// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/threads.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#ifdef __linux__
#include <sched.h>
#endif

namespace Winnow::threads {

int logicalCpus()
{
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return std::max(1, CPU_COUNT(&set));
#endif
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int physicalCores()
{
    const int logical = logicalCpus();
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return logical;
    // Count distinct (physical id, core id) among the CPUs this process may use.
    std::ifstream in("/proc/cpuinfo");
    std::set<std::pair<int, int>> cores;
    std::string line;
    int processor = -1, physical = 0;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string key = line.substr(0, colon);
        while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back())))
            key.pop_back();
        const std::string value = line.substr(colon + 1);
        try {
            if (key == "processor") {
                processor = std::stoi(value);
                physical = 0;
            } else if (key == "physical id") {
                physical = std::stoi(value);
            } else if (key == "core id" && processor >= 0 && processor < CPU_SETSIZE && CPU_ISSET(processor, &set)) {
                cores.emplace(physical, std::stoi(value));
            }
        } catch (const std::exception&) { }
    }
    if (!cores.empty())
        return std::max(1, std::min(static_cast<int>(cores.size()), logical));
#endif
    return logical;
}

int computeThreads(int requested)
{
    return requested > 0 ? requested : physicalCores();
}

int loaderThreads(int cpus)
{
    if (cpus <= 2)
        return 1;
    return std::clamp(cpus / 2, 1, 8);
}

int loaderThreads()
{
    return loaderThreads(logicalCpus());
}

} // namespace Winnow::threads
