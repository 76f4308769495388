// SPDX-License-Identifier: GPL-3.0-or-later
// CleanerPage: category/split filtering, loss order, marking by menu, combo and keys, marks surviving category and
// split switches, undo/redo, summary, export.
#include <memory>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

#include "tests/syntheticdataset.h"
#include "tst_analysis_fixtures.h"
#include "ui/analysis/cleanerpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/imagepreview.h"
#include "ui/analysis/planbar.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

using namespace Winnow;
using namespace AnalysisTest;

class TestAnalysisCleaner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void filterAndOrder_data();
    void filterAndOrder();
    void markByMenuKeysAndCombo();
    void ownClassIsKeep();
    void largePreview();
    void pickerGivesKeysBack();
    void undoRedo();
    void exportPlan();
    void applySignal();

private:
    QString currentRelPath() const;
    QStringList shownRelPaths() const;
    void selectRow(int row);

    QTemporaryDir* m_dir = nullptr;
    Dataset m_ds;
    ScoreSet m_scores;
    DecisionStore* m_store = nullptr;
    CleanerPage* m_page = nullptr;
};

void TestAnalysisCleaner::init()
{
    m_dir = new QTemporaryDir;
    QVERIFY(m_dir->isValid());
    const QStringList classes { "black", "grizzly", "teddy" };
    const auto written = WinnowTest::writeDataset({ .root = m_dir->path(),
        .classes = classes,
        .perClass = 5,
        .validPerClass = 3,
        .size = QSize(12, 12),
        .trainName = "t{i}",
        .validName = "v{i}" });
    QVERIFY2(written.ok(), qPrintable(written.error));
    m_ds = scan(m_dir->path());
    QCOMPARE(m_ds.layout, Layout::TrainValid);
    QCOMPARE(m_ds.vocab, classes);
    QCOMPARE(m_ds.size(), 24);

    m_scores = {};
    m_scores.datasetRoot = m_ds.root;
    m_scores.vocab = classes;
    int k = 0;
    for (const Sample& s : std::as_const(m_ds.samples)) {
        // Every third image is predicted as the next class; probabilities vary so that losses are all distinct.
        const int predicted = (k % 3 == 0) ? (s.label + 1) % 3 : s.label;
        const double p = 0.5 + 0.02 * (k % 20);
        m_scores.records << record(s.relPath, s.split, s.label, predicted, p, 3);
        ++k;
    }

    m_store = new DecisionStore;
    m_page = new CleanerPage;
    m_page->setStore(m_store);
    m_store->setDataset(m_ds);
    m_page->setDataset(m_ds);
    m_page->setScores(m_scores);
    m_page->resize(1000, 700);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page));
    m_page->grid()->view()->setFocus();
}

void TestAnalysisCleaner::cleanup()
{
    delete m_page;
    delete m_store;
    delete m_dir;
    m_page = nullptr;
    m_store = nullptr;
    m_dir = nullptr;
}

QString TestAnalysisCleaner::currentRelPath() const
{
    return m_page->grid()->view()->currentIndex().data(ImageGridModel::RelPathRole).toString();
}

QStringList TestAnalysisCleaner::shownRelPaths() const
{
    QStringList out;
    const ImageGridProxy* proxy = m_page->grid()->proxy();
    for (int r = 0; r < proxy->rowCount(); ++r)
        out << proxy->index(r, 0).data(ImageGridModel::RelPathRole).toString();
    return out;
}

void TestAnalysisCleaner::selectRow(int row)
{
    ImageGridView* view = m_page->grid()->view();
    view->selectionModel()->setCurrentIndex(view->model()->index(row, 0), QItemSelectionModel::ClearAndSelect);
}

void TestAnalysisCleaner::filterAndOrder_data()
{
    QTest::addColumn<QString>("category");
    QTest::addColumn<int>("split");
    QTest::newRow("black train") << "black" << int(Split::Train);
    QTest::newRow("grizzly valid") << "grizzly" << int(Split::Valid);
    QTest::newRow("teddy train") << "teddy" << int(Split::Train);
}

