// SPDX-License-Identifier: GPL-3.0-or-later
// fastai's fine_tune on a Classifier: one-cycle schedule, fastai Adam, train_bn, metrics; plus batched inference.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "core/nn/device.h"
#include "core/nn/models.h"
#include "core/nn/schedule.h"

namespace Winnow::nn {

/**
 * Where batches come from: the engine plugs its OpenCV loader, tests and the bench plug synthetic tensors.
 * Called from the training thread only.
 */
struct BatchSource
{
    virtual ~BatchSource();
    /// Batches next() yields per epoch (may be an estimate for progress; next() returning false ends the epoch).
    virtual int64_t batchesPerEpoch() = 0;
    /// Called before each pass over the data; `epoch` counts from 0 over the whole run (shuffle seed, augment state).
    virtual void startEpoch(int epoch) = 0;
    /**
     * Fills images (float [N,3,H,W], normalised; may be channels_last; CPU or device; pinned -> non_blocking copy)
     * and labels (int64 [N]; may be left undefined for unlabeled inference). Returns false at the end of the epoch.
     */
    virtual bool next(torch::Tensor& images, torch::Tensor& labels) = 0;
};

/// Thrown by the inference helpers when their stop predicate says so.
class Cancelled : public std::runtime_error
{
public:
    Cancelled()
        : std::runtime_error("cancelled")
    { }
};

enum class Stage { Frozen, Unfrozen };

/// One row of fastai's Recorder table.
struct EpochResult
{
    Stage stage = Stage::Frozen;
    int epoch = 0; ///< within the stage (fastai prints two tables, both from 0)
    int globalEpoch = 0; ///< over the whole fine_tune, from 0
    double trainLoss = 0; ///< AvgSmoothLoss(beta 0.98), debiased, at the end of the epoch
    double validLoss = 0; ///< mean per-item cross-entropy; NaN without a validation source
    double errorRate = 0; ///< NaN without a validation source
    double accuracy = 0; ///< 1 - errorRate
    double seconds = 0; ///< wall time of train + validation
    int64_t trainSamples = 0; ///< images trained on this epoch (a source may leave unreadable ones out)
    int64_t validSamples = 0; ///< images the valid metrics average over
};

enum class TrainStatus { Finished, Cancelled };

struct TrainReport
{
    TrainStatus status = TrainStatus::Finished;
    std::vector<EpochResult> epochs;
};

/// All optional. Called on the training thread.
struct TrainCallbacks
{
    /// After every training batch; `batch` from 0; `nBatches` = batchesPerEpoch().
    std::function<void(Stage stage, int globalEpoch, int64_t batch, int64_t nBatches, double smoothLoss)> onBatch;
    /// After each epoch's validation.
    std::function<void(const EpochResult&)> onEpoch;
    /// Polled before every batch (training and validation); true -> stop within one batch, status Cancelled.
    std::function<bool()> shouldStop;
};

/**
 * fastai's Adam (opt_func of vision_learner) for parameter groups: decoupled weight decay p *= 1 - lr*wd (skipped
 * for "no wd" params), grad_avg = mom*grad_avg + (1-mom)*g, sqr_avg = sqrMom*sqr_avg + (1-sqrMom)*g^2, step += 1,
 * p -= lr / (1 - mom^step) * grad_avg / (sqrt(sqr_avg / (1 - sqrMom^step)) + eps). Params without grad are skipped.
 */
class FastaiAdam
{
public:
    FastaiAdam(std::vector<std::vector<torch::Tensor>> groups, const std::vector<torch::Tensor>& noWeightDecay,
        double sqrMom = 0.99, double eps = 1e-5, double wd = 0.01);

