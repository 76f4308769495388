// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/datasetsummary.h"

#include <QDir>
#include <QFileInfo>
#include <QFont>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPalette>
#include <QPushButton>
#include <QStyle>
#include <QTableView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/metrics/duplicates.h"

namespace Winnow {

void ClassCountsModel::setDataset(const Dataset& dataset)
{
    beginResetModel();
    m_rows.clear();
    const QList<ClassCounts> counts = dataset.counts();
    Row total { tr("Total"), -1, 0, 0, 0, true };
    for (int i = 0; i < counts.size(); ++i) {
        const ClassCounts& c = counts.at(i);
        const int index = int(dataset.vocab.indexOf(c.name));
        m_rows.append({ c.name, index >= 0 ? index : i, c.train, c.valid, c.train + c.valid, false });
        total.train += c.train;
        total.valid += c.valid;
    }
    const int unlabeled = dataset.count(Split::Unlabeled);
    if (unlabeled > 0)
        m_rows.append({ tr("unlabeled"), -1, 0, 0, unlabeled, true, true });
    total.total = total.train + total.valid + unlabeled;
    if (!counts.isEmpty())
        m_rows.append(total);
    endResetModel();
}

void ClassCountsModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int ClassCountsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ClassCountsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClassCountsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case ClassColumn:
            return r.name;
        case TrainColumn:
            return r.unlabeled ? QVariant(QStringLiteral("–")) : QVariant(r.train);
        case ValidColumn:
            return r.unlabeled ? QVariant(QStringLiteral("–")) : QVariant(r.valid);
        case TotalColumn:
            return r.total;
        default:
            return {};
        }
    case Qt::TextAlignmentRole:
        return index.column() == ClassColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                             : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::FontRole:
        if (r.summary && !r.unlabeled) {
            QFont f;
            f.setBold(true);
            return f;
        }
        if (r.summary) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        return {};
    case Qt::ToolTipRole:
        if (!r.summary)
            return tr("%1: %2 training and %3 validation images. Click to show them.")
                .arg(r.name)
                .arg(r.train)
                .arg(r.valid);
        return {};
    case ClassIndexRole:
        return r.summary ? -1 : r.classIndex;
    default:
        return {};
    }
}

QVariant ClassCountsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole)
        return section == ClassColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                      : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ClassColumn:
        return tr("Class");
    case TrainColumn:
        return tr("Train");
    case ValidColumn:
        return tr("Valid");
    case TotalColumn:
        return tr("Total");
    default:
        return {};
    }
}

DatasetSummary::DatasetSummary(QWidget* parent)
    : QWidget(parent)
    , m_model(new ClassCountsModel(this))
{
    m_title = new QLabel(this);
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.25);
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setObjectName(QStringLiteral("datasetTitle"));
    m_path = new QLabel(this);
    m_path->setWordWrap(true);
    m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_path->setForegroundRole(QPalette::PlaceholderText);
    m_path->setObjectName(QStringLiteral("datasetPath"));

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("classTable"));
    m_table->setModel(m_model);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(ClassCountsModel::ClassColumn, QHeaderView::Stretch);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->setWordWrap(false);
    m_table->setCornerButtonEnabled(false);

    m_unreadableTitle = new QLabel(this);
    m_unreadableTitle->setObjectName(QStringLiteral("unreadableTitle"));
    m_unreadable = new QTreeWidget(this);
    m_unreadable->setObjectName(QStringLiteral("unreadableList"));
    m_unreadable->setColumnCount(2);
    m_unreadable->setHeaderLabels({ tr("File"), tr("Reason") });
    m_unreadable->setRootIsDecorated(false);
    m_unreadable->setAlternatingRowColors(true);
    m_unreadable->setUniformRowHeights(true);
    m_unreadable->header()->setStretchLastSection(true);
    m_unreadable->header()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_unreadable->header()->resizeSection(0, 150);

    m_renameOdd = new QPushButton(this);
    m_renameOdd->setObjectName(QStringLiteral("renameOddNames"));
    m_renameOdd->setToolTip(tr("Give the images whose names lack an image extension (as web downloads save them: "
                               "00000090.jpg?1518390504) the extension of their format. Undoable."));
    connect(m_renameOdd, &QPushButton::clicked, this, &DatasetSummary::renameOddNamesRequested);

    auto* classesTitle = new QLabel(tr("<b>Classes</b>"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 10);
    layout->setSpacing(6);
    layout->addWidget(m_title);
    layout->addWidget(m_path);
    layout->addSpacing(6);
    layout->addWidget(classesTitle);
    layout->addWidget(m_table, 3);
    layout->addSpacing(6);
    layout->addWidget(m_unreadableTitle);
    layout->addWidget(m_unreadable, 2);
    layout->addWidget(m_renameOdd, 0, Qt::AlignLeft);

    connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
        Q_EMIT classActivated(index.data(ClassCountsModel::ClassIndexRole).toInt());
    });
    connect(m_unreadable, &QTreeWidget::itemActivated, this,
        [this](QTreeWidgetItem* item) { Q_EMIT fileActivated(QDir(m_root).filePath(item->text(0))); });
    clear();
}

