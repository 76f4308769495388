// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/analysispages.h"

#include <QHash>
#include <QTimer>

#include "core/engine/explainer.h"
#include "core/engine/trainingcontroller.h"
#include "ui/analysis/cleanerpage.h"
#include "ui/analysis/confusionmatrixpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/issuespage.h"
#include "ui/analysis/labelpage.h"
#include "ui/analysis/toplossespage.h"
#include "ui/datasetdocument.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

AnalysisPages::AnalysisPages(DecisionStore* store, QObject* parent)
    : QObject(parent)
    , m_store(store ? store : new DecisionStore(this))
    , m_ownsStore(!store)
    , m_confusion(new ConfusionMatrixPage)
    , m_topLosses(new TopLossesPage)
    , m_cleaner(new CleanerPage)
    , m_label(new LabelPage)
    , m_issues(new IssuesPage)
    , m_explainer(new Explainer(this))
{
    for (DecisionGrid* g :
        { m_confusion->grid(), m_topLosses->grid(), m_cleaner->grid(), m_label->grid(), m_issues->grid() })
        g->setExplainer(m_explainer);
    m_issues->setObjectName(QStringLiteral("issuesPage"));
    m_issues->setStore(m_store);
    connect(m_issues, &IssuesPage::applyRequested, this, &AnalysisPages::applyRequested);
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
    for (QWidget* w : std::initializer_list<QWidget*> { m_confusion, m_topLosses, m_cleaner, m_label, m_issues })
        if (w && !w->parent())
            delete w;
}

QList<QPair<QWidget*, QString>> AnalysisPages::tabs() const
{
    return { { m_confusion, tr("Confusion matrix") }, { m_topLosses, tr("Top losses") }, { m_cleaner, tr("Cleaner") },
        { m_label, tr("Label") }, { m_issues, tr("Issues") } };
}

void AnalysisPages::setRunDir(const QString& runDir)
{
    m_explainer->setRunDir(runDir);
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
    if (m_issues)
        m_issues->setThumbnailLoader(loader);
}

