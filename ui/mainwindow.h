// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QIcon>
#include <QMainWindow>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

class QLabel;
class QMenu;
class QMimeData;
class QProgressBar;
class QTabWidget;

namespace Winnow {

class AnalysisPages;
class CleaningSession;
class DatasetDocument;
class DatasetSummary;
class ImagesPage;
class PredictPage;
class ImageGridModel;
class ImageGridProxy;
class ImageGridView;
class ThumbnailLoader;
class TrainingController;
class TrainingPanel;

/**
 * Winnow's main window: File / View / Clean / Help menus, a toolbar, the dataset sidebar (class counts per split,
 * unreadable files), and a tab per page: "Images" (the whole dataset in a filterable thumbnail grid), "Train"
 * (TrainingPanel), the analysis pages (confusion matrix, top losses, cleaner, label: ui/analysis), "Predict"
 * (PredictPage, with File > Export Model), then any page added with addPage(). The cleaning round (apply, undo,
 * retrain) is CleaningSession.
 *
 * The open dataset, its scores and pending decisions live in the DatasetDocument (document()); the window observes it
 * like every page does, and its dataset(), scores(), openDataset()... forward to it. Owns the shared
 * TrainingController, ThumbnailLoader and the dataset-wide ImageGridModel (other pages may put their own
 * ImageGridProxy on imageModel(), or build their own model on thumbnailLoader()). The document's background work
 * shows as a busy indicator in the status bar; its errors (missing or invalid folders, failed scans) are shown in a
 * non-modal message box and reported through errorOccurred(), never thrown.
 */
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    static constexpr int kMaxRecent = 10;

    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens a dataset folder (scan runs off the GUI thread). Errors are shown, never thrown.
    void openDataset(const QString& folder);
    /// First run: the demo dataset (generated on demand); later runs: the most recent folder that still exists.
    void openDefault();
    /// Opens the demo dataset, generating it first (off the GUI thread) when it is missing.
    void openDemo();
    /// Scans the current folder again (after files changed on disk); scores are kept.
    void rescan();

    /// Adds a page as a tab after the built-in ones; the window takes ownership.
    void addPage(QWidget* page, const QString& title, const QIcon& icon = {});
    /// Brings a page (built-in or added) to the front.
    void showPage(QWidget* page);
    QWidget* imagesPage() const;
    TrainingPanel* trainingPanel() const;
    QTabWidget* pages() const;

    /// The open dataset, its scores and decisions: what every page observes.
    DatasetDocument* document() const
    {
        return m_document;
    }
    /// The open dataset, or null.
    const Dataset* dataset() const;
    /// Scores of the latest scoring pass for the open dataset (empty if none).
    const ScoreSet& scores() const;
    TrainingController* controller() const;
    ThumbnailLoader* thumbnailLoader() const;
    ImageGridModel* imageModel() const;
    ImageGridProxy* imageProxy() const;
    ImageGridView* imageView() const;
    DatasetSummary* summary() const;
    AnalysisPages* analysisPages() const
    {
        return m_analysis;
    }
    CleaningSession* cleaningSession() const
    {
        return m_cleaning;
    }
    PredictPage* predictPage() const
    {
        return m_predictPage;
    }

    /// The thumbnail grid of the page in front (what View > Zoom acts on), or null when that page has none.
    ImageGridView* currentGridView() const;
    /// Every keyboard shortcut of the window: (keys, what they do), menus first, then the grid and page keys.
    QList<QPair<QString, QString>> shortcutList() const;
    /// Help > Keyboard Shortcuts (non-modal).
    void showShortcuts();

    bool isScanning() const;
    QString lastError() const; ///< the most recent error message shown
    QStringList recentFolders() const;

    /// True if the drag data holds a local folder that could be opened.
    static bool canOpenDrop(const QMimeData* mime);
    /// True if the drag data holds local image files: dropped on a window with a dataset open, they are copied into
    /// its `unlabeled/` folder (addImagesToLabel).
    static bool canImportDrop(const QMimeData* mime);

    /// Copies images (files or folders of them) from outside the dataset into `<root>/unlabeled/`, off the GUI
    /// thread; never moves or overwrites (importImagesToLabel), then rescans so they appear in the Label view.
    /// Emits imagesImported() when done; skipped inputs are listed to the user.
    void addImagesToLabel(const QStringList& paths);
    /// Folders (relative to the dataset root) scanned as unlabeled besides `unlabeled/`, remembered per dataset.
    QStringList toLabelFolders() const;
    /// Marks a folder inside the dataset as "to label" (or unmarks it) and rescans.
    bool setToLabelFolder(const QString& folder, bool toLabel);

public Q_SLOTS:
    /// Accept scores from elsewhere (e.g. a loaded run); same effect as the controller's scoresReady.
    void setScores(const Winnow::ScoreSet& scores);
    void showError(const QString& title, const QString& message);
    void showStatus(const QString& text, int timeoutMs = 5000);

Q_SIGNALS:
    void datasetOpened(const Winnow::Dataset& dataset);
    void scoresChanged(const Winnow::ScoreSet& scores);
    void scanStarted(const QString& folder);
    /// An error was shown to the user.
    void errorOccurred(const QString& message);
    /// addImagesToLabel() finished: `copied` relative to the dataset root, `skipped` as "<path>: <reason>".
    void imagesImported(const QStringList& copied, const QStringList& skipped);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildActions();
    void buildStatusBar();
    void onDatasetOpened(const Dataset& dataset);
    void onScoresChanged(const ScoreSet& scores);
    void onBusyChanged(const QString& text);
    void addRecent(const QString& folder);
    void rebuildRecentMenu();
    void browseForFolder();
    void browseForImagesToLabel();
    void browseForToLabelFolder();
    void rebuildToLabelMenu();
    void updateStatusInfo();
    void updateTitle();
    void about();
    void updateActions();

    DatasetDocument* m_document = nullptr;
    TrainingController* m_controller = nullptr;
    ThumbnailLoader* m_loader = nullptr;
    ImageGridModel* m_imageModel = nullptr;
    ImageGridProxy* m_imageProxy = nullptr;
    ImageGridView* m_imageView = nullptr;
    DatasetSummary* m_summary = nullptr;
    TrainingPanel* m_trainingPanel = nullptr;
    AnalysisPages* m_analysis = nullptr;
    CleaningSession* m_cleaning = nullptr;
    PredictPage* m_predictPage = nullptr;
    QTabWidget* m_tabs = nullptr;
    ImagesPage* m_imagesPage = nullptr;

    QAction* m_retrainAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_zoomIn = nullptr;
    QAction* m_zoomOut = nullptr;
    QAction* m_zoomReset = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_toLabelMenu = nullptr;
    QLabel* m_statusInfo = nullptr;
    QLabel* m_busyLabel = nullptr;
    QProgressBar* m_busyBar = nullptr;

    QString m_lastError;
};

} // namespace Winnow
