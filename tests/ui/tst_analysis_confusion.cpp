// SPDX-License-Identifier: GPL-3.0-or-later
// ConfusionMatrixPage: counts from a synthetic ScoreSet with known pairs, split switch, normalisation, and the
// drill-down: clicking a cell (or a most-confused row) shows exactly that cell's images, highest loss first.
#include <map>

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

#include "tst_analysis_fixtures.h"
#include "ui/analysis/confusionmatrixmodel.h"
#include "ui/analysis/confusionmatrixpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/mostconfusedmodel.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"

using namespace Winnow;
using namespace AnalysisTest;

using Pair = std::pair<int, int>;

class TestAnalysisConfusion : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void countsPerSplit_data();
    void countsPerSplit();
    void clickCell_data();
    void clickCell();
    void mostConfusedDrillDown();
    void normalised();
    void emptyCell();
    void noScores();

private:
    QStringList shownRelPaths() const;
    QStringList expectedPaths(int actual, int predicted, ConfusionMatrixPage::SplitChoice split) const;
    void clickMatrixCell(int actual, int predicted);

    QTemporaryDir m_dir;
    Dataset m_ds;
    ScoreSet m_scores;
    DecisionStore* m_store = nullptr;
    ConfusionMatrixPage* m_page = nullptr;
};

// Valid split: (actual, predicted) -> how many images. Train split: another pattern.
static const std::map<Pair, int> kValid { { { 0, 0 }, 3 }, { { 0, 1 }, 2 }, { { 1, 1 }, 4 }, { { 1, 2 }, 1 },
    { { 2, 2 }, 2 }, { { 2, 0 }, 1 } };
static const std::map<Pair, int> kTrain { { { 0, 0 }, 4 }, { { 1, 1 }, 2 }, { { 1, 0 }, 3 }, { { 2, 2 }, 5 } };

void TestAnalysisConfusion::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const QStringList classes { "black", "grizzly", "teddy" };
    m_scores.vocab = classes;
    int seed = 0;
    // File names carry the pair so that the expected set is derived from the data, not the view.
    QList<std::tuple<QString, Split, int, int>> planned;
    for (const auto& [split, table] : { std::pair { Split::Valid, &kValid }, std::pair { Split::Train, &kTrain } })
        for (const auto& [pair, count] : *table)
            for (int i = 0; i < count; ++i) {
                const QString rel = QStringLiteral("%1/%2/a%3p%4_%5.png")
                                        .arg(split == Split::Valid ? "valid" : "train", classes.at(pair.first))
                                        .arg(pair.first)
                                        .arg(pair.second)
                                        .arg(i);
                QVERIFY(writePng(m_dir.filePath(rel), seed++));
                planned.append({ rel, split, pair.first, pair.second });
            }
    // An unlabeled image predicted as black must never be counted.
    QVERIFY(writePng(m_dir.filePath(QStringLiteral("unlabeled/u0.png")), seed++));
    m_ds = scan(m_dir.path());
    QCOMPARE(m_ds.vocab, classes);
    m_scores.datasetRoot = m_ds.root;
    int k = 0;
    for (const auto& [rel, split, actual, predicted] : planned)
        m_scores.records << record(rel, split, actual, predicted, 0.5 + 0.03 * (k++ % 15), 3);
    m_scores.records << record(QStringLiteral("unlabeled/u0.png"), Split::Unlabeled, -1, 0, 0.9, 3);
}

void TestAnalysisConfusion::cleanupTestCase()
{
    delete m_page;
    delete m_store;
}

void TestAnalysisConfusion::init()
{
    delete m_page;
    delete m_store;
    m_store = new DecisionStore;
    m_page = new ConfusionMatrixPage;
    m_page->setStore(m_store);
    m_store->setDataset(m_ds);
    m_page->setDataset(m_ds);
    m_page->setScores(m_scores);
    m_page->resize(1200, 800);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page));
}

QStringList TestAnalysisConfusion::shownRelPaths() const
{
    QStringList out;
    const ImageGridProxy* proxy = m_page->grid()->proxy();
    for (int r = 0; r < proxy->rowCount(); ++r)
        out << proxy->index(r, 0).data(ImageGridModel::RelPathRole).toString();
    return out;
}

