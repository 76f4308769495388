// SPDX-License-Identifier: GPL-3.0-or-later
// TopLossesPage (order, split filter, labelled card values, score kind) and the analysis pages on a real
// MainWindow: tabs added, the document's dataset and scores fanned out, decisions shared with the Images page.
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>

#include "core/engine/explainer.h"
#include "tst_analysis_fixtures.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/cleanerpage.h"
#include "ui/analysis/confusionmatrixmodel.h"
#include "ui/analysis/confusionmatrixpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/labelissuesbar.h"
#include "ui/analysis/labelpage.h"
#include "ui/analysis/toplossespage.h"
#include "ui/cleaningsession.h"
#include "ui/datasetdocument.h"
#include "ui/imagegrid/imagegriddelegate.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/mainwindow.h"

using namespace Winnow;
using namespace AnalysisTest;

class TestAnalysisPages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void topLosses_data();
    void topLosses();
    void topLossesDetails();
    void labelIssues();
    void install();
    void scale();
    void screenshots();

private:
    QTemporaryDir m_dir;
    Dataset m_ds;
    ScoreSet m_scores;
};

void TestAnalysisPages::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("WinnowTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_analysis_pages"));
    QSettings().clear();
    QVERIFY(m_dir.isValid());
    const QStringList classes { "cat", "dog" };
    int seed = 0;
    for (const QString& c : classes) {
        for (int i = 0; i < 4; ++i)
            QVERIFY(writePng(m_dir.filePath(QStringLiteral("train/%1/t%2.png").arg(c).arg(i)), seed++));
        for (int i = 0; i < 2; ++i)
            QVERIFY(writePng(m_dir.filePath(QStringLiteral("valid/%1/v%2.png").arg(c).arg(i)), seed++));
    }
    QVERIFY(writePng(m_dir.filePath(QStringLiteral("unlabeled/u.png")), seed++));
    m_ds = scan(m_dir.path());
    QCOMPARE(m_ds.size(), 13);
    m_scores.datasetRoot = m_ds.root;
    m_scores.vocab = classes;
    int k = 0;
    for (const Sample& s : std::as_const(m_ds.samples)) {
        if (s.label < 0) {
            m_scores.records << record(s.relPath, s.split, -1, 1, 0.8, 2);
            continue;
        }
        const int predicted = k % 3 == 0 ? 1 - s.label : s.label;
        m_scores.records << record(s.relPath, s.split, s.label, predicted, 0.55 + 0.03 * k, 2);
        ++k;
    }
}

void TestAnalysisPages::topLosses_data()
{
    QTest::addColumn<int>("split");
    QTest::addColumn<bool>("wrongOnly");
    QTest::newRow("all") << int(TopLossesPage::SplitChoice::All) << false;
    QTest::newRow("train") << int(TopLossesPage::SplitChoice::Train) << false;
    QTest::newRow("valid") << int(TopLossesPage::SplitChoice::Valid) << false;
    QTest::newRow("all, wrong only") << int(TopLossesPage::SplitChoice::All) << true;
}