void AnalysisPages::setDataset(const Dataset& dataset)
{
    if (m_ownsStore) // a shared store is told by its owner (the document), before anyone is
        m_store->setDataset(dataset);
    if (m_confusion)
        m_confusion->setDataset(dataset);
    if (m_topLosses)
        m_topLosses->setDataset(dataset);
    if (m_cleaner)
        m_cleaner->setDataset(dataset);
    if (m_label)
        m_label->setDataset(dataset);
    if (m_issues)
        m_issues->setDataset(dataset);
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
    if (m_issues)
        m_issues->setScores(scores);
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

IssuesPage* AnalysisPages::issuesPage() const
{
    return m_issues;
}

void AnalysisPages::setPlan(const CleaningPlan& plan)
{
    m_store->setPlan(plan);
}

const CleaningPlan& AnalysisPages::plan() const
{
    return m_store->plan();
}

AnalysisPages* installAnalysisPages(const AnalysisWiring& wiring, QObject* parent)
{
    DatasetDocument* doc = wiring.document;
    auto* pages = new AnalysisPages(doc ? doc->decisions() : nullptr, parent);
    pages->setThumbnailLoader(wiring.thumbnails);
    if (doc) {
        QObject::connect(doc, &DatasetDocument::datasetOpened, pages, &AnalysisPages::setDataset);
        QObject::connect(doc, &DatasetDocument::scoresChanged, pages, &AnalysisPages::setScores);
        if (const Dataset* ds = doc->dataset())
            pages->setDataset(*ds);
        if (!doc->scores().isEmpty())
            pages->setScores(doc->scores());
    }

    // The Issues page's checks run on the training worker, one job at a time: a request while another job runs
    // waits for it to end.
    if (TrainingController* controller = wiring.controller; controller && doc) {
        IssuesPage* issues = pages->issuesPage();
        auto pending = std::make_shared<bool>(false);
        auto check = [controller = QPointer<TrainingController>(controller), issues = QPointer<IssuesPage>(issues),
                         pending, w = QPointer<DatasetDocument>(doc)] {
            if (!w || !issues || !controller)
                return;
            const Dataset* ds = w->dataset();
            if (!ds)
                return;
            if (controller->findDataIssues(*ds, w->scores()) != 0) {
                *pending = false;
                issues->setChecking(
                    QObject::tr("Checking %1 images for duplicates, outliers and unusable photos…").arg(ds->size()));
            } else {
                *pending = true;
                issues->setChecking(QObject::tr("The check starts when the running job ends…"));
            }
        };
        QObject::connect(issues, &IssuesPage::findRequested, issues, check);
        auto retry = [pending, check, issues] {
            if (*pending)
                QTimer::singleShot(0, issues, check); // after the panel's own follow-up jobs have had their turn
        };
        QObject::connect(controller, &TrainingController::finished, issues, retry);
        QObject::connect(controller, &TrainingController::failed, issues, retry);
        QObject::connect(controller, &TrainingController::cancelled, issues, retry);
        // Every card in every grid shows its file's issues as small badges, from the latest report of the open
        // dataset (looked up by path, so a rescan that reorders files keeps them right until the next report).
        auto badges = std::make_shared<QHash<QString, quint32>>();
        QList<QPointer<ImageGridModel>> models { wiring.images };
        for (DecisionGrid* g : { pages->confusionPage()->grid(), pages->topLossesPage()->grid(),
                 pages->cleanerPage()->grid(), pages->labelPage()->grid(), issues->grid() })
            models << g->model();
        for (const QPointer<ImageGridModel>& m : models)
            if (m)
                m->setDataIssueProvider([badges, model = m](int sample) -> quint32 {
                    if (!model || sample < 0 || sample >= model->dataset().samples.size())
                        return 0;
                    return badges->value(model->dataset().samples.at(sample).relPath);
                });
        QObject::connect(controller, &TrainingController::dataIssuesReady, issues,
            [issues, badges, models, pending, w = QPointer<DatasetDocument>(doc)](
                quint64, const DataIssueReport& report, const QString& root) {
                issues->setReport(report, root);
                if (w && w->dataset() && w->dataset()->root == root)
                    *pending = false; // a train job's own report answers a check asked for meanwhile
                if (!w || !w->dataset() || w->dataset()->root != root)
                    return;
                badges->clear();
                for (const FileDataIssues& f : report.files)
                    if (f.flags)
                        badges->insert(f.file, f.flags); // by path: right for any later scan too
                for (const QPointer<ImageGridModel>& m : models)
                    if (m)
                        m->refreshDataIssues();
            });
        // Another dataset: its files have no badges until its own report.
        QObject::connect(doc, &DatasetDocument::datasetOpened, issues,
            [badges, models, last = std::make_shared<QString>()](const Dataset& ds) {
                if (ds.root == *last)
                    return;
                *last = ds.root;
                badges->clear();
                for (const QPointer<ImageGridModel>& m : models)
                    if (m)
                        m->refreshDataIssues();
            });
    }

    // The Images page shows the same decisions, and its K / D keys record into the same plan.
    DecisionStore* store = pages->store();
    if (ImageGridModel* images = wiring.images) {
        images->setDecisionProvider([store = QPointer<DecisionStore>(store)](const QString& relPath) {
            return store ? store->decisionText(relPath) : QString();
        });
        QObject::connect(store, &DecisionStore::decisionsChanged, images,
            [images](const QStringList& paths) { refreshDecisionRows(images, paths); });
    }
    if (ImageGridView* view = wiring.imagesView) {
        // G on the Images page too: the same maps as on the analysis pages.
        if (ImageGridModel* images = wiring.images) {
            images->setExplainer(pages->explainer());
            // One set of pages owns the window's G (the latest installed, as with the explainer above).
            QObject::disconnect(view, &ImageGridView::evidenceKeyPressed, nullptr, nullptr);
            QObject::connect(
                view, &ImageGridView::evidenceKeyPressed, images, [images, pages = QPointer<AnalysisPages>(pages)] {
                    const QString text = images->cycleEvidenceMode();
                    if (pages)
                        Q_EMIT pages->statusMessage(text, 8000);
                });
        }
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
