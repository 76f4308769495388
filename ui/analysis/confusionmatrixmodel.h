// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVector>

#include "core/metrics/confusionmatrix.h"

namespace Winnow {

/**
 * The confusion matrix as a table: rows = actual (given) class, columns = predicted class, header = class names in
 * both orientations (fastai's cm[actual, predicted]). Display is the count, or the row fraction with two decimals
 * when row-normalised. GUI thread only.
 */
class ConfusionMatrixModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Roles {
        CountRole = Qt::UserRole + 1, ///< int: images with actual = row, predicted = column
        FractionRole, ///< double: count / row total (0 for an empty row)
        IsDiagonalRole, ///< bool: row == column (correct predictions)
        HeatRole, ///< double in [0, 1]: shown value / largest shown value (the colour scale, as matplotlib's imshow)
        ActualRole, ///< int: the row (actual class index)
        PredictedRole ///< int: the column (predicted class index)
    };
    Q_ENUM(Roles)

    explicit ConfusionMatrixModel(QObject* parent = nullptr);

    /// Replaces the matrix (model reset). `counts` is row-major classes.size()² (actual * n + predicted); a size
    /// mismatch yields an empty matrix.
    void setMatrix(const QStringList& classes, const QVector<int>& counts);
    /// Replaces the matrix with `matrix` (its class names; "#i" where it has none).
    void setMatrix(const ConfusionMatrix& matrix);
    void clear();

    void setNormalised(bool normalised);
    bool isNormalised() const
    {
        return m_normalised;
    }

    QStringList classes() const
    {
        return m_classes;
    }
    int classCount() const
    {
        return int(m_classes.size());
    }
    int count(int actual, int predicted) const;
    int rowTotal(int actual) const;
    double fraction(int actual, int predicted) const;
    int total() const; ///< all images in the matrix
    int correct() const; ///< the diagonal

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

private:
    double shownValue(int actual, int predicted) const;
    void recomputeMax();

    QStringList m_classes;
    QVector<int> m_counts;
    QVector<int> m_rowTotals;
    bool m_normalised = false;
    double m_maxShown = 0;
};

} // namespace Winnow
