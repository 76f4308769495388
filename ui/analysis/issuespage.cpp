// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/issuespage.h"

#include <algorithm>

#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QShowEvent>
#include <QVBoxLayout>

#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

namespace {

bool isDuplicateType(DataIssue t)
{
    return t == DataIssue::ExactDuplicate || t == DataIssue::NearDuplicate;
}

} // namespace

IssuesPage::IssuesPage(QWidget* parent)
    : QWidget(parent)
{
    m_summary = new QLabel(tr("Open a dataset to check it for duplicates, outliers and unusable photos."), this);
    m_summary->setObjectName(QStringLiteral("issuesSummary"));
    m_summary->setWordWrap(true);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_check = new QPushButton(tr("Check again"), this);
    m_check->setObjectName(QStringLiteral("checkIssuesButton"));
    m_check->setToolTip(tr("Look for duplicates, leakage, outliers and unusable photos in the open dataset"));
    connect(m_check, &QPushButton::clicked, this, [this] {
        m_requested = true;
        Q_EMIT findRequested();
    });
    auto* top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(m_check);

    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("issueList"));
    m_list->setMinimumWidth(220);
    m_list->setMaximumWidth(320);
    m_explanation = new QLabel(this);
    m_explanation->setObjectName(QStringLiteral("issueExplanation"));
    m_explanation->setWordWrap(true);
    m_explanation->setMaximumWidth(320);
    m_bulk = new QPushButton(this);
    m_bulk->setObjectName(QStringLiteral("issuesBulkButton"));
    m_classes = new QLabel(this);
    m_classes->setWordWrap(true);
    m_classes->setMaximumWidth(320);
    auto* side = new QVBoxLayout;
    side->addWidget(m_list, 1);
    side->addWidget(m_explanation);
    side->addWidget(m_bulk);
    side->addWidget(m_classes);

    m_grid = new DecisionGrid(DecisionGrid::Mode::Clean, nullptr, this);
    m_grid->proxy()->setSampleList({});
    m_grid->setPlaceholderText(tr("No files with this issue"));
    auto* middle = new QHBoxLayout;
    middle->addLayout(side);
    middle->addWidget(m_grid, 1);

    m_planBar = new PlanBar(this);
    m_planBar->installShortcuts(this);
    connect(m_planBar, &PlanBar::applyRequested, this, &IssuesPage::applyRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(middle, 1);
    layout->addWidget(m_planBar);

    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0)
            showIssue(dataIssueAt(m_list->item(row)->data(Qt::UserRole).toInt()));
    });
    connect(m_bulk, &QPushButton::clicked, this, [this] { applyBulkAction(); });
    rebuildList();
}

IssuesPage::~IssuesPage() = default;

void IssuesPage::setStore(DecisionStore* store)
{
    m_store = store;
    m_grid->setStore(store);
    m_planBar->setStore(store);
}

void IssuesPage::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_grid->setThumbnailLoader(loader);
}

void IssuesPage::setDataset(const Dataset& dataset)
{
    const bool other = dataset.root != m_dataset.root;
    // The report names files by their index in the scan it came from: after a rescan that changed the files (an
    // Apply, files added), those indices mean other files, so the report goes rather than show or delete the wrong
    // ones.
    bool sameFiles = !other && dataset.samples.size() == m_dataset.samples.size();
    for (int i = 0; sameFiles && i < dataset.samples.size(); ++i)
        sameFiles = dataset.samples.at(i).relPath == m_dataset.samples.at(i).relPath
            && dataset.samples.at(i).split == m_dataset.samples.at(i).split;
    m_dataset = dataset;
    m_grid->setDataset(dataset);
    if (other) {
        m_report = {};
        m_hasReport = false;
        m_requested = false;
        m_summary->setText(tr("Not checked yet: the check runs after training, or now with Check again."));
    } else if (m_hasReport && !sameFiles) {
        m_report = {};
        m_hasReport = false;
        m_requested = false;
        m_summary->setText(tr("The files changed since the last check: press Check again for a fresh report."));
    }
    rebuildList();
    if (isVisible() && !m_hasReport && !m_requested && !dataset.root.isEmpty()) {
        m_requested = true;
        Q_EMIT findRequested();
    }
}

