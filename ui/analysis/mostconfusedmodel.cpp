// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/mostconfusedmodel.h"

namespace Winnow {

MostConfusedModel::MostConfusedModel(QObject* parent)
    : QAbstractTableModel(parent)
{ }

void MostConfusedModel::setMatrix(const ConfusionMatrix& matrix, int minCount)
{
    QStringList names = matrix.classNames();
    if (names.size() != matrix.size()) {
        names.clear();
        for (int i = 0; i < matrix.size(); ++i)
            names << QStringLiteral("#%1").arg(i);
    }
    setPairs(names, matrix.mostConfused(minCount));
}

void MostConfusedModel::setPairs(const QStringList& classes, const QList<Confusion>& pairs)
{
    beginResetModel();
    m_classes = classes;
    m_pairs.clear();
    // Drop pairs that do not name a class: the list never shows an index it cannot name.
    for (const Confusion& p : pairs)
        if (p.actual >= 0 && p.actual < classes.size() && p.predicted >= 0 && p.predicted < classes.size())
            m_pairs.append(p);
    endResetModel();
}

void MostConfusedModel::clear()
{
    setPairs({}, {});
}

MostConfusedModel::Confusion MostConfusedModel::pair(int row) const
{
    return row >= 0 && row < m_pairs.size() ? m_pairs.at(row) : Confusion {};
}

int MostConfusedModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_pairs.size());
}

int MostConfusedModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MostConfusedModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Confusion& p = m_pairs.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case ActualColumn:
            return m_classes.at(p.actual);
        case PredictedColumn:
            return m_classes.at(p.predicted);
        case CountColumn:
            return p.count;
        }
        return {};
    case Qt::ToolTipRole:
        return tr("%n image(s) of %1 predicted as %2", nullptr, p.count)
            .arg(m_classes.at(p.actual), m_classes.at(p.predicted));
    case Qt::TextAlignmentRole:
        return index.column() == CountColumn ? int(Qt::AlignRight | Qt::AlignVCenter)
                                             : int(Qt::AlignLeft | Qt::AlignVCenter);
    case ActualRole:
        return p.actual;
    case PredictedRole:
        return p.predicted;
    case CountRole:
        return p.count;
    default:
        return {};
    }
}

QVariant MostConfusedModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ActualColumn:
        return tr("Actual");
    case PredictedColumn:
        return tr("Predicted");
    case CountColumn:
        return tr("Count");
    }
    return {};
}

Qt::ItemFlags MostConfusedModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

} // namespace Winnow
