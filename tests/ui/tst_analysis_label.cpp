// SPDX-License-Identifier: GPL-3.0-or-later
// LabelPage: unlabeled images only, suggestion orders, keys (Enter accepts, digits pick, D deletes, S skips), the
// bulk-accept preview (count and list) and its undo, and "New class..." as a relabel target.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>
#include <QUndoStack>

#include "tests/syntheticdataset.h"
#include "tst_analysis_fixtures.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/labelpage.h"
#include "ui/analysis/suggestionproxy.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridview.h"

using namespace Winnow;
using namespace AnalysisTest;

namespace {

struct Unl
{
    const char* name;
    int predicted; ///< -1: not scored
    double p;
    int second;
    double pSecond;
};

const Unl kUnlabeled[] = {
    { "u0", 0, 0.95, 1, 0.03 },
    { "u1", 1, 0.50, 2, 0.45 },
    { "u2", 2, 0.85, 0, 0.10 },
    { "u3", 0, 0.40, 1, 0.38 },
    { "u4", 1, 0.92, 0, 0.05 },
    { "u5", 2, 0.70, 1, 0.20 },
    { "u6", -1, 0, -1, 0 },
    { "u7", 1, 0.81, 2, 0.15 },
};

double topTwoGap(const QVector<float>& probs)
{
    QVector<float> s = probs;
    std::sort(s.begin(), s.end(), std::greater<float>());
    return s.size() > 1 ? double(s[0]) - double(s[1]) : 1.0;
}

} // namespace

class TestAnalysisLabel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void onlyUnlabeledLeastConfidentFirst();
    void otherOrders();
    void keys();
    void bulkAcceptPreview();
    void bulkAcceptCancel();
    void newClass();
    void suggestionMargin_data();
    void suggestionMargin();

private:
    QStringList shownRelPaths() const;
    QString currentRelPath() const;
    void selectRow(int row);
    /// Runs the bulk accept; `onDialog` sees the preview and decides (accept/reject).
    int runBulk(double threshold, const std::function<void(BulkAcceptDialog*)>& onDialog);

    QTemporaryDir* m_dir = nullptr;
    Dataset m_ds;
    ScoreSet m_scores;
    DecisionStore* m_store = nullptr;
    LabelPage* m_page = nullptr;
};

void TestAnalysisLabel::init()
{
    m_dir = new QTemporaryDir;
    QVERIFY(m_dir->isValid());
    const QStringList classes { "black", "grizzly", "teddy" };
    const auto written = WinnowTest::writeDataset({ .root = m_dir->path(),
        .classes = classes,
        .perClass = 1,
        .validPerClass = 1,
        .size = QSize(12, 12),
        .trainName = "t",
        .validName = "v" });
    QVERIFY2(written.ok(), qPrintable(written.error));
    // The unlabeled files have the table's names: one by one.
    int seed = 0;
    for (const Unl& u : kUnlabeled)
        QVERIFY(writePng(m_dir->filePath(QStringLiteral("unlabeled/%1.png").arg(u.name)), seed++));
    m_ds = scan(m_dir->path());
    QCOMPARE(m_ds.vocab, classes);
    m_scores = {};
    m_scores.datasetRoot = m_ds.root;
    m_scores.vocab = classes;
    for (const Sample& s : std::as_const(m_ds.samples))
        if (s.label >= 0)
            m_scores.records << record(s.relPath, s.split, s.label, s.label, 0.9, 3);
    for (const Unl& u : kUnlabeled)
        if (u.predicted >= 0)
            m_scores.records << record(QStringLiteral("unlabeled/%1.png").arg(u.name), Split::Unlabeled, -1,
                u.predicted, u.p, 3, u.second, u.pSecond);

    m_store = new DecisionStore;
    m_page = new LabelPage;
    m_page->setStore(m_store);
    m_store->setDataset(m_ds);
    m_page->setDataset(m_ds);
    m_page->setScores(m_scores);
    m_page->resize(1100, 700);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page));
    m_page->grid()->view()->setFocus();
}

void TestAnalysisLabel::cleanup()
{
    delete m_page;
    delete m_store;
    delete m_dir;
    m_page = nullptr;
    m_store = nullptr;
    m_dir = nullptr;
}

