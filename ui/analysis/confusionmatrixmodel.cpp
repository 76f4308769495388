// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/confusionmatrixmodel.h"

#include <algorithm>

namespace Winnow {

ConfusionMatrixModel::ConfusionMatrixModel(QObject* parent)
    : QAbstractTableModel(parent)
{ }

void ConfusionMatrixModel::setMatrix(const QStringList& classes, const QVector<int>& counts)
{
    beginResetModel();
    const qsizetype n = classes.size();
    if (counts.size() != n * n) {
        m_classes.clear();
        m_counts.clear();
    } else {
        m_classes = classes;
        m_counts = counts;
    }
    m_rowTotals = QVector<int>(m_classes.size(), 0);
    for (int a = 0; a < classCount(); ++a)
        for (int p = 0; p < classCount(); ++p)
            m_rowTotals[a] += count(a, p);
    recomputeMax();
    endResetModel();
}

void ConfusionMatrixModel::setMatrix(const ConfusionMatrix& matrix)
{
    const int n = matrix.size();
    QStringList names = matrix.classNames();
    if (names.size() != n) {
        names.clear();
        for (int i = 0; i < n; ++i)
            names << QStringLiteral("#%1").arg(i);
    }
    QVector<int> counts(qsizetype(n) * n);
    for (int a = 0; a < n; ++a)
        for (int p = 0; p < n; ++p)
            counts[a * n + p] = matrix.count(a, p);
    setMatrix(names, counts);
}

void ConfusionMatrixModel::clear()
{
    setMatrix({}, {});
}

void ConfusionMatrixModel::setNormalised(bool normalised)
{
    if (m_normalised == normalised)
        return;
    m_normalised = normalised;
    recomputeMax();
    if (classCount() > 0)
        Q_EMIT dataChanged(
            index(0, 0), index(classCount() - 1, classCount() - 1), { Qt::DisplayRole, Qt::ToolTipRole, HeatRole });
}

int ConfusionMatrixModel::count(int actual, int predicted) const
{
    const int n = classCount();
    if (actual < 0 || predicted < 0 || actual >= n || predicted >= n)
        return 0;
    return m_counts.at(actual * n + predicted);
}

int ConfusionMatrixModel::rowTotal(int actual) const
{
    return actual >= 0 && actual < classCount() ? m_rowTotals.at(actual) : 0;
}

double ConfusionMatrixModel::fraction(int actual, int predicted) const
{
    const int total = rowTotal(actual);
    return total > 0 ? double(count(actual, predicted)) / total : 0.0;
}

int ConfusionMatrixModel::total() const
{
    int sum = 0;
    for (int t : m_rowTotals)
        sum += t;
    return sum;
}

int ConfusionMatrixModel::correct() const
{
    int sum = 0;
    for (int i = 0; i < classCount(); ++i)
        sum += count(i, i);
    return sum;
}

double ConfusionMatrixModel::shownValue(int actual, int predicted) const
{
    return m_normalised ? fraction(actual, predicted) : double(count(actual, predicted));
}

void ConfusionMatrixModel::recomputeMax()
{
    m_maxShown = 0;
    for (int a = 0; a < classCount(); ++a)
        for (int p = 0; p < classCount(); ++p)
            m_maxShown = std::max(m_maxShown, shownValue(a, p));
}

int ConfusionMatrixModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : classCount();
}

int ConfusionMatrixModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : classCount();
}

QVariant ConfusionMatrixModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int a = index.row();
    const int p = index.column();
    switch (role) {
    case Qt::DisplayRole:
        if (m_normalised)
            return QString::number(fraction(a, p), 'f', 2);
        return count(a, p);
    case Qt::ToolTipRole:
        return tr("Actual %1, predicted %2: %n image(s) (%3% of %1)", nullptr, count(a, p))
            .arg(m_classes.at(a), m_classes.at(p), QString::number(100.0 * fraction(a, p), 'f', 1));
    case Qt::TextAlignmentRole:
        return int(Qt::AlignCenter);
    case CountRole:
        return count(a, p);
    case FractionRole:
        return fraction(a, p);
    case IsDiagonalRole:
        return a == p;
    case HeatRole:
        return m_maxShown > 0 ? shownValue(a, p) / m_maxShown : 0.0;
    case ActualRole:
        return a;
    case PredictedRole:
        return p;
    default:
        return {};
    }
}

QVariant ConfusionMatrixModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (section < 0 || section >= classCount())
        return {};
    if (role == Qt::DisplayRole)
        return m_classes.at(section);
    if (role == Qt::ToolTipRole) {
        return orientation == Qt::Vertical
            ? tr("Actual: %1 (%n image(s))", nullptr, rowTotal(section)).arg(m_classes.at(section))
            : tr("Predicted: %1").arg(m_classes.at(section));
    }
    return {};
}

Qt::ItemFlags ConfusionMatrixModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

} // namespace Winnow
