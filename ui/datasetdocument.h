// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <optional>

#include <QObject>
#include <QPointer>
#include <QStringList>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

class QFileSystemWatcher;
class QTimer;

namespace Winnow {

class DecisionStore;
class TrainingController;

/**
 * The open dataset as one document (like Tiled's Document): the scanned Dataset, the ScoreSet of the latest scoring
 * pass, the pending cleaning decisions (a DecisionStore), the scan generation, the to-label folders and the import of
 * new images. No widgets: the window, the analysis pages, the cleaning session and the training panel observe it
 * through its signals, and a test can drive it headless.
 *
 * Scans, demo generation and imports run off the GUI thread; a newer scan supersedes an older one (its result is
 * dropped). Errors are reported through errorOccurred() (title, message), never thrown; statusMessage() carries the
 * short lines a status bar shows. New files in the unlabeled folders (written by any program) trigger a rescan and,
 * when the controller has a model, a scoring pass, so they get suggestions without a retrain. GUI thread only.
 */
class DatasetDocument : public QObject
{
    Q_OBJECT
public:
    explicit DatasetDocument(QObject* parent = nullptr);
    ~DatasetDocument() override;

    /// The controller whose scoresReady feed scores(), and which scores new unlabeled files. May be null.
    void setController(TrainingController* controller);
    TrainingController* controller() const;
    /// Called before every scan to fill in the split settings (the Train page's valid % and seed).
    void setScanOptionsProvider(std::function<void(ScanOptions&)> provider);

    /// Checks the folder and scans it off the GUI thread; false (with errorOccurred) when it cannot be opened.
    bool open(const QString& folder);
    /// Opens the demo dataset, generating it first (off the GUI thread) when it is missing.
    void openDemo();
    /// Scans the open folder again (after files changed on disk); scores are kept.
    void rescan();

    /// The open dataset, or null.
    const Dataset* dataset() const;
    /// Scores of the latest scoring pass for the open dataset (empty if none).
    const ScoreSet& scores() const;
    /// Accepts scores (from the controller or a loaded run). Scores of another dataset are refused (false).
    bool setScores(const ScoreSet& scores);
    /// The pending cleaning decisions of the open dataset.
    DecisionStore* decisions() const;

    bool isScanning() const;
    bool isImporting() const;
    /// What runs in the background (scan, demo generation, import), or empty.
    QString busyText() const;

    /// Copies images (files or folders of them) from outside the dataset into `<root>/unlabeled/`, off the GUI
    /// thread; never moves or overwrites (importImagesToLabel), then rescans. Emits imagesImported() when done.
    void importImages(const QStringList& paths);
    /// Folders (relative to the dataset root) scanned as unlabeled besides `unlabeled/`, remembered per dataset.
    QStringList toLabelFolders() const;
    /// Marks a folder inside the dataset as "to label" (or unmarks it) and rescans.
    bool setToLabelFolder(const QString& folder, bool toLabel);

Q_SIGNALS:
    void scanStarted(const QString& folder);
    /// A scan finished: a new dataset, or the same one rescanned. decisions() already knows it.
    void datasetOpened(const Winnow::Dataset& dataset);
    void scoresChanged(const Winnow::ScoreSet& scores);
    /// Background work started or ended: `text` says what runs, empty when nothing does.
    void busyChanged(const QString& text);
    void errorOccurred(const QString& title, const QString& message);
    void statusMessage(const QString& text, int timeoutMs);
    /// importImages() finished: `copied` relative to the dataset root, `skipped` as "<path>: <reason>".
    void imagesImported(const QStringList& copied, const QStringList& skipped);

private:
    void startScan(const QString& folder, bool keepScores);
    void onScanFinished(quint64 generation, const QString& folder, bool keepScores, const ScanResult& result);
    void setBusy(const QString& text);
    void clearBusy();
    void watchUnlabeledFolders();
    void onUnlabeledChanged();

    std::optional<Dataset> m_dataset;
    ScoreSet m_scores;
    DecisionStore* m_decisions = nullptr;
    QPointer<TrainingController> m_controller;
    std::function<void(ScanOptions&)> m_scanOptions;
    quint64 m_scanGeneration = 0; ///< results of older scans are dropped
    bool m_scanning = false;
    bool m_demoRunning = false;
    bool m_importing = false;
    bool m_scoreAfterScan = false;
    QString m_busyText;
    QFileSystemWatcher* m_unlabeledWatcher = nullptr;
    QTimer* m_unlabeledDebounce = nullptr;
};

} // namespace Winnow
