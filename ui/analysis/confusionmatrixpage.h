// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"
#include "core/metrics/confusionmatrix.h"

class QAbstractButton;
class QButtonGroup;
class QCheckBox;
class QLabel;
class QTableView;

namespace Winnow {

class ConfusionMatrixModel;
class DecisionGrid;
class DecisionStore;
class LabelIssuesBar;
class MostConfusedModel;
class PlanBar;
class ThumbnailLoader;

/**
 * The interactive confusion matrix (rows = actual, columns = predicted, like fastai's plot) with a Train / Valid / All
 * switch (Valid by default, as fastai's ClassificationInterpretation), a row-normalised toggle and the most-confused
 * list. Clicking a cell or a list row shows exactly the images of that (actual, predicted) pair in the grid beside it,
 * highest loss first, where they can be decided on at once. Before any click the grid shows every misprediction of
 * the split.
 *
 * Counts come from the same join the grid uses (the dataset's label of each file and its score's prediction), so a
 * cell's count always equals the number of images its drill-down shows. GUI thread only.
 */
class ConfusionMatrixPage : public QWidget
{
    Q_OBJECT
public:
    enum class SplitChoice { Train, Valid, All };
    Q_ENUM(SplitChoice)

    explicit ConfusionMatrixPage(QWidget* parent = nullptr);
    ~ConfusionMatrixPage() override;

    void setStore(DecisionStore* store);
    void setThumbnailLoader(ThumbnailLoader* loader);
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);

    void setSplit(SplitChoice split);
    SplitChoice split() const
    {
        return m_split;
    }
    void setNormalised(bool on);
    bool isNormalised() const;

    /// Shows the images of one cell (indices into matrix().classNames()). (-1, -1) goes back to "all errors".
    void selectCell(int actual, int predicted);
    int selectedActual() const
    {
        return m_actual;
    }
    int selectedPredicted() const
    {
        return m_predicted;
    }

    const ConfusionMatrix& matrix() const
    {
        return m_matrix;
    }
    ConfusionMatrixModel* matrixModel() const
    {
        return m_model;
    }
    MostConfusedModel* mostConfusedModel() const
    {
        return m_confused;
    }
    QTableView* matrixView() const
    {
        return m_matrixView;
    }
    QTableView* mostConfusedView() const
    {
        return m_confusedView;
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
    void cellSelected(int actual, int predicted);
    void applyRequested();

private:
    void recompute();
    void applyGridFilter();
    void updateCaption();

    ConfusionMatrixModel* m_model = nullptr;
    MostConfusedModel* m_confused = nullptr;
    QTableView* m_matrixView = nullptr;
    QTableView* m_confusedView = nullptr;
    DecisionGrid* m_grid = nullptr;
    PlanBar* m_planBar = nullptr;
    LabelIssuesBar* m_issues = nullptr;
    QButtonGroup* m_splitGroup = nullptr;
    QCheckBox* m_normalise = nullptr;
    QLabel* m_accuracy = nullptr;
    QLabel* m_caption = nullptr;
    ConfusionMatrix m_matrix;
    QList<int> m_datasetIndexOfClass; ///< matrix class -> dataset vocab index (-1 if absent)
    SplitChoice m_split = SplitChoice::Valid;
    int m_actual = -1;
    int m_predicted = -1;
};

} // namespace Winnow
