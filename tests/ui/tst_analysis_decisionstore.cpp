// SPDX-License-Identifier: GPL-3.0-or-later
// DecisionStore: decisions keyed by file, one undo step per call, refusals change nothing, plan kept across
// rescans of the same root and replaced for another root, created classes become targets.
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

#include "tests/syntheticdataset.h"
#include "tst_analysis_fixtures.h"
#include "ui/analysis/decisionstore.h"

using namespace Winnow;
using namespace AnalysisTest;

class TestAnalysisDecisionStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void decideAndUndo();
    void keepIsAnUndoStep();
    void refusals_data();
    void refusals();
    void decideManyIsOneStep();
    void datasetRoots();
    void createClass();

private:
    QTemporaryDir m_dir;
    QTemporaryDir m_other;
    Dataset m_ds;
};

void TestAnalysisDecisionStore::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const auto written = WinnowTest::writeDataset(
        { .root = m_dir.path(), .classes = { "cat", "dog" }, .perClass = 3, .size = QSize(12, 12) });
    QVERIFY2(written.ok(), qPrintable(written.error));
    m_ds = scan(m_dir.path());
    QCOMPARE(m_ds.vocab, (QStringList { "cat", "dog" }));
    const auto other = WinnowTest::writeDataset(
        { .root = m_other.path(), .classes = { "bird" }, .perClass = 1, .size = QSize(12, 12) });
    QVERIFY2(other.ok(), qPrintable(other.error));
}

void TestAnalysisDecisionStore::decideAndUndo()
{
    DecisionStore store;
    store.setDataset(m_ds);
    QCOMPARE(store.classes(), m_ds.vocab);
    QSignalSpy changed(&store, &DecisionStore::decisionsChanged);
    QVERIFY(store.decide({ "cat/0.png" }, CleanAction::Delete));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.last().first().toStringList(), QStringList { "cat/0.png" });
    QVERIFY(store.decide({ "cat/1.png", "cat/2.png" }, CleanAction::Relabel, "dog"));
    QCOMPARE(store.undoStack()->count(), 2);
    QCOMPARE(store.decisionText("cat/0.png"), QStringLiteral("Delete"));
    QCOMPARE(store.decisionText("cat/1.png"), QString(QChar(0x2192)) + QStringLiteral(" dog"));
    QCOMPARE(store.summaryText(), QStringLiteral("1 to delete, 2 to move"));
    // Own class = keep: no change, no step.
    QVERIFY(store.decide({ "dog/0.png" }, CleanAction::Relabel, "dog"));
    QCOMPARE(store.undoStack()->count(), 2);
    // Changing a decision is a step that undoes back to the previous decision, not to nothing.
    QVERIFY(store.decide({ "cat/0.png" }, CleanAction::Relabel, "dog"));
    store.undoStack()->undo();
    QCOMPARE(store.action("cat/0.png"), CleanAction::Delete);
    store.undoStack()->undo();
    QVERIFY(!store.plan().contains("cat/1.png"));
    QVERIFY(!store.plan().contains("cat/2.png"));
    store.undoStack()->redo();
    QCOMPARE(store.targetClass("cat/2.png"), QStringLiteral("dog"));
    // Keep clears.
    QVERIFY(store.decide({ "cat/2.png" }, CleanAction::Keep));
    QVERIFY(!store.plan().contains("cat/2.png"));
    QCOMPARE(store.summary().total(), 2);
}

/// K leaves a Kept mark; Ctrl+Z takes it back (and not the decision before it), Backspace clears it as a step too.
void TestAnalysisDecisionStore::keepIsAnUndoStep()
{
    DecisionStore store;
    store.setDataset(m_ds);
    QVERIFY(store.decide({ "cat/0.png" }, CleanAction::Delete));
    QSignalSpy changed(&store, &DecisionStore::decisionsChanged);
    QVERIFY(store.decide({ "cat/1.png" }, CleanAction::Keep));
    QVERIFY(store.isReviewed("cat/1.png"));
    QCOMPARE(store.decisionText("cat/1.png"), QStringLiteral("%1 Kept").arg(QChar(0x2713)));
    QCOMPARE(store.undoStack()->count(), 2);
    QCOMPARE(changed.count(), 1);
    // Keeping again changes nothing and pushes nothing.
    QVERIFY(store.decide({ "cat/1.png" }, CleanAction::Keep));
    QCOMPARE(store.undoStack()->count(), 2);
    store.undoStack()->undo();
    QVERIFY(!store.isReviewed("cat/1.png"));
    QCOMPARE(store.action("cat/0.png"), CleanAction::Delete); // the earlier decision is untouched
    store.undoStack()->redo();
    QVERIFY(store.isReviewed("cat/1.png"));
    // Keep on a decided file drops the decision and marks it; undo brings the decision back, unmarked.
    QVERIFY(store.decide({ "cat/0.png" }, CleanAction::Keep));
    QVERIFY(!store.plan().contains("cat/0.png"));
    QVERIFY(store.isReviewed("cat/0.png"));
    store.undoStack()->undo();
    QCOMPARE(store.action("cat/0.png"), CleanAction::Delete);
    QVERIFY(!store.isReviewed("cat/0.png"));
    // Clearing: no decision, no mark, one step; undo gives the mark back.
    QVERIFY(store.clearDecisions({ "cat/1.png" }));
    QVERIFY(!store.isReviewed("cat/1.png"));
    QCOMPARE(store.decisionText("cat/1.png"), QString());
    store.undoStack()->undo();
    QVERIFY(store.isReviewed("cat/1.png"));
    // Another decision replaces the mark.
    QVERIFY(store.decide({ "cat/1.png" }, CleanAction::Relabel, "dog"));
    QVERIFY(!store.isReviewed("cat/1.png"));
}

