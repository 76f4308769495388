// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QPointer>

#include "core/cleaning/cleaningplan.h"
#include "core/dataset/dataset.h"
#include "core/engine/types.h"

namespace Winnow {

class CleanerPage;
class ConfusionMatrixPage;
class DatasetDocument;
class DecisionStore;
class Explainer;
class ImageGridModel;
class ImageGridView;
class IssuesPage;
class LabelPage;
class ThumbnailLoader;
class TopLossesPage;
class TrainingController;

/**
 * The analysis and decision pages (confusion matrix, top losses, cleaner, label, issues) and the DecisionStore they
 * share: the document's (DatasetDocument::decisions()), or their own when none is given. The pages are plain widgets
 * (parentless until the shell adds them: tabs()). setDataset()/setScores() fan out to every page; applyRequested()
 * comes from any page's Apply... button. GUI thread only.
 */
class AnalysisPages : public QObject
{
    Q_OBJECT
public:
    explicit AnalysisPages(DecisionStore* store = nullptr, QObject* parent = nullptr);
    ~AnalysisPages() override;

    /// The pages in tab order, with their tab titles.
    QList<QPair<QWidget*, QString>> tabs() const;

    DecisionStore* store() const
    {
        return m_store;
    }
    ConfusionMatrixPage* confusionPage() const; ///< null once the window has destroyed it
    TopLossesPage* topLossesPage() const; ///< null once the window has destroyed it
    CleanerPage* cleanerPage() const; ///< null once the window has destroyed it
    LabelPage* labelPage() const; ///< null once the window has destroyed it
    IssuesPage* issuesPage() const; ///< null once the window has destroyed it

    /// The evidence maps (Grad-CAM, key G) of every page's grid, computed off the GUI thread.
    Explainer* explainer() const
    {
        return m_explainer;
    }
    /// The run whose model the evidence maps use (TrainingPanel::runWritten: trained, retrained or loaded).
    void setRunDir(const QString& runDir);

    void setThumbnailLoader(ThumbnailLoader* loader);
    /// A dataset was opened or rescanned (the store keeps the plan for the same root, see DecisionStore).
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);
    /// Replaces the plan (e.g. loaded, or emptied after a successful Apply).
    void setPlan(const CleaningPlan& plan);
    const CleaningPlan& plan() const;

Q_SIGNALS:
    /// The user pressed Apply... on any page: review and carry out plan().
    void applyRequested();
    /// A line for the status bar (e.g. which evidence map G shows now).
    void statusMessage(const QString& text, int timeoutMs);

private:
    DecisionStore* m_store = nullptr;
    bool m_ownsStore = false;
    // Guarded: once the shell adopts a page, the page dies with the window, possibly before this object.
    QPointer<ConfusionMatrixPage> m_confusion;
    QPointer<TopLossesPage> m_topLosses;
    QPointer<CleanerPage> m_cleaner;
    QPointer<LabelPage> m_label;
    QPointer<IssuesPage> m_issues;
    Explainer* m_explainer = nullptr;
};

/// What the analysis pages observe and share with the rest of the window.
struct AnalysisWiring
{
    DatasetDocument* document = nullptr; ///< the dataset, scores and decisions every page shows
    TrainingController* controller = nullptr; ///< runs the Issues page's checks (may be null)
    ThumbnailLoader* thumbnails = nullptr;
    ImageGridModel* images = nullptr; ///< the Images page's model: it shows the same decisions, badges and maps
    ImageGridView* imagesView = nullptr; ///< its K / D / G keys record into the same plan
};

/**
 * Creates the analysis pages (the caller adds tabs() to its window) and wires them: datasetOpened / scoresChanged of
 * the document feed every page, the decisions are the document's, the thumbnail loader is shared, the Issues page asks
 * the controller for checks and shows its dataIssuesReady reports (as badges in every grid, the Images page's too),
 * and the Images grid shows the same decisions (its K / D keys record into the same plan). The caller still connects
 * AnalysisPages::applyRequested to the transactional apply (CleaningSession).
 */
AnalysisPages* installAnalysisPages(const AnalysisWiring& wiring, QObject* parent);

} // namespace Winnow
