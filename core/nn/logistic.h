// SPDX-License-Identifier: GPL-3.0-or-later
// Multinomial logistic-regression heads on cached features: K-fold out-of-sample scoring and fast head retraining.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "core/nn/weights.h"

namespace Winnow::nn {

struct LogisticOptions
{
    double c = 1.0; ///< inverse L2 strength as in scikit-learn: loss = mean CE + ||W||^2 / (2 * c * N)
    int maxIterations = 100; ///< LBFGS iterations (strong-Wolfe line search), full batch (scikit-learn's default)
    double tolerance = 1e-5; ///< gradient tolerance (max-abs; probabilities move by < 1e-4 below it)
    /// false: no intercept and no centring (mean 0, bias 0; features only scaled by their std), so the head folds
    /// into a bias-free Linear layer: weight / std (fastai's last head layer has no bias).
    bool fitIntercept = true;
    /// Optional [numClasses, F] weight on raw features (e.g. a fine-tuned last layer): the fit starts there and the
    /// L2 penalty pulls towards it instead of towards zero (rows of classes it lacks stay pulled to zero).
    torch::Tensor prior;
};

/**
 * A linear softmax head over standardised features: probs = softmax(((x - mean) / std) W^T + b).
 * All tensors float32 on the CPU.
 */
struct LogisticHead
{
    torch::Tensor mean; ///< [F]
    torch::Tensor std; ///< [F] (constant features get 1)
    torch::Tensor weight; ///< [C, F]
    torch::Tensor bias; ///< [C]

    /// features [N, F] (any device/dtype) -> logits [N, C] on the CPU.
    torch::Tensor logits(const torch::Tensor& features) const;
    /// features [N, F] -> probabilities [N, C] on the CPU.
    torch::Tensor probs(const torch::Tensor& features) const;
    bool isValid() const
    {
        return weight.defined();
    }
    /// The head as one Linear weight [C, F] on raw features (weight / std); only exact for a head without intercept
    /// (mean 0, bias 0), see LogisticOptions::fitIntercept.
    torch::Tensor foldedWeight() const;

    /// "mean", "std", "weight", "bias" for writeSafetensors (prefix prepended).
    TensorMap toTensors(const std::string& prefix = "") const;
    /// Inverse of toTensors. @throws WeightsError if a tensor is missing or shapes disagree.
    static LogisticHead fromTensors(const TensorMap& tensors, const std::string& prefix = "");
};

/**
 * Fits a head on features [N, F] with int64 labels [N] in [0, numClasses). Deterministic (full-batch LBFGS from zero,
 * analytic gradients).
 * @throws std::invalid_argument for bad shapes/labels.
 */
LogisticHead trainLogisticHead(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    const LogisticOptions& options = {});

/**
 * Stratified K-fold assignment: per class, items shuffled with `seed` and dealt round-robin into k folds.
 * Returns int64 [N] with values in [0, k).
 */
torch::Tensor stratifiedFolds(const torch::Tensor& labels, int k, uint64_t seed);

/**
 * Out-of-sample probabilities [N, numClasses]: for each of K stratified folds, trainLogisticHead on the other folds
 * (standardised with their statistics) and predict the held-out fold. k is clamped to [2, N]. The fold fits start
 * from the head fitted on all rows (itself warm-started from `init`, e.g. the previous round's head, when given and
 * shaped [numClasses, F]) and run side by side on up to torch::get_num_threads() threads; the result does
 * not depend on the thread count.
 * @throws std::invalid_argument for bad shapes/labels.
 */
torch::Tensor kFoldLogisticProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    int k = 5, uint64_t seed = 0, const LogisticOptions& options = {}, const LogisticHead* init = nullptr);

/// The heads behind one K-fold scoring: the head on all rows and one per fold (an invalid head for an empty fold).
struct KFoldHeads
{
    LogisticHead all;
    std::vector<LogisticHead> folds;
};

/**
 * K-fold out-of-sample probabilities with the fold of every row given (`folds` [N] int64 in [0, k), e.g. from the
 * files' content so that a relabel moves no other file between folds). `heads` (optional) is both the warm start
 * and the result: each fit starts from the matching head of a previous call (a slightly different problem: a few
 * labels changed, or another L2 strength) when its shape fits, and the new heads are written back. A warm start
 * changes only how fast LBFGS converges, not where: scores agree with a cold start to the fit's tolerance.
 * @throws std::invalid_argument for bad shapes/labels/folds.
 */
torch::Tensor kFoldLogisticProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    const torch::Tensor& folds, const LogisticOptions& options, KFoldHeads* heads);

/// Nearest neighbours of every row: indices [N, k] int64 and cosine similarities [N, k] float, most similar first.
struct Neighbours
{
    torch::Tensor indices;
    torch::Tensor similarities;
};

/// Row counts up to which nearestNeighbours() searches exactly; above, through a graph (knngraph.h).
constexpr int64_t kExactSearchUpTo = 20000;

/**
 * The `k` (at most N - 1) most cosine-similar other rows of each row of `features` [N, F], after standardising each
 * column (unless `standardise` is false: then on the features as they are, which suits finding copies of a photo,
 * whose standardised features differ in the many columns of little variance). Up to `exactUpTo` rows: exact search
 * in blocks of 2,048 rows. Above (when the build has hnswlib): candidates from a navigable small-world graph on a
 * seeded 128-dimensional principal projection, ranked by their exact similarity; the graph may miss a few true
 * neighbours (recall > 0.95 on clustered data, `winnow_nn_bench --knn`). A row is never its own neighbour. Rows where
 * `skip` ([N] bool, optional) is true are only returned when fewer than k other rows remain, with similarity -3.
 * Same input, same result.
 * @throws std::invalid_argument for bad shapes.
 */
Neighbours nearestNeighbours(const torch::Tensor& features, int k, const torch::Tensor& skip = {}, uint64_t seed = 0,
    bool standardise = true, int64_t exactUpTo = kExactSearchUpTo);

/**
 * Label agreement of each row's nearest neighbours in feature space (SimiFeat, Zhu et al. 2022): features are
 * standardised per column and L2-normalised, the `k` most cosine-similar other rows vote with their labels, and
 * row i gets (votes_c + smoothing) / (k + numClasses * smoothing) for each class c. A row never votes for itself,
 * so a file's own (possibly wrong) label cannot hold its score up. The search is nearestNeighbours(). `labels` [N]
 * int64 in [0, numClasses); a label < 0 (unlabeled) never votes.
 * @throws std::invalid_argument for bad shapes/labels.
 */
torch::Tensor neighbourLabelProbs(const torch::Tensor& features, const torch::Tensor& labels, int64_t numClasses,
    int k = 10, double smoothing = 0.5, uint64_t seed = 0);

} // namespace Winnow::nn
