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
class DecisionStore;
class Explainer;
class IssuesPage;
class LabelPage;
class MainWindow;
class ThumbnailLoader;
class TopLossesPage;

/**
 * The analysis and decision pages (confusion matrix, top losses, cleaner, label) and the DecisionStore they share.
 * Owns the store; the pages are plain widgets (parentless until the shell adds them). setDataset()/setScores() fan
 * out to every page; applyRequested() comes from any page's Apply... button. GUI thread only.
 */
class AnalysisPages : public QObject
{
    Q_OBJECT
public:
    explicit AnalysisPages(QObject* parent = nullptr);
    ~AnalysisPages() override;

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

private:
    DecisionStore* m_store = nullptr;
    // Guarded: once the shell adopts a page, the page dies with the window, possibly before this object.
    QPointer<ConfusionMatrixPage> m_confusion;
    QPointer<TopLossesPage> m_topLosses;
    QPointer<CleanerPage> m_cleaner;
    QPointer<LabelPage> m_label;
    QPointer<IssuesPage> m_issues;
    Explainer* m_explainer = nullptr;
};

/**
 * Creates the analysis pages, adds them to `window` as tabs ("Confusion matrix", "Top losses", "Cleaner", "Label",
 * "Issues") and wires them: the Issues page asks the window's TrainingController for checks and shows its
 * dataIssuesReady reports; datasetOpened / scoresChanged feed every page (and the store), the window's thumbnail loader
 * is shared, and the window's Images grid shows the same decisions (its K / D keys record into the same plan). The
 * returned object is owned by the window. The caller still connects AnalysisPages::applyRequested to the
 * transactional apply (core/cleaning/transaction.h applyPlan), then hands the emptied plan back with setPlan().
 */
AnalysisPages* installAnalysisPages(MainWindow& window);

} // namespace Winnow
