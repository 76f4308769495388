// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/cleanerpage.h"

#include <limits>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/labelissuesbar.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

CleanerPage::CleanerPage(QWidget* parent)
    : QWidget(parent)
{
    m_category = new QComboBox(this);
    m_category->setObjectName(QStringLiteral("categoryCombo"));
    m_category->setMinimumContentsLength(12);
    m_category->setToolTip(tr("Images whose given label is this class"));
    m_split = new QComboBox(this);
    m_split->setObjectName(QStringLiteral("splitCombo"));
    m_split->addItem(tr("Train"), int(Split::Train));
    m_split->addItem(tr("Valid"), int(Split::Valid));
    m_caption = new QLabel(this);
    m_caption->setObjectName(QStringLiteral("cleanerCaption"));

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Category:"), this));
    top->addWidget(m_category);
    top->addSpacing(8);
    top->addWidget(new QLabel(tr("Split:"), this));
    top->addWidget(m_split);
    top->addStretch(1);

    m_grid = new DecisionGrid(DecisionGrid::Mode::Clean, nullptr, this);
    m_issues = new LabelIssuesBar(m_grid, this);
    // The caption and the label-issue count share the second row, as on Top losses: the first row must fit a
    // 1366-pixel screen, and a long caption wraps instead of widening the window.
    m_caption->setWordWrap(true);
    m_caption->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    auto* second = new QHBoxLayout;
    second->addWidget(m_caption, 1);
    second->addSpacing(16);
    second->addWidget(m_issues);
    m_grid->proxy()->setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
    m_grid->setPlaceholderText(tr("No images of this class in this split"));
    m_planBar = new PlanBar(this);
    m_planBar->installShortcuts(this);
    connect(m_planBar, &PlanBar::applyRequested, this, &CleanerPage::applyRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(second);
    layout->addWidget(m_grid, 1);
    layout->addWidget(m_planBar);

    connect(m_category, &QComboBox::currentIndexChanged, this, &CleanerPage::applyFilter);
    connect(m_split, &QComboBox::currentIndexChanged, this, &CleanerPage::applyFilter);
    // After a choice in a picker the next key is a decision for the grid, not a search in the picker.
    for (QComboBox* picker : { m_category, m_split })
        connect(picker, &QComboBox::activated, this, [this] { m_grid->view()->setFocus(Qt::OtherFocusReason); });
    ImageGridProxy* proxy = m_grid->proxy();
    connect(proxy, &QAbstractItemModel::modelReset, this, &CleanerPage::updateCaption);
    connect(proxy, &QAbstractItemModel::layoutChanged, this, &CleanerPage::updateCaption);
    connect(proxy, &QAbstractItemModel::rowsInserted, this, &CleanerPage::updateCaption);
    connect(proxy, &QAbstractItemModel::rowsRemoved, this, &CleanerPage::updateCaption);
    applyFilter();
}

CleanerPage::~CleanerPage() = default;

void CleanerPage::setStore(DecisionStore* store)
{
    m_grid->setStore(store);
    m_planBar->setStore(store);
    m_issues->setStore(store);
}

void CleanerPage::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_grid->setThumbnailLoader(loader);
}

void CleanerPage::setDataset(const Dataset& dataset)
{
    // Keep the category by name across rescans (class indices shift when classes come and go).
    const QString previous = category();
    m_category->blockSignals(true);
    m_category->clear();
    for (int i = 0; i < dataset.vocab.size(); ++i)
        m_category->addItem(dataset.vocab.at(i), i);
    const int keep = m_category->findText(previous);
    m_category->setCurrentIndex(keep >= 0 ? keep : (m_category->count() > 0 ? 0 : -1)); // fastai: vocab[0]
    m_category->blockSignals(false);
    m_grid->setDataset(dataset);
    applyFilter();
}

void CleanerPage::setScores(const ScoreSet& scores)
{
    m_grid->setScores(scores);
    // A new ranking: start again at its top (the highest loss).
    if (m_grid->proxy()->rowCount() > 0)
        m_grid->view()->setCurrentIndex(m_grid->proxy()->index(0, 0));
    updateCaption();
}

bool CleanerPage::setCategory(const QString& className)
{
    const int i = m_category->findText(className);
    if (i < 0)
        return false;
    m_category->setCurrentIndex(i);
    return true;
}

QString CleanerPage::category() const
{
    return m_category->currentText();
}

void CleanerPage::setSplit(Split split)
{
    const int i = m_split->findData(int(split));
    if (i >= 0)
        m_split->setCurrentIndex(i);
}

Split CleanerPage::split() const
{
    return Split(m_split->currentData().toInt());
}

void CleanerPage::applyFilter()
{
    ImageGridProxy* proxy = m_grid->proxy();
    const QVariant cls = m_category->currentData();
    // No category (no dataset) shows nothing rather than everything.
    proxy->setClassFilter(cls.isValid() ? cls.toInt() : std::numeric_limits<int>::max());
    proxy->setSplitFilter(
        split() == Split::Valid ? ImageGridProxy::SplitFilter::Valid : ImageGridProxy::SplitFilter::Train);
    // Start at the top (highest loss) of the new list.
    if (proxy->rowCount() > 0)
        m_grid->view()->setCurrentIndex(proxy->index(0, 0));
    updateCaption();
}

void CleanerPage::updateCaption()
{
    const ImageGridModel* gm = m_grid->model();
    const int shown = m_grid->proxy()->rowCount();
    if (m_category->currentIndex() < 0) {
        m_caption->setText(tr("Open a dataset to clean it."));
        return;
    }
    QString text = tr("%n image(s) labelled <b>%1</b> in %2", nullptr, shown)
                       .arg(category().toHtmlEscaped(), m_split->currentText().toLower());
    if (!gm->hasScores()) {
        text += tr(", in file order (no scores yet: train a model to rank by loss)");
    } else {
        // Say which kind of scores rank them: in-sample losses flatter the images the model memorised.
        int in = 0;
        int out = 0;
        for (int r = 0; r < shown; ++r) {
            const ScoreRecord* rec = gm->scoreForSample(m_grid->proxy()->sampleIndex(r));
            if (rec)
                (rec->kind == ScoreKind::InSample ? in : out)++;
        }
        text += tr(", highest loss first");
        if (in > 0 && out == 0)
            text += tr(" (in-sample scores)");
        else if (out > 0 && in == 0)
            text += tr(" (out-of-sample scores)");
        else if (in > 0)
            text += tr(" (%1 out-of-sample, %2 in-sample)").arg(out).arg(in);
    }
    m_caption->setText(text);
}

} // namespace Winnow
