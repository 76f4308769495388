// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/suggestionproxy.h"

#include "ui/imagegrid/imagegridmodel.h"

namespace Winnow {

double suggestionMargin(const ScoreRecord& record)
{
    if (record.probs.isEmpty())
        return 0.0;
    float first = -1.0f;
    float second = 0.0f;
    bool haveSecond = false;
    for (float p : record.probs) {
        if (p > first) {
            if (first >= 0.0f) {
                second = first;
                haveSecond = true;
            }
            first = p;
        } else if (!haveSecond || p > second) {
            second = p;
            haveSecond = true;
        }
    }
    return haveSecond ? double(first) - double(second) : 1.0;
}

SuggestionProxy::SuggestionProxy(QObject* parent)
    : ImageGridProxy(parent)
{
    setSplitFilter(SplitFilter::Unlabeled);
    setSortOrder(SortOrder::ByName); // any non-None order makes the proxy sort, through lessThan() below
}

void SuggestionProxy::setOrder(Order order)
{
    m_order = order;
    setSortOrder(SortOrder::ByName); // re-sorts with the new comparison
}

bool SuggestionProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const ImageGridModel* grid = gridModel();
    if (!grid || m_order == Order::ByName)
        return ImageGridProxy::lessThan(left, right);
    const ScoreRecord* a = grid->score(left.row());
    const ScoreRecord* b = grid->score(right.row());
    if (!a || !b) {
        if (a != b)
            return a != nullptr; // scored first
        return ImageGridProxy::lessThan(left, right);
    }
    if (m_order == Order::LeastConfident) {
        const double ma = suggestionMargin(*a);
        const double mb = suggestionMargin(*b);
        if (ma != mb)
            return ma < mb;
    } else {
        const QStringList& vocab = grid->scores().vocab;
        const int c = QString::compare(vocab.value(a->predicted), vocab.value(b->predicted), Qt::CaseInsensitive);
        if (c != 0)
            return c < 0;
        if (a->pPredicted != b->pPredicted)
            return a->pPredicted > b->pPredicted;
    }
    return ImageGridProxy::lessThan(left, right); // by name (sortOrder() is ByName)
}

} // namespace Winnow
