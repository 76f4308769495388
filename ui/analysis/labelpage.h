// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/suggestionproxy.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QTreeWidget;

namespace Winnow {

class DecisionGrid;
class PlanBar;
class ThumbnailLoader;

/// One image a bulk accept would label.
struct SuggestionCandidate
{
    QString relPath;
    QString className;
    double probability = 0;
};

/// Preview before a bulk accept: how many images and which (file, class, probability). Accept carries it out.
class BulkAcceptDialog : public QDialog
{
    Q_OBJECT
public:
    BulkAcceptDialog(const QList<SuggestionCandidate>& candidates, double threshold, QWidget* parent = nullptr);
    int count() const
    {
        return int(m_candidates.size());
    }
    const QList<SuggestionCandidate>& candidates() const
    {
        return m_candidates;
    }
    QTreeWidget* list() const
    {
        return m_list;
    }
    QLabel* headline() const
    {
        return m_headline;
    }

private:
    QList<SuggestionCandidate> m_candidates;
    QTreeWidget* m_list = nullptr;
    QLabel* m_headline = nullptr;
};

/**
 * Label new images: the grid of unlabeled images (Split::Unlabeled), each with the model's suggested class and its
 * probability. Order: least confident first (smallest top-1 minus top-2), by suggested class, or by name. Keys: Enter
 * accepts the suggestion, 1..9 picks class n, D marks delete, S skips, K / Backspace clear; each moves on to the next
 * image. Bulk: accept every suggestion at or above a probability, after a preview of how many and which. "New
 * class..." creates a class folder that becomes a target everywhere. Decisions go into the same plan as the
 * cleaner's. GUI thread only.
 */
class LabelPage : public QWidget
{
    Q_OBJECT
public:
    explicit LabelPage(QWidget* parent = nullptr);
    ~LabelPage() override;

    void setStore(DecisionStore* store);
    void setThumbnailLoader(ThumbnailLoader* loader);
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);

    void setOrder(SuggestionProxy::Order order);
    SuggestionProxy::Order order() const;

    /// Undecided, scored unlabeled images whose suggestion has p >= minProbability, most probable first.
    QList<SuggestionCandidate> bulkCandidates(double minProbability) const;
    /// Shows the preview for the threshold in the spin box and, if the user accepts, records every suggestion as one
    /// undo step. Returns how many were labelled (0 when cancelled or none).
    int acceptAboveThreshold();
    /// Creates a class folder (validated) and makes it a relabel target.
    bool createNewClass(const QString& name, QString* error = nullptr);

    QDoubleSpinBox* thresholdSpin() const
    {
        return m_threshold;
    }
    QPushButton* bulkButton() const
    {
        return m_bulk;
    }
    QComboBox* orderCombo() const
    {
        return m_order;
    }
    DecisionGrid* grid() const
    {
        return m_grid;
    }
    SuggestionProxy* proxy() const
    {
        return m_proxy;
    }
    PlanBar* planBar() const
    {
        return m_planBar;
    }

Q_SIGNALS:
    void applyRequested();

private:
    void updateCaption();

    SuggestionProxy* m_proxy = nullptr;
    DecisionGrid* m_grid = nullptr;
    PlanBar* m_planBar = nullptr;
    QComboBox* m_order = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QPushButton* m_bulk = nullptr;
    QLabel* m_caption = nullptr;
};

} // namespace Winnow
