// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>

#include <QAbstractTableModel>
#include <QList>

#include "core/engine/rounddiff.h"
#include "core/engine/types.h"

namespace Winnow {

/// fastai's epoch table: epoch, stage, train_loss, valid_loss, error_rate, time. Rows are appended live.
class EpochTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        EpochColumn,
        StageColumn,
        TrainLossColumn,
        ValidLossColumn,
        ErrorRateColumn,
        TimeColumn,
        ColumnCount
    };

    using QAbstractTableModel::QAbstractTableModel;

    void append(const EpochStats& stats);
    void clear();
    const QList<EpochStats>& rows() const
    {
        return m_rows;
    }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<EpochStats> m_rows;
};

/// The round history: one row per training or head retrain (RoundSummary).
class RoundTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        RoundColumn,
        KindColumn,
        ErrorRateColumn,
        ValidLossColumn,
        FilesChangedColumn,
        PredictionsChangedColumn, ///< against the previous round (RoundDiff); details in the tooltip
        TimeColumn,
        ColumnCount
    };

    using QAbstractTableModel::QAbstractTableModel;

    /// `diff`: what changed since the previous round's scores (none for the first round).
    void append(const RoundSummary& summary, const std::optional<RoundDiff>& diff = std::nullopt);
    const std::optional<RoundDiff>& diff(int row) const
    {
        return m_diffs.at(row);
    }
    void clear();
    const QList<RoundSummary>& rows() const
    {
        return m_rows;
    }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<RoundSummary> m_rows;
    QList<std::optional<RoundDiff>> m_diffs;
};

/// "mm:ss" (fastai's time column), or "h:mm:ss" past an hour.
QString formatDuration(double seconds);

} // namespace Winnow
