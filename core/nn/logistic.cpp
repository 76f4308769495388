// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/logistic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include "core/nn/knngraph.h"

namespace Winnow::nn {

namespace {

void checkInputs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses)
{
    if (!features.defined() || features.dim() != 2)
        throw std::invalid_argument("logistic head: features must be a 2-D tensor [N, F]");
    if (!labels.defined() || labels.dim() != 1 || labels.size(0) != features.size(0))
        throw std::invalid_argument("logistic head: labels must be a 1-D tensor with one entry per feature row");
    if (numClasses < 1)
        throw std::invalid_argument("logistic head: numClasses must be >= 1");
    if (labels.numel() > 0) {
        const auto l = labels.to(torch::kCPU, torch::kLong);
        if (l.min().item<int64_t>() < 0 || l.max().item<int64_t>() >= numClasses)
            throw std::invalid_argument("logistic head: labels must lie in [0, " + std::to_string(numClasses) + ")");
    }
}

} // namespace

torch::Tensor LogisticHead::logits(const torch::Tensor& features) const
{
    torch::NoGradGuard noGrad;
    const auto x = features.to(torch::kCPU, torch::kFloat);
    return torch::addmm(bias, (x - mean) / std, weight.t());
}

torch::Tensor LogisticHead::probs(const torch::Tensor& features) const
{
    return torch::softmax(logits(features), 1);
}

torch::Tensor LogisticHead::foldedWeight() const
{
    return (weight / std.unsqueeze(0)).contiguous();
}

TensorMap LogisticHead::toTensors(const std::string& prefix) const
{
    return { { prefix + "mean", mean }, { prefix + "std", std }, { prefix + "weight", weight },
        { prefix + "bias", bias } };
}

LogisticHead LogisticHead::fromTensors(const TensorMap& tensors, const std::string& prefix)
{
    LogisticHead h;
    auto get = [&](const char* name) {
        auto it = tensors.find(prefix + name);
        if (it == tensors.end())
            throw WeightsError("logistic head: missing tensor '" + prefix + name + "'");
        return it->second.to(torch::kCPU, torch::kFloat).contiguous();
    };
    h.mean = get("mean");
    h.std = get("std");
    h.weight = get("weight");
    h.bias = get("bias");
    if (h.weight.dim() != 2 || h.mean.dim() != 1 || h.std.sizes() != h.mean.sizes() || h.bias.dim() != 1
        || h.weight.size(1) != h.mean.size(0) || h.weight.size(0) != h.bias.size(0))
        throw WeightsError("logistic head: inconsistent shapes (weight " + std::to_string(h.weight.dim())
            + "-D, mean/std/bias must match its [C, F])");
    return h;
}

