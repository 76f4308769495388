// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/toplossespage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/labelissuesbar.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

TopLossesPage::TopLossesPage(QWidget* parent)
    : QWidget(parent)
{
    m_split = new QComboBox(this);
    m_split->setObjectName(QStringLiteral("splitCombo"));
    m_split->addItem(tr("All"), int(SplitChoice::All));
    m_split->addItem(tr("Train"), int(SplitChoice::Train));
    m_split->addItem(tr("Valid"), int(SplitChoice::Valid));
    m_class = new QComboBox(this);
    m_class->setObjectName(QStringLiteral("classCombo"));
    m_class->addItem(tr("All classes"), -1);
    m_wrongOnly = new QCheckBox(tr("Mispredicted only"), this);
    m_kind = new QLabel(this);
    m_kind->setObjectName(QStringLiteral("scoreKindLabel"));
    m_kind->setWordWrap(true);
    m_count = new QLabel(this);

    m_grid = new DecisionGrid(DecisionGrid::Mode::Clean, nullptr, this);
    m_grid->proxy()->setScoredOnly(true);
    m_grid->proxy()->setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
    m_grid->setPlaceholderText(tr("No scored images: train a model first"));
    m_issues = new LabelIssuesBar(m_grid, this);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Split:"), this));
    top->addWidget(m_split);
    top->addSpacing(8);
    top->addWidget(new QLabel(tr("Given label:"), this));
    top->addWidget(m_class);
    top->addSpacing(8);
    top->addWidget(m_wrongOnly);
    top->addSpacing(16);
    top->addWidget(m_count);
    top->addStretch(1);
    top->addWidget(new QLabel(tr("Zoom:"), this));
    top->addWidget(m_grid->view()->createZoomSlider(this));

    m_planBar = new PlanBar(this);
    m_planBar->installShortcuts(this);
    connect(m_planBar, &PlanBar::applyRequested, this, &TopLossesPage::applyRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    // The score kind and the label-issue count share the second row (the first must fit a 1366-pixel screen).
    m_kind->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    auto* second = new QHBoxLayout;
    second->addWidget(m_kind, 1);
    second->addSpacing(16);
    second->addWidget(m_issues);
    layout->addLayout(second);
    layout->addWidget(m_grid, 1);
    layout->addWidget(m_planBar);

    connect(m_split, &QComboBox::currentIndexChanged, this, &TopLossesPage::applyFilter);
    connect(m_class, &QComboBox::currentIndexChanged, this, &TopLossesPage::applyFilter);
    connect(m_wrongOnly, &QCheckBox::toggled, this, &TopLossesPage::applyFilter);
    // After a choice in a picker the next key is a decision for the grid, not a search in the picker.
    for (QComboBox* picker : { m_split, m_class })
        connect(picker, &QComboBox::activated, this, [this] { m_grid->view()->setFocus(Qt::OtherFocusReason); });
    connect(m_wrongOnly, &QCheckBox::clicked, this, [this] { m_grid->view()->setFocus(Qt::OtherFocusReason); });
    ImageGridProxy* proxy = m_grid->proxy();
    connect(proxy, &QAbstractItemModel::modelReset, this, &TopLossesPage::updateKind);
    connect(proxy, &QAbstractItemModel::layoutChanged, this, &TopLossesPage::updateKind);
    connect(proxy, &QAbstractItemModel::rowsInserted, this, &TopLossesPage::updateKind);
    connect(proxy, &QAbstractItemModel::rowsRemoved, this, &TopLossesPage::updateKind);
    applyFilter();
}

TopLossesPage::~TopLossesPage() = default;

void TopLossesPage::setStore(DecisionStore* store)
{
    m_grid->setStore(store);
    m_planBar->setStore(store);
    m_issues->setStore(store);
}

void TopLossesPage::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_grid->setThumbnailLoader(loader);
}