void TestAnalysisCleaner::filterAndOrder()
{
    QFETCH(QString, category);
    QFETCH(int, split);
    QAbstractItemModelTester tester(m_page->grid()->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(m_page->setCategory(category));
    m_page->setSplit(Split(split));

    // Expected: every record with that GIVEN label and split, by loss descending.
    QList<ScoreRecord> expected;
    for (const ScoreRecord& r : std::as_const(m_scores.records))
        if (m_scores.vocab.at(r.given) == category && r.split == Split(split))
            expected << r;
    std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.loss > b.loss; });
    QStringList expectedPaths;
    for (const ScoreRecord& r : expected)
        expectedPaths << r.file;
    QVERIFY(!expectedPaths.isEmpty());
    QCOMPARE(shownRelPaths(), expectedPaths);
    // The first (highest-loss) image is current, so keys work straight away.
    QCOMPARE(currentRelPath(), expectedPaths.first());
    QVERIFY(!m_page->findChild<QLabel*>(QStringLiteral("cleanerCaption"))->text().isEmpty());
}

void TestAnalysisCleaner::markByMenuKeysAndCombo()
{
    ImageGridView* view = m_page->grid()->view();
    QVERIFY(m_page->setCategory(QStringLiteral("grizzly")));
    m_page->setSplit(Split::Train);
    const QStringList shown = shownRelPaths();
    QCOMPARE(shown.size(), 5);

    // Menu on row 0: <Delete>.
    selectRow(0);
    {
        std::unique_ptr<QMenu> menu(m_page->grid()->createDecisionMenu());
        QAction* del = nullptr;
        QStringList texts;
        for (QAction* a : menu->actions()) {
            texts << a->data().toString();
            if (a->data().toString() == QLatin1String("<Delete>"))
                del = a;
        }
        // <Keep>, <Delete> and every class are offered.
        for (const QString& want : { "<Keep>", "<Delete>", "black", "grizzly", "teddy" })
            QVERIFY2(texts.contains(want), qPrintable(want));
        QVERIFY(del);
        del->trigger();
    }
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Delete);

    // Keys: row 1 '1' -> black (and moves on), row 2 'D' -> delete, row 3 'K' -> keep (nothing stored).
    selectRow(1);
    QTest::keyClick(view, Qt::Key_1);
    QCOMPARE(m_store->action(shown.at(1)), CleanAction::Relabel);
    QCOMPARE(m_store->targetClass(shown.at(1)), QStringLiteral("black"));
    QCOMPARE(currentRelPath(), shown.at(2));
    QTest::keyClick(view, Qt::Key_D);
    QCOMPARE(m_store->action(shown.at(2)), CleanAction::Delete);
    QCOMPARE(currentRelPath(), shown.at(3));
    QTest::keyClick(view, Qt::Key_K);
    QVERIFY(!m_store->plan().contains(shown.at(3)));
    QCOMPARE(currentRelPath(), shown.at(4));
    // Row 4: '3' -> teddy, then Backspace clears and stays.
    QTest::keyClick(view, Qt::Key_3);
    QCOMPARE(m_store->targetClass(shown.at(4)), QStringLiteral("teddy"));
    selectRow(4);
    QTest::keyClick(view, Qt::Key_Backspace);
    QVERIFY(!m_store->plan().contains(shown.at(4)));
    QCOMPARE(currentRelPath(), shown.at(4));
    // A digit without a class changes nothing.
    QTest::keyClick(view, Qt::Key_9);
    QVERIFY(!m_store->plan().contains(shown.at(4)));

    // Combo in the side panel for the current image (row 3): teddy.
    selectRow(3);
    QComboBox* combo = m_page->grid()->decisionCombo();
    QCOMPARE(combo->currentText(), QStringLiteral("<Keep>"));
    const int teddy = combo->findData(QStringLiteral("teddy"));
    QVERIFY(teddy >= 0);
    combo->setCurrentIndex(teddy);
    Q_EMIT combo->activated(teddy);
    QCOMPARE(m_store->targetClass(shown.at(3)), QStringLiteral("teddy"));
    // The combo follows the current image.
    selectRow(0);
    QCOMPARE(combo->currentText(), QStringLiteral("<Delete>"));

    // Badges on the cards.
    QCOMPARE(view->model()->index(0, 0).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("Delete"));
    QVERIFY(view->model()->index(1, 0).data(ImageGridModel::DecisionRole).toString().endsWith(QLatin1String("black")));

    const QLabel* summary = m_page->planBar()->summaryLabel();
    QCOMPARE(summary->text(), QStringLiteral("2 to delete, 2 to move"));

    // Switch category and split away and back: the marks are still there, shown and counted.
    const QHash<QString, QString> before = [&] {
        QHash<QString, QString> h;
        for (const QString& p : shown)
            h.insert(p, m_store->decisionText(p));
        return h;
    }();
    QVERIFY(m_page->setCategory(QStringLiteral("black")));
    QVERIFY(!shownRelPaths().contains(shown.at(0)));
    m_page->setSplit(Split::Valid);
    QCOMPARE(summary->text(), QStringLiteral("2 to delete, 2 to move"));
    // Mark one in the other view too.
    selectRow(0);
    const QString otherView = currentRelPath();
    QTest::keyClick(view, Qt::Key_D);
    QVERIFY(m_page->setCategory(QStringLiteral("grizzly")));
    m_page->setSplit(Split::Train);
    QCOMPARE(shownRelPaths(), shown);
    for (int r = 0; r < shown.size(); ++r) {
        QCOMPARE(m_store->decisionText(shown.at(r)), before.value(shown.at(r)));
        QCOMPARE(view->model()->index(r, 0).data(ImageGridModel::DecisionRole).toString(), before.value(shown.at(r)));
    }
    QCOMPARE(m_store->action(otherView), CleanAction::Delete);
    QCOMPARE(summary->text(), QStringLiteral("3 to delete, 2 to move"));
}

