// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/analysispages.h"

#include "ui/analysis/cleanerpage.h"
#include "ui/analysis/confusionmatrixpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/labelpage.h"
#include "ui/analysis/toplossespage.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/mainwindow.h"

namespace Winnow {

AnalysisPages::AnalysisPages(QObject* parent)
    : QObject(parent)
    , m_store(new DecisionStore(this))
    , m_confusion(new ConfusionMatrixPage)
    , m_topLosses(new TopLossesPage)
    , m_cleaner(new CleanerPage)
    , m_label(new LabelPage)
{
    m_confusion->setObjectName(QStringLiteral("confusionMatrixPage"));
    m_topLosses->setObjectName(QStringLiteral("topLossesPage"));
    m_cleaner->setObjectName(QStringLiteral("cleanerPage"));
    m_label->setObjectName(QStringLiteral("labelPage"));
    m_confusion->setStore(m_store);
    m_topLosses->setStore(m_store);
    m_cleaner->setStore(m_store);
    m_label->setStore(m_store);
    connect(m_confusion, &ConfusionMatrixPage::applyRequested, this, &AnalysisPages::applyRequested);
    connect(m_topLosses, &TopLossesPage::applyRequested, this, &AnalysisPages::applyRequested);
    connect(m_cleaner, &CleanerPage::applyRequested, this, &AnalysisPages::applyRequested);
    connect(m_label, &LabelPage::applyRequested, this, &AnalysisPages::applyRequested);
}

AnalysisPages::~AnalysisPages()
{
    // Pages no one adopted are ours to delete; adopted ones die with their parent.
    for (QWidget* w : std::initializer_list<QWidget*> { m_confusion, m_topLosses, m_cleaner, m_label })
        if (w && !w->parent())
            delete w;
}

void AnalysisPages::setThumbnailLoader(ThumbnailLoader* loader)
{
    if (m_confusion)
        m_confusion->setThumbnailLoader(loader);
    if (m_topLosses)
        m_topLosses->setThumbnailLoader(loader);
    if (m_cleaner)
        m_cleaner->setThumbnailLoader(loader);
    if (m_label)
        m_label->setThumbnailLoader(loader);
}

void AnalysisPages::setDataset(const Dataset& dataset)
{
    m_store->setDataset(dataset);
    if (m_confusion)
        m_confusion->setDataset(dataset);
    if (m_topLosses)
        m_topLosses->setDataset(dataset);
    if (m_cleaner)
        m_cleaner->setDataset(dataset);
    if (m_label)
        m_label->setDataset(dataset);
}

void AnalysisPages::setScores(const ScoreSet& scores)
{
    if (m_confusion)
        m_confusion->setScores(scores);
    if (m_topLosses)
        m_topLosses->setScores(scores);
    if (m_cleaner)
        m_cleaner->setScores(scores);
    if (m_label)
        m_label->setScores(scores);
}

ConfusionMatrixPage* AnalysisPages::confusionPage() const
{
    return m_confusion;
}

TopLossesPage* AnalysisPages::topLossesPage() const
{
    return m_topLosses;
}

CleanerPage* AnalysisPages::cleanerPage() const
{
    return m_cleaner;
}

LabelPage* AnalysisPages::labelPage() const
{
    return m_label;
}

void AnalysisPages::setPlan(const CleaningPlan& plan)
{
    m_store->setPlan(plan);
}

const CleaningPlan& AnalysisPages::plan() const
{
    return m_store->plan();
}

AnalysisPages* installAnalysisPages(MainWindow& window)
{
    auto* pages = new AnalysisPages(&window);
    pages->setThumbnailLoader(window.thumbnailLoader());
    window.addPage(pages->confusionPage(), QObject::tr("Confusion matrix"));
    window.addPage(pages->topLossesPage(), QObject::tr("Top losses"));
    window.addPage(pages->cleanerPage(), QObject::tr("Cleaner"));
    window.addPage(pages->labelPage(), QObject::tr("Label"));
    QObject::connect(&window, &MainWindow::datasetOpened, pages, &AnalysisPages::setDataset);
    QObject::connect(&window, &MainWindow::scoresChanged, pages, &AnalysisPages::setScores);
    if (const Dataset* ds = window.dataset())
        pages->setDataset(*ds);
    if (!window.scores().isEmpty())
        pages->setScores(window.scores());

    // The Images page shows the same decisions, and its K / D keys record into the same plan.
    DecisionStore* store = pages->store();
    if (ImageGridModel* images = window.imageModel()) {
        images->setDecisionProvider([store = QPointer<DecisionStore>(store)](const QString& relPath) {
            return store ? store->decisionText(relPath) : QString();
        });
        QObject::connect(store, &DecisionStore::decisionsChanged, images,
            [images](const QStringList& paths) { refreshDecisionRows(images, paths); });
    }
    if (ImageGridView* view = window.imageView()) {
        QObject::connect(view, &ImageGridView::decisionRequested, store,
            [store, view](const QString& what, const QList<int>& samples) {
                const ImageGridModel* model = view->gridModel();
                if (!model)
                    return;
                QStringList paths;
                for (int s : samples)
                    if (s >= 0 && s < model->dataset().samples.size())
                        paths << model->dataset().samples.at(s).relPath;
                if (what == QLatin1String("Delete"))
                    store->decide(paths, CleanAction::Delete);
                else if (what == QLatin1String("Keep"))
                    store->decide(paths, CleanAction::Keep);
            });
    }
    return pages;
}

} // namespace Winnow