void TopLossesPage::setDataset(const Dataset& dataset)
{
    const QString previous = m_class->currentIndex() > 0 ? m_class->currentText() : QString();
    m_class->blockSignals(true);
    m_class->clear();
    m_class->addItem(tr("All classes"), -1);
    for (int i = 0; i < dataset.vocab.size(); ++i)
        m_class->addItem(dataset.vocab.at(i), i);
    m_class->setCurrentIndex(previous.isEmpty() ? 0 : qMax(0, m_class->findText(previous)));
    m_class->blockSignals(false);
    m_grid->setDataset(dataset);
    applyFilter();
}

void TopLossesPage::setScores(const ScoreSet& scores)
{
    m_grid->setScores(scores);
    if (m_grid->proxy()->rowCount() > 0)
        m_grid->view()->setCurrentIndex(m_grid->proxy()->index(0, 0));
    updateKind();
}

void TopLossesPage::setSplit(SplitChoice split)
{
    m_split->setCurrentIndex(m_split->findData(int(split)));
}

TopLossesPage::SplitChoice TopLossesPage::split() const
{
    return SplitChoice(m_split->currentData().toInt());
}

void TopLossesPage::setMispredictedOnly(bool on)
{
    m_wrongOnly->setChecked(on);
}

void TopLossesPage::applyFilter()
{
    ImageGridProxy* proxy = m_grid->proxy();
    switch (split()) {
    case SplitChoice::All:
        proxy->setSplitFilter(ImageGridProxy::SplitFilter::Labeled); // losses need a given label
        break;
    case SplitChoice::Train:
        proxy->setSplitFilter(ImageGridProxy::SplitFilter::Train);
        break;
    case SplitChoice::Valid:
        proxy->setSplitFilter(ImageGridProxy::SplitFilter::Valid);
        break;
    }
    proxy->setClassFilter(m_class->currentData().toInt());
    proxy->setMispredictedOnly(m_wrongOnly->isChecked());
    updateKind();
}

void TopLossesPage::updateKind()
{
    const ImageGridModel* gm = m_grid->model();
    const ImageGridProxy* proxy = m_grid->proxy();
    const int shown = proxy->rowCount();
    m_count->setText(tr("%n image(s), highest loss first", nullptr, shown));
    int in = 0;
    int out = 0;
    int crossValidated = 0;
    for (int r = 0; r < shown; ++r)
        if (const ScoreRecord* rec = gm->scoreForSample(proxy->sampleIndex(r))) {
            (rec->kind == ScoreKind::InSample ? in : out)++;
            crossValidated += rec->kind == ScoreKind::OutOfSample && (rec->source & ~0xFF);
        }
    m_kind->setToolTip(tr("Out-of-sample scores come from networks that never trained on the image: for train "
                          "images the cross-validated fine-tune that held them out, for valid images the model and "
                          "every fold's network, averaged with K-fold heads on frozen pretrained features. Each "
                          "image's details say which (scored by)."));
    if (in + out == 0) {
        m_kind->setText(gm->hasScores() ? tr("Scores: none in this selection.")
                                        : tr("Scores: none yet. Train a model to rank images by loss."));
        return;
    }
    QString text;
    if (in == 0)
        text = crossValidated == out
            ? tr("Scores: <b>out-of-sample</b> for all %1 (cross-validated fine-tunes and frozen-feature heads: no "
                 "scoring network trained on these images).")
                  .arg(out)
            : tr("Scores: <b>out-of-sample</b> for all %1 (the scoring model never trained on these images).").arg(out);
    else if (out == 0)
        text = tr("Scores: <b>in-sample</b> for all %1 (the model trained on these images, so mislabeled ones it "
                  "memorised can look fine).")
                   .arg(in);
    else
        text = tr("Scores: <b>out-of-sample</b> for %1, <b>in-sample</b> for %2 (see each image's details).")
                   .arg(out)
                   .arg(in);
    m_kind->setText(text);
}

} // namespace Winnow
