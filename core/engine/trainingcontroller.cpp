// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/trainingcontroller.h"

#include <atomic>

#include <QDir>
#include <QElapsedTimer>
#include <QPointer>
#include <QThread>

#include "core/engine/engine.h"
#include "core/engine/roundhistory.h"
#include "core/engine/weightscatalogue.h"
#include "core/nn/allocator.h"

namespace Winnow {

/// Lives in the worker thread for its whole life and owns the Engine (model, optimizer, caches) across rounds.
/// Its event loop is busy while a job runs, so cancellation is an atomic flag, never a queued call.
class TrainingWorker : public QObject
{
    Q_OBJECT
public:
    explicit TrainingWorker(std::atomic<quint64>* cancelJob)
        : m_cancelJob(cancelJob)
    { }

    enum class Kind { Train, Score, RetrainHead, RetrainFull, RetrainAuto };

    void run(quint64 job, Kind kind, const Dataset& dataset, const TrainConfig& config, const QString& runDir,
        const ScoreOptions& scoring)
    {
        if (kind == Kind::RetrainAuto) {
            const bool full =
                m_engine.onGpu() || m_engine.estimatedFineTuneSeconds(dataset) <= TrainingController::kAutoFullSeconds;
            kind = full ? Kind::RetrainFull : Kind::RetrainHead;
        }
        Q_EMIT started(job,
            kind == Kind::Train             ? QStringLiteral("train")
                : kind == Kind::Score       ? QStringLiteral("score")
                : kind == Kind::RetrainFull ? QStringLiteral("fine-tune again")
                                            : QStringLiteral("retrain"));
        QElapsedTimer throttle;
        throttle.start();
        EngineCallbacks cb;
        cb.cancelled = [this, job] { return m_cancelJob->load() == job; };
        cb.progress = [this, job, &throttle](const TrainProgress& p) {
            // At most ~10 progress signals per second, but always the last batch of an epoch.
            if (throttle.elapsed() < 100 && p.batch != p.batchesPerEpoch)
                return;
            throttle.restart();
            Q_EMIT progress(job, p);
        };
        cb.epoch = [this, job](const EpochStats& e) { Q_EMIT epochFinished(job, e); };

        EngineStatus status;
        ScoreSet scores;
        RoundSummary summary;
        QElapsedTimer clock;
        clock.start();
        // Files that could not be read while training (deleted or damaged since the scan) are reported with the
        // scores, beside the ones the scoring pass could not read.
        auto addTrainingUnreadable = [&] {
            for (const QString& f : m_engine.runInfo().unreadableFiles)
                if (!scores.unreadable.contains(f))
                    scores.unreadable << f;
            scores.unreadable.sort();
        };
        try {
            switch (kind) {
            case Kind::Train:
                status = m_engine.train(dataset, config, cb);
                if (status.ok())
                    status = m_engine.score(dataset, scoring, &scores, cb);
                if (status.ok()) {
                    addTrainingUnreadable();
                    summary = m_engine.runInfo().rounds.constLast();
                    summary.seconds = clock.elapsed() / 1000.0;
                }
                m_runDir.clear();
                if (status.ok() && !runDir.isEmpty()) {
                    status = saveRun(runDir, &scores);
                    if (status.ok())
                        m_runDir = runDir;
                }
                break;
            case Kind::Score:
                status = m_engine.score(dataset, scoring, &scores, cb);
                break;
            case Kind::RetrainAuto:
            case Kind::RetrainHead:
            case Kind::RetrainFull:
                status = kind == Kind::RetrainFull ? m_engine.fineTuneAgain(dataset, scoring, &scores, &summary, cb)
                                                   : m_engine.retrainHead(dataset, scoring, &scores, &summary, cb);
                if (status.ok() && kind == Kind::RetrainFull)
                    addTrainingUnreadable();
                // Keep the run folder current, so Export and `winnow export` get this round's model.
                if (status.ok() && !m_runDir.isEmpty()) {
                    if (auto saved = saveRun(m_runDir, &scores); !saved.ok())
                        status = EngineStatus::failed(
                            QStringLiteral("retrained, but the run folder could not be updated: %1")
                                .arg(saved.message));
                }
                break;
            }
        } catch (const std::exception& e) {
            // Nothing may propagate through Qt's event loop.
            status = EngineStatus::failed(QString::fromUtf8(e.what()));
        }
        nn::releaseFreeMemory(); // the batches' cached blocks go back to the system between jobs

        if (status.code == EngineStatus::Code::Cancelled || m_cancelJob->load() == job) {
            Q_EMIT cancelled(job);
            return;
        }
        if (!status.ok()) {
            Q_EMIT failed(job, status.message);
            return;
        }
        Q_EMIT scoresReady(job, scores);
        // The job's outcome is settled with its scores: what follows are extras that a cancel stops early without
        // undoing the model, its scores or its round (TrainingController: a settled job finishes, never cancels).
        if (kind != Kind::Score)
            Q_EMIT roundFinished(job, summary);
        if (kind == Kind::Train || kind == Kind::RetrainFull)
            detectIssues(job, dataset, &scores, cb);
        if (kind == Kind::Train || kind == Kind::RetrainFull) {
            // The scores are shown; while the user reviews them, compute what the first quick retrain would
            // otherwise compute itself. Not part of the job's outcome: cancelled or failed, the retrain does it.
            try {
                if (auto st = m_engine.prepareRetrain(dataset, cb);
                    !st.ok() && st.code != EngineStatus::Code::Cancelled)
                    qWarning("preparing the quick retrain failed: %s", qPrintable(st.message));
            } catch (const std::exception& e) {
                qWarning("preparing the quick retrain failed: %s", e.what());
            }
            nn::releaseFreeMemory();
        }
        Q_EMIT finished(job);
    }

