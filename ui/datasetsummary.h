// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QWidget>

#include "core/dataset/dataset.h"

class QLabel;
class QPushButton;
class QTableView;
class QTreeWidget;

namespace Winnow {

/// Classes with their readable-file counts per split, then an "unlabeled" row (if any) and a bold "Total" row.
class ClassCountsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { ClassColumn, TrainColumn, ValidColumn, TotalColumn, ColumnCount };
    /// Qt::UserRole on any cell: the class index (-1 for the unlabeled and total rows).
    static constexpr int ClassIndexRole = Qt::UserRole;

    using QAbstractTableModel::QAbstractTableModel;

    void setDataset(const Dataset& dataset);
    void clear();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString name;
        int classIndex = -1;
        int train = 0;
        int valid = 0;
        int total = 0;
        bool summary = false; ///< unlabeled / total rows, drawn differently
        bool unlabeled = false;
    };
    QList<Row> m_rows;
};

/// The left sidebar: dataset name and path, the class table, and the unreadable files with their reasons.
class DatasetSummary : public QWidget
{
    Q_OBJECT
public:
    explicit DatasetSummary(QWidget* parent = nullptr);

    void setDataset(const Dataset& dataset);
    void clear();

    ClassCountsModel* classModel() const;
    QTableView* classTable() const;
    QTreeWidget* unreadableList() const;

Q_SIGNALS:
    /// A class row was clicked (-1: the unlabeled or total row).
    void classActivated(int classIndex);
    /// An unreadable file was double-clicked (absolute path).
    void fileActivated(const QString& path);
    /// "Rename…" under the list was clicked: give the images without an image extension one (CleaningSession).
    void renameOddNamesRequested();

private:
    QLabel* m_title = nullptr;
    QLabel* m_path = nullptr;
    QLabel* m_unreadableTitle = nullptr;
    ClassCountsModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    QTreeWidget* m_unreadable = nullptr;
    QPushButton* m_renameOdd = nullptr; ///< shown when some images lack an image extension
    QString m_root;
};

} // namespace Winnow
