// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPointer>
#include <QStringList>
#include <QWidget>

class QCheckBox;
class QLabel;

namespace Winnow {

class DecisionGrid;
class DecisionStore;

/**
 * The label-error strip of an analysis page's toolbar: "about N likely label errors, M reviewed" (N: the
 * confident-learning estimate of the grid's scores, ScoreSet::estimatedErrors; M: flagged images with a decision
 * in the shared DecisionStore, i.e. to delete or to move) and a "Flagged only" check box that keeps only the flagged
 * images in the grid (ImageGridProxy::setFlaggedOnly). Follows the grid's scores and the store's decisions by
 * itself. GUI thread only.
 */
class LabelIssuesBar : public QWidget
{
    Q_OBJECT
public:
    explicit LabelIssuesBar(DecisionGrid* grid, QWidget* parent = nullptr);

    void setStore(DecisionStore* store);

    QLabel* countLabel() const
    {
        return m_count;
    }
    QCheckBox* flaggedOnlyBox() const
    {
        return m_flaggedOnly;
    }
    int flagged() const
    {
        return int(m_flaggedFiles.size());
    }
    int reviewed() const
    {
        return m_reviewed;
    }

private:
    void rebuild();
    void update();

    DecisionGrid* m_grid = nullptr;
    QPointer<DecisionStore> m_store;
    QMetaObject::Connection m_storeConnection;
    QLabel* m_count = nullptr;
    QCheckBox* m_flaggedOnly = nullptr;
    QStringList m_flaggedFiles; ///< flagged records the grid shows
    int m_reviewed = 0;
};

} // namespace Winnow
