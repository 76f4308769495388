// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/imagegrid/imagegridproxy.h"

#include <climits>

#include "ui/imagegrid/imagegridmodel.h"

namespace Winnow {

ImageGridProxy::ImageGridProxy(QObject* parent)
    : QSortFilterProxyModel(parent)
{
    // Roles whose change must re-sort / re-filter a row; thumbnail arrivals (DecorationRole) touch neither.
    setSortRole(ImageGridModel::LossRole);
    setFilterRole(ImageGridModel::DecisionRole);
    setDynamicSortFilter(true);
}

void ImageGridProxy::setSourceModel(QAbstractItemModel* source)
{
    if (m_grid)
        m_grid->disconnect(this);
    m_grid = qobject_cast<ImageGridModel*>(source);
    Q_ASSERT_X(!source || m_grid, "ImageGridProxy", "source must be an ImageGridModel");
    QSortFilterProxyModel::setSourceModel(source);
    if (m_grid)
        connect(m_grid, &ImageGridModel::scoresChanged, this, &ImageGridProxy::onScoresChanged);
    connect(m_grid, &ImageGridModel::dataIssuesChanged, this, [this] {
        if (m_issueMask)
            refilter();
    });
    setSortOrder(m_order);
}

ImageGridModel* ImageGridProxy::gridModel() const
{
    return m_grid;
}

void ImageGridProxy::refilter()
{
    invalidateFilter();
    Q_EMIT filterChanged();
}

void ImageGridProxy::onScoresChanged()
{
    // Score-dependent filters and orders need a full pass; the layout change keeps persistent indexes valid.
    invalidate();
    Q_EMIT filterChanged();
}

void ImageGridProxy::setClassFilter(int classIndex)
{
    classIndex = qMax(-1, classIndex);
    if (classIndex == m_class)
        return;
    m_class = classIndex;
    refilter();
}

int ImageGridProxy::classFilter() const
{
    return m_class;
}

void ImageGridProxy::setSplitFilter(SplitFilter split)
{
    if (split == m_split)
        return;
    m_split = split;
    refilter();
}

ImageGridProxy::SplitFilter ImageGridProxy::splitFilter() const
{
    return m_split;
}

void ImageGridProxy::setCellFilter(int actual, int predicted)
{
    if (m_cell && actual == m_cellActual && predicted == m_cellPredicted)
        return;
    m_cell = true;
    m_cellActual = actual;
    m_cellPredicted = predicted;
    refilter();
}

void ImageGridProxy::clearCellFilter()
{
    if (!m_cell)
        return;
    m_cell = false;
    m_cellActual = m_cellPredicted = -1;
    refilter();
}

bool ImageGridProxy::hasCellFilter() const
{
    return m_cell;
}

int ImageGridProxy::cellActual() const
{
    return m_cellActual;
}

int ImageGridProxy::cellPredicted() const
{
    return m_cellPredicted;
}

void ImageGridProxy::setMispredictedOnly(bool on)
{
    if (on == m_mispredictedOnly)
        return;
    m_mispredictedOnly = on;
    refilter();
}

bool ImageGridProxy::mispredictedOnly() const
{
    return m_mispredictedOnly;
}

void ImageGridProxy::setScoredOnly(bool on)
{
    if (on == m_scoredOnly)
        return;
    m_scoredOnly = on;
    refilter();
}

bool ImageGridProxy::scoredOnly() const
{
    return m_scoredOnly;
}

void ImageGridProxy::setReadableOnly(bool on)
{
    if (on == m_readableOnly)
        return;
    m_readableOnly = on;
    refilter();
}

bool ImageGridProxy::readableOnly() const
{
    return m_readableOnly;
}

void ImageGridProxy::setDecidedOnly(bool on)
{
    if (on == m_decidedOnly)
        return;
    m_decidedOnly = on;
    refilter();
}

bool ImageGridProxy::decidedOnly() const
{
    return m_decidedOnly;
}

void ImageGridProxy::setFlaggedOnly(bool on)
{
    if (on == m_flaggedOnly)
        return;
    m_flaggedOnly = on;
    refilter();
}

bool ImageGridProxy::flaggedOnly() const
{
    return m_flaggedOnly;
}

void ImageGridProxy::setTextFilter(const QString& text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    refilter();
}

QString ImageGridProxy::textFilter() const
{
    return m_text;
}

void ImageGridProxy::setDataIssueFilter(quint32 mask)
{
    if (mask == m_issueMask)
        return;
    m_issueMask = mask;
    refilter();
}

quint32 ImageGridProxy::dataIssueFilter() const
{
    return m_issueMask;
}

void ImageGridProxy::setSampleList(const QVector<int>& samples)
{
    if (!m_listOn)
        m_orderBeforeList = m_order;
    m_listOn = true;
    m_listRank.clear();
    m_listRank.reserve(samples.size());
    for (int i = 0; i < samples.size(); ++i)
        m_listRank.insert(samples.at(i), i);
    invalidateFilter();
    setSortOrder(SortOrder::ByList);
    Q_EMIT filterChanged();
}

void ImageGridProxy::clearSampleList()
{
    if (!m_listOn)
        return;
    m_listOn = false;
    m_listRank.clear();
    invalidateFilter();
    setSortOrder(m_orderBeforeList);
    Q_EMIT filterChanged();
}

bool ImageGridProxy::hasSampleList() const
{
    return m_listOn;
}

void ImageGridProxy::setSortOrder(SortOrder order)
{
    m_order = order;
    if (order == SortOrder::None)
        sort(-1);
    else {
        invalidate(); // same column and direction as before still needs a re-sort with the new comparison
        sort(0, Qt::AscendingOrder);
    }
}

ImageGridProxy::SortOrder ImageGridProxy::sortOrder() const
{
    return m_order;
}

int ImageGridProxy::sourceRow(int proxyRow) const
{
    const QModelIndex idx = index(proxyRow, 0);
    return idx.isValid() ? mapToSource(idx).row() : -1;
}

int ImageGridProxy::sampleIndex(int proxyRow) const
{
    return m_grid ? m_grid->sampleIndex(sourceRow(proxyRow)) : -1;
}

bool ImageGridProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    if (!m_grid || sourceParent.isValid())
        return false;
    const Sample* sample = m_grid->sample(sourceRow);
    if (!sample)
        return false;
    if (m_readableOnly && !sample->readable())
        return false;
    if (m_listOn && !m_listRank.contains(m_grid->sampleIndex(sourceRow)))
        return false;
    if (m_issueMask && !(m_grid->dataIssueFlags(sourceRow) & m_issueMask))
        return false;
    switch (m_split) {
    case SplitFilter::All:
        break;
    case SplitFilter::Train:
        if (sample->split != Split::Train)
            return false;
        break;
    case SplitFilter::Valid:
        if (sample->split != Split::Valid)
            return false;
        break;
    case SplitFilter::Unlabeled:
        if (sample->split != Split::Unlabeled)
            return false;
        break;
    case SplitFilter::Labeled:
        if (sample->split == Split::Unlabeled || sample->label < 0)
            return false;
        break;
    }
    if (m_class >= 0 && sample->label != m_class)
        return false;
    if (!m_text.isEmpty() && !sample->relPath.contains(m_text, Qt::CaseInsensitive))
        return false;

