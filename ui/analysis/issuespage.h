// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"
#include "core/metrics/dataissues.h"

class QLabel;
class QListWidget;
class QPushButton;

namespace Winnow {

class DecisionGrid;
class DecisionStore;
class PlanBar;
class ThumbnailLoader;

/**
 * Every other kind of bad data (core/metrics/dataissues.h): one row per issue type with its count and what it means;
 * selecting a row shows its files in a DecisionGrid (duplicate groups side by side, the copy to keep first; other
 * issues most severe first). Decisions go to the shared DecisionStore, so they are applied and undone like every
 * other decision; the bulk buttons decide for all shown files at once (delete every copy but the kept one, delete
 * the leaked validation copies, select all to review). "Check again" emits findRequested(). GUI thread only.
 */
class IssuesPage : public QWidget
{
    Q_OBJECT
public:
    explicit IssuesPage(QWidget* parent = nullptr);
    ~IssuesPage() override;

    void setStore(DecisionStore* store);
    void setThumbnailLoader(ThumbnailLoader* loader);
    void setDataset(const Dataset& dataset);
    void setScores(const ScoreSet& scores);
    /// The detectors' findings for `datasetRoot` (ignored when another dataset is open).
    void setReport(const DataIssueReport& report, const QString& datasetRoot);
    /// Says that a check runs (or could not start) in place of the summary.
    void setChecking(const QString& message);
    bool hasReport() const
    {
        return m_hasReport;
    }
    const DataIssueReport& report() const
    {
        return m_report;
    }

    /// Shows the files of one issue type (the list's row follows).
    void showIssue(DataIssue type);
    DataIssue currentIssue() const;
    /// The bulk action of the current issue type (what its button does). Returns how many files got a decision.
    int applyBulkAction();

    DecisionGrid* grid() const
    {
        return m_grid;
    }
    QListWidget* issueList() const
    {
        return m_list;
    }
    QPushButton* bulkButton() const
    {
        return m_bulk;
    }

Q_SIGNALS:
    void applyRequested();
    /// The user asked for a (new) check of the open dataset.
    void findRequested();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rebuildList();
    void updateDetails();
    QVector<int> filesOf(DataIssue type) const;

    DecisionGrid* m_grid = nullptr;
    QListWidget* m_list = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_explanation = nullptr;
    QLabel* m_classes = nullptr;
    QPushButton* m_bulk = nullptr;
    QPushButton* m_check = nullptr;
    PlanBar* m_planBar = nullptr;
    DecisionStore* m_store = nullptr;
    Dataset m_dataset;
    DataIssueReport m_report;
    bool m_hasReport = false;
    bool m_requested = false; ///< findRequested() was emitted for the open dataset
};

} // namespace Winnow