    /// The data-issue detectors (core/metrics/dataissues.h) on `dataset`: pixels, then the frozen features (the
    /// run's network, or the default pretrained weights before any run). Emits dataIssuesReady unless cancelled;
    /// without usable weights the report holds the pixel checks and exact copies only.
    QString detectIssues(quint64 job, const Dataset& dataset, const ScoreSet* scores, const EngineCallbacks& cb)
    {
        QString error;
        try {
            const auto stats = measureDatasetImages(dataset, [&](int done, int total) {
                if (cb.progress)
                    cb.progress({ 0, 0, done, total, 0, QStringLiteral("checking images") });
                return !cb.cancelled();
            });
            if (cb.cancelled())
                return {};
            FeatureNeighbours graph;
            TrainConfig fallback;
            fallback.weights = defaultPretrainedWeights(fallback.arch);
            const EngineStatus st =
                m_engine.featureNeighbours(dataset, 10, &graph, cb, m_engine.hasModel() ? nullptr : &fallback);
            if (st.code == EngineStatus::Code::Cancelled || cb.cancelled())
                return {};
            if (!st.ok())
                qWarning("data issues without features: %s", qPrintable(st.message));
            Q_EMIT dataIssuesReady(
                job, findDataIssues(dataset, stats, st.ok() ? &graph : nullptr, scores), dataset.root);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
            qWarning("finding data issues failed: %s", e.what());
        }
        nn::releaseFreeMemory();
        return error;
    }

    void issues(quint64 job, const Dataset& dataset, const ScoreSet& scores)
    {
        Q_EMIT started(job, QStringLiteral("find data issues"));
        EngineCallbacks cb;
        cb.cancelled = [this, job] { return m_cancelJob->load() == job; };
        QElapsedTimer throttle;
        throttle.start();
        cb.progress = [this, job, &throttle](const TrainProgress& p) {
            if (throttle.elapsed() < 100 && p.batch != p.batchesPerEpoch)
                return;
            throttle.restart();
            Q_EMIT progress(job, p);
        };
        const QString error = detectIssues(job, dataset, scores.isEmpty() ? nullptr : &scores, cb);
        if (m_cancelJob->load() == job) {
            Q_EMIT cancelled(job);
            return;
        }
        if (!error.isEmpty()) {
            Q_EMIT failed(job, error);
            return;
        }
        Q_EMIT finished(job);
    }

