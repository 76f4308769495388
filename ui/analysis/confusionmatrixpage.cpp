// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/confusionmatrixpage.h"

#include <limits>

#include <QButtonGroup>
#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/analysis/confusionmatrixdelegate.h"
#include "ui/analysis/confusionmatrixmodel.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/labelissuesbar.h"
#include "ui/analysis/mostconfusedmodel.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

namespace {

/// An axis title drawn bottom-to-top ("Actual" left of the matrix).
class VerticalLabel : public QWidget
{
public:
    VerticalLabel(const QString& text, QWidget* parent)
        : QWidget(parent)
        , m_text(text)
    {
        QFont f = font();
        f.setBold(true);
        setFont(f);
        setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Preferred);
        setAccessibleName(text);
    }
    QSize sizeHint() const override
    {
        const QFontMetrics fm(font());
        return { fm.height() + 6, fm.horizontalAdvance(m_text) + 6 };
    }
    QSize minimumSizeHint() const override
    {
        return sizeHint();
    }

protected:
    void paintEvent(QPaintEvent*) override
    {
        QPainter p(this);
        p.setPen(palette().color(QPalette::WindowText));
        p.translate(0, height());
        p.rotate(-90);
        p.drawText(QRect(0, 0, height(), width()), Qt::AlignCenter, m_text);
    }

private:
    QString m_text;
};

ImageGridProxy::SplitFilter splitFilterFor(ConfusionMatrixPage::SplitChoice s)
{
    switch (s) {
    case ConfusionMatrixPage::SplitChoice::Train:
        return ImageGridProxy::SplitFilter::Train;
    case ConfusionMatrixPage::SplitChoice::Valid:
        return ImageGridProxy::SplitFilter::Valid;
    case ConfusionMatrixPage::SplitChoice::All:
        break;
    }
    return ImageGridProxy::SplitFilter::Labeled;
}

} // namespace

ConfusionMatrixPage::ConfusionMatrixPage(QWidget* parent)
    : QWidget(parent)
    , m_model(new ConfusionMatrixModel(this))
    , m_confused(new MostConfusedModel(this))
{
    // Top bar: split switch, normalisation, accuracy.
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Split:"), this));
    m_splitGroup = new QButtonGroup(this);
    m_splitGroup->setExclusive(true);
    const QList<QPair<QString, SplitChoice>> splits { { tr("Train"), SplitChoice::Train },
        { tr("Valid"), SplitChoice::Valid }, { tr("All"), SplitChoice::All } };
    for (const auto& [text, choice] : splits) {
        auto* b = new QPushButton(text, this);
        b->setCheckable(true);
        b->setObjectName(QStringLiteral("split") + text);
        m_splitGroup->addButton(b, int(choice));
        top->addWidget(b);
    }
    m_splitGroup->button(int(m_split))->setChecked(true);
    connect(m_splitGroup, &QButtonGroup::idClicked, this, [this](int id) { setSplit(SplitChoice(id)); });
    top->addSpacing(16);
    m_normalise = new QCheckBox(tr("Row-normalised"), this);
    m_normalise->setToolTip(tr("Show each row as fractions of the images of that actual class"));
    connect(m_normalise, &QCheckBox::toggled, this, &ConfusionMatrixPage::setNormalised);
    top->addWidget(m_normalise);
    top->addStretch(1);
    m_accuracy = new QLabel(this);
    m_accuracy->setWordWrap(true);
    m_accuracy->setObjectName(QStringLiteral("accuracyLabel"));
    top->addWidget(m_accuracy, 2);

    // Matrix with axis titles.
    m_matrixView = new QTableView(this);
    m_matrixView->setObjectName(QStringLiteral("confusionMatrixView"));
    m_matrixView->setModel(m_model);
    m_matrixView->setItemDelegate(new ConfusionMatrixDelegate(m_matrixView));
    m_matrixView->setShowGrid(false);
    m_matrixView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_matrixView->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_matrixView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_matrixView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_matrixView->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_matrixView->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
    m_matrixView->setToolTip(tr("Click a cell to see its images"));
    connect(m_matrixView, &QTableView::clicked, this,
        [this](const QModelIndex& idx) { selectCell(idx.row(), idx.column()); });
    connect(m_matrixView, &QTableView::activated, this,
        [this](const QModelIndex& idx) { selectCell(idx.row(), idx.column()); });

    auto* predictedTitle = new QLabel(tr("Predicted"), this);
    predictedTitle->setAlignment(Qt::AlignCenter);
    QFont bold = predictedTitle->font();
    bold.setBold(true);
    predictedTitle->setFont(bold);
    auto* matrixBox = new QWidget(this);
    auto* grid = new QGridLayout(matrixBox);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(2);
    grid->addWidget(predictedTitle, 0, 1);
    grid->addWidget(new VerticalLabel(tr("Actual"), matrixBox), 1, 0);
    grid->addWidget(m_matrixView, 1, 1);

    // Most confused.
    m_confusedView = new QTableView(this);
    m_confusedView->setObjectName(QStringLiteral("mostConfusedView"));
    m_confusedView->setModel(m_confused);
    m_confusedView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_confusedView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_confusedView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_confusedView->verticalHeader()->hide();
    m_confusedView->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_confusedView->horizontalHeader()->setSectionResizeMode(
        MostConfusedModel::CountColumn, QHeaderView::ResizeToContents);
    const auto pickPair = [this](const QModelIndex& idx) {
        selectCell(idx.data(MostConfusedModel::ActualRole).toInt(), idx.data(MostConfusedModel::PredictedRole).toInt());
    };
    connect(m_confusedView, &QTableView::clicked, this, pickPair);
    connect(m_confusedView, &QTableView::activated, this, pickPair);

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(matrixBox, 3);
    auto* mcTitle = new QLabel(tr("Most confused (actual → predicted)"), left);
    mcTitle->setFont(bold);
    leftLayout->addWidget(mcTitle);
    leftLayout->addWidget(m_confusedView, 2);

    // Drill-down grid.
    m_grid = new DecisionGrid(DecisionGrid::Mode::Clean, nullptr, this);
    m_grid->proxy()->setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
    m_grid->setPlaceholderText(tr("No images in this cell"));
    m_issues = new LabelIssuesBar(m_grid, this);
    top->insertWidget(top->count() - 2, m_issues); // before the stretch and the accuracy
    connect(m_grid->proxy(), &QAbstractItemModel::modelReset, this, &ConfusionMatrixPage::updateCaption);
    connect(m_grid->proxy(), &QAbstractItemModel::layoutChanged, this, &ConfusionMatrixPage::updateCaption);
    connect(m_grid->proxy(), &QAbstractItemModel::rowsInserted, this, &ConfusionMatrixPage::updateCaption);
    connect(m_grid->proxy(), &QAbstractItemModel::rowsRemoved, this, &ConfusionMatrixPage::updateCaption);
    m_caption = new QLabel(this);
    m_caption->setObjectName(QStringLiteral("cellCaption"));
    m_caption->setWordWrap(true);
    auto* showAll = new QPushButton(tr("All errors"), this);
    showAll->setToolTip(tr("Show every misprediction of the split, highest loss first"));
    connect(showAll, &QPushButton::clicked, this, [this] { selectCell(-1, -1); });
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    auto* captionRow = new QHBoxLayout;
    captionRow->addWidget(m_caption, 1);
    captionRow->addWidget(showAll);
    rightLayout->addLayout(captionRow);
    rightLayout->addWidget(m_grid, 1);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);

    m_planBar = new PlanBar(this);
    m_planBar->installShortcuts(this);
    connect(m_planBar, &PlanBar::applyRequested, this, &ConfusionMatrixPage::applyRequested);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_planBar);

    applyGridFilter();
    recompute();
}

