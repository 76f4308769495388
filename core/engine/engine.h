// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <memory>

#include <QString>

#include "core/engine/run.h"
#include "core/engine/types.h"

namespace Winnow {

struct FeatureNeighbours;

/// What a long engine call reports while it runs. All callbacks are invoked in the calling thread.
struct EngineCallbacks
{
    std::function<void(const TrainProgress&)> progress; ///< throttled to about 10 per second
    std::function<void(const EpochStats&)> epoch;
    std::function<bool()> cancelled; ///< polled every batch; true = stop as soon as possible
};

/// Outcome of an engine call: ok, cancelled, or failed with a message for the user.
struct EngineStatus
{
    enum class Code : quint8 { Ok, Cancelled, Failed };
    Code code = Code::Ok;
    QString message;
    bool ok() const
    {
        return code == Code::Ok;
    }
    static EngineStatus failed(const QString& m)
    {
        return { Code::Failed, m };
    }
    static EngineStatus cancelledStatus()
    {
        return { Code::Cancelled, QStringLiteral("cancelled") };
    }
};

/**
 * The synchronous training/scoring engine. Owns the model, optimizer and caches across rounds. Not thread-safe:
 * create and use it in one thread (the CLI's main thread, or the TrainingController's worker thread). Its header is
 * free of torch; LibTorch stays inside engine.cpp.
 */
class Engine
{
public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Fine-tunes `config.arch` on the dataset's labeled, readable files (fastai fine_tune). Epoch rows go to
    /// callbacks.epoch; they are also kept in runInfo().
    EngineStatus train(const Dataset& dataset, const TrainConfig& config, const EngineCallbacks& callbacks = {});

    /// Scores every readable image (labeled and unlabeled) with the current model.
    EngineStatus score(
        const Dataset& dataset, const ScoreOptions& options, ScoreSet* out, const EngineCallbacks& callbacks = {});

    /// Computes what a retrainHead() reads and score() does not (the networks' features of the files they trained
    /// on), so that the first retrain after cleaning is as fast as the later ones. Worth calling after a fine-tune's
    /// scores are shown, while the user reviews them; a retrain without it computes the same features itself.
    EngineStatus prepareRetrain(const Dataset& dataset, const EngineCallbacks& callbacks = {});

    /// Fast round after cleaning: frozen-backbone features of unchanged files come from the cache, only a head is
    /// trained (on the train split) and evaluated (on the valid split); then everything is re-scored.
    EngineStatus retrainHead(const Dataset& dataset, const ScoreOptions& options, ScoreSet* out, RoundSummary* summary,
        const EngineCallbacks& callbacks = {});

    /// A full fine-tune with the run's settings on the (cleaned) dataset, as the next round of the same history,
    /// then an honest re-score. Slower than retrainHead(), and better when the body should learn from the changes.
    EngineStatus fineTuneAgain(const Dataset& dataset, const ScoreOptions& options, ScoreSet* out,
        RoundSummary* summary, const EngineCallbacks& callbacks = {});

    /// Seconds a fine-tune of `dataset` with the current settings would take, extrapolated from the last one by the
    /// number of training images (0 when unknown).
    double estimatedFineTuneSeconds(const Dataset& dataset) const;
    /// True when the model runs on a GPU.
    bool onGpu() const;

    /// The `k` nearest other readable files of every readable file in frozen pretrained-feature space (the features
    /// the honest scores use, from the same cache), for the data-issue detectors (core/metrics/dataissues.h). Uses
    /// the run's architecture, weights and size; without a run, `withoutRun` says which (its weights must be set).
    EngineStatus featureNeighbours(const Dataset& dataset, int k, FeatureNeighbours* out,
        const EngineCallbacks& callbacks = {}, const TrainConfig* withoutRun = nullptr);

    /// Experiment aid for the label-noise benchmark: each honest score() also writes, per labeled file, the parts it
    /// mixes (fine-tuned networks' and frozen heads' probabilities, the labels of its 30 nearest neighbours) to
    /// `path` as TSV, so that other mixes can be tried offline on one training run. Empty: off (the default).
    void setScoreDump(const QString& path);

    bool hasModel() const;
    const RunInfo& runInfo() const;

    /// Writes run.json and model.safetensors into `dir` (creating it).
    EngineStatus saveRun(const QString& dir);
    /// Loads a run folder's model (run.json + model.safetensors) for scoring, prediction or export.
    EngineStatus loadRun(const QString& dir);

    /// Device that will be / was used: "cpu" or "cuda:N". `requested` is auto | cpu | cuda.
    static QString resolveDevice(const QString& requested, QString* error = nullptr);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Winnow