    void load(quint64 job, const QString& datasetRoot, const QStringList& runDirs)
    {
        Q_EMIT started(job, QStringLiteral("load"));
        const QString root = QDir::cleanPath(datasetRoot);
        QString why = QStringLiteral("no saved run of this dataset");
        for (const QString& dir : runDirs) {
            if (m_cancelJob->load() == job) {
                Q_EMIT cancelled(job);
                return;
            }
            QString error;
            const auto info = readRunInfo(dir, &error);
            if (!info || QDir::cleanPath(info->datasetRoot) != root)
                continue; // another dataset's run, or not a run
            auto scores = readScores(dir, &error);
            if (!scores) {
                why = error;
                continue;
            }
            EngineStatus status;
            try {
                status = m_engine.loadRun(dir);
            } catch (const std::exception& e) {
                status = EngineStatus::failed(QString::fromUtf8(e.what()));
            }
            if (!status.ok()) {
                why = status.message;
                continue;
            }
            m_runDir = dir;
            scores->datasetRoot = datasetRoot;
            scores->runDir = dir;
            QVector<RoundSummary> rounds = info->rounds;
            if (auto history = readRoundHistory(dir, &error); history && !history->isEmpty())
                rounds = *history;
            if (!rounds.isEmpty())
                scores->round = rounds.constLast().round;
            Q_EMIT runLoaded(job, dir, *info, rounds);
            Q_EMIT scoresReady(job, *scores);
            Q_EMIT finished(job);
            return;
        }
        Q_EMIT failed(job, why);
    }

private:
    EngineStatus saveRun(const QString& dir, ScoreSet* scores)
    {
        EngineStatus status = m_engine.saveRun(dir);
        QString err;
        if (status.ok() && !writeScores(dir, *scores, &err))
            status = EngineStatus::failed(err);
        scores->runDir = dir;
        return status;
    }

    QString m_runDir; ///< where the current model's run is saved (empty: not saved)

public:
Q_SIGNALS:
    void started(quint64 job, const QString& what);
    void progress(quint64 job, const Winnow::TrainProgress& progress);
    void epochFinished(quint64 job, const Winnow::EpochStats& stats);
    void scoresReady(quint64 job, const Winnow::ScoreSet& scores);
    void roundFinished(quint64 job, const Winnow::RoundSummary& summary);
    void runLoaded(
        quint64 job, const QString& runDir, const Winnow::RunInfo& info, const QVector<Winnow::RoundSummary>& rounds);
    void finished(quint64 job);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);
    void dataIssuesReady(quint64 job, const Winnow::DataIssueReport& report, const QString& datasetRoot);

private:
    std::atomic<quint64>* m_cancelJob;
    Engine m_engine;
};

struct TrainingController::Private
{
    QThread thread;
    TrainingWorker* worker = nullptr;
    std::atomic<quint64> cancelJob { 0 };
    quint64 nextJob = 1;
    quint64 current = 0;
    bool hasModel = false;
    quint64 issuesJob = 0; ///< the last findDataIssues() job (which leaves no model behind)
    quint64 settledJob = 0; ///< the last job whose scores came out: it finishes even if cancelled afterwards
};

TrainingController::TrainingController(QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    qRegisterMetaType<Winnow::TrainProgress>();
    qRegisterMetaType<Winnow::EpochStats>();
    qRegisterMetaType<Winnow::ScoreSet>();
    qRegisterMetaType<Winnow::RoundSummary>();
    qRegisterMetaType<Winnow::RunInfo>();
    qRegisterMetaType<QVector<Winnow::RoundSummary>>();
    qRegisterMetaType<Winnow::DataIssueReport>();

    d->thread.setObjectName(QStringLiteral("TrainingEngine"));
    d->worker = new TrainingWorker(&d->cancelJob);
    d->worker->moveToThread(&d->thread);
    connect(&d->thread, &QThread::finished, d->worker, &QObject::deleteLater);

    // Results of a job that is no longer current (cancelled or superseded) are dropped here, in the GUI thread.
    auto current = [this](quint64 job) { return job == d->current; };
    connect(d->worker, &TrainingWorker::started, this, [=, this](quint64 job, const QString& what) {
        if (current(job))
            Q_EMIT started(job, what);
    });
    connect(d->worker, &TrainingWorker::progress, this, [=, this](quint64 job, const TrainProgress& p) {
        if (current(job) && d->cancelJob.load() != job)
            Q_EMIT progress(job, p);
    });
    connect(d->worker, &TrainingWorker::epochFinished, this, [=, this](quint64 job, const EpochStats& e) {
        if (current(job) && d->cancelJob.load() != job)
            Q_EMIT epochFinished(job, e);
    });
    connect(d->worker, &TrainingWorker::scoresReady, this, [=, this](quint64 job, const ScoreSet& s) {
        if (current(job) && d->cancelJob.load() != job) {
            d->settledJob = job; // from here on a cancel only stops the job's extras
            Q_EMIT scoresReady(job, s);
        }
    });
    connect(d->worker, &TrainingWorker::roundFinished, this, [=, this](quint64 job, const RoundSummary& r) {
        if (current(job) && (d->cancelJob.load() != job || d->settledJob == job))
            Q_EMIT roundFinished(job, r);
    });
    connect(d->worker, &TrainingWorker::runLoaded, this,
        [=, this](quint64 job, const QString& dir, const RunInfo& info, const QVector<RoundSummary>& rounds) {
            if (current(job) && d->cancelJob.load() != job)
                Q_EMIT runLoaded(job, dir, info, rounds);
        });
    connect(d->worker, &TrainingWorker::dataIssuesReady, this,
        [=, this](quint64 job, const DataIssueReport& r, const QString& root) {
            if (current(job) && d->cancelJob.load() != job)
                Q_EMIT dataIssuesReady(job, r, root);
        });
    connect(d->worker, &TrainingWorker::finished, this, [=, this](quint64 job) {
        if (!current(job))
            return;
        d->current = 0;
        if (d->cancelJob.load() == job && d->settledJob != job) {
            Q_EMIT cancelled(job);
            return;
        }
        if (job != d->issuesJob)
            d->hasModel = true;
        Q_EMIT finished(job);
    });
    connect(d->worker, &TrainingWorker::failed, this, [=, this](quint64 job, const QString& m) {
        if (!current(job))
            return;
        d->current = 0;
        Q_EMIT failed(job, m);
    });
    connect(d->worker, &TrainingWorker::cancelled, this, [=, this](quint64 job) {
        if (!current(job))
            return;
        d->current = 0;
        Q_EMIT cancelled(job);
    });
    d->thread.start();
}