void TestAnalysisCleaner::ownClassIsKeep()
{
    QVERIFY(m_page->setCategory(QStringLiteral("grizzly")));
    m_page->setSplit(Split::Valid);
    const QStringList shown = shownRelPaths();
    selectRow(0);
    QTest::keyClick(m_page->grid()->view(), Qt::Key_2); // grizzly = its own class
    QVERIFY(!m_store->plan().contains(shown.at(0)));
    QCOMPARE(m_store->undoStack()->count(), 0); // nothing changed, no undo step
    // The menu shows the image's own class but does not offer it; the other classes stay offered.
    std::unique_ptr<QMenu> menu(m_page->grid()->createDecisionMenu());
    int seen = 0;
    for (QAction* a : menu->actions()) {
        const QString id = a->data().toString();
        if (id == QLatin1String("grizzly")) {
            QVERIFY(!a->isEnabled());
            QVERIFY(a->text().contains(QLatin1String("its class")));
            ++seen;
        } else if (id == QLatin1String("black") || id == QLatin1String("teddy")) {
            QVERIFY(a->isEnabled());
            ++seen;
        }
    }
    QCOMPARE(seen, 3);
}

void TestAnalysisCleaner::largePreview()
{
    ImageGridView* view = m_page->grid()->view();
    DecisionGrid* grid = m_page->grid();
    QVERIFY(m_page->setCategory(QStringLiteral("grizzly")));
    m_page->setSplit(Split::Train);
    const QStringList shown = shownRelPaths();
    QCOMPARE(shown.size(), 5);
    const auto sampleOf = [&](int row) {
        return view->model()->index(row, 0).data(ImageGridModel::SampleIndexRole).toInt();
    };

    // Space opens it on the current image, with the photo and the card's numbers.
    selectRow(1);
    QVERIFY(!grid->preview());
    QTest::keyClick(view, Qt::Key_Space);
    ImagePreview* preview = grid->preview();
    QVERIFY(preview);
    QVERIFY(preview->isVisible());
    QCOMPARE(preview->sample(), sampleOf(1));
    QCOMPARE(preview->relPath(), shown.at(1));
    QCOMPARE(preview->image().size(), QSize(12, 12));
    QVERIFY(!preview->imageLabel()->pixmap().isNull());
    QVERIFY(preview->detailsLabel()->text().contains(shown.at(1).section(QLatin1Char('/'), -1)));
    QVERIFY(preview->detailsLabel()->text().contains(QStringLiteral("Loss")));

    // Arrows move the grid's current image, and the preview follows.
    QTest::keyClick(preview, Qt::Key_Right);
    QCOMPARE(currentRelPath(), shown.at(2));
    QCOMPARE(preview->relPath(), shown.at(2));
    QTest::keyClick(preview, Qt::Key_Left);
    QTest::keyClick(preview, Qt::Key_Left);
    QCOMPARE(currentRelPath(), shown.at(0));
    QCOMPARE(preview->relPath(), shown.at(0));
    QTest::keyClick(preview, Qt::Key_Left); // at the start: stays
    QCOMPARE(preview->relPath(), shown.at(0));

    // The grid's decision keys: D deletes the image shown and moves on; a digit relabels; Ctrl+Z undoes.
    QTest::keyClick(preview, Qt::Key_D);
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Delete);
    QCOMPARE(preview->relPath(), shown.at(1));
    QTest::keyClick(preview, Qt::Key_3);
    QCOMPARE(m_store->targetClass(shown.at(1)), QStringLiteral("teddy"));
    QCOMPARE(preview->relPath(), shown.at(2));
    QTest::keyClick(preview, Qt::Key_Left);
    QVERIFY(preview->findChild<QLabel*>(QStringLiteral("previewDecision"))->text().contains(QStringLiteral("teddy")));
    QTest::keyClick(preview, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(!m_store->plan().contains(shown.at(1)));
    QVERIFY(!preview->findChild<QLabel*>(QStringLiteral("previewDecision"))->text().contains(QStringLiteral("teddy")));
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Delete);

    // Escape closes it; a decision made in the grid afterwards does not reopen it.
    QTest::keyClick(preview, Qt::Key_Escape);
    QVERIFY(!preview->isVisible());
    QTest::keyClick(view, Qt::Key_K);
    QVERIFY(!preview->isVisible());

    // Double click on a card and Enter (Cleaner pages) open it too, on that image.
    const QRect card = view->visualRect(view->model()->index(3, 0));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, card.center());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, card.center());
    QVERIFY(preview->isVisible());
    QCOMPARE(preview->relPath(), shown.at(3));
    QTest::keyClick(preview, Qt::Key_Space);
    QVERIFY(!preview->isVisible());
    selectRow(4);
    QTest::keyClick(view, Qt::Key_Return);
    QVERIFY(preview->isVisible());
    QCOMPARE(preview->relPath(), shown.at(4));
    QVERIFY(m_store->plan().size() == 1); // opening and moving decided nothing
}

