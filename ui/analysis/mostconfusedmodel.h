// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QStringList>

#include "core/metrics/confusionmatrix.h"

namespace Winnow {

/// fastai's most_confused(min_val) as a three-column table (Actual, Predicted, Count): every off-diagonal cell with
/// count >= minCount, count descending, ties in row-major order (ConfusionMatrix::mostConfused). GUI thread only.
class MostConfusedModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { ActualColumn, PredictedColumn, CountColumn, ColumnCount };
    enum Roles {
        ActualRole = Qt::UserRole + 1, ///< int class index, on every column
        PredictedRole, ///< int class index
        CountRole ///< int
    };
    Q_ENUM(Roles)

    explicit MostConfusedModel(QObject* parent = nullptr);

    using Confusion = ConfusionMatrix::Confusion;

    /// The list of `matrix` (its class names; "#i" where it has none).
    void setMatrix(const ConfusionMatrix& matrix, int minCount = 1);
    void setPairs(const QStringList& classes, const QList<Confusion>& pairs);
    void clear();
    Confusion pair(int row) const; ///< {0, 0, 0} when out of range

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

private:
    QStringList m_classes;
    QList<Confusion> m_pairs;
};

} // namespace Winnow