QStringList TestAnalysisConfusion::expectedPaths(
    int actual, int predicted, ConfusionMatrixPage::SplitChoice split) const
{
    QList<ScoreRecord> recs;
    for (const ScoreRecord& r : std::as_const(m_scores.records)) {
        if (r.given != actual || r.predicted != predicted)
            continue;
        if ((split == ConfusionMatrixPage::SplitChoice::Train && r.split != Split::Train)
            || (split == ConfusionMatrixPage::SplitChoice::Valid && r.split != Split::Valid))
            continue;
        recs << r;
    }
    std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) {
        return a.loss != b.loss ? a.loss > b.loss : QString::compare(a.file, b.file, Qt::CaseInsensitive) < 0;
    });
    QStringList out;
    for (const ScoreRecord& r : recs)
        out << r.file;
    return out;
}

void TestAnalysisConfusion::clickMatrixCell(int actual, int predicted)
{
    QTableView* view = m_page->matrixView();
    const QModelIndex idx = view->model()->index(actual, predicted);
    view->scrollTo(idx);
    const QRect rect = view->visualRect(idx);
    QVERIFY(rect.isValid());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

void TestAnalysisConfusion::countsPerSplit_data()
{
    QTest::addColumn<int>("split");
    QTest::newRow("train") << int(ConfusionMatrixPage::SplitChoice::Train);
    QTest::newRow("valid") << int(ConfusionMatrixPage::SplitChoice::Valid);
    QTest::newRow("all") << int(ConfusionMatrixPage::SplitChoice::All);
}

void TestAnalysisConfusion::countsPerSplit()
{
    QFETCH(int, split);
    const auto choice = ConfusionMatrixPage::SplitChoice(split);
    // Valid is the default, as fastai's interpretation.
    QCOMPARE(m_page->split(), ConfusionMatrixPage::SplitChoice::Valid);
    QAbstractItemModelTester tester(m_page->matrixModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester listTester(
        m_page->mostConfusedModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_page->setSplit(choice);
    const ConfusionMatrixModel* model = m_page->matrixModel();
    QCOMPARE(model->rowCount(), 3);
    QCOMPARE(model->headerData(0, Qt::Vertical).toString(), QStringLiteral("black"));
    QCOMPARE(model->headerData(2, Qt::Horizontal).toString(), QStringLiteral("teddy"));
    int total = 0;
    for (int a = 0; a < 3; ++a)
        for (int p = 0; p < 3; ++p) {
            int want = 0;
            if (choice != ConfusionMatrixPage::SplitChoice::Train && kValid.count({ a, p }))
                want += kValid.at({ a, p });
            if (choice != ConfusionMatrixPage::SplitChoice::Valid && kTrain.count({ a, p }))
                want += kTrain.at({ a, p });
            QCOMPARE(model->count(a, p), want);
            QCOMPARE(model->index(a, p).data().toInt(), want);
            total += want;
        }
    QCOMPARE(m_page->matrix().total(), total); // the unlabeled image is not counted
    // Most-confused list: off-diagonal, count >= 1, count descending.
    const MostConfusedModel* list = m_page->mostConfusedModel();
    int prev = INT_MAX;
    int offDiagonal = 0;
    for (int a = 0; a < 3; ++a)
        for (int p = 0; p < 3; ++p)
            offDiagonal += (a != p && model->count(a, p) > 0);
    QCOMPARE(list->rowCount(), offDiagonal);
    for (int r = 0; r < list->rowCount(); ++r) {
        const auto pair = list->pair(r);
        QVERIFY(pair.actual != pair.predicted);
        QCOMPARE(pair.count, model->count(pair.actual, pair.predicted));
        QVERIFY(pair.count <= prev);
        prev = pair.count;
    }
}

void TestAnalysisConfusion::clickCell_data()
{
    QTest::addColumn<int>("split");
    QTest::addColumn<int>("actual");
    QTest::addColumn<int>("predicted");
    using S = ConfusionMatrixPage::SplitChoice;
    QTest::newRow("valid black->grizzly") << int(S::Valid) << 0 << 1;
    QTest::newRow("valid grizzly->grizzly") << int(S::Valid) << 1 << 1;
    QTest::newRow("valid teddy->black") << int(S::Valid) << 2 << 0;
    QTest::newRow("train grizzly->black") << int(S::Train) << 1 << 0;
    QTest::newRow("all black->black") << int(S::All) << 0 << 0;
    QTest::newRow("all teddy->teddy") << int(S::All) << 2 << 2;
}

void TestAnalysisConfusion::clickCell()
{
    QFETCH(int, split);
    QFETCH(int, actual);
    QFETCH(int, predicted);
    const auto choice = ConfusionMatrixPage::SplitChoice(split);
    QAbstractItemModelTester tester(m_page->grid()->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    // The split switch by its button.
    const QString button = choice == ConfusionMatrixPage::SplitChoice::Train ? "splitTrain"
        : choice == ConfusionMatrixPage::SplitChoice::Valid                  ? "splitValid"
                                                                             : "splitAll";
    QTest::mouseClick(m_page->findChild<QPushButton*>(button), Qt::LeftButton);
    QCOMPARE(m_page->split(), choice);

    QSignalSpy spy(m_page, &ConfusionMatrixPage::cellSelected);
    clickMatrixCell(actual, predicted);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(m_page->selectedActual(), actual);
    QCOMPARE(m_page->selectedPredicted(), predicted);
    const QStringList want = expectedPaths(actual, predicted, choice);
    QVERIFY(!want.isEmpty());
    QCOMPARE(shownRelPaths(), want);
    QCOMPARE(int(want.size()), m_page->matrixModel()->count(actual, predicted));
    QVERIFY(m_page->findChild<QLabel*>(QStringLiteral("cellCaption"))->text().contains(QString::number(want.size())));

    // Switching the split keeps the cell and re-filters the images.
    m_page->setSplit(ConfusionMatrixPage::SplitChoice::All);
    QCOMPARE(shownRelPaths(), expectedPaths(actual, predicted, ConfusionMatrixPage::SplitChoice::All));
}

void TestAnalysisConfusion::mostConfusedDrillDown()
{
    // Before any click: every error of the split.
    QStringList errors;
    for (int a = 0; a < 3; ++a)
        for (int p = 0; p < 3; ++p)
            if (a != p)
                errors << expectedPaths(a, p, ConfusionMatrixPage::SplitChoice::Valid);
    QStringList shown = shownRelPaths();
    std::sort(errors.begin(), errors.end());
    std::sort(shown.begin(), shown.end());
    QCOMPARE(shown, errors);

    QTableView* list = m_page->mostConfusedView();
    const QModelIndex first = list->model()->index(0, 0);
    const int a = first.data(MostConfusedModel::ActualRole).toInt();
    const int p = first.data(MostConfusedModel::PredictedRole).toInt();
    QCOMPARE(std::make_pair(a, p), Pair(0, 1)); // valid black->grizzly (2) is the most confused
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(first).center());
    QCOMPARE(m_page->selectedActual(), 0);
    QCOMPARE(m_page->selectedPredicted(), 1);
    QCOMPARE(shownRelPaths(), expectedPaths(0, 1, ConfusionMatrixPage::SplitChoice::Valid));
    QCOMPARE(m_page->matrixView()->currentIndex(), m_page->matrixModel()->index(0, 1));

    // "All errors" goes back.
    const auto buttons = m_page->findChildren<QPushButton*>();
    for (QPushButton* b : buttons)
        if (b->text() == QLatin1String("All errors"))
            QTest::mouseClick(b, Qt::LeftButton);
    QCOMPARE(m_page->selectedActual(), -1);
    QCOMPARE(shownRelPaths().size(), errors.size());
}

void TestAnalysisConfusion::normalised()
{
    m_page->setNormalised(true);
    const ConfusionMatrixModel* model = m_page->matrixModel();
    // Valid black row: 3 correct, 2 as grizzly -> 0.60 / 0.40.
    QCOMPARE(model->index(0, 0).data().toString(), QStringLiteral("0.60"));
    QCOMPARE(model->index(0, 1).data().toString(), QStringLiteral("0.40"));
    QCOMPARE(model->index(0, 1).data(ConfusionMatrixModel::CountRole).toInt(), 2);
    m_page->setNormalised(false);
    QCOMPARE(model->index(0, 1).data().toInt(), 2);
}

void TestAnalysisConfusion::emptyCell()
{
    clickMatrixCell(0, 2); // valid black->teddy: none
    QCOMPARE(m_page->matrixModel()->count(0, 2), 0);
    QVERIFY(shownRelPaths().isEmpty());
}

void TestAnalysisConfusion::noScores()
{
    m_page->setScores({});
    QCOMPARE(m_page->matrixModel()->rowCount(), 0);
    QCOMPARE(m_page->mostConfusedModel()->rowCount(), 0);
    QVERIFY(shownRelPaths().isEmpty());
    QVERIFY(!m_page->findChild<QLabel*>(QStringLiteral("accuracyLabel"))->text().isEmpty());
    m_page->setScores(m_scores);
    QCOMPARE(m_page->matrixModel()->rowCount(), 3);
}

QTEST_MAIN(TestAnalysisConfusion)
#include "tst_analysis_confusion.moc"
