// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>

#include <QObject>

#include "core/engine/run.h"
#include "core/engine/types.h"
#include "core/metrics/dataissues.h"

namespace Winnow {

class TrainingWorker;

/**
 * GUI-thread front of the training engine. Owns one long-lived worker thread ("TrainingEngine") whose worker keeps
 * the model, optimizer and feature cache across rounds. Requests go in as queued calls; results come back as
 * value-type signals, always delivered in the controller's thread. Only one job runs at a time: a request while busy
 * is refused (returns 0). Cancel takes effect within one batch; results of a cancelled or superseded job are dropped.
 *
 * Signal order for a job: started, then any number of progress / epochFinished, then scoresReady (for jobs that
 * score) and roundFinished, then exactly one of finished, failed or cancelled. A job whose scores came out is
 * settled: a cancel after that only cuts its extras short (the data-issue check, the retrain warm-up) and it still
 * ends with finished.
 */
class TrainingController : public QObject
{
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override; ///< cancels, stops and joins the worker thread

    bool isBusy() const;

    /// Fine-tune `config.arch` on the dataset, then score every image (honest scores by default). Writes the run to
    /// `runDir` when it is not empty. Returns the job id, or 0 if busy.
    quint64 train(const Dataset& dataset, const TrainConfig& config, const QString& runDir = {},
        const ScoreOptions& scoring = {});
    /// Re-score with the current model (e.g. another method). 0 if busy or no model yet.
    quint64 score(const Dataset& dataset, const ScoreOptions& scoring = {});
    /// Fast round after cleaning: the fine-tuned network's last layer is refitted on its cached features of the
    /// cleaned train split (the body keeps what fine-tuning learnt), then everything is re-scored.
    quint64 retrainHead(const Dataset& dataset, const ScoreOptions& scoring = {});

    enum class RetrainMode : quint8 {
        Auto, ///< a full fine-tune on a GPU or when the last one extrapolates to <= kAutoFullSeconds, else the head
        Head, ///< retrainHead()
        Full ///< a full fine-tune with the run's settings (a new round of the same history)
    };
    static constexpr double kAutoFullSeconds = 60;
    /// The one-click retrain after a cleaning round. 0 if busy or no model yet.
    quint64 retrain(const Dataset& dataset, RetrainMode mode = RetrainMode::Auto, const ScoreOptions& scoring = {});
    /// Loads the newest saved run of a dataset: the first of `runDirs` whose run.json belongs to `datasetRoot` (same
    /// folder) becomes the current model (Engine::loadRun), its scores come back through scoresReady, and runLoaded()
    /// carries what it holds (epochs, rounds; the app's round history from rounds.json when there is one). Fails,
    /// with a message, when none of them fits. Returns the job id, or 0 if busy.
    quint64 loadRun(const QString& datasetRoot, const QStringList& runDirs);
    /// Runs the data-issue detectors (core/metrics/dataissues.h) on `dataset`: duplicates, leakage, outliers, image
    /// quality. Uses the current model's frozen features, or the default pretrained weights when there is no model
    /// yet; `scores` (optional) give the validation error without the leaked files. Train and full-retrain jobs run
    /// them too, after their scores. The result comes as dataIssuesReady. 0 if busy.
    quint64 findDataIssues(const Dataset& dataset, const ScoreSet& scores = {});
    /// Request cancellation of the running job (no-op when idle). Thread-safe flag; never blocks.
    void cancel();

Q_SIGNALS:
    void started(quint64 job, const QString& what);
    void progress(quint64 job, const Winnow::TrainProgress& progress);
    void epochFinished(quint64 job, const Winnow::EpochStats& stats);
    void scoresReady(quint64 job, const Winnow::ScoreSet& scores);
    void roundFinished(quint64 job, const Winnow::RoundSummary& summary);
    /// A loadRun() job found and loaded `runDir` (emitted before scoresReady). `rounds`: the round history to show.
    void runLoaded(
        quint64 job, const QString& runDir, const Winnow::RunInfo& info, const QVector<Winnow::RoundSummary>& rounds);
    void finished(quint64 job);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);
    /// The detectors' findings for the dataset at `datasetRoot` (before finished, for train, full-retrain and
    /// findDataIssues jobs).
    void dataIssuesReady(quint64 job, const Winnow::DataIssueReport& report, const QString& datasetRoot);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Winnow

Q_DECLARE_METATYPE(Winnow::RunInfo)