void TestAnalysisPages::topLosses()
{
    QFETCH(int, split);
    QFETCH(bool, wrongOnly);
    DecisionStore store;
    TopLossesPage page;
    page.setStore(&store);
    store.setDataset(m_ds);
    page.setDataset(m_ds);
    page.setScores(m_scores);
    page.setSplit(TopLossesPage::SplitChoice(split));
    page.setMispredictedOnly(wrongOnly);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));

    QList<ScoreRecord> want;
    for (const ScoreRecord& r : std::as_const(m_scores.records)) {
        if (r.given < 0)
            continue; // unlabeled images have no loss
        if ((split == int(TopLossesPage::SplitChoice::Train) && r.split != Split::Train)
            || (split == int(TopLossesPage::SplitChoice::Valid) && r.split != Split::Valid))
            continue;
        if (wrongOnly && r.predicted == r.given)
            continue;
        want << r;
    }
    std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.loss > b.loss; });
    const ImageGridProxy* proxy = page.grid()->proxy();
    QCOMPARE(proxy->rowCount(), int(want.size()));
    for (int r = 0; r < proxy->rowCount(); ++r) {
        const QModelIndex idx = proxy->index(r, 0);
        QCOMPARE(idx.data(ImageGridModel::RelPathRole).toString(), want.at(r).file);
        // The card reads both probabilities.
        QCOMPARE(idx.data(ImageGridModel::PPredictedRole).toDouble(), want.at(r).pPredicted);
        QCOMPARE(idx.data(ImageGridModel::PGivenRole).toDouble(), want.at(r).pGiven);
    }
    QVERIFY(page.grid()->view()->gridDelegate()->showScores());
    // Valid records are out-of-sample, train ones in-sample in this fixture: the header says which.
    const QString kind = page.scoreKindLabel()->text();
    if (split == int(TopLossesPage::SplitChoice::Valid))
        QVERIFY2(kind.contains(QLatin1String("out-of-sample")) && !kind.contains(QLatin1String("in-sample")),
            qPrintable(kind));
    else if (split == int(TopLossesPage::SplitChoice::Train))
        QVERIFY2(kind.contains(QLatin1String("in-sample")) && !kind.contains(QLatin1String("out-of-sample")),
            qPrintable(kind));
    else
        QVERIFY2(kind.contains(QLatin1String("in-sample")) && kind.contains(QLatin1String("out-of-sample")),
            qPrintable(kind));
}

void TestAnalysisPages::topLossesDetails()
{
    DecisionStore store;
    TopLossesPage page;
    page.setStore(&store);
    store.setDataset(m_ds);
    page.setDataset(m_ds);
    page.setScores(m_scores);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    // The top image is current; the side panel names its numbers.
    const QString details = page.grid()->detailsLabel()->text();
    for (const char* word : { "Loss", "p(predicted)", "p(given)", "Predicted", "Given" })
        QVERIFY2(details.contains(QLatin1String(word)), word);
    QVERIFY(details.contains(QLatin1String("in-sample")) || details.contains(QLatin1String("out-of-sample")));
    // Deciding here works like in the cleaner.
    const QString top = page.grid()->proxy()->index(0, 0).data(ImageGridModel::RelPathRole).toString();
    QTest::keyClick(page.grid()->view(), Qt::Key_D);
    QCOMPARE(store.action(top), CleanAction::Delete);
}

