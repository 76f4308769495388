// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/engine/types.h"
#include "ui/imagegrid/imagegridproxy.h"

namespace Winnow {

/// The suggestion's confidence margin: top-1 minus top-2 probability (1 with a single class, 0 without probs).
double suggestionMargin(const ScoreRecord& record);

/**
 * The label view's ordering of unlabeled images: least confident suggestion first (smallest top-1 minus top-2, the
 * images worth a human look), by suggested class (then most probable first), or by name. Unscored images come last
 * in the score orders. Filtering is ImageGridProxy's. GUI thread only.
 */
class SuggestionProxy : public ImageGridProxy
{
    Q_OBJECT
public:
    enum class Order { LeastConfident, BySuggestedClass, ByName };
    Q_ENUM(Order)

    explicit SuggestionProxy(QObject* parent = nullptr);

    void setOrder(Order order);
    Order order() const
    {
        return m_order;
    }

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    Order m_order = Order::LeastConfident;
};

} // namespace Winnow
