// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStyledItemDelegate>

namespace Winnow {

/// Paints a confusion-matrix cell as a heat map ("Blues", like fastai's plot): fill from HeatRole, the value centred,
/// white text on dark cells, an outline for the selected/current cell. Square cells of a fixed side.
class ConfusionMatrixDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit ConfusionMatrixDelegate(QObject* parent = nullptr);

    void setCellSize(int side);
    int cellSize() const
    {
        return m_side;
    }

    /// The fill for a heat value in [0, 1]: near-white to dark blue.
    static QColor heatColor(double heat);
    /// True when the text on that fill should be white (fastai: value > max / 2).
    static bool darkFill(double heat)
    {
        return heat > 0.5;
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

private:
    int m_side = 56;
};

} // namespace Winnow