QStringList TestAnalysisLabel::shownRelPaths() const
{
    QStringList out;
    for (int r = 0; r < m_page->proxy()->rowCount(); ++r)
        out << m_page->proxy()->index(r, 0).data(ImageGridModel::RelPathRole).toString();
    return out;
}

QString TestAnalysisLabel::currentRelPath() const
{
    return m_page->grid()->view()->currentIndex().data(ImageGridModel::RelPathRole).toString();
}

void TestAnalysisLabel::selectRow(int row)
{
    ImageGridView* view = m_page->grid()->view();
    view->selectionModel()->setCurrentIndex(view->model()->index(row, 0), QItemSelectionModel::ClearAndSelect);
}

void TestAnalysisLabel::onlyUnlabeledLeastConfidentFirst()
{
    QAbstractItemModelTester tester(m_page->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(m_page->order(), SuggestionProxy::Order::LeastConfident);
    // Expected: scored unlabeled records by top-1 minus top-2 ascending, then the unscored one.
    QList<ScoreRecord> recs;
    for (const ScoreRecord& r : std::as_const(m_scores.records))
        if (r.split == Split::Unlabeled)
            recs << r;
    std::sort(
        recs.begin(), recs.end(), [](const auto& a, const auto& b) { return topTwoGap(a.probs) < topTwoGap(b.probs); });
    QStringList want;
    for (const ScoreRecord& r : recs)
        want << r.file;
    want << QStringLiteral("unlabeled/u6.png");
    QCOMPARE(shownRelPaths(), want);
    QCOMPARE(want.first(), QStringLiteral("unlabeled/u3.png"));
    QCOMPARE(currentRelPath(), want.first());
    QVERIFY(m_page->findChild<QLabel*>(QStringLiteral("labelCaption"))->text().contains(QLatin1String("8")));
}

void TestAnalysisLabel::otherOrders()
{
    QAbstractItemModelTester tester(m_page->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QComboBox* order = m_page->orderCombo();
    order->setCurrentIndex(order->findData(int(SuggestionProxy::Order::BySuggestedClass)));
    QCOMPARE(m_page->order(), SuggestionProxy::Order::BySuggestedClass);
    QString prevClass;
    double prevP = 2;
    for (int r = 0; r < m_page->proxy()->rowCount(); ++r) {
        const QModelIndex idx = m_page->proxy()->index(r, 0);
        if (!idx.data(ImageGridModel::HasScoreRole).toBool()) {
            QCOMPARE(r, m_page->proxy()->rowCount() - 1); // unscored last
            continue;
        }
        const QString cls = idx.data(ImageGridModel::PredictedLabelRole).toString();
        const double p = idx.data(ImageGridModel::PPredictedRole).toDouble();
        QVERIFY(prevClass <= cls);
        if (cls == prevClass)
            QVERIFY(p <= prevP); // most probable first within a class
        prevClass = cls;
        prevP = p;
    }
    m_page->setOrder(SuggestionProxy::Order::ByName);
    QStringList byName = shownRelPaths();
    QStringList sorted = byName;
    std::sort(sorted.begin(), sorted.end());
    QCOMPARE(byName, sorted);
    QCOMPARE(byName.size(), 8);
}

void TestAnalysisLabel::keys()
{
    ImageGridView* view = m_page->grid()->view();
    const QStringList shown = shownRelPaths();
    const auto suggestion = [&](const QString& rel) {
        for (const ScoreRecord& r : std::as_const(m_scores.records))
            if (r.file == rel)
                return m_scores.vocab.at(r.predicted);
        return QString();
    };
    selectRow(0);
    QTest::keyClick(view, Qt::Key_Return); // accept the suggestion
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Relabel);
    QCOMPARE(m_store->targetClass(shown.at(0)), suggestion(shown.at(0)));
    QCOMPARE(currentRelPath(), shown.at(1));
    QTest::keyClick(view, Qt::Key_3); // class 3 = teddy
    QCOMPARE(m_store->targetClass(shown.at(1)), QStringLiteral("teddy"));
    QCOMPARE(currentRelPath(), shown.at(2));
    QTest::keyClick(view, Qt::Key_D);
    QCOMPARE(m_store->action(shown.at(2)), CleanAction::Delete);
    QCOMPARE(currentRelPath(), shown.at(3));
    QTest::keyClick(view, Qt::Key_S); // skip: no decision, next image
    QVERIFY(!m_store->plan().contains(shown.at(3)));
    QCOMPARE(currentRelPath(), shown.at(4));
    QTest::keyClick(view, Qt::Key_Enter); // keypad Enter too
    QCOMPARE(m_store->targetClass(shown.at(4)), suggestion(shown.at(4)));

    // The unscored image has no suggestion: Enter changes nothing and says why.
    const int last = int(shown.size()) - 1;
    QCOMPARE(shown.at(last), QStringLiteral("unlabeled/u6.png"));
    selectRow(last);
    QTest::keyClick(view, Qt::Key_Return);
    QVERIFY(!m_store->plan().contains(shown.at(last)));
    QVERIFY(!m_page->grid()->findChild<QLabel*>(QStringLiteral("statusLabel"))->text().isEmpty());

    // Labelling an unlabeled file counts as "newly labelled".
    QCOMPARE(m_store->summary().labels, 3);
    QCOMPARE(m_store->summary().deletes, 1);
    QCOMPARE(m_store->undoStack()->count(), 4);
}

int TestAnalysisLabel::runBulk(double threshold, const std::function<void(BulkAcceptDialog*)>& onDialog)
{
    m_page->thresholdSpin()->setValue(threshold);
    bool seen = false;
    QTimer::singleShot(0, this, [&] {
        auto* dialog = qobject_cast<BulkAcceptDialog*>(QApplication::activeModalWidget());
        if (!dialog) { // not up yet (window manager latency): look once more
            QTimer::singleShot(50, this, [&] {
                auto* d = qobject_cast<BulkAcceptDialog*>(QApplication::activeModalWidget());
                seen = d != nullptr;
                if (d)
                    onDialog(d);
            });
            return;
        }
        seen = true;
        onDialog(dialog);
    });
    const int done = m_page->acceptAboveThreshold();
    if (!seen)
        qWarning("the preview dialog never showed");
    return seen ? done : -1;
}

void TestAnalysisLabel::bulkAcceptPreview()
{
    // One manual decision first: bulk must not override it.
    selectRow(0);
    m_page->grid()->selectSample(m_ds.findSample(QStringLiteral("unlabeled/u4.png")));
    QTest::keyClick(m_page->grid()->view(), Qt::Key_D);
    QCOMPARE(m_store->action(QStringLiteral("unlabeled/u4.png")), CleanAction::Delete);

    const double threshold = 0.8;
    QStringList want;
    for (const ScoreRecord& r : std::as_const(m_scores.records))
        if (r.split == Split::Unlabeled && r.pPredicted >= threshold && r.file != QLatin1String("unlabeled/u4.png"))
            want << r.file;
    QCOMPARE(want.size(), 3); // u0, u2, u7
    QCOMPARE(m_page->bulkCandidates(threshold).size(), want.size());

    int previewCount = -1;
    QStringList previewFiles;
    const int done = runBulk(threshold, [&](BulkAcceptDialog* d) {
        previewCount = d->count();
        for (int i = 0; i < d->list()->topLevelItemCount(); ++i)
            previewFiles << d->list()->topLevelItem(i)->text(0);
        QVERIFY(d->headline()->text().contains(QString::number(want.size())));
        d->accept();
    });
    QCOMPARE(done, int(want.size()));
    QCOMPARE(previewCount, int(want.size()));
    std::sort(previewFiles.begin(), previewFiles.end());
    std::sort(want.begin(), want.end());
    QCOMPARE(previewFiles, want);
    for (const QString& f : want) {
        QCOMPARE(m_store->action(f), CleanAction::Relabel);
        for (const ScoreRecord& r : std::as_const(m_scores.records))
            if (r.file == f)
                QCOMPARE(m_store->targetClass(f), m_scores.vocab.at(r.predicted));
    }
    QCOMPARE(m_store->action(QStringLiteral("unlabeled/u4.png")), CleanAction::Delete);
    // One undo step for the whole bulk.
    m_store->undoStack()->undo();
    for (const QString& f : want)
        QVERIFY(!m_store->plan().contains(f));
    QCOMPARE(m_store->action(QStringLiteral("unlabeled/u4.png")), CleanAction::Delete);
}

void TestAnalysisLabel::bulkAcceptCancel()
{
    int previewCount = -1;
    const int done = runBulk(0.9, [&](BulkAcceptDialog* d) {
        previewCount = d->count();
        d->reject();
    });
    QCOMPARE(done, 0);
    QCOMPARE(previewCount, 2); // u0 (0.95), u4 (0.92)
    QVERIFY(m_store->plan().isEmpty());
}

void TestAnalysisLabel::newClass()
{
    QString error;
    QVERIFY(!m_page->createNewClass(QStringLiteral("black"), &error)); // exists
    QVERIFY(!error.isEmpty());
    QVERIFY(!m_page->createNewClass(QStringLiteral("unlabeled"), &error)); // reserved
    QVERIFY(!m_page->createNewClass(QStringLiteral("a/b"), &error));
    QVERIFY2(m_page->createNewClass(QStringLiteral("panda"), &error), qPrintable(error));
    QVERIFY(QFileInfo(m_dir->filePath(QStringLiteral("train/panda"))).isDir());
    QCOMPARE(m_store->classes(), (QStringList { "black", "grizzly", "teddy", "panda" }));
    QVERIFY(m_page->grid()->decisionCombo()->findData(QStringLiteral("panda")) >= 0);

    selectRow(0);
    const QString first = currentRelPath();
    QTest::keyClick(m_page->grid()->view(), Qt::Key_4);
    QCOMPARE(m_store->targetClass(first), QStringLiteral("panda"));

    // The page's button opens the grid's one dialog; outcomes, failures included, go to the grid's status line.
    QSignalSpy status(m_page->grid(), &DecisionGrid::statusMessage);
    auto* button = m_page->findChild<QPushButton*>(QStringLiteral("newClassButton"));
    QVERIFY(button);
    auto answer = [](const QString& text) {
        QTimer::singleShot(0, [text] {
            auto* dialog = qobject_cast<QInputDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setTextValue(text);
            dialog->accept();
        });
    };
    answer(QStringLiteral("koala"));
    button->click();
    QVERIFY(m_store->classes().contains(QStringLiteral("koala")));
    QVERIFY(QFileInfo(m_dir->filePath(QStringLiteral("train/koala"))).isDir());
    QVERIFY(!status.isEmpty());
    QVERIFY2(status.last().first().toString().contains(QStringLiteral("koala")),
        qPrintable(status.last().first().toString()));
    QCOMPARE(m_store->targetClass(first), QStringLiteral("panda")); // the page's button relabels nothing
    answer(QStringLiteral("a/b"));
    button->click();
    QVERIFY2(status.last().first().toString().startsWith(QStringLiteral("Cannot create class 'a/b'")),
        qPrintable(status.last().first().toString()));
    QVERIFY(!m_store->classes().contains(QStringLiteral("a/b")));

    // A rescan of the same root keeps the decision; the folder is now a class of the dataset.
    const Dataset again = scan(m_dir->path());
    m_store->setDataset(again);
    QVERIFY(m_store->classes().contains(QStringLiteral("panda")));
    QCOMPARE(m_store->targetClass(first), QStringLiteral("panda"));
}

void TestAnalysisLabel::suggestionMargin_data()
{
    QTest::addColumn<QVector<float>>("probs");
    QTest::addColumn<double>("margin");
    QTest::newRow("empty") << QVector<float> {} << 0.0;
    QTest::newRow("single") << QVector<float> { 1.0f } << 1.0;
    QTest::newRow("first max") << QVector<float> { 0.7f, 0.2f, 0.1f } << 0.5;
    QTest::newRow("last max") << QVector<float> { 0.1f, 0.3f, 0.6f } << 0.3;
    QTest::newRow("tie") << QVector<float> { 0.4f, 0.4f, 0.2f } << 0.0;
}

void TestAnalysisLabel::suggestionMargin()
{
    QFETCH(QVector<float>, probs);
    QFETCH(double, margin);
    ScoreRecord r;
    r.probs = probs;
    QVERIFY(std::abs(Winnow::suggestionMargin(r) - margin) < 1e-6);
}

QTEST_MAIN(TestAnalysisLabel)
#include "tst_analysis_label.moc"