/// The label-error count ("about N likely label errors, M reviewed") and the "Flagged only" filter on the three
/// analysis pages.
void TestAnalysisPages::labelIssues()
{
    ScoreSet scores = m_scores;
    QStringList flagged;
    QString suggestedForSecond;
    for (ScoreRecord& r : scores.records) {
        if (r.given >= 0 && r.predicted != r.given && flagged.size() < 2) {
            r.issue = true;
            r.suggested = r.predicted;
            flagged << r.file;
            suggestedForSecond = scores.vocab.at(r.suggested);
        }
    }
    QCOMPARE(flagged.size(), 2);
    scores.estimatedErrors = 3;
    QString unflagged;
    for (const ScoreRecord& r : std::as_const(scores.records))
        if (r.given >= 0 && !r.issue)
            unflagged = r.file;

    DecisionStore store;
    TopLossesPage top;
    CleanerPage cleaner;
    ConfusionMatrixPage confusion;
    const QList<LabelIssuesBar*> bars { top.labelIssuesBar(), cleaner.labelIssuesBar(), confusion.labelIssuesBar() };
    top.setStore(&store);
    cleaner.setStore(&store);
    confusion.setStore(&store);
    store.setDataset(m_ds);
    top.setDataset(m_ds);
    cleaner.setDataset(m_ds);
    confusion.setDataset(m_ds);
    for (LabelIssuesBar* bar : bars) {
        QVERIFY(bar);
        QVERIFY(bar->countLabel()->text().isEmpty()); // no scores yet
        QVERIFY(!bar->flaggedOnlyBox()->isEnabled());
    }
    top.setScores(scores);
    cleaner.setScores(scores);
    confusion.setScores(scores);
    for (LabelIssuesBar* bar : bars) {
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("about 3 likely label errors, 0 reviewed"));
        QCOMPARE(bar->flagged(), 2);
        QVERIFY(bar->flaggedOnlyBox()->isEnabled());
    }

    // Reviewed = flagged images with a decision; a decision on another image does not count.
    QVERIFY(store.decide({ flagged.at(0) }, CleanAction::Delete));
    QVERIFY(store.decide({ unflagged }, CleanAction::Delete));
    for (LabelIssuesBar* bar : bars)
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("about 3 likely label errors, 1 reviewed"));
    QVERIFY(store.decide({ flagged.at(1) }, CleanAction::Relabel, suggestedForSecond));
    QCOMPARE(top.labelIssuesBar()->reviewed(), 2);
    // Kept on purpose is reviewed too; clearing (Backspace) is not.
    QVERIFY(store.decide({ flagged.at(0) }, CleanAction::Keep));
    QCOMPARE(top.labelIssuesBar()->countLabel()->text(), QStringLiteral("about 3 likely label errors, 2 reviewed"));
    QVERIFY(store.clearDecisions({ flagged.at(0) }));
    QCOMPARE(top.labelIssuesBar()->countLabel()->text(), QStringLiteral("about 3 likely label errors, 1 reviewed"));

    // Flagged only: the top-losses grid keeps exactly the flagged images, and gives the rest back when unchecked.
    ImageGridProxy* proxy = top.grid()->proxy();
    const int all = proxy->rowCount();
    top.labelIssuesBar()->flaggedOnlyBox()->setChecked(true);
    QVERIFY(proxy->flaggedOnly());
    QCOMPARE(proxy->rowCount(), 2);
    QStringList shown;
    for (int r = 0; r < proxy->rowCount(); ++r) {
        QVERIFY(proxy->index(r, 0).data(ImageGridModel::IssueRole).toBool());
        shown << proxy->index(r, 0).data(ImageGridModel::RelPathRole).toString();
        QCOMPARE(proxy->index(r, 0).data(ImageGridModel::SuggestedLabelRole).toString(),
            proxy->index(r, 0).data(ImageGridModel::PredictedLabelRole).toString());
    }
    shown.sort();
    QStringList want = flagged;
    want.sort();
    QCOMPARE(shown, want);
    top.labelIssuesBar()->flaggedOnlyBox()->setChecked(false);
    QCOMPARE(proxy->rowCount(), all);

    // The cleaner: the first flagged image's category and split, flagged only -> the flagged images of that view.
    const ScoreRecord* first = nullptr;
    for (const ScoreRecord& r : std::as_const(scores.records))
        if (r.file == flagged.at(0))
            first = &r;
    QVERIFY(first);
    QStringList inView;
    for (const ScoreRecord& r : std::as_const(scores.records))
        if (r.issue && r.given == first->given && r.split == first->split)
            inView << r.file;
    QVERIFY(cleaner.setCategory(m_scores.vocab.at(first->given)));
    cleaner.setSplit(first->split);
    const int before = cleaner.grid()->proxy()->rowCount();
    cleaner.labelIssuesBar()->flaggedOnlyBox()->setChecked(true);
    QCOMPARE(cleaner.grid()->proxy()->rowCount(), int(inView.size()));
    QVERIFY(before > int(inView.size()));
    for (int r = 0; r < cleaner.grid()->proxy()->rowCount(); ++r)
        QVERIFY(inView.contains(cleaner.grid()->proxy()->index(r, 0).data(ImageGridModel::RelPathRole).toString()));

    // The confusion matrix's drill-down grid: every shown image is flagged.
    confusion.setSplit(ConfusionMatrixPage::SplitChoice::All);
    confusion.labelIssuesBar()->flaggedOnlyBox()->setChecked(true);
    ImageGridProxy* cp = confusion.grid()->proxy();
    QCOMPARE(cp->rowCount(), 2);
    for (int r = 0; r < cp->rowCount(); ++r)
        QVERIFY(cp->index(r, 0).data(ImageGridModel::IssueRole).toBool());

    // Scores without an estimate say so.
    ScoreSet plain = m_scores;
    top.setScores(plain);
    QCOMPARE(top.labelIssuesBar()->countLabel()->text(), QStringLiteral("Label errors: not estimated"));
    QVERIFY(!top.labelIssuesBar()->flaggedOnlyBox()->isEnabled());
}

