// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>

#include <QHash>
#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTableWidget;

namespace Winnow {

class Predictor;
struct Prediction;

/**
 * The Predict page: drop images (or add them) and see each one's predicted label and class probabilities, using an
 * exported model file or the current run's model. Also hosts the Export action (exportModel()).
 *
 * Model loading and prediction run off the GUI thread (QtConcurrent); results from a superseded model are dropped.
 * The Predictor it uses is the same code as `winnow predict` / `winnow serve`, so the page shows what those print.
 * GUI thread only.
 */
class PredictPage : public QWidget
{
    Q_OBJECT
public:
    explicit PredictPage(QWidget* parent = nullptr);
    ~PredictPage() override;

    /// The app's current run (empty: none). Enables "Use current run" and Export; loads it if no model is open yet.
    void setRunDir(const QString& runDir);
    QString runDir() const
    {
        return m_runDir;
    }

    /// Loads an exported model file (in the background); modelLoaded() or modelFailed() follows.
    void openModelFile(const QString& file);
    /// Loads the current run's model in memory (the bytes an export would write).
    void useCurrentRun();
    /// Adds images and predicts them (once a model is loaded). Folders are not expanded.
    void addImages(const QStringList& files);

    bool hasModel() const;
    /// One line describing the loaded model ("mobilenet_v2, 3 classes, 128 px, from bears.winnow"), or empty.
    QString modelDescription() const
    {
        return m_description;
    }
    int imageCount() const;
    /// The prediction shown for row `row` (for tests and the shell's status bar); null if not predicted yet.
    const Prediction* prediction(int row) const;
    /// The "Evidence map" switch: the selected image's preview shows where the model found its predicted class
    /// (Grad-CAM, computed in the background the first time). evidenceShown() says once the map is on screen.
    void setEvidenceVisible(bool on);
    bool evidenceShown() const
    {
        return m_evidenceShown;
    }

    /**
     * Exports the current run to `file` (exportModel in core/engine/modelfile.h) off the GUI thread: exported(file)
     * follows, and the page then predicts with the written file (showing that it loads), or exportFailed(message).
     * Returns false, doing nothing, when there is no run or an export is already running.
     */
    bool exportRunTo(const QString& file);
    /// An export started by exportRunTo() or the Export action has not finished yet.
    bool isExporting() const
    {
        return m_exporting;
    }

public Q_SLOTS:
    /// The Export action: asks where to save the current run's model, then exportRunTo(); a failure is shown in a
    /// message box.
    void exportModel();
    /// "Open model...": asks for an exported model file.
    void chooseModel();
    /// "Add images...".
    void chooseImages();
    /// Removes every image from the list.
    void clear();

Q_SIGNALS:
    void modelLoaded(const QString& description);
    void modelFailed(const QString& error);
    /// An evidence map was computed (and is shown, if its image is still selected).
    void evidenceReady(int row);
    /// A batch of predictions arrived (rows now showing results).
    void predictionsReady(int count);
    void exported(const QString& file);
    void exportFailed(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    struct Row;
    void startLoad(const QString& source, bool isRun);
    void predictPending();
    void showDetails();
    void explainRow(int index);
    void updateState();

    QString m_runDir;
    QString m_description;
    std::shared_ptr<const Predictor> m_predictor;
    quint64 m_generation = 0; ///< bumped per model load: stale results are dropped
    bool m_loading = false;
    bool m_loadingRun = false; ///< the load in flight is of the run folder
    bool m_fromRun = false; ///< the model in use came from the run folder (not a file the user opened)
    bool m_predicting = false;
    bool m_exporting = false;
    bool m_exportInteractive = false; ///< the export in flight came from the Export action: failures get a box
    std::vector<std::unique_ptr<Row>> m_rows;

    QLabel* m_modelLabel = nullptr;
    QPushButton* m_openButton = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_exportButton = nullptr;
    QPushButton* m_addButton = nullptr;
    QPushButton* m_clearButton = nullptr;
    QLabel* m_hint = nullptr;
    QTableWidget* m_list = nullptr;
    QLabel* m_preview = nullptr;
    QLabel* m_verdict = nullptr;
    QTableWidget* m_probs = nullptr;
    QCheckBox* m_evidenceBox = nullptr;
    bool m_evidenceShown = false;
};

} // namespace Winnow