ConfusionMatrixPage::~ConfusionMatrixPage() = default;

void ConfusionMatrixPage::setStore(DecisionStore* store)
{
    m_grid->setStore(store);
    m_planBar->setStore(store);
    m_issues->setStore(store);
}

void ConfusionMatrixPage::setThumbnailLoader(ThumbnailLoader* loader)
{
    m_grid->setThumbnailLoader(loader);
}

void ConfusionMatrixPage::setDataset(const Dataset& dataset)
{
    m_grid->setDataset(dataset);
    recompute();
}

void ConfusionMatrixPage::setScores(const ScoreSet& scores)
{
    m_grid->setScores(scores);
    recompute();
}

void ConfusionMatrixPage::setSplit(SplitChoice split)
{
    if (QAbstractButton* b = m_splitGroup->button(int(split)))
        b->setChecked(true);
    if (split == m_split)
        return;
    m_split = split;
    recompute();
}

void ConfusionMatrixPage::setNormalised(bool on)
{
    if (m_normalise->isChecked() != on)
        m_normalise->setChecked(on); // re-enters through toggled
    m_model->setNormalised(on);
    m_matrixView->resizeColumnsToContents();
}

bool ConfusionMatrixPage::isNormalised() const
{
    return m_model->isNormalised();
}

void ConfusionMatrixPage::recompute()
{
    const ImageGridModel* gm = m_grid->model();
    const Dataset& ds = gm->dataset();
    const QStringList classes = gm->scores().vocab.isEmpty() ? ds.vocab : gm->scores().vocab;
    const int n = int(classes.size());
    // Labels index the dataset's vocab, predictions the scores' vocab: join them by name.
    QList<int> matrixIndexOfLabel(ds.vocab.size(), -1);
    for (int i = 0; i < ds.vocab.size(); ++i)
        matrixIndexOfLabel[i] = int(classes.indexOf(ds.vocab.at(i)));
    m_datasetIndexOfClass.clear();
    for (const QString& c : classes)
        m_datasetIndexOfClass << int(ds.vocab.indexOf(c));

    QList<int> actual;
    QList<int> predicted;
    if (gm->hasScores()) {
        for (int s = 0; s < ds.samples.size(); ++s) {
            const Sample& sample = ds.samples.at(s);
            if (sample.label < 0 || sample.split == Split::Unlabeled)
                continue;
            if ((m_split == SplitChoice::Train && sample.split != Split::Train)
                || (m_split == SplitChoice::Valid && sample.split != Split::Valid))
                continue;
            const ScoreRecord* rec = gm->scoreForSample(s);
            if (!rec || rec->predicted < 0 || rec->predicted >= n)
                continue;
            const int a = matrixIndexOfLabel.value(sample.label, -1);
            if (a < 0)
                continue;
            actual << a;
            predicted << rec->predicted;
        }
    }
    m_matrix = gm->hasScores() ? ConfusionMatrix::fromPairs(actual, predicted, n, classes) : ConfusionMatrix();

    const int keepActual = m_actual;
    const int keepPredicted = m_predicted;
    m_model->setMatrix(m_matrix);
    m_confused->setMatrix(m_matrix);
    m_matrixView->resizeColumnsToContents();
    m_matrixView->resizeRowsToContents();
    m_confusedView->resizeRowsToContents();

    if (m_matrix.total() > 0) {
        m_accuracy->setText(tr("Accuracy %1 (%2 of %3), error rate %4 of the honest scores (the Train page's "
                               "error_rate is the model alone)")
                                .arg(QString::number(m_matrix.accuracy(), 'f', 4))
                                .arg(m_matrix.correct())
                                .arg(m_matrix.total())
                                .arg(QString::number(m_matrix.errorRate(), 'f', 4)));
        m_accuracy->setToolTip(
            tr("Counted from the scores the grids show. For valid images those average the fine-tuned model with the "
               "cross-validation networks, the frozen-feature heads and the neighbours' labels (out-of-sample "
               "scoring), so this can differ from the Train page's error_rate, which is the fine-tuned model alone."));
    } else {
        m_accuracy->setText(
            gm->hasScores() ? tr("No scored images in this split") : tr("No scores yet: train a model"));
    }
    // Keep the drill-down on the same cell when it still exists.
    if (keepActual >= 0 && keepActual < n && keepPredicted >= 0 && keepPredicted < n)
        selectCell(keepActual, keepPredicted);
    else
        selectCell(-1, -1);
}