void TestAnalysisPages::install()
{
    MainWindow window;
    AnalysisPages* pages = window.analysisPages();
    QVERIFY(pages);
    // Images, Train, then Confusion matrix, Top losses, Cleaner, Label, Issues (their titles from tabs()), Predict.
    QCOMPARE(window.pages()->count(), 8);
    const auto tabs = pages->tabs();
    QCOMPARE(tabs.size(), 5);
    for (int i = 0; i < tabs.size(); ++i) {
        QCOMPARE(window.pages()->widget(2 + i), tabs.at(i).first);
        QCOMPARE(window.pages()->tabText(2 + i), tabs.at(i).second);
    }
    QCOMPARE(window.pages()->indexOf(pages->cleanerPage()), 4);
    // The pages record into the document's decisions.
    QCOMPARE(pages->store(), window.document()->decisions());

    QSignalSpy opened(&window, &MainWindow::datasetOpened);
    window.openDataset(m_dir.path());
    QVERIFY(opened.wait(10000));
    QCOMPARE(pages->cleanerPage()->categoryCombo()->count(), 2);
    QCOMPARE(pages->store()->plan().root(), window.dataset()->root);
    QCOMPARE(pages->labelPage()->proxy()->rowCount(), 1);

    window.setScores(m_scores);
    QCOMPARE(pages->confusionPage()->matrixModel()->rowCount(), 2);
    QVERIFY(pages->topLossesPage()->grid()->proxy()->rowCount() > 0);

    // A decision in the cleaner shows on the Images page, and one there lands in the same plan.
    CleanerPage* cleaner = pages->cleanerPage();
    window.showPage(cleaner);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QString first = cleaner->grid()->proxy()->index(0, 0).data(ImageGridModel::RelPathRole).toString();
    cleaner->grid()->view()->setFocus();
    QTest::keyClick(cleaner->grid()->view(), Qt::Key_D);
    QCOMPARE(pages->store()->action(first), CleanAction::Delete);
    ImageGridModel* images = window.imageModel();
    QCOMPARE(images->index(images->rowForRelPath(first)).data(ImageGridModel::DecisionRole).toString(),
        QStringLiteral("Delete"));
    const int s = window.dataset()->findSample(QStringLiteral("valid/dog/v1.png"));
    QVERIFY(s >= 0);
    Q_EMIT window.imageView()->decisionRequested(QStringLiteral("Delete"), { s });
    QCOMPARE(pages->store()->action(QStringLiteral("valid/dog/v1.png")), CleanAction::Delete);

    // Only the signal is checked here (the window's CleaningSession would ask and move files: tst_mainwindow).
    QObject::disconnect(pages, &AnalysisPages::applyRequested, window.cleaningSession(), nullptr);
    QSignalSpy apply(pages, &AnalysisPages::applyRequested);
    Q_EMIT cleaner->applyRequested();
    QCOMPARE(apply.count(), 1);

    // G on the Images page cycles the same evidence maps as the analysis grids (once there is a run).
    QCOMPARE(images->explainer(), pages->explainer());
    QTest::keyClick(window.imageView(), Qt::Key_G);
    QCOMPARE(images->evidenceMode(), ImageGridModel::EvidenceMode::Off); // no run yet
    pages->setRunDir(m_dir.filePath(QStringLiteral("some-run")));
    QTest::keyClick(window.imageView(), Qt::Key_G);
    QCOMPARE(images->evidenceMode(), ImageGridModel::EvidenceMode::Predicted);
    QTest::keyClick(window.imageView(), Qt::Key_G);
    QCOMPARE(images->evidenceMode(), ImageGridModel::EvidenceMode::Given);
    QTest::keyClick(window.imageView(), Qt::Key_G);
    QCOMPARE(images->evidenceMode(), ImageGridModel::EvidenceMode::Off);
}