/// After a choice in the category or split picker, the next key is a decision on the grid, not a search in the picker.
void TestAnalysisCleaner::pickerGivesKeysBack()
{
    m_page->activateWindow();
    auto* category = m_page->findChild<QComboBox*>(QStringLiteral("categoryCombo"));
    auto* split = m_page->findChild<QComboBox*>(QStringLiteral("splitCombo"));
    QVERIFY(category && split);
    ImageGridView* view = m_page->grid()->view();
    for (QComboBox* picker : { category, split }) {
        picker->setFocus(Qt::OtherFocusReason);
        QTRY_COMPARE(QApplication::focusWidget(), picker);
        const int other = (picker->currentIndex() + 1) % picker->count();
        picker->setCurrentIndex(other);
        Q_EMIT picker->activated(other);
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget*>(view));
    }
    selectRow(0);
    const QString first = currentRelPath();
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_D);
    QCOMPARE(m_store->action(first), CleanAction::Delete);
}

void TestAnalysisCleaner::undoRedo()
{
    ImageGridView* view = m_page->grid()->view();
    QVERIFY(m_page->setCategory(QStringLiteral("teddy")));
    m_page->setSplit(Split::Train);
    const QStringList shown = shownRelPaths();
    selectRow(0);
    QTest::keyClick(view, Qt::Key_D);
    QTest::keyClick(view, Qt::Key_1);
    QCOMPARE(m_store->undoStack()->count(), 2);
    QCOMPARE(m_store->summary().total(), 2);

    // Ctrl+Z / Ctrl+Shift+Z through the page's shortcuts.
    QApplication::setActiveWindow(m_page);
    QVERIFY(QTest::qWaitForWindowActive(m_page));
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(!m_store->plan().contains(shown.at(1)));
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Delete);
    QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(m_store->plan().isEmpty());
    QCOMPARE(view->model()->index(0, 0).data(ImageGridModel::DecisionRole).toString(), QString());
    QCOMPARE(m_page->planBar()->summaryLabel()->text(), QStringLiteral("0 to delete, 0 to move"));
    QVERIFY(!m_page->planBar()->applyButton()->isEnabled());
    QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(m_store->action(shown.at(0)), CleanAction::Delete);
    QCOMPARE(view->model()->index(0, 0).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("Delete"));
    QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(m_store->targetClass(shown.at(1)), QStringLiteral("black"));
    QVERIFY(m_page->planBar()->applyButton()->isEnabled());
}