namespace {

/**
 * The fit behind trainLogisticHead(). `init` (optional) warm-starts the weights: a head for similar data (the
 * K-fold heads start from the head fitted on all rows, which cuts their LBFGS iterations severalfold).
 * Gradients are written analytically (no autograd graph per evaluation): the loss is convex and tiny, so the
 * per-evaluation overhead of autograd dominated the fit.
 */
LogisticHead fitHead(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    const LogisticOptions& options, const LogisticHead* init)
{
    torch::NoGradGuard noGrad;
    const auto x = features.to(torch::kCPU, torch::kFloat).contiguous();
    const auto y = labels.to(torch::kCPU, torch::kLong).contiguous();
    const int64_t n = x.size(0), f = x.size(1);

    LogisticHead head;
    if (n > 0) {
        head.mean = options.fitIntercept ? x.mean(0) : torch::zeros({ f });
        auto sd = x.std(0, /*unbiased=*/false);
        head.std = torch::where(sd > 1e-6, sd, torch::ones_like(sd));
    } else {
        head.mean = torch::zeros({ f });
        head.std = torch::ones({ f });
    }
    if (n == 0) {
        head.weight = torch::zeros({ numClasses, f });
        head.bias = torch::zeros({ numClasses });
        return head;
    }
    const auto xs = ((x - head.mean) / head.std).contiguous();
    const bool warm = init && init->weight.defined() && init->weight.size(0) == numClasses && init->weight.size(1) == f
        && init->bias.defined() && init->bias.numel() == numClasses;
    // Solved in the full feature space: projecting onto the row span (F > N) needs an eigendecomposition and a
    // double-precision product that cost ~1 s with Debian's BLAS, ten times the whole LBFGS run.
    torch::Tensor w = warm ? init->weight.clone() : torch::zeros({ numClasses, f });
    torch::Tensor w0; // the prior in standardised space (x / std): weight * std
    if (options.prior.defined() && options.prior.dim() == 2 && options.prior.size(1) == f) {
        w0 = torch::zeros({ numClasses, f });
        const int64_t rows = std::min<int64_t>(numClasses, options.prior.size(0));
        w0.slice(0, 0, rows).copy_(options.prior.slice(0, 0, rows).to(torch::kCPU, torch::kFloat) * head.std);
        w = w0.clone();
    }
    torch::Tensor b = warm && options.fitIntercept ? init->bias.clone() : torch::zeros({ numClasses });
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    std::vector<torch::Tensor> params { w };
    if (options.fitIntercept)
        params.push_back(b);
    const double l2 = 1.0 / (2.0 * std::max(options.c, 1e-12) * static_cast<double>(n));
    const auto target = y.unsqueeze(1);
    const auto minusOne = torch::full({ n, 1 }, -1.0f);
    torch::optim::LBFGS opt(params,
        torch::optim::LBFGSOptions(1.0)
            .max_iter(options.maxIterations)
            .tolerance_grad(options.tolerance)
            .tolerance_change(1e-10)
            .history_size(20)
            .line_search_fn("strong_wolfe"));
    int evaluations = 0;
    auto closure = [&]() -> torch::Tensor {
        ++evaluations;
        torch::NoGradGuard inner;
        const auto logp = torch::log_softmax(torch::addmm(b, xs, w.t()), 1);
        const auto dw = w0.defined() ? w - w0 : w;
        const auto loss = -logp.gather(1, target).mean() + l2 * dw.pow(2).sum();
        auto g = logp.exp(); // softmax - onehot, averaged over rows
        g.scatter_add_(1, target, minusOne);
        g.div_(static_cast<double>(n));
        w.mutable_grad() = torch::addmm(dw, g.t(), xs, 2.0 * l2, 1.0);
        b.mutable_grad() = options.fitIntercept ? g.sum(0) : torch::zeros_like(b);
        return loss;
    };
    const auto t0 = std::chrono::steady_clock::now();
    opt.step(closure);
    if (std::getenv("WINNOW_PROFILE"))
        std::fprintf(stderr, "[profile] logistic fit %lldx%lld (warm=%d): %d evaluations, %.3f s\n", (long long)n,
            (long long)f, int(warm), evaluations,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    head.weight = w.detach().clone();
    head.bias = b.detach().clone();
    return head;
}

} // namespace

LogisticHead trainLogisticHead(
    const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses, const LogisticOptions& options)
{
    checkInputs(features, labels, numClasses);
    return fitHead(features, labels, numClasses, options, nullptr);
}

torch::Tensor stratifiedFolds(const torch::Tensor& labels, int k, uint64_t seed)
{
    const auto l = labels.to(torch::kCPU, torch::kLong).contiguous();
    const int64_t n = l.numel();
    k = std::max(k, 1);
    auto folds = torch::zeros({ n }, torch::kLong);
    if (n == 0)
        return folds;
    const int64_t* lp = l.data_ptr<int64_t>();
    int64_t* fp = folds.data_ptr<int64_t>();
    std::map<int64_t, std::vector<int64_t>> byClass;
    for (int64_t i = 0; i < n; ++i)
        byClass[lp[i]].push_back(i);
    std::mt19937_64 rng(seed);
    int64_t offset = 0; // continue the deal across classes so fold sizes stay balanced
    for (auto& [cls, idx] : byClass) {
        // Fisher-Yates with our own draws: std::shuffle's order is implementation-defined.
        for (size_t i = idx.size(); i > 1; --i)
            std::swap(idx[i - 1], idx[rng() % i]);
        for (size_t i = 0; i < idx.size(); ++i)
            fp[idx[i]] = (offset + static_cast<int64_t>(i)) % k;
        offset = (offset + static_cast<int64_t>(idx.size())) % k;
    }
    return folds;
}

torch::Tensor kFoldLogisticProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses, int k,
    uint64_t seed, const LogisticOptions& options, const LogisticHead* init)
{
    checkInputs(features, labels, numClasses);
    const int64_t n = features.size(0);
    if (n < 2)
        throw std::invalid_argument("K-fold scoring needs at least 2 items");
    k = static_cast<int>(std::clamp<int64_t>(k, 2, n));
    KFoldHeads heads;
    if (init)
        heads.all = *init;
    return kFoldLogisticProbs(features, labels, numClasses, stratifiedFolds(labels, k, seed), options, &heads);
}