void IssuesPage::setScores(const ScoreSet& scores)
{
    m_grid->setScores(scores);
}

void IssuesPage::setReport(const DataIssueReport& report, const QString& datasetRoot)
{
    if (datasetRoot != m_dataset.root)
        return;
    // The report may come from an earlier scan than the one shown (a rescan while the check ran): its files are
    // found again by path, so that nothing shown or decided here names another file.
    m_report = remapDataIssues(report, m_dataset);
    m_hasReport = true;
    QString text = tr("%1 of %2 files have an issue.").arg(report.flaggedFiles()).arg(report.files.size());
    if (report.usedFeatures)
        text += QLatin1Char(' ')
            + tr("Near duplicates and outliers compare the photos' %1 features.").arg(report.extractor);
    else
        text += QLatin1Char(' ') + tr("No pretrained weights: near duplicates and outliers were not checked.");
    if (report.validError >= 0 && report.validLeakedScored > 0)
        text += QLatin1Char(' ')
            + tr("Validation error %1% on %2 files, %3% without the %4 with a copy in train.")
                  .arg(report.validError * 100, 0, 'f', 1)
                  .arg(report.validScored)
                  .arg(report.validErrorWithoutLeaked * 100, 0, 'f', 1)
                  .arg(report.validLeakedScored);
    m_summary->setText(text);
    QStringList classes;
    for (int c = 0; c < report.classCounts.size() && c < m_dataset.vocab.size(); ++c)
        if (report.underrepresented.value(c))
            classes << tr("Class \"%1\" has only %2 images: too few beside the others.")
                           .arg(m_dataset.vocab.at(c))
                           .arg(report.classCounts.at(c));
    for (const ClassOverlap& o : report.similarClasses)
        if (o.flagged && o.a < m_dataset.vocab.size() && o.b < m_dataset.vocab.size())
            classes << tr("\"%1\" and \"%2\" look alike: %3% of their nearest neighbours are in the other class.")
                           .arg(m_dataset.vocab.at(o.a), m_dataset.vocab.at(o.b))
                           .arg(qRound(o.overlap * 100));
    m_classes->setText(classes.join(QLatin1Char('\n')));
    m_classes->setVisible(!classes.isEmpty());
    rebuildList();
}

void IssuesPage::setChecking(const QString& message)
{
    m_summary->setText(message);
}

void IssuesPage::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (!m_hasReport && !m_requested && !m_dataset.root.isEmpty()) {
        m_requested = true;
        Q_EMIT findRequested();
    }
}

void IssuesPage::rebuildList()
{
    const int previous = m_list->currentRow() >= 0 ? m_list->currentItem()->data(Qt::UserRole).toInt() : 0;
    m_list->blockSignals(true);
    m_list->clear();
    int select = 0;
    for (int t = 0; t < kDataIssueCount; ++t) {
        const DataIssue type = dataIssueAt(t);
        const bool needsFeatures = type == DataIssue::NearDuplicate || type == DataIssue::Outlier;
        const bool needsPixels = t > int(DataIssue::Outlier);
        QString count = QStringLiteral("–");
        if (m_hasReport && !(needsFeatures && !m_report.usedFeatures) && !(needsPixels && !m_report.usedPixels))
            count = QString::number(m_report.counts[size_t(t)]);
        auto* item = new QListWidgetItem(QStringLiteral("%1  (%2)").arg(dataIssueTitle(type), count), m_list);
        item->setData(Qt::UserRole, t);
        item->setToolTip(dataIssueExplanation(type));
        if (t == previous)
            select = m_list->count() - 1;
    }
    m_list->setCurrentRow(select);
    m_list->blockSignals(false);
    showIssue(dataIssueAt(m_list->currentItem()->data(Qt::UserRole).toInt()));
}

