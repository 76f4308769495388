// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/labelpage.h"

#include <algorithm>

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegriddelegate.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

namespace {

/// The grid card plus one line under it: the suggestion's probability and margin ("p 0.93 · margin 0.41").
class SuggestionDelegate : public ImageGridDelegate
{
public:
    using ImageGridDelegate::ImageGridDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        return ImageGridDelegate::sizeHint(option, index) + QSize(0, extraHeight());
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        ImageGridDelegate::paint(painter, option, index);
        if (!index.data(ImageGridModel::HasScoreRole).toBool())
            return;
        const auto* proxy = qobject_cast<const ImageGridProxy*>(index.model());
        const ImageGridModel* grid = proxy ? proxy->gridModel() : nullptr;
        const ScoreRecord* rec =
            grid ? grid->scoreForSample(index.data(ImageGridModel::SampleIndexRole).toInt()) : nullptr;
        if (!rec)
            return;
        painter->save();
        QFont f = option.font;
        f.setPointSizeF(qMax(7.0, f.pointSizeF() * 0.9));
        f.setBold(true);
        painter->setFont(f);
        const double p = rec->pPredicted;
        // Colour by confidence so a wall of cards reads at a glance.
        painter->setPen(p >= 0.9 ? QColor(0x2e, 0x9d, 0x5b)
                : p >= 0.6       ? QColor(0xb9, 0x77, 0x0e)
                                 : QColor(0xd0, 0x3b, 0x32));
        const QRect r(option.rect.left() + 9, option.rect.bottom() - 9 - extraHeight() + 4, option.rect.width() - 18,
            extraHeight());
        painter->drawText(r, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("p %1").arg(p, 0, 'f', 2));
        f.setBold(false);
        painter->setFont(f);
        painter->setPen(option.palette.color(QPalette::PlaceholderText));
        painter->drawText(
            r, Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("margin %1").arg(suggestionMargin(*rec), 0, 'f', 2));
        painter->restore();
    }

private:
    static int extraHeight()
    {
        return QFontMetrics(QApplication::font()).height() + 2;
    }
};

} // namespace

BulkAcceptDialog::BulkAcceptDialog(const QList<SuggestionCandidate>& candidates, double threshold, QWidget* parent)
    : QDialog(parent)
    , m_candidates(candidates)
{
    setObjectName(QStringLiteral("bulkAcceptDialog"));
    setWindowTitle(tr("Accept suggestions"));
    m_headline = new QLabel(this);
    m_headline->setObjectName(QStringLiteral("bulkHeadline"));
    m_headline->setWordWrap(true);
    m_headline->setText(candidates.isEmpty()
            ? tr("No undecided image has a suggestion with p ≥ %1.").arg(threshold, 0, 'f', 2)
            : tr("%n image(s) will be labelled with the suggested class (p ≥ %1). Nothing moves on "
                 "disk until you apply the plan; this step can be undone.",
                nullptr, int(candidates.size()))
                  .arg(threshold, 0, 'f', 2));
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("bulkList"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({ tr("File"), tr("Class"), tr("p") });
    QList<QTreeWidgetItem*> items;
    items.reserve(candidates.size());
    for (const SuggestionCandidate& c : candidates)
        items << new QTreeWidgetItem(QStringList { c.relPath, c.className, QString::number(c.probability, 'f', 3) });
    m_list->addTopLevelItems(items);
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Label %n image(s)", nullptr, int(candidates.size())));
    buttons->button(QDialogButtonBox::Ok)->setEnabled(!candidates.isEmpty());
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_headline);
    layout->addWidget(m_list, 1);
    layout->addWidget(buttons);
    resize(560, 420);
}

LabelPage::LabelPage(QWidget* parent)
    : QWidget(parent)
    , m_proxy(new SuggestionProxy(this))
{
    m_grid = new DecisionGrid(DecisionGrid::Mode::Label, m_proxy, this);
    m_grid->setPlaceholderText(tr("No unlabeled images. Put new images in an 'unlabeled' folder of the dataset."));
    auto* delegate = new SuggestionDelegate(m_grid->view());
    delegate->setThumbnailSize(m_grid->view()->zoom());
    m_grid->view()->setItemDelegate(delegate);
    connect(m_grid->view(), &ImageGridView::zoomChanged, delegate, &ImageGridDelegate::setThumbnailSize);

    m_order = new QComboBox(this);
    m_order->setObjectName(QStringLiteral("orderCombo"));
    m_order->addItem(tr("Least confident first"), int(SuggestionProxy::Order::LeastConfident));
    m_order->addItem(tr("By suggested class"), int(SuggestionProxy::Order::BySuggestedClass));
    m_order->addItem(tr("By name"), int(SuggestionProxy::Order::ByName));
    connect(m_order, &QComboBox::currentIndexChanged, this,
        [this] { m_proxy->setOrder(SuggestionProxy::Order(m_order->currentData().toInt())); });

    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setObjectName(QStringLiteral("thresholdSpin"));
    m_threshold->setRange(0.0, 1.0);
    m_threshold->setSingleStep(0.05);
    m_threshold->setDecimals(2);
    m_threshold->setValue(0.9);
    m_bulk = new QPushButton(tr("Accept all ≥ p..."), this);
    m_bulk->setObjectName(QStringLiteral("bulkAcceptButton"));
    m_bulk->setToolTip(tr("Label every undecided image whose suggestion is at least this probable (preview first)"));
    connect(m_bulk, &QPushButton::clicked, this, &LabelPage::acceptAboveThreshold);
    auto* newClass = new QPushButton(tr("New class..."), this);
    newClass->setObjectName(QStringLiteral("newClassButton"));
    connect(newClass, &QPushButton::clicked, this, [this] { m_grid->promptNewClass(false); });
    m_caption = new QLabel(this);
    m_caption->setObjectName(QStringLiteral("labelCaption"));
    // A long caption must not widen the window: it is elided by the layout, the full text is in the tooltip.
    m_caption->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Order:"), this));
    top->addWidget(m_order);
    top->addSpacing(16);
    top->addWidget(new QLabel(tr("Suggestions with p ≥"), this));
    top->addWidget(m_threshold);
    top->addWidget(m_bulk);
    top->addSpacing(16);
    top->addWidget(newClass);
    top->addSpacing(16);
    top->addWidget(m_caption, 1);

    m_planBar = new PlanBar(this);
    m_planBar->installShortcuts(this);
    connect(m_planBar, &PlanBar::applyRequested, this, &LabelPage::applyRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_grid, 1);
    layout->addWidget(m_planBar);

    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LabelPage::updateCaption);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &LabelPage::updateCaption);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &LabelPage::updateCaption);
    updateCaption();
}