    /// Sets the hyper-parameters of the next step: lr per group (size must equal groups), mom (beta1).
    void setHyper(const std::vector<double>& lr, double mom);
    void step();
    void zeroGrad();
    /// Drops grad_avg/sqr_avg/step of every parameter (fastai freeze_to -> opt.clear_state()).
    void clearState();
    size_t groupCount() const
    {
        return m_groups.size();
    }

private:
    struct ParamState
    {
        torch::Tensor param, gradAvg, sqrAvg;
        int64_t step = 0;
        bool wd = true;
    };
    std::vector<std::vector<ParamState>> m_groups;
    std::vector<double> m_lr;
    double m_mom = 0.9, m_sqrMom, m_eps, m_wd;
};

/// Trainer settings beyond fine_tune's arguments.
struct TrainerOptions
{
    RunOptions run; ///< device, amp, channels_last
    uint64_t seed = 42; ///< torch::manual_seed at the start of fineTune/fitOneCycle (dropout, init order)
};

/**
 * Trains a Classifier the way fastai's Learner does: cross-entropy, FastaiAdam over model->parameterGroups(), the
 * one-cycle schedule updated before every batch, BN layers always trainable, metrics per epoch.
 * Moves the model to the device on construction. Use from one thread (LibTorch's grad mode is thread-local).
 * Cancellation leaves the model consistent: no half-applied step, eval mode, gradients cleared.
 */
class Trainer
{
public:
    Trainer(Classifier model, TrainerOptions options = {});

    /// fine_tune: freeze(); fitOneCycle(plan.frozen) (skipped if freezeEpochs == 0); unfreeze();
    /// fitOneCycle(plan.unfrozen). `valid` may be null (valid metrics NaN). Exceptions from the sources or LibTorch
    /// propagate.
    TrainReport fineTune(
        BatchSource& train, BatchSource* valid, const FineTuneOptions& options, const TrainCallbacks& callbacks = {});

    /// One fit_one_cycle with the model's current freeze state (optimizer state is cleared first, as after freeze_to).
    TrainReport fitOneCycle(BatchSource& train, BatchSource* valid, int epochs, const OneCycle& cycle,
        const TrainCallbacks& callbacks = {}, Stage stage = Stage::Unfrozen, const FineTuneOptions& adam = {});

    Classifier model() const
    {
        return m_model;
    }
    const TrainerOptions& options() const
    {
        return m_options;
    }

private:
    TrainReport runCycle(BatchSource& train, BatchSource* valid, int epochs, const OneCycle& cycle,
        const TrainCallbacks& callbacks, Stage stage, const FineTuneOptions& adam, int firstEpoch);
    Classifier m_model;
    TrainerOptions m_options;
};

/// Everything one inference pass yields, in source order, on the CPU.
struct PredictResult
{
    torch::Tensor probs; ///< float [N, C], softmax of the logits
    torch::Tensor labels; ///< int64 [N], or undefined if the source gave no labels
    torch::Tensor losses; ///< float [N] per-item cross-entropy against labels, or undefined
    torch::Tensor features; ///< float [N, featureDim] pooled body features if asked for, else undefined
};

/// Inference settings.
struct PredictOptions
{
    RunOptions run;
    bool withFeatures = false; ///< also return pooled body features (one pass for both)
    /// With withFeatures: return the last layer's input (ClassifierImpl::penultimate) instead of pooled features.
    bool penultimate = false;
    std::function<bool()> shouldStop; ///< polled per batch; true -> throws Cancelled
    std::function<void(int64_t batch, int64_t nBatches)> onBatch;
};

/**
 * Eval mode + InferenceMode, batch by batch over one epoch of `source` (startEpoch(0) is called).
 * Moves the model to options.run.device. @throws Cancelled, or what the source/LibTorch throws.
 */
PredictResult predict(Classifier& model, BatchSource& source, const PredictOptions& options = {});
/// Probabilities [N, C] for one batch of images (any device; result on the CPU).
torch::Tensor predict(Classifier& model, const torch::Tensor& images, const RunOptions& run = {});
/// The plain ImageNet network: probabilities [N, numClasses] (softmax) for one batch, on the CPU.
torch::Tensor predict(ImageNetNet& model, const torch::Tensor& images, const RunOptions& run = {});
/// Pooled body features [N, featureDim] for every item of `source` (predict(..., withFeatures).features, no head).
torch::Tensor extractFeatures(Classifier& model, BatchSource& source, const PredictOptions& options = {});

} // namespace Winnow::nn