void TestAnalysisDecisionStore::refusals_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("toClass");
    QTest::newRow("absolute path") << "/etc/passwd"
                                   << "dog";
    QTest::newRow("dot-dot") << "cat/../../x.png"
                             << "dog";
    QTest::newRow("inside .winnow") << ".winnow/trash/a.png"
                                    << "dog";
    QTest::newRow("class with slash") << "cat/0.png"
                                      << "a/b";
    QTest::newRow("reserved class") << "cat/0.png"
                                    << "unlabeled";
    QTest::newRow("empty class") << "cat/0.png"
                                 << "";
}

void TestAnalysisDecisionStore::refusals()
{
    QFETCH(QString, path);
    QFETCH(QString, toClass);
    DecisionStore store;
    store.setDataset(m_ds);
    QVERIFY(store.decide({ "dog/1.png" }, CleanAction::Delete));
    QString error;
    QVERIFY(!store.decideMany(
        { { "dog/2.png", CleanAction::Delete, {} }, { path, CleanAction::Relabel, toClass } }, "mixed", &error));
    QVERIFY(!error.isEmpty());
    // Nothing of the refused step happened.
    QVERIFY(!store.plan().contains("dog/2.png"));
    QCOMPARE(store.plan().size(), 1);
    QCOMPARE(store.undoStack()->count(), 1);
}

void TestAnalysisDecisionStore::decideManyIsOneStep()
{
    DecisionStore store;
    store.setDataset(m_ds);
    QVERIFY(store.decideMany({ { "cat/0.png", CleanAction::Delete, {} }, { "cat/1.png", CleanAction::Relabel, "dog" },
                                 { "dog/0.png", CleanAction::Relabel, "cat" } },
        "bulk"));
    QCOMPARE(store.undoStack()->count(), 1);
    QCOMPARE(store.undoStack()->undoText(), QStringLiteral("bulk"));
    QCOMPARE(store.plan().size(), 3);
    store.undoStack()->undo();
    QVERIFY(store.plan().isEmpty());
    store.undoStack()->redo();
    QCOMPARE(store.plan().size(), 3);
}

void TestAnalysisDecisionStore::datasetRoots()
{
    DecisionStore store;
    store.setDataset(m_ds);
    QVERIFY(store.decide({ "cat/0.png" }, CleanAction::Delete));
    // Rescan of the same root: decisions stay.
    store.setDataset(scan(m_dir.path()));
    QCOMPARE(store.action("cat/0.png"), CleanAction::Delete);
    QCOMPARE(store.undoStack()->count(), 1);
    // Another dataset: a fresh plan, no undo into the old one.
    const Dataset other = scan(m_other.path());
    store.setDataset(other);
    QVERIFY(store.plan().isEmpty());
    QCOMPARE(store.plan().root(), other.root);
    QCOMPARE(store.undoStack()->count(), 0);
    QCOMPARE(store.classes(), QStringList { "bird" });
    // setPlan replaces (after Apply).
    CleaningPlan p = CleaningPlan::forDataset(other);
    QVERIFY(p.markDelete("bird/0.png"));
    QSignalSpy changed(&store, &DecisionStore::decisionsChanged);
    store.setPlan(p);
    QCOMPARE(changed.count(), 1);
    QVERIFY(changed.first().first().toStringList().isEmpty()); // "everything"
    QCOMPARE(store.action("bird/0.png"), CleanAction::Delete);
}

void TestAnalysisDecisionStore::createClass()
{
    QTemporaryDir dir;
    const auto written =
        WinnowTest::writeDataset({ .root = dir.path(), .classes = { "a", "b" }, .perClass = 1, .size = QSize(12, 12) });
    QVERIFY2(written.ok(), qPrintable(written.error));
    DecisionStore store;
    QString error;
    QVERIFY(!store.createClass("c", &error)); // no dataset
    store.setDataset(scan(dir.path()));
    QSignalSpy spy(&store, &DecisionStore::classesChanged);
    QVERIFY(!store.createClass("a", &error));
    QVERIFY(!store.createClass(".hidden", &error));
    QCOMPARE(spy.count(), 0);
    QVERIFY2(store.createClass("  c ", &error), qPrintable(error)); // trimmed
    QVERIFY(QFileInfo(dir.filePath("c")).isDir());
    QCOMPARE(store.classes(), (QStringList { "a", "b", "c" }));
    QCOMPARE(spy.count(), 1);
    QVERIFY(store.decide({ "a/0.png" }, CleanAction::Relabel, "c"));
    QCOMPARE(store.summary().relabels, 1);
}

QTEST_MAIN(TestAnalysisDecisionStore)
#include "tst_analysis_decisionstore.moc"
