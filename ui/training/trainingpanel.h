// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>

#include <QPointer>
#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/rounddiff.h"
#include "core/engine/run.h"
#include "core/engine/types.h"

class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTableView;

namespace Winnow {

class EpochTableModel;
class LossPlot;
class RoundTableModel;
class TrainingController;
class TrainSettingsForm;
class WeightsPicker;

/**
 * The "Train" page: the run's settings (architecture, pretrained weights, image size, batch size, epochs, validation
 * share, seed, device), Start / Cancel / Retrain head, a progress bar, a live loss plot (train loss per batch, valid
 * loss per epoch), fastai's epoch table and the round history. Drives a TrainingController it does not own and
 * follows every job of that controller (also jobs started elsewhere), so the UI never blocks. GUI thread only.
 *
 * The on* slots are what the controller's signals are connected to; they are public so tests can drive the panel.
 */
class TrainingPanel : public QWidget
{
    Q_OBJECT
public:
    explicit TrainingPanel(TrainingController* controller, QWidget* parent = nullptr);
    ~TrainingPanel() override;

    /// The dataset Start and Retrain work on (copied; implicitly shared). Resets the plot and tables if the root
    /// differs.
    void setDataset(const Dataset& dataset);
    void clearDataset();

    /// Where runs are written: `<runsRoot>/<dataset>-<timestamp>`. Empty: runs are not saved.
    void setRunsRoot(const QString& dir);
    /// How retrain() retrains: 0 = auto (a full fine-tune when one takes under a minute or runs on a GPU, else the
    /// last layer), 1 = always the last layer, 2 = always a full fine-tune (TrainingController::RetrainMode).
    void setRetrainMode(int mode)
    {
        m_retrainMode = mode;
        updateButtons(); // the tooltips say what Retrain does
    }
    QString runsRoot() const;

    TrainConfig config() const; ///< from the widgets
    void setConfig(const TrainConfig& config);

    bool isBusy() const;
    bool hasModel() const; ///< a training finished (or a saved run was reloaded), so Retrain is possible
    /// What the Retrain button does in the current retrain mode (its tooltip).
    QString retrainDescription() const;
    /// Why Retrain cannot run now ("Train a model first", ...), empty when it can.
    QString retrainBlockedReason() const;
    /// Why Start training cannot run now, empty when it can.
    QString startBlockedReason() const;

    /// The run folder the app last wrote for this dataset root (remembered in the settings), empty if none.
    static QString lastRunDir(const QString& datasetRoot);
    /// Reloads the newest saved run of the open dataset (model, scores, epochs, round history) through the
    /// controller's worker; waits for a running job first. setDataset() calls it for a newly opened folder. Returns
    /// false when there is no saved run to try.
    bool loadLastRun();
    /// The run folder of the model now shown (trained or reloaded), empty if none.
    QString currentRunDir() const
    {
        return m_lastRunDir;
    }

    EpochTableModel* epochModel() const;
    RoundTableModel* roundModel() const;
    QPushButton* startButton() const;
    QPushButton* cancelButton() const;
    QPushButton* retrainButton() const;
    QProgressBar* progressBar() const;

    /// `<arch>-imagenet.safetensors` from $WINNOW_SHARED/weights, or a `shared/weights` folder next to an ancestor
    /// of the executable's folder. Empty if none exists (training then starts from random init).
    static QString defaultWeightsPath(const QString& arch);

    /// The "catalogue" menu beside the weights field: the catalogue's entries for the chosen architecture (cached
    /// ones are used at once, others are downloaded into the cache with a progress bar and Cancel). The weights
    /// field, the menu and the downloads are a WeightsPicker; these three forward to it.
    QMenu* catalogueMenu() const;
    /// Uses a catalogue entry's weights, downloading them first when they are not cached. False if no such entry.
    bool useCatalogueWeights(const QString& id);
    bool isDownloading() const;

public Q_SLOTS:
    void start();
    void cancel();
    void retrain();

    void onStarted(quint64 job, const QString& what);
    void onProgress(quint64 job, const Winnow::TrainProgress& progress);
    void onEpochFinished(quint64 job, const Winnow::EpochStats& stats);
    void onScoresReady(quint64 job, const Winnow::ScoreSet& scores);
    void onRoundFinished(quint64 job, const Winnow::RoundSummary& summary);
    void onRunLoaded(
        quint64 job, const QString& runDir, const Winnow::RunInfo& info, const QVector<Winnow::RoundSummary>& rounds);
    void onFinished(quint64 job);
    void onFailed(quint64 job, const QString& message);
    void onCancelled(quint64 job);

Q_SIGNALS:
    /// Short text for the window's status bar.
    void statusMessage(const QString& text);
    /// A training job finished and wrote its run folder (what Export and the Predict page use).
    void runWritten(const QString& runDir);
    void busyChanged(bool busy);
    /// Start / Retrain availability (or their reasons) may have changed.
    void actionsChanged();
    /// A saved run of the open dataset was reloaded (its scores came through the controller's scoresReady).
    void runLoaded(const QString& runDir);
    /// A catalogue download finished and the weights field now holds `path`.
    void weightsDownloaded(const QString& path);
    void weightsDownloadFailed(const QString& message);

private:
    /// Why no training job can start now (no engine, no dataset, one class, a job running; with `needModel`, no
    /// model yet), or empty.
    QString trainingBlockedReason(bool needModel) const;
    void buildUi();
    void updateButtons();
    void setBusy(bool busy);
    void setStatus(const QString& text, bool error = false);
    bool jobIsForOpenDataset() const; ///< the running/last job works on the dataset shown now
    QStringList runCandidates() const; ///< run folders that may hold the open dataset's last run, best first
    void startPendingLoad();
    void saveRoundHistory(const QString& runDir);
    void showLatestRoundStatus(const QString& prefix);

    QPointer<TrainingController> m_controller;
    std::optional<Dataset> m_dataset;
    QString m_runsRoot;
    bool m_busy = false;
    bool m_hasModel = false;
    quint64 m_job = 0;
    QString m_jobKind;
    QString m_jobRoot; ///< dataset root of the running/last job
    bool m_loadPending = false; ///< reload the open dataset's last run once the controller is idle
    QString m_pendingRunDir; ///< run folder of the running training job
    QString m_lastRunDir; ///< run folder of the latest finished training (head retrains rewrite it)
    ScoreSet m_lastScores; ///< the previous round's scores, for the round history's "predictions changed"
    std::optional<RoundDiff> m_pendingDiff;
    QStringList m_jobUnreadable; ///< the running job's files that could not be read (ScoreSet::unreadable)
    int m_epochsDone = 0;

    TrainSettingsForm* m_form = nullptr; ///< architecture, weights, device, size, schedule, split
    WeightsPicker* m_weightsPicker = nullptr; ///< m_form's: the weights field, its catalogue menu and downloads
    QPushButton* m_start = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_retrain = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_datasetLabel = nullptr;
    LossPlot* m_chartView = nullptr;
    EpochTableModel* m_epochModel = nullptr;
    RoundTableModel* m_roundModel = nullptr;
    QTableView* m_epochTable = nullptr;
    QTableView* m_roundTable = nullptr;
    int m_retrainMode = 0;
    bool m_plotStarted = false; ///< the running job's loss curve was reset (on its first training batch)
};

} // namespace Winnow