void DatasetSummary::setDataset(const Dataset& dataset)
{
    m_root = dataset.root;
    m_title->setText(QFileInfo(dataset.root).fileName());
    const QString layout = dataset.layout == Layout::TrainValid
        ? tr("train/ + valid/ folders")
        : tr("a folder per class, %1% held out").arg(qRound(dataset.options.validPct * 100));
    m_path->setText(QStringLiteral("%1<br><small>%2 · %3</small>")
                        .arg(QDir::toNativeSeparators(dataset.root).toHtmlEscaped(),
                            tr("%n image(s)", nullptr, int(dataset.size())), layout));
    m_model->setDataset(dataset);

    m_unreadable->clear();
    const QList<const Sample*> bad = dataset.unreadable();
    QList<QTreeWidgetItem*> items;
    items.reserve(bad.size());
    const QIcon warn = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (const Sample* s : bad) {
        QString reason = unreadableReason(s->status);
        if (!s->detail.isEmpty())
            reason += QStringLiteral(": ") + s->detail;
        auto* item = new QTreeWidgetItem({ s->relPath, reason });
        item->setIcon(0, warn);
        item->setToolTip(0, s->relPath);
        item->setToolTip(1, reason);
        items.append(item);
    }
    // Files that are not images (by content) and images whose name lacks an image extension: listed, so nothing in
    // the folders goes unmentioned.
    const QIcon info = style()->standardIcon(QStyle::SP_MessageBoxInformation);
    for (const SkippedFile& f : dataset.skipped) {
        const QString reason = tr("not an image (%1): not used").arg(f.kind);
        auto* item = new QTreeWidgetItem({ f.relPath, reason });
        item->setIcon(0, info);
        item->setToolTip(0, f.relPath);
        item->setToolTip(1, reason);
        items.append(item);
    }
    int odd = 0;
    for (const Sample& s : dataset.samples) {
        if (!s.oddName || !s.readable())
            continue;
        ++odd;
        const QString reason = tr("an image without an image extension: used");
        auto* item = new QTreeWidgetItem({ s.relPath, reason });
        item->setIcon(0, info);
        item->setToolTip(0, s.relPath);
        item->setToolTip(
            1, tr("%1. Renaming it to end in its format's extension makes it usable by other tools too.").arg(reason));
        items.append(item);
    }
    // Byte-identical copies: every copy but the one to keep, with why it matters.
    const DuplicateReport dups = findExactDuplicates(dataset);
    for (const DuplicateGroup& g : dups.groups) {
        for (qsizetype k = 1; k < g.files.size(); ++k) {
            QString reason = tr("the same bytes as %1").arg(g.files.first());
            if (g.conflictingLabels)
                reason += tr(", filed under another class");
            else if (g.acrossSplit)
                reason += tr(", in train and valid");
            auto* item = new QTreeWidgetItem({ g.files.at(k), reason });
            item->setIcon(0, g.conflictingLabels || g.acrossSplit ? warn : info);
            item->setToolTip(0, g.files.at(k));
            item->setToolTip(1,
                g.acrossSplit
                    ? tr("%1. A copy in valid of a training image makes the validation score look better than it is.")
                          .arg(reason)
                    : reason);
            items.append(item);
        }
    }
    m_unreadable->addTopLevelItems(items);
    QStringList parts;
    if (!bad.isEmpty())
        parts << tr("%n unreadable", nullptr, int(bad.size()));
    if (!dataset.skipped.isEmpty())
        parts << tr("%n not an image", nullptr, int(dataset.skipped.size()));
    if (odd > 0)
        parts << tr("%n without an image extension", nullptr, odd);
    if (dups.redundant > 0)
        parts << tr("%n duplicate(s)", nullptr, dups.redundant);
    m_unreadableTitle->setText(parts.isEmpty()
            ? tr("<b>Unreadable files</b>: none")
            : tr("<b>Files to look at</b> (%1)").arg(parts.join(QStringLiteral(", "))));
    m_unreadable->setVisible(!items.isEmpty());
    m_renameOdd->setText(tr("Rename %n file(s) to the format's extension…", nullptr, odd));
    m_renameOdd->setVisible(odd > 0);
}

void DatasetSummary::clear()
{
    m_root.clear();
    m_title->setText(tr("No dataset"));
    m_path->setText(tr("Open a folder with one sub-folder per class (File ▸ Open Folder), or drop it on the window."));
    m_model->clear();
    m_unreadable->clear();
    m_unreadable->hide();
    m_renameOdd->hide();
    m_unreadableTitle->clear();
}

ClassCountsModel* DatasetSummary::classModel() const
{
    return m_model;
}

QTableView* DatasetSummary::classTable() const
{
    return m_table;
}

QTreeWidget* DatasetSummary::unreadableList() const
{
    return m_unreadable;
}

} // namespace Winnow