    const ScoreRecord* rec = m_grid->score(sourceRow);
    if ((m_scoredOnly || m_cell || m_mispredictedOnly || m_flaggedOnly) && !rec)
        return false;
    if (m_flaggedOnly && !rec->issue)
        return false;
    if (m_cell) {
        if (m_cellActual >= 0 && sample->label != m_cellActual)
            return false;
        if (m_cellPredicted >= 0 && rec->predicted != m_cellPredicted)
            return false;
    }
    if (m_mispredictedOnly && (sample->label < 0 || rec->predicted == sample->label))
        return false;
    if (m_decidedOnly
        && (m_grid->decision(sourceRow).isEmpty() || m_grid->decision(sourceRow).startsWith(QChar(0x2713))))
        return false; // undecided, or only the reviewed mark "✓ Kept"
    return true;
}

bool ImageGridProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    if (!m_grid)
        return false;
    const int l = left.row();
    const int r = right.row();
    const auto byName = [&] {
        const Sample* a = m_grid->sample(l);
        const Sample* b = m_grid->sample(r);
        if (!a || !b)
            return l < r;
        const int c = QString::compare(a->relPath, b->relPath, Qt::CaseInsensitive);
        return c != 0 ? c < 0 : l < r;
    };
    if (m_order == SortOrder::ByName || m_order == SortOrder::None)
        return byName();
    if (m_order == SortOrder::ByList) {
        const int a = m_listRank.value(m_grid->sampleIndex(l), INT_MAX);
        const int b = m_listRank.value(m_grid->sampleIndex(r), INT_MAX);
        return a != b ? a < b : l < r;
    }

    const ScoreRecord* a = m_grid->score(l);
    const ScoreRecord* b = m_grid->score(r);
    if (!a || !b) {
        if (a != b)
            return a != nullptr; // scored rows first
        return byName();
    }
    double ka = 0;
    double kb = 0;
    switch (m_order) {
    case SortOrder::ByLossDesc:
        ka = -a->loss;
        kb = -b->loss;
        break;
    case SortOrder::ByMarginAsc:
        ka = a->margin;
        kb = b->margin;
        break;
    case SortOrder::ByPGivenAsc:
        ka = a->given >= 0 ? a->pGiven : 2.0;
        kb = b->given >= 0 ? b->pGiven : 2.0;
        break;
    default:
        break;
    }
    if (ka != kb)
        return ka < kb;
    return byName();
}

} // namespace Winnow