torch::Tensor kFoldLogisticProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    const torch::Tensor& foldOf, const LogisticOptions& options, KFoldHeads* heads)
{
    checkInputs(features, labels, numClasses);
    const int64_t n = features.size(0);
    if (n < 2)
        throw std::invalid_argument("K-fold scoring needs at least 2 items");
    if (!foldOf.defined() || foldOf.dim() != 1 || foldOf.size(0) != n)
        throw std::invalid_argument("K-fold scoring: folds must be a 1-D tensor with one entry per feature row");
    const auto folds = foldOf.to(torch::kCPU, torch::kLong).contiguous();
    if (folds.min().item<int64_t>() < 0)
        throw std::invalid_argument("K-fold scoring: folds must be >= 0");
    const int k = static_cast<int>(folds.max().item<int64_t>() + 1);
    if (k < 2)
        throw std::invalid_argument("K-fold scoring needs at least 2 non-empty folds");
    const auto x = features.to(torch::kCPU, torch::kFloat);
    const auto y = labels.to(torch::kCPU, torch::kLong);
    KFoldHeads local;
    KFoldHeads& h = heads ? *heads : local;
    h.folds.resize(size_t(k));
    // The head on all rows starts from the previous one; every fold then starts from its own previous head, or
    // from the head on all rows (the same problem with 1/k of the rows left out).
    h.all = fitHead(x, y, numClasses, options, h.all.isValid() ? &h.all : nullptr);
    std::vector<torch::Tensor> heldIdx(static_cast<size_t>(k)), foldProbs(static_cast<size_t>(k));
    for (int fold = 0; fold < k; ++fold)
        heldIdx[size_t(fold)] = folds.eq(fold).nonzero().flatten();
    // Folds are independent and each is a chain of small ops that barely uses intra-op threads: run them side by
    // side. Each fold's result depends only on its own rows, so the output is the same for any thread count.
    const int workers = std::clamp(torch::get_num_threads(), 1, k);
    std::atomic<int> next { 0 };
    std::exception_ptr failure;
    std::mutex failureMutex;
    auto work = [&] {
        try {
            for (int fold = next++; fold < k; fold = next++) {
                auto& head = h.folds[size_t(fold)];
                if (heldIdx[size_t(fold)].numel() == 0) {
                    head = {};
                    continue;
                }
                const auto trainIdx = folds.ne(fold).nonzero().flatten();
                const LogisticHead* start = head.isValid() ? &head : &h.all;
                head = fitHead(x.index_select(0, trainIdx), y.index_select(0, trainIdx), numClasses, options, start);
                foldProbs[size_t(fold)] = head.probs(x.index_select(0, heldIdx[size_t(fold)]));
            }
        } catch (...) {
            std::lock_guard lock(failureMutex);
            failure = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < workers; ++t)
        threads.emplace_back(work);
    work();
    for (auto& t : threads)
        t.join();
    if (failure)
        std::rethrow_exception(failure);
    auto out = torch::zeros({ n, numClasses });
    for (int fold = 0; fold < k; ++fold)
        if (foldProbs[size_t(fold)].defined())
            out.index_copy_(0, heldIdx[size_t(fold)], foldProbs[size_t(fold)]);
    return out;
}

namespace {

/// Rows of unit-norm `x` [N, F] projected on their `dims` leading principal directions (of the uncentred second
/// moment, which keeps inner products best; estimated on at most 20,000 seeded rows) and normalised again.
torch::Tensor principalProjection(const torch::Tensor& x, int64_t dims, uint64_t seed)
{
    const int64_t n = x.size(0);
    constexpr int64_t kSampleRows = 20000;
    auto sample = x;
    if (n > kSampleRows) {
        std::vector<int64_t> rows(static_cast<size_t>(n));
        std::iota(rows.begin(), rows.end(), 0);
        std::mt19937_64 rng(seed);
        std::shuffle(rows.begin(), rows.end(), rng);
        rows.resize(size_t(kSampleRows));
        std::sort(rows.begin(), rows.end());
        sample = x.index_select(0, torch::tensor(rows, torch::kInt64));
    }
    const auto moment = torch::mm(sample.t(), sample).to(torch::kDouble);
    const auto eig = torch::linalg_eigh(moment); // ascending eigenvalues
    const auto basis = std::get<1>(eig).slice(1, x.size(1) - dims).to(torch::kFloat);
    auto y = torch::mm(x, basis);
    return (y / y.norm(2, 1, true).clamp_min(1e-12)).contiguous();
}

} // namespace

Neighbours nearestNeighbours(
    const torch::Tensor& features, int k, const torch::Tensor& skip, uint64_t seed, bool standardise, int64_t exactUpTo)
{
    if (!features.defined() || features.dim() != 2)
        throw std::invalid_argument("nearestNeighbours: features must be [N, F]");
    const int64_t n = features.size(0);
    if (skip.defined() && (skip.dim() != 1 || skip.size(0) != n))
        throw std::invalid_argument("nearestNeighbours: skip must be [N]");
    torch::NoGradGuard noGrad;
    const int64_t kk = std::clamp<int64_t>(k, 0, std::max<int64_t>(n - 1, 0));
    Neighbours out { torch::empty({ n, kk }, torch::kInt64), torch::empty({ n, kk }, torch::kFloat) };
    if (kk == 0)
        return out;
    auto x = features.to(torch::kCPU, torch::kFloat);
    if (standardise)
        x = (x - x.mean(0, true)) / (x.std(0, true, true).clamp_min(1e-6));
    x = (x / x.norm(2, 1, true).clamp_min(1e-12)).contiguous();
    const auto skipped = skip.defined() ? skip.to(torch::kCPU, torch::kBool).contiguous() : torch::Tensor();
    const bool anySkipped = skipped.defined() && skipped.any().item<bool>();
    const int64_t searchable = anySkipped ? n - skipped.sum().item<int64_t>() : n;

    // Large sets: candidates from hnswlib's graph on a 128-dimensional principal projection, three times as many as
    // asked (at least 32), then ranked by their exact similarity in the full space. Exact search costs N^2 F:
    // minutes at 100,000 rows; this, seconds (winnow_nn_bench --knn prints both, and the recall).
    const int64_t candidates = std::max<int64_t>(3 * kk, 32);
    if (n > exactUpTo && haveGraphSearch() && searchable > candidates + 1) {
        constexpr int64_t kGraphDims = 128;
        const auto y = x.size(1) > kGraphDims ? principalProjection(x, kGraphDims, seed) : x;
        std::vector<bool> indexed;
        if (anySkipped) {
            indexed.resize(size_t(n));
            const bool* sp = skipped.data_ptr<bool>();
            for (int64_t i = 0; i < n; ++i)
                indexed[size_t(i)] = !sp[i];
        }
        GraphSearchOptions graphOptions;
        graphOptions.seed = seed;
        graphOptions.threads = std::max(1, at::get_num_threads());
        const auto found = graphNeighbours(y.data_ptr<float>(), n, y.size(1), int(candidates), indexed, graphOptions);
        auto cand = torch::tensor(found, torch::kInt64).view({ n, candidates });
        const auto missing = cand < 0;
        cand.masked_fill_(missing, 0);
        constexpr int64_t kBlock = 512;
        for (int64_t b = 0; b < n; b += kBlock) {
            const int64_t e = std::min(n, b + kBlock);
            const auto c = cand.slice(0, b, e);
            const auto rows = x.index_select(0, c.reshape(-1)).view({ e - b, candidates, x.size(1) });
            auto sim = torch::bmm(rows, x.slice(0, b, e).unsqueeze(2)).squeeze(2);
            sim.masked_fill_(missing.slice(0, b, e), -4);
            auto [values, order] = sim.topk(kk, 1);
            out.indices.slice(0, b, e).copy_(c.gather(1, order));
            out.similarities.slice(0, b, e).copy_(values);
        }
        return out;
    }

    constexpr int64_t kBlock = 2048;
    for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t e = std::min(n, b + kBlock);
        auto sim = torch::mm(x.slice(0, b, e), x.t());
        if (anySkipped)
            sim.masked_fill_(skipped.unsqueeze(0).expand_as(sim), -3);
        sim.diagonal(b).fill_(-4); // row i - b of the block is row i: its column is i; below any skipped row
        auto [values, idx] = sim.topk(kk, 1);
        out.indices.slice(0, b, e).copy_(idx);
        out.similarities.slice(0, b, e).copy_(values);
    }
    return out;
}