void TestAnalysisCleaner::exportPlan()
{
    QVERIFY(m_page->setCategory(QStringLiteral("black")));
    const QStringList shown = shownRelPaths();
    selectRow(0);
    QTest::keyClick(m_page->grid()->view(), Qt::Key_D);
    QTest::keyClick(m_page->grid()->view(), Qt::Key_3);
    QTemporaryDir out;
    QString error;
    QVERIFY2(m_store->exportPlan(out.filePath(QStringLiteral("plan.csv")), &error), qPrintable(error));
    QFile csv(out.filePath(QStringLiteral("plan.csv")));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(csv.readAll());
    QVERIFY(text.startsWith(QLatin1String("file,action,to")));
    QVERIFY(text.contains(shown.at(0) + QStringLiteral(",delete")));
    QVERIFY(text.contains(shown.at(1) + QStringLiteral(",relabel,teddy")));
    QVERIFY2(m_store->exportPlan(out.filePath(QStringLiteral("plan.json")), &error), qPrintable(error));
    QString loadError;
    const auto loaded = CleaningPlan::load(out.filePath(QStringLiteral("plan.json")), &loadError);
    QVERIFY2(loaded.has_value(), qPrintable(loadError));
    QCOMPARE(loaded->size(), 2);
    QCOMPARE(loaded->targetClass(shown.at(1)), QStringLiteral("teddy"));
}

void TestAnalysisCleaner::applySignal()
{
    QSignalSpy spy(m_page, &CleanerPage::applyRequested);
    QPushButton* apply = m_page->planBar()->applyButton();
    QVERIFY(!apply->isEnabled()); // nothing to apply yet
    selectRow(0);
    QTest::keyClick(m_page->grid()->view(), Qt::Key_D);
    QVERIFY(apply->isEnabled());
    QTest::mouseClick(apply, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
}

QTEST_MAIN(TestAnalysisCleaner)
#include "tst_analysis_cleaner.moc"