TrainingController::~TrainingController()
{
    d->cancelJob.store(d->current);
    d->thread.quit();
    d->thread.wait();
}

bool TrainingController::isBusy() const
{
    return d->current != 0;
}

quint64 TrainingController::train(
    const Dataset& dataset, const TrainConfig& config, const QString& runDir, const ScoreOptions& scoring)
{
    if (isBusy())
        return 0;
    const quint64 job = d->current = d->nextJob++;
    QMetaObject::invokeMethod(d->worker, [w = d->worker, job, dataset, config, runDir, scoring] {
        w->run(job, TrainingWorker::Kind::Train, dataset, config, runDir, scoring);
    });
    return job;
}

quint64 TrainingController::score(const Dataset& dataset, const ScoreOptions& scoring)
{
    if (isBusy() || !d->hasModel)
        return 0;
    const quint64 job = d->current = d->nextJob++;
    QMetaObject::invokeMethod(d->worker,
        [w = d->worker, job, dataset, scoring] { w->run(job, TrainingWorker::Kind::Score, dataset, {}, {}, scoring); });
    return job;
}

quint64 TrainingController::retrainHead(const Dataset& dataset, const ScoreOptions& scoring)
{
    if (isBusy() || !d->hasModel)
        return 0;
    const quint64 job = d->current = d->nextJob++;
    QMetaObject::invokeMethod(d->worker, [w = d->worker, job, dataset, scoring] {
        w->run(job, TrainingWorker::Kind::RetrainHead, dataset, {}, {}, scoring);
    });
    return job;
}

quint64 TrainingController::retrain(const Dataset& dataset, RetrainMode mode, const ScoreOptions& scoring)
{
    if (isBusy() || !d->hasModel)
        return 0;
    const quint64 job = d->current = d->nextJob++;
    const auto kind = mode == RetrainMode::Head ? TrainingWorker::Kind::RetrainHead
        : mode == RetrainMode::Full             ? TrainingWorker::Kind::RetrainFull
                                                : TrainingWorker::Kind::RetrainAuto;
    QMetaObject::invokeMethod(
        d->worker, [w = d->worker, job, kind, dataset, scoring] { w->run(job, kind, dataset, {}, {}, scoring); });
    return job;
}

quint64 TrainingController::findDataIssues(const Dataset& dataset, const ScoreSet& scores)
{
    if (isBusy())
        return 0;
    const quint64 job = d->current = d->issuesJob = d->nextJob++;
    QMetaObject::invokeMethod(d->worker, [w = d->worker, job, dataset, scores] { w->issues(job, dataset, scores); });
    return job;
}

quint64 TrainingController::loadRun(const QString& datasetRoot, const QStringList& runDirs)
{
    if (isBusy())
        return 0;
    const quint64 job = d->current = d->nextJob++;
    QMetaObject::invokeMethod(
        d->worker, [w = d->worker, job, datasetRoot, runDirs] { w->load(job, datasetRoot, runDirs); });
    return job;
}

void TrainingController::cancel()
{
    if (d->current)
        d->cancelJob.store(d->current);
}

} // namespace Winnow

#include "trainingcontroller.moc"
