// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

class QComboBox;
class QLabel;

namespace Winnow {

class DecisionGrid;
class DecisionStore;
class LabelIssuesBar;
class PlanBar;
class ThumbnailLoader;

/**
 * fastai's ImageClassifierCleaner done right: pick a category (the vocab) and Train / Valid; the grid shows every
 * image whose GIVEN label is that category in that split, highest loss first, with no cap (virtualized). Each card
 * has the <Keep> / <Delete> / class menu (right click, R, or the side panel's combo), and the keys K, D, 1..9,
 * Backspace. Decisions live in the DecisionStore keyed by file, so they survive switching category, split or page;
 * Ctrl+Z / Ctrl+Shift+Z undo and redo. The summary is always visible; Apply... emits applyRequested().
 * GUI thread only.
 */
class CleanerPage : public QWidget
{
    Q_OBJECT
public:
    explicit CleanerPage(QWidget* parent = nullptr);
    ~CleanerPage() override;

    void setStore(DecisionStore* store);
    void setThumbnailLoader(ThumbnailLoader* loader);
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);

    /// Selects a category by class name (false if the dataset has no such class).
    bool setCategory(const QString& className);
    QString category() const;
    /// Train or Valid (Unlabeled is not a cleaner split and is ignored).
    void setSplit(Split split);
    Split split() const;

    QComboBox* categoryCombo() const
    {
        return m_category;
    }
    QComboBox* splitCombo() const
    {
        return m_split;
    }
    DecisionGrid* grid() const
    {
        return m_grid;
    }
    PlanBar* planBar() const
    {
        return m_planBar;
    }
    LabelIssuesBar* labelIssuesBar() const
    {
        return m_issues;
    }

Q_SIGNALS:
    void applyRequested();

private:
    void applyFilter();
    void updateCaption();

    QComboBox* m_category = nullptr;
    QComboBox* m_split = nullptr;
    QLabel* m_caption = nullptr;
    DecisionGrid* m_grid = nullptr;
    PlanBar* m_planBar = nullptr;
    LabelIssuesBar* m_issues = nullptr;
};

} // namespace Winnow
