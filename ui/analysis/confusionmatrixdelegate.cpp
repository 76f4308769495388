// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/confusionmatrixdelegate.h"

#include <algorithm>

#include <QPainter>

#include "ui/analysis/confusionmatrixmodel.h"

namespace Winnow {

ConfusionMatrixDelegate::ConfusionMatrixDelegate(QObject* parent)
    : QStyledItemDelegate(parent)
{ }

void ConfusionMatrixDelegate::setCellSize(int side)
{
    m_side = std::max(16, side);
}

QColor ConfusionMatrixDelegate::heatColor(double heat)
{
    // Endpoints of matplotlib's "Blues" (#f7fbff -> #08306b), with a midpoint so mid values stay readable.
    heat = std::clamp(heat, 0.0, 1.0);
    struct Stop
    {
        double at;
        int r, g, b;
    };
    static constexpr Stop stops[] = { { 0.0, 247, 251, 255 }, { 0.5, 107, 174, 214 }, { 1.0, 8, 48, 107 } };
    for (int i = 1; i < 3; ++i) {
        if (heat <= stops[i].at) {
            const Stop& lo = stops[i - 1];
            const Stop& hi = stops[i];
            const double t = (heat - lo.at) / (hi.at - lo.at);
            return QColor(int(lo.r + t * (hi.r - lo.r)), int(lo.g + t * (hi.g - lo.g)), int(lo.b + t * (hi.b - lo.b)));
        }
    }
    return QColor(8, 48, 107);
}

void ConfusionMatrixDelegate::paint(
    QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const double heat = index.data(ConfusionMatrixModel::HeatRole).toDouble();
    const QRect r = option.rect.adjusted(1, 1, -1, -1);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, false);
    painter->fillRect(r, heatColor(heat));

    painter->setPen(darkFill(heat) ? Qt::white : Qt::black);
    QFont font = option.font;
    if (index.data(ConfusionMatrixModel::IsDiagonalRole).toBool())
        font.setBold(true);
    painter->setFont(font);
    painter->drawText(r, Qt::AlignCenter, index.data(Qt::DisplayRole).toString());

    if (option.state & (QStyle::State_Selected | QStyle::State_HasFocus)) {
        QPen pen(option.palette.color(QPalette::Highlight), 3);
        pen.setJoinStyle(Qt::MiterJoin);
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawRect(r.adjusted(1, 1, -2, -2));
    }
    painter->restore();
}

QSize ConfusionMatrixDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    // Wide enough for the text too (big counts, small cells).
    const int text = option.fontMetrics.horizontalAdvance(index.data(Qt::DisplayRole).toString()) + 8;
    const int side = std::max(m_side, text);
    return { side, side };
}

} // namespace Winnow
