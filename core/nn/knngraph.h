// SPDX-License-Identifier: GPL-3.0-or-later
// Approximate nearest neighbours on a navigable small-world graph (hnswlib, Debian `libhnswlib-dev`), for sets too
// large for exact search. Plain C++: no LibTorch, no Qt. nearestNeighbours() (logistic.h) decides when to use it.
#pragma once

#include <cstdint>
#include <vector>

namespace Winnow::nn {

/// Whether this build has the graph search (hnswlib was found when it was configured). Without it,
/// graphNeighbours() throws and nearestNeighbours() searches exactly at every size.
bool haveGraphSearch();

struct GraphSearchOptions
{
    int m = 16; ///< links per node (hnswlib's M; its documentation suggests 12-48)
    int efConstruction = 100; ///< candidate list while building (hnswlib's default is 200; 100 keeps recall > 0.95)
    int efSearch = 0; ///< candidate list per query; 0 = max(2 k, 64)
    uint64_t seed = 0; ///< the graph's level draws
    int threads = 1; ///< query threads (the graph itself is built on one, so that it is the same on every run)
};

/**
 * The `k` rows with the largest inner product with each of the `n` rows of `data` (row-major, `dim` floats each;
 * L2-normalise the rows first and it is cosine similarity), among the rows where `indexed` is true (empty = all
 * rows). A row is never its own neighbour. Returns n * k row indices, most similar first; -1 where fewer than k
 * were found. Approximate: the graph finds most, not always all, of the true neighbours (recall is measured by
 * `winnow_nn_bench --knn`).
 * @throws std::invalid_argument for bad sizes; std::runtime_error when the build has no graph search.
 */
std::vector<int64_t> graphNeighbours(const float* data, int64_t n, int64_t dim, int k,
    const std::vector<bool>& indexed = {}, const GraphSearchOptions& options = {});

} // namespace Winnow::nn
