// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/trainingmodels.h"

#include <cmath>

#include <QFont>

namespace Winnow {

QString formatDuration(double seconds)
{
    const qint64 s = qMax<qint64>(0, qint64(std::llround(seconds)));
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
}

namespace {

QVariant numberCell(double v, int decimals)
{
    return std::isfinite(v) ? QVariant(QString::number(v, 'f', decimals)) : QVariant(QStringLiteral("–"));
}

} // namespace

void EpochTableModel::append(const EpochStats& stats)
{
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(stats);
    endInsertRows();
}

void EpochTableModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int EpochTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int EpochTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EpochTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const EpochStats& e = m_rows.at(index.row());
    if (role == Qt::TextAlignmentRole)
        return index.column() == StageColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                             : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::UserRole) { // raw values, for tests and plots
        switch (index.column()) {
        case EpochColumn:
            return e.epoch;
        case StageColumn:
            return e.stage;
        case TrainLossColumn:
            return e.trainLoss;
        case ValidLossColumn:
            return e.validLoss;
        case ErrorRateColumn:
            return e.errorRate;
        case TimeColumn:
            return e.seconds;
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case EpochColumn:
        return e.epoch;
    case StageColumn:
        return e.stage == 0 ? tr("frozen") : tr("unfrozen");
    case TrainLossColumn:
        return numberCell(e.trainLoss, 6);
    case ValidLossColumn:
        return numberCell(e.validLoss, 6);
    case ErrorRateColumn:
        return numberCell(e.errorRate, 6);
    case TimeColumn:
        return formatDuration(e.seconds);
    default:
        return {};
    }
}

QVariant EpochTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole)
        return section == StageColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                      : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case EpochColumn:
        return QStringLiteral("epoch");
    case StageColumn:
        return QStringLiteral("stage");
    case TrainLossColumn:
        return QStringLiteral("train_loss");
    case ValidLossColumn:
        return QStringLiteral("valid_loss");
    case ErrorRateColumn:
        return QStringLiteral("error_rate");
    case TimeColumn:
        return QStringLiteral("time");
    default:
        return {};
    }
}

void RoundTableModel::append(const RoundSummary& summary, const std::optional<RoundDiff>& diff)
{
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(summary);
    m_diffs.append(diff);
    endInsertRows();
}

void RoundTableModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_diffs.clear();
    endResetModel();
}

int RoundTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RoundTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RoundTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RoundSummary& r = m_rows.at(index.row());
    const std::optional<RoundDiff>& diff = m_diffs.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == PredictionsChangedColumn && diff) {
        QStringList lines { diff->text() };
        auto list = [&](const QString& title, const QStringList& files) {
            if (files.isEmpty())
                return;
            lines << title;
            for (qsizetype i = 0; i < files.size() && i < 15; ++i)
                lines << QStringLiteral("  ") + files.at(i);
            if (files.size() > 15)
                lines << tr("  … and %1 more").arg(files.size() - 15);
        };
        list(tr("Now right:"), diff->fixed);
        list(tr("Now wrong:"), diff->broken);
        if (diff->classes > 0) {
            QStringList cells;
            for (int g = 0; g < diff->classes; ++g)
                for (int p = 0; p < diff->classes; ++p)
                    if (g != p && diff->delta(g, p) != 0)
                        cells << tr("  %1 predicted as %2: %3%4")
                                     .arg(diff->vocab.value(g), diff->vocab.value(p))
                                     .arg(diff->delta(g, p) > 0 ? QStringLiteral("+") : QString())
                                     .arg(diff->delta(g, p));
            if (!cells.isEmpty())
                lines << tr("Confusion matrix change (given class predicted as another):") << cells;
        }
        return lines.join(QLatin1Char('\n'));
    }
    if (role == Qt::ToolTipRole && index.column() == ErrorRateColumn) {
        QString tip = r.kind == QLatin1String("head retrain")
            ? tr("Error rate on the validation images, after refitting the fine-tuned network's last layer")
            : tr("Error rate on the validation images after the fine-tune");
        if (r.compared > 0)
            tip += QLatin1Char('\n')
                + tr("Like for like: on the %n validation image(s) both rounds held (matched by content, so a "
                     "relabelled file counts once with its current label; deleted and new files left out), the "
                     "previous round's model had %1, this one %2.",
                    nullptr, r.compared)
                      .arg(numberCell(r.previousErrorOnCompared, 4).toString(),
                          numberCell(r.errorOnCompared, 4).toString());
        return tip;
    }
    if (role == Qt::ToolTipRole && index.column() == FilesChangedColumn) {
        QString tip = tr("%n file(s) changed since the previous round", nullptr, r.filesChanged);
        if (diff && diff->filesChanged() > 0)
            tip += QStringLiteral(": ") + diff->text().section(QStringLiteral("; "), -1);
        return tip;
    }
    if (role == Qt::TextAlignmentRole)
        return index.column() == KindColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                            : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case RoundColumn:
        return r.round;
    case KindColumn:
        return r.kind;
    case ErrorRateColumn:
        return numberCell(r.errorRate, 4);
    case ValidLossColumn:
        return numberCell(r.validLoss, 4);
    case FilesChangedColumn:
        return r.filesChanged;
    case PredictionsChangedColumn:
        if (!diff)
            return QStringLiteral("–");
        return tr("%1 (+%2 / −%3)").arg(diff->changed.size()).arg(diff->fixed.size()).arg(diff->broken.size());
    case TimeColumn:
        return formatDuration(r.seconds);
    default:
        return {};
    }
}

QVariant RoundTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case ErrorRateColumn:
            return tr("Error rate on the validation images");
        case ValidLossColumn:
            return tr("Validation loss");
        case FilesChangedColumn:
            return tr("Files deleted, moved or added since the previous round (each counted once)");
        case PredictionsChangedColumn:
            return tr("Images whose predicted class changed since the previous round (+ now right / − now wrong)");
        default:
            return headerData(section, orientation, Qt::DisplayRole);
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RoundColumn:
        return tr("Round");
    case KindColumn:
        return tr("Kind");
    case ErrorRateColumn:
        return tr("Error");
    case ValidLossColumn:
        return tr("Loss");
    case FilesChangedColumn:
        return tr("Files");
    case PredictionsChangedColumn:
        return tr("Changed");
    case TimeColumn:
        return tr("Time");
    default:
        return {};
    }
}

} // namespace Winnow