void ConfusionMatrixPage::selectCell(int actual, int predicted)
{
    const int n = m_model->classCount();
    if (actual < 0 || predicted < 0 || actual >= n || predicted >= n)
        actual = predicted = -1;
    m_actual = actual;
    m_predicted = predicted;
    if (actual >= 0) {
        const QModelIndex idx = m_model->index(actual, predicted);
        if (m_matrixView->currentIndex() != idx)
            m_matrixView->setCurrentIndex(idx);
        // Mirror the choice in the list when the pair is there.
        m_confusedView->clearSelection();
        for (int r = 0; r < m_confused->rowCount(); ++r) {
            const auto p = m_confused->pair(r);
            if (p.actual == actual && p.predicted == predicted) {
                m_confusedView->selectRow(r);
                break;
            }
        }
    } else {
        m_matrixView->clearSelection();
        m_confusedView->clearSelection();
    }
    applyGridFilter();
    Q_EMIT cellSelected(actual, predicted);
}

void ConfusionMatrixPage::applyGridFilter()
{
    ImageGridProxy* proxy = m_grid->proxy();
    proxy->setSplitFilter(splitFilterFor(m_split));
    if (m_actual >= 0) {
        proxy->setMispredictedOnly(false);
        // The proxy compares the dataset's label index: map the matrix class back. A class the dataset no longer
        // has must match nothing, never "any" (which is what a negative index means to the proxy).
        const int datasetActual = m_datasetIndexOfClass.value(m_actual, -1);
        proxy->setCellFilter(datasetActual >= 0 ? datasetActual : std::numeric_limits<int>::max(), m_predicted);
    } else {
        proxy->clearCellFilter();
        proxy->setMispredictedOnly(true);
    }
    // Start at the highest loss of the new selection, so that keys act at once.
    if (proxy->rowCount() > 0)
        m_grid->view()->setCurrentIndex(proxy->index(0, 0));
    updateCaption();
}

void ConfusionMatrixPage::updateCaption()
{
    const int shown = m_grid->proxy()->rowCount();
    const QStringList names = m_matrix.classNames();
    if (m_actual >= 0) {
        m_caption->setText(tr("Actual <b>%1</b>, predicted <b>%2</b>: %n image(s), highest loss first", nullptr, shown)
                               .arg(names.value(m_actual).toHtmlEscaped(), names.value(m_predicted).toHtmlEscaped()));
    } else {
        m_caption->setText(tr("All errors of the split: %n image(s), highest loss first", nullptr, shown));
    }
}

} // namespace Winnow
