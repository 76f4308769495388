// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

class QCheckBox;
class QComboBox;
class QLabel;

namespace Winnow {

class DecisionGrid;
class DecisionStore;
class LabelIssuesBar;
class PlanBar;
class ThumbnailLoader;

/**
 * Top losses: every scored labeled image, highest loss first (fastai's plot_top_losses without the k cap). Each card
 * shows the thumbnail, "given → predicted", the loss, p(predicted) and p(given), each labelled (fastai shows only
 * p(predicted), fastai#3591). Filters: split (All / Train / Valid), class, mispredicted only. The score kind
 * (out-of-sample / in-sample) is stated in the header and per image. Decisions work as in the cleaner.
 * GUI thread only.
 */
class TopLossesPage : public QWidget
{
    Q_OBJECT
public:
    enum class SplitChoice { All, Train, Valid };
    Q_ENUM(SplitChoice)

    explicit TopLossesPage(QWidget* parent = nullptr);
    ~TopLossesPage() override;

    void setStore(DecisionStore* store);
    void setThumbnailLoader(ThumbnailLoader* loader);
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);

    void setSplit(SplitChoice split);
    SplitChoice split() const;
    void setMispredictedOnly(bool on);

    QComboBox* splitCombo() const
    {
        return m_split;
    }
    QLabel* scoreKindLabel() const
    {
        return m_kind;
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
    void updateKind();

    QComboBox* m_split = nullptr;
    QComboBox* m_class = nullptr;
    QCheckBox* m_wrongOnly = nullptr;
    QLabel* m_kind = nullptr;
    QLabel* m_count = nullptr;
    DecisionGrid* m_grid = nullptr;
    PlanBar* m_planBar = nullptr;
    LabelIssuesBar* m_issues = nullptr;
};

} // namespace Winnow