LabelPage::~LabelPage() = default;

void LabelPage::setStore(DecisionStore* store)
{
    if (m_grid->store())
        m_grid->store()->disconnect(this);
    m_grid->setStore(store);
    m_planBar->setStore(store);
    if (store)
        connect(store, &DecisionStore::decisionsChanged, this, &LabelPage::updateCaption);
    updateCaption();
}

void LabelPage::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_grid->setThumbnailLoader(loader);
}

void LabelPage::setDataset(const Dataset& dataset)
{
    m_grid->setDataset(dataset);
    if (m_proxy->rowCount() > 0)
        m_grid->view()->setCurrentIndex(m_proxy->index(0, 0));
    updateCaption();
}

void LabelPage::setScores(const ScoreSet& scores)
{
    m_grid->setScores(scores);
    // New suggestions, new order: start at the top (the least confident one by default).
    if (m_proxy->rowCount() > 0)
        m_grid->view()->setCurrentIndex(m_proxy->index(0, 0));
    updateCaption();
}

void LabelPage::setOrder(SuggestionProxy::Order order)
{
    m_order->setCurrentIndex(m_order->findData(int(order)));
}

SuggestionProxy::Order LabelPage::order() const
{
    return m_proxy->order();
}

QList<SuggestionCandidate> LabelPage::bulkCandidates(double minProbability) const
{
    QList<SuggestionCandidate> out;
    const ImageGridModel* gm = m_grid->model();
    const Dataset& ds = gm->dataset();
    const DecisionStore* store = m_grid->store();
    const QStringList& vocab = gm->scores().vocab;
    for (int s = 0; s < ds.samples.size(); ++s) {
        const Sample& sample = ds.samples.at(s);
        if (sample.split != Split::Unlabeled || !sample.readable())
            continue;
        const ScoreRecord* rec = gm->scoreForSample(s);
        if (!rec || rec->predicted < 0 || rec->predicted >= vocab.size() || rec->pPredicted < minProbability)
            continue;
        // A decision the user already took is theirs: bulk never overrides it.
        if (store && store->plan().contains(sample.relPath))
            continue;
        out.append({ sample.relPath, vocab.at(rec->predicted), rec->pPredicted });
    }
    std::stable_sort(out.begin(), out.end(),
        [](const SuggestionCandidate& a, const SuggestionCandidate& b) { return a.probability > b.probability; });
    return out;
}

int LabelPage::acceptAboveThreshold()
{
    DecisionStore* store = m_grid->store();
    if (!store)
        return 0;
    const double threshold = m_threshold->value();
    const QList<SuggestionCandidate> candidates = bulkCandidates(threshold);
    BulkAcceptDialog dialog(candidates, threshold, this);
    if (dialog.exec() != QDialog::Accepted || candidates.isEmpty())
        return 0;
    QList<DecisionStore::Change> changes;
    changes.reserve(candidates.size());
    for (const SuggestionCandidate& c : candidates)
        changes.append({ c.relPath, CleanAction::Relabel, c.className });
    QString error;
    if (!store->decideMany(changes,
            tr("Accept %n suggestion(s) with p ≥ %1", nullptr, int(changes.size())).arg(threshold, 0, 'f', 2),
            &error)) {
        QMessageBox::warning(this, tr("Accept suggestions"), error);
        return 0;
    }
    return int(changes.size());
}

bool LabelPage::createNewClass(const QString& name, QString* error)
{
    DecisionStore* store = m_grid->store();
    if (!store) {
        if (error)
            *error = tr("No dataset is open.");
        return false;
    }
    return store->createClass(name, error);
}

void LabelPage::updateCaption()
{
    const ImageGridModel* gm = m_grid->model();
    const DecisionStore* store = m_grid->store();
    const int shown = m_proxy->rowCount();
    // Counted like the Dataset panel's class table: readable images. An unreadable file stays visible (it can be
    // deleted) but is no image to label, and is counted apart.
    int images = 0;
    int unreadable = 0;
    int decided = 0;
    for (int r = 0; r < shown; ++r) {
        const int s = m_proxy->sampleIndex(r);
        if (s < 0 || s >= gm->dataset().samples.size())
            continue;
        const Sample& sample = gm->dataset().samples.at(s);
        if (sample.readable())
            ++images;
        else
            ++unreadable;
        if (store && store->plan().contains(sample.relPath))
            ++decided;
    }
    QString text = tr("%n unlabeled image(s), %1 decided", nullptr, images).arg(decided);
    if (unreadable > 0)
        text += tr(" · %n unreadable file(s) shown, not counted", nullptr, unreadable);
    if (!gm->hasScores())
        text += tr(" (no suggestions yet: train a model)");
    m_caption->setText(text);
    m_caption->setToolTip(text);
}

} // namespace Winnow
