// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/knngraph.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#ifdef WINNOW_HAVE_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

namespace Winnow::nn {

bool haveGraphSearch()
{
#ifdef WINNOW_HAVE_HNSWLIB
    return true;
#else
    return false;
#endif
}

std::vector<int64_t> graphNeighbours(const float* data, int64_t n, int64_t dim, int k, const std::vector<bool>& indexed,
    const GraphSearchOptions& options)
{
    if (n < 0 || dim < 1 || k < 0 || (n > 0 && !data))
        throw std::invalid_argument("graphNeighbours: bad sizes");
    if (!indexed.empty() && int64_t(indexed.size()) != n)
        throw std::invalid_argument("graphNeighbours: indexed must have one entry per row");
    std::vector<int64_t> out(size_t(n) * size_t(k), -1);
    if (n == 0 || k == 0)
        return out;
#ifndef WINNOW_HAVE_HNSWLIB
    (void)options;
    throw std::runtime_error("graphNeighbours: this build has no graph search (hnswlib)");
#else
    const auto isIndexed = [&](int64_t i) { return indexed.empty() || indexed[size_t(i)]; };
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i)
        count += isIndexed(i) ? 1 : 0;
    if (count == 0)
        return out;
    hnswlib::InnerProductSpace space(static_cast<size_t>(dim));
    hnswlib::HierarchicalNSW<float> graph(&space, size_t(count), size_t(std::max(2, options.m)),
        size_t(std::max(k + 1, options.efConstruction)), size_t(options.seed));
    // One thread, in row order: the same graph on every run (hnswlib's parallel inserts depend on timing).
    for (int64_t i = 0; i < n; ++i)
        if (isIndexed(i))
            graph.addPoint(data + i * dim, hnswlib::labeltype(i));
    // A query may find the row itself: ask for one more.
    const int want = int(std::min<int64_t>(k + 1, count));
    graph.setEf(size_t(options.efSearch > 0 ? std::max(options.efSearch, want) : std::max(2 * want, 64)));
    std::atomic<int64_t> next { 0 };
    std::exception_ptr failure;
    std::mutex failureMutex;
    const auto work = [&] {
        try {
            for (int64_t i = next++; i < n; i = next++) {
                auto found = graph.searchKnn(data + i * dim, size_t(want)); // a max-heap on distance: farthest on top
                std::vector<int64_t> row;
                row.reserve(found.size());
                while (!found.empty()) {
                    if (int64_t(found.top().second) != i)
                        row.push_back(int64_t(found.top().second));
                    found.pop();
                }
                std::reverse(row.begin(), row.end());
                const size_t keep = std::min(row.size(), size_t(k));
                std::copy_n(row.begin(), keep, out.begin() + i * k);
            }
        } catch (...) {
            std::lock_guard lock(failureMutex);
            failure = std::current_exception();
            next = n;
        }
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < std::max(1, options.threads); ++t)
        workers.emplace_back(work);
    work();
    for (auto& t : workers)
        t.join();
    if (failure)
        std::rethrow_exception(failure);
    return out;
#endif
}

} // namespace Winnow::nn