// 60k images in memory (no files: the dataset value is built directly) across all four pages: loading and a
// keypress decision stay interactive. Bounds are loose (shared, slow CI cores); the times are printed.
void TestAnalysisPages::scale()
{
    constexpr int kClasses = 10;
    constexpr int kPerClass = 5000;
    constexpr int kUnlabeled = 10000;
    Dataset ds;
    ds.root = m_dir.filePath(QStringLiteral("virtual"));
    ds.layout = Layout::TrainValid;
    for (int c = 0; c < kClasses; ++c)
        ds.vocab << QStringLiteral("class%1").arg(c, 2, 10, QLatin1Char('0'));
    ScoreSet scores;
    scores.datasetRoot = ds.root;
    scores.vocab = ds.vocab;
    for (int c = 0; c < kClasses; ++c)
        for (int i = 0; i < kPerClass; ++i) {
            Sample s;
            s.split = i % 5 == 0 ? Split::Valid : Split::Train;
            s.relPath = QStringLiteral("%1/%2/img%3.jpg")
                            .arg(s.split == Split::Valid ? "valid" : "train", ds.vocab.at(c))
                            .arg(i, 5, 10, QLatin1Char('0'));
            s.label = c;
            ds.samples << s;
        }
    for (int i = 0; i < kUnlabeled; ++i) {
        Sample s;
        s.split = Split::Unlabeled;
        s.relPath = QStringLiteral("unlabeled/u%1.jpg").arg(i, 5, 10, QLatin1Char('0'));
        ds.samples << s;
    }
    std::sort(
        ds.samples.begin(), ds.samples.end(), [](const Sample& a, const Sample& b) { return a.relPath < b.relPath; });
    int k = 0;
    for (const Sample& s : std::as_const(ds.samples)) {
        const int predicted = s.label >= 0 ? (k % 7 == 0 ? (s.label + 1) % kClasses : s.label) : k % kClasses;
        scores.records << record(
            s.relPath, s.split, s.label, predicted, 0.3 + 0.6 * ((k * 7919) % 1000) / 1000.0, kClasses);
        ++k;
    }

    AnalysisPages pages;
    QElapsedTimer t;
    t.start();
    pages.setDataset(ds);
    pages.setScores(scores);
    const qint64 loadMs = t.elapsed();
    CleanerPage* cleaner = pages.cleanerPage();
    cleaner->resize(1280, 800);
    cleaner->show();
    QVERIFY(QTest::qWaitForWindowExposed(cleaner));
    QCOMPARE(cleaner->grid()->proxy()->rowCount(), kPerClass * 4 / 5);
    QCOMPARE(pages.labelPage()->proxy()->rowCount(), kUnlabeled);
    QCOMPARE(pages.confusionPage()->matrix().total(), kClasses * kPerClass / 5);
    cleaner->grid()->view()->setFocus();
    t.restart();
    constexpr int kKeys = 20;
    for (int i = 0; i < kKeys; ++i)
        QTest::keyClick(cleaner->grid()->view(), i % 2 ? Qt::Key_D : Qt::Key_2);
    const double keyMs = double(t.elapsed()) / kKeys;
    QCOMPARE(pages.store()->summary().total(), kKeys);
    qInfo("60k images, 4 pages: load + score %lld ms, one key decision %.1f ms", loadMs, keyMs);
    QVERIFY2(keyMs < 250, qPrintable(QStringLiteral("%1 ms per key").arg(keyMs)));
    QVERIFY2(loadMs < 20000, qPrintable(QStringLiteral("%1 ms to load").arg(loadMs)));
}

// Opt-in: WINNOW_SCREENSHOT_DIR=/some/dir writes a PNG of each page, for eyeballing the layout.
void TestAnalysisPages::screenshots()
{
    const QString out = qEnvironmentVariable("WINNOW_SCREENSHOT_DIR");
    if (out.isEmpty())
        QSKIP("set WINNOW_SCREENSHOT_DIR to write page screenshots");
    AnalysisPages pages;
    pages.setDataset(m_ds);
    pages.setScores(m_scores);
    QWidget* list[] = { pages.confusionPage(), pages.topLossesPage(), pages.cleanerPage(), pages.labelPage() };
    const char* names[] = { "confusion", "toplosses", "cleaner", "label" };
    pages.confusionPage()->selectCell(0, 1);
    for (int i = 0; i < 4; ++i) {
        list[i]->resize(1280, 800);
        list[i]->show();
        QVERIFY(QTest::qWaitForWindowExposed(list[i]));
        QTest::qWait(400); // thumbnails (no loader here: placeholders) and layouts settle
        QVERIFY(list[i]->grab().save(QDir(out).filePath(QString::fromLatin1(names[i]) + ".png")));
        list[i]->hide();
    }
}

QTEST_MAIN(TestAnalysisPages)
#include "tst_analysis_pages.moc"
