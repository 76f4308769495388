// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPointer>
#include <QWidget>

#include "core/cleaning/cleaningplan.h"
#include "core/dataset/dataset.h"
#include "core/engine/types.h"

class QComboBox;
class QLabel;
class QMenu;

namespace Winnow {

class DecisionStore;
class Explainer;
class ImageGridModel;
class ImagePreview;
class ImageGridProxy;
class ImageGridView;
class ThumbnailLoader;

/**
 * The shared body of the analysis pages: a virtualized ImageGridView (through an ImageGridProxy) beside a panel
 * that shows the current image's scores and its decision (a combo: <Keep>, <Delete>, every class).
 *
 * Decisions go to a DecisionStore (so they survive filters, pages and rescans, and are undoable). Keys on the grid:
 * K keep, D (or Delete) delete, 1..9 move to class n of DecisionStore::classes(), Backspace clears, R opens the menu,
 * G cycles the thumbnails' evidence maps (Grad-CAM: off, the predicted class, the given label; setExplainer());
 * in Label mode also Enter accepts the model's suggestion and S skips. A decision by key applies to the selection
 * and, when one image is selected, moves on to the next image. Right click opens the same menu as R. Space, double
 * click (and Enter, in Clean mode) open the large ImagePreview of the current image, which follows the grid and takes
 * the same keys. GUI thread only.
 */
class DecisionGrid : public QWidget
{
    Q_OBJECT
public:
    enum class Mode { Clean, Label };

    /// Takes ownership of `proxy` (null: a plain ImageGridProxy).
    explicit DecisionGrid(Mode mode = Mode::Clean, ImageGridProxy* proxy = nullptr, QWidget* parent = nullptr);
    ~DecisionGrid() override;

    void setStore(DecisionStore* store);
    DecisionStore* store() const;
    void setThumbnailLoader(ThumbnailLoader* loader);
    /// Where the evidence maps (G) come from; not owned. Usually AnalysisPages' one Explainer for every grid.
    void setExplainer(Explainer* explainer);
    /// G: Off -> the predicted class -> the given label -> Off. Says in the status line what is shown.
    void cycleEvidenceMode();
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);

    Mode mode() const
    {
        return m_mode;
    }
    ImageGridModel* model() const
    {
        return m_model;
    }
    ImageGridProxy* proxy() const
    {
        return m_proxy;
    }
    ImageGridView* view() const
    {
        return m_view;
    }
    QComboBox* decisionCombo() const
    {
        return m_combo;
    }
    QLabel* detailsLabel() const
    {
        return m_details;
    }

    /// Whether a decision by key moves the current image on to the next one (default on).
    void setAdvanceOnDecision(bool on)
    {
        m_advance = on;
    }

    /// Sample indices a decision applies to: the selection, else the current image.
    QList<int> targetSamples() const;
    QStringList relPaths(const QList<int>& samples) const;
    int currentSample() const;
    /// Makes this sample current and selected (false when the filters hide it).
    bool selectSample(int sampleIndex);
    /// The view row (proxy row) now current, -1 if none.
    int currentRow() const;

    /// Records a decision for targetSamples(). Errors go to the panel's status line.
    bool decide(CleanAction action, const QString& toClass = {});
    /// Relabel targets to the class at `index` of the store's classes (the digit keys: index = digit - 1).
    bool decideClass(int index);
    /// Label mode: every target gets its suggested class (targets without a suggestion are left alone).
    bool acceptSuggestion();
    /// Moves the current image to the next one in view order (returns false at the end).
    bool advance();
    /// Moves the current image to the previous one in view order (returns false at the start).
    bool retreat();
    /// The grid's key handling (decision keys, Space for the preview); true if the key was used.
    bool handleDecisionKey(int key);

    /// Opens (or raises) the large preview of the current image; it follows the grid's current image.
    void openPreview();
    /// The preview, once opened (null before).
    ImagePreview* preview() const;
    /// The panel's rich text for a sample (SampleDetails::html in this grid's view).
    QString detailsHtml(int sampleIndex) const;

    /// The model's suggestion for a sample (its predicted class name), empty without a score.
    QString suggestedClass(int sampleIndex) const;
    double suggestedProbability(int sampleIndex) const;

    /// Builds the decision menu for the current targets (<Keep>, <Delete>, classes with their digit, New class...).
    /// The caller owns it; its actions act when triggered.
    QMenu* createDecisionMenu(QWidget* parent = nullptr);

    void setPlaceholderText(const QString& text);
    /// Extra widget shown above the details in the side panel (e.g. a page-specific hint). Ownership moves.
    void addPanelWidget(QWidget* widget);

    /**
     * "New class...", the one dialog for it (the grid's menu and the Label page's button): asks for a name, creates
     * the class folder (DecisionStore::createClass) and says the outcome in the status line, failures included. With
     * `relabelTargets`, the selected (or current) images are relabelled to the new class at once.
     */
    void promptNewClass(bool relabelTargets);

Q_SIGNALS:
    void currentSampleChanged(int sampleIndex);
    void statusMessage(const QString& message);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void onCurrentSampleChanged(int sampleIndex);
    void onDecisionsChanged(const QStringList& relPaths);
    void rebuildCombo();
    void updatePanel();
    void onComboActivated(int index);
    void showMenuAt(const QPoint& globalPos);
    void setStatus(const QString& message);
    bool applyDecision(const QList<int>& samples, CleanAction action, const QString& toClass);
    void afterKeyDecision(bool ok, int targetCount);

    Mode m_mode;
    ImageGridModel* m_model = nullptr;
    ImageGridProxy* m_proxy = nullptr;
    ImageGridView* m_view = nullptr;
    QWidget* m_panel = nullptr;
    QLabel* m_details = nullptr;
    QComboBox* m_combo = nullptr;
    QLabel* m_keys = nullptr;
    QLabel* m_status = nullptr;
    QPointer<DecisionStore> m_store;
    QList<QMetaObject::Connection> m_storeConnections;
    bool m_advance = true;
    QPointer<ImagePreview> m_preview;
    QPointer<Explainer> m_explainer; ///< the one `ready` is connected to
};

/// Announces changed decisions of these files to a grid model that reads them through its decision provider
/// (empty list: all rows).
void refreshDecisionRows(ImageGridModel* model, const QStringList& relPaths);

} // namespace Winnow