torch::Tensor neighbourLabelProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses, int k,
    double smoothing, uint64_t seed)
{
    if (features.dim() != 2 || labels.dim() != 1 || labels.size(0) != features.size(0))
        throw std::invalid_argument("neighbourLabelProbs: features must be [N, F] and labels [N]");
    if (numClasses < 1)
        throw std::invalid_argument("neighbourLabelProbs: numClasses must be >= 1");
    torch::NoGradGuard noGrad;
    const int64_t n = features.size(0);
    auto lab = labels.to(torch::kCPU, torch::kInt64).contiguous();
    if (n > 0 && lab.max().item<int64_t>() >= numClasses)
        throw std::invalid_argument("neighbourLabelProbs: label out of range");
    auto out = torch::full({ n, numClasses }, 1.0 / double(numClasses), torch::kFloat);
    if (n < 2 || k < 1)
        return out;
    // Unlabeled rows never vote.
    const Neighbours near = nearestNeighbours(features, k, lab < 0, seed);
    const int64_t kk = near.indices.size(1);
    const auto idx = near.indices.contiguous();
    const auto* ip = idx.data_ptr<int64_t>();
    const auto* labp = lab.data_ptr<int64_t>();
    auto acc = out.accessor<float, 2>();
    for (int64_t i = 0; i < n; ++i) {
        std::vector<double> votes(size_t(numClasses), smoothing);
        int64_t cast = 0;
        for (int64_t j = 0; j < kk; ++j) {
            const int64_t l = labp[ip[i * kk + j]];
            if (l >= 0) {
                votes[size_t(l)] += 1;
                ++cast;
            }
        }
        const double total = double(cast) + double(numClasses) * smoothing;
        if (total <= 0)
            continue;
        for (int64_t c = 0; c < numClasses; ++c)
            acc[i][c] = float(votes[size_t(c)] / total);
    }
    return out;
}

} // namespace Winnow::nn
