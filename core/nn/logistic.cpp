// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/logistic.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

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

LogisticHead trainLogisticHead(
    const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses, const LogisticOptions& options)
{
    checkInputs(features, labels, numClasses);
    torch::AutoGradMode gradMode(true); // callers often sit under NoGradGuard
    const auto x = features.to(torch::kCPU, torch::kFloat).clone();
    const auto y = labels.to(torch::kCPU, torch::kLong).clone();
    const int64_t n = x.size(0), f = x.size(1);

    LogisticHead head;
    if (n > 0) {
        head.mean = x.mean(0).detach();
        auto sd = x.std(0, /*unbiased=*/false).detach();
        head.std = torch::where(sd > 1e-6, sd, torch::ones_like(sd));
    } else {
        head.mean = torch::zeros({ f });
        head.std = torch::ones({ f });
    }
    torch::Tensor w, b = torch::zeros({ numClasses }, torch::requires_grad());
    torch::Tensor basis; // [F, r] orthonormal, when solving in the span of the rows (F > N)
    if (n > 0) {
        auto xs = (x - head.mean) / head.std;
        if (f > n) {
            // The L2-regularised optimum lies in the row span of xs = U S V^T (a component orthogonal to it adds
            // penalty but no fit), so solve for W = Wz V^T on z = U S: the same problem in r <= N dimensions,
            // far cheaper per LBFGS step for few images with wide features (e.g. 400 x 2560).
            const auto gram = torch::mm(xs, xs.t()).to(torch::kDouble);
            auto [evals, evecs] = torch::linalg::eigh(gram, "L");
            const auto keep = (evals > evals.max() * 1e-9).nonzero().flatten();
            evals = evals.index_select(0, keep);
            evecs = evecs.index_select(1, keep);
            const auto s = evals.sqrt();
            basis = (torch::mm(xs.t().to(torch::kDouble), evecs) / s).to(torch::kFloat);
            xs = (evecs * s).to(torch::kFloat);
        }
        w = torch::zeros({ numClasses, xs.size(1) }, torch::requires_grad());
        const double l2 = 1.0 / (2.0 * std::max(options.c, 1e-12) * static_cast<double>(n));
        torch::optim::LBFGS opt({ w, b },
            torch::optim::LBFGSOptions(1.0)
                .max_iter(options.maxIterations)
                .tolerance_grad(options.tolerance)
                .tolerance_change(1e-10)
                .history_size(20)
                .line_search_fn("strong_wolfe"));
        auto closure = [&]() {
            opt.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(torch::addmm(b, xs, w.t()), y) + l2 * w.pow(2).sum();
            loss.backward();
            return loss;
        };
        opt.step(closure);
    } else {
        w = torch::zeros({ numClasses, f });
    }
    head.weight = basis.defined() ? torch::mm(w.detach(), basis.t()) : w.detach().clone();
    head.bias = b.detach().clone();
    return head;
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
    uint64_t seed, const LogisticOptions& options)
{
    checkInputs(features, labels, numClasses);
    const int64_t n = features.size(0);
    if (n < 2)
        throw std::invalid_argument("K-fold scoring needs at least 2 items");
    k = static_cast<int>(std::clamp<int64_t>(k, 2, n));
    const auto x = features.to(torch::kCPU, torch::kFloat);
    const auto y = labels.to(torch::kCPU, torch::kLong);
    const auto folds = stratifiedFolds(y, k, seed);
    auto out = torch::zeros({ n, numClasses });
    for (int fold = 0; fold < k; ++fold) {
        const auto held = folds.eq(fold);
        const auto heldIdx = held.nonzero().flatten();
        if (heldIdx.numel() == 0)
            continue;
        const auto trainIdx = held.logical_not().nonzero().flatten();
        const LogisticHead head =
            trainLogisticHead(x.index_select(0, trainIdx), y.index_select(0, trainIdx), numClasses, options);
        out.index_copy_(0, heldIdx, head.probs(x.index_select(0, heldIdx)));
    }
    return out;
}

} // namespace Winnow::nn
