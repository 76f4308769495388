// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QSortFilterProxyModel>
#include <QVector>

namespace Winnow {

class ImageGridModel;

/**
 * Filters and sorts an ImageGridModel without recomputing anything (it reads the source's rows directly).
 *
 * Filters (all combine with AND): given class, split, confusion cell (actual, predicted), mispredicted only, scored
 * only, readable only, decision set, flagged as a likely label error, and a file-name substring (setTextFilter). Sort
 * orders: by name (relative path), by loss descending, by margin ascending, by p(given) ascending; rows without a score
 * sort last. Default: None (source order, which for a whole dataset is by path, at no sorting cost).
 *
 * The source must be an ImageGridModel (setSourceModel asserts it). GUI thread only.
 */
class ImageGridProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    enum class SplitFilter { All, Train, Valid, Unlabeled, Labeled };
    Q_ENUM(SplitFilter)
    enum class SortOrder { ByName, ByLossDesc, ByMarginAsc, ByPGivenAsc, None, ByList };
    Q_ENUM(SortOrder)

    explicit ImageGridProxy(QObject* parent = nullptr);

    void setSourceModel(QAbstractItemModel* source) override;
    ImageGridModel* gridModel() const;

    void setClassFilter(int classIndex); ///< given label index; -1 = all classes
    int classFilter() const;
    void setSplitFilter(SplitFilter split);
    SplitFilter splitFilter() const;
    /// Keep only scored rows with this given label and predicted label. -1 for either side = any.
    void setCellFilter(int actual, int predicted);
    void clearCellFilter();
    bool hasCellFilter() const;
    int cellActual() const;
    int cellPredicted() const;
    void setMispredictedOnly(bool on);
    bool mispredictedOnly() const;
    void setScoredOnly(bool on);
    bool scoredOnly() const;
    void setReadableOnly(bool on);
    bool readableOnly() const;
    void setDecidedOnly(bool on); ///< rows with a non-empty decision
    bool decidedOnly() const;
    void setFlaggedOnly(bool on); ///< rows whose score is flagged as a likely label error (ScoreRecord::issue)
    bool flaggedOnly() const;
    /// Rows whose data-issue flags (ImageGridModel::dataIssueFlags) have any bit of `mask`; 0 = off.
    void setDataIssueFilter(quint32 mask);
    quint32 dataIssueFilter() const;
    void setTextFilter(const QString& text); ///< case-insensitive substring of the relative path
    QString textFilter() const;

    /// Keep only these samples (Dataset::samples indices) and show them in this order (sort order ByList): the
    /// Issues page's flagged files, duplicate groups side by side. An empty list shows nothing until
    /// clearSampleList(), which also returns to the sort order before.
    void setSampleList(const QVector<int>& samples);
    void clearSampleList();
    bool hasSampleList() const;

    void setSortOrder(SortOrder order);
    SortOrder sortOrder() const;

    int sourceRow(int proxyRow) const;
    int sampleIndex(int proxyRow) const;

Q_SIGNALS:
    void filterChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    void refilter();
    void onScoresChanged();

    ImageGridModel* m_grid = nullptr;
    int m_class = -1;
    SplitFilter m_split = SplitFilter::All;
    int m_cellActual = -1;
    int m_cellPredicted = -1;
    bool m_cell = false;
    bool m_mispredictedOnly = false;
    bool m_scoredOnly = false;
    bool m_readableOnly = false;
    bool m_decidedOnly = false;
    bool m_flaggedOnly = false;
    QString m_text;
    quint32 m_issueMask = 0;
    bool m_listOn = false;
    QHash<int, int> m_listRank; ///< sample index -> position in the sample list
    SortOrder m_orderBeforeList = SortOrder::None;
    SortOrder m_order = SortOrder::None; // source order: the dataset is already sorted by path
};

} // namespace Winnow