QVector<int> IssuesPage::filesOf(DataIssue type) const
{
    QVector<int> out;
    if (!m_hasReport)
        return out;
    if (isDuplicateType(type) || type == DataIssue::Leakage) {
        // Group by group, the copy to keep first, so that copies sit side by side.
        for (const DuplicateSet& g : m_report.groups) {
            bool any = false;
            for (int s : g.samples)
                if (const FileDataIssues* f = m_report.forSample(s); f && f->has(type))
                    any = true;
            if (!any)
                continue;
            for (int s : g.samples)
                out.append(s);
        }
        return out;
    }
    QVector<const FileDataIssues*> flagged;
    for (const FileDataIssues& f : m_report.files)
        if (f.has(type))
            flagged.append(&f);
    std::stable_sort(flagged.begin(), flagged.end(), [type](const FileDataIssues* a, const FileDataIssues* b) {
        return a->score[size_t(type)] < b->score[size_t(type)];
    });
    for (const FileDataIssues* f : flagged)
        out.append(f->sample);
    return out;
}

void IssuesPage::showIssue(DataIssue type)
{
    for (int row = 0; row < m_list->count(); ++row)
        if (m_list->item(row)->data(Qt::UserRole).toInt() == int(type) && m_list->currentRow() != row) {
            m_list->setCurrentRow(row); // comes back here through currentRowChanged
            return;
        }
    m_grid->proxy()->setSampleList(filesOf(type));
    if (m_grid->proxy()->rowCount() > 0)
        m_grid->view()->setCurrentIndex(m_grid->proxy()->index(0, 0));
    updateDetails();
}

DataIssue IssuesPage::currentIssue() const
{
    const QListWidgetItem* item = m_list->currentItem();
    return item ? dataIssueAt(item->data(Qt::UserRole).toInt()) : DataIssue::ExactDuplicate;
}

void IssuesPage::updateDetails()
{
    const DataIssue type = currentIssue();
    QString explanation = dataIssueExplanation(type);
    if (type == DataIssue::Blurry && m_hasReport && m_report.usedPixels
        && m_report.blurryThreshold < DataIssueOptions().blurryBelow)
        explanation += QLatin1Char(' ')
            + tr("This set's photos are soft all through, so only those soft for it are flagged (sharpness under "
                 "%1, its own lower fence; %2 in a set of sharp photos).")
                  .arg(m_report.blurryThreshold, 0, 'f', 3)
                  .arg(DataIssueOptions().blurryBelow);
    m_explanation->setText(explanation);
    const int shown = m_grid->proxy()->rowCount();
    if (isDuplicateType(type)) {
        m_bulk->setText(tr("Delete all but one of each group"));
        m_bulk->setToolTip(tr("Every copy but the first of its group (a training copy, the largest, the least "
                              "recompressed) goes to the trash when you apply"));
    } else if (type == DataIssue::Leakage) {
        m_bulk->setText(tr("Delete the leaked validation copies"));
        m_bulk->setToolTip(tr("The validation files that have a copy in train go to the trash when you apply"));
    } else {
        m_bulk->setText(tr("Select all to review"));
        m_bulk->setToolTip(tr("Selects every file shown: then K keeps, D deletes, a digit moves to a class"));
    }
    m_bulk->setEnabled(shown > 0 && m_store);
}

int IssuesPage::applyBulkAction()
{
    const DataIssue type = currentIssue();
    if (!m_hasReport || !m_store)
        return 0;
    if (!isDuplicateType(type) && type != DataIssue::Leakage) {
        m_grid->view()->selectAll();
        m_grid->view()->setFocus(Qt::OtherFocusReason);
        return 0;
    }
    QStringList paths;
    int linkedOnly = 0;
    for (const FileDataIssues& f : m_report.files) {
        bool take = type == DataIssue::Leakage ? f.has(DataIssue::Leakage) : (f.has(type) && !f.keep);
        // Only a copy of the kept file itself: a member joined through a chain of near copies may be another photo.
        if (take && type != DataIssue::Leakage && f.keptSimilarity < 0) {
            take = false;
            ++linkedOnly;
        }
        if (take && f.sample < m_dataset.samples.size() && m_dataset.samples.at(f.sample).relPath == f.file)
            paths << f.file;
    }
    if (linkedOnly > 0)
        m_summary->setText(tr("%n file(s) only resemble a copy of the kept one, not the kept one itself: decide "
                              "those by hand.",
            nullptr, linkedOnly));
    QString error;
    if (!m_store->decide(paths, CleanAction::Delete, {}, &error)) {
        m_summary->setText(error);
        return 0;
    }
    return int(paths.size());
}

} // namespace Winnow
