// SPDX-License-Identifier: GPL-3.0-or-later
// Applying plans: collisions, odd names, pre-check failures, mid-way failures, undo/redo, trash.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "core/dataset/splitstore.h"
#include "tests/cleaning/cleaningtestutil.h"

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

using namespace Winnow;
using CleaningTest::hashTree;
using CleaningTest::writeFile;

namespace {

/// cats/{a,b,c}.jpg, dogs/{a,d}.jpg, unlabeled/{u1,a}.jpg: every file has distinct content.
void makeBasicTree(const QString& root)
{
    for (const char* f :
        { "cats/a.jpg", "cats/b.jpg", "cats/c.jpg", "dogs/a.jpg", "dogs/d.jpg", "unlabeled/u1.jpg", "unlabeled/a.jpg" })
        QVERIFY(writeFile(root, QString::fromLatin1(f), QByteArray("content of ") + f));
}

TransactionState stateOf(const QString& root, const QString& id)
{
    for (const TransactionInfo& t : Cleaning::status(root).transactions) {
        if (t.id == id)
            return t.state;
    }
    return TransactionState::Incomplete;
}

bool isRoot()
{
#ifdef Q_OS_UNIX
    return ::geteuid() == 0;
#else
    return false;
#endif
}

} // namespace

class TestApply : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        Cleaning::TestHooks::reset();
    }
    void cleanup()
    {
        Cleaning::TestHooks::reset();
    }

    void applyBasic();
    void collisionsNeverOverwrite();
    void unicodeAndSpaces();
    void trainValidLayout();
    void previewTouchesNothing();
    void emptyPlanRejected();
    void vanishedSource();
    void changedSource_data();
    void changedSource();
    void destinationIsAFile();
    void readOnlyFolder();
    void layoutMismatch();
    void failureMidwayRollsBack();
    void failureDuringRollbackRecovered();
    void cancelRollsBack();
    void applyUndoRedoUndoIdentical();
    void undoRefusedWhenOriginalTaken();
    void redoStackSemantics();
    void trashListAndRestore();
    void restoreCollisionAndUndo();
    void emptyTrashPurges();
    void verifyHashRecorded();
    void busyLock();
    void renameUndoRedo();
    void renameRefusesBadNames();
    void renameKeepsEverySplit();
    void recoverOnCleanFolderCreatesNothing();
};

void TestApply::applyBasic()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);

    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/b.jpg"));
    QVERIFY(plan.relabel("cats/c.jpg", "dogs"));
    QVERIFY(plan.relabel("unlabeled/u1.jpg", "birds")); // new class folder
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QCOMPARE(r.moves.size(), 3);
    QVERIFY(r.summary.contains("1 moved to the trash"));
    QVERIFY(r.summary.contains("2 moved to another class"));

    const auto after = hashTree(root);
    QVERIFY(!after.contains("cats/b.jpg"));
    QCOMPARE(after.value("dogs/c.jpg"), before.value("cats/c.jpg"));
    QCOMPARE(after.value("birds/u1.jpg"), before.value("unlabeled/u1.jpg"));
    QCOMPARE(after.size(), before.size() - 1);
    const QString trashed = ".winnow/trash/" + r.transactionId + "/cats/b.jpg";
    QCOMPARE(hashTree(root, true).value(trashed), before.value("cats/b.jpg"));
    // Journal, log and trash manifest exist; the state is "applied".
    QVERIFY(QFileInfo::exists(root + "/.winnow/journal/" + r.transactionId + ".json"));
    QVERIFY(QFileInfo::exists(root + "/.winnow/journal/" + r.transactionId + ".log"));
    QVERIFY(QFileInfo::exists(root + "/.winnow/trash/" + r.transactionId + ".json"));
    const HistoryStatus st = Cleaning::status(root);
    QCOMPARE(st.transactions.size(), 1);
    QCOMPARE(st.transactions[0].state, TransactionState::Applied);
    QCOMPARE(st.transactions[0].deletes, 1);
    QCOMPARE(st.transactions[0].moves, 2);
    QCOMPARE(st.undoTarget, r.transactionId);
    QVERIFY(st.redoTarget.isEmpty());
    QCOMPARE(st.trashFiles, 1);
    QCOMPARE(st.trashBytes, qint64(QByteArray("content of cats/b.jpg").size()));
    QVERIFY(QRegularExpression("^000001-\\d{8}T\\d{6}Z$").match(r.transactionId).hasMatch());
}

void TestApply::collisionsNeverOverwrite()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    QVERIFY(writeFile(root, "dogs/b (1).jpg", "already numbered"));
    QVERIFY(writeFile(root, "birds/a.jpg", "bird"));
    const auto before = hashTree(root);

    CleaningPlan plan(root);
    QVERIFY(plan.relabel("cats/a.jpg", "dogs")); // dogs/a.jpg exists
    QVERIFY(plan.relabel("unlabeled/a.jpg", "dogs")); // and a second a.jpg heads there too
    QVERIFY(plan.relabel("cats/b.jpg", "dogs")); // no clash: dogs/b.jpg is free
    QVERIFY(plan.relabel("dogs/a.jpg", "birds")); // birds/a.jpg exists; dogs/a.jpg leaves but is never reused
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY2(r.ok, qPrintable(r.message()));

    const auto after = hashTree(root);
    QCOMPARE(after.size(), before.size());
    QCOMPARE(after.value("dogs/a (1).jpg"), before.value("cats/a.jpg"));
    QCOMPARE(after.value("dogs/a (2).jpg"), before.value("unlabeled/a.jpg"));
    QCOMPARE(after.value("dogs/b.jpg"), before.value("cats/b.jpg"));
    QCOMPARE(after.value("dogs/b (1).jpg"), before.value("dogs/b (1).jpg"));
    QCOMPARE(after.value("birds/a.jpg"), before.value("birds/a.jpg"));
    QCOMPARE(after.value("birds/a (1).jpg"), before.value("dogs/a.jpg"));
    QVERIFY(!after.contains("dogs/a.jpg"));
    // Nothing lost, nothing duplicated.
    auto a = after.values(), b = before.values();
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    QCOMPARE(a, b);

    // A name already numbered gets the next number, not "x (1) (1)".
    CleaningPlan plan2(root);
    QVERIFY(writeFile(root, "cats/b (1).jpg", "another numbered"));
    QVERIFY(plan2.relabel("cats/b (1).jpg", "dogs"));
    const TransactionResult r2 = Cleaning::applyPlan(root, plan2);
    QVERIFY2(r2.ok, qPrintable(r2.message()));
    QCOMPARE(r2.moves.value(0).to, QStringLiteral("dogs/b (2).jpg"));
}

void TestApply::unicodeAndSpaces()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    const QStringList files = { QStringLiteral("ours brun/été 1.jpg"), QStringLiteral("ours brun/naïve, \"q\".png"),
        QStringLiteral("кошки/файл.jpeg"), QStringLiteral("日本/写真 (3).jpg"),
        QStringLiteral("unlabeled/ spaced  name .jpg"), QStringLiteral("кошки/é.jpg") };
    for (const QString& f : files)
        QVERIFY(writeFile(root, f, f.toUtf8()));
    QVERIFY(writeFile(root, QStringLiteral("日本/é.jpg"), "clash"));
    const auto before = hashTree(root);
    const auto beforeDirs = CleaningTest::dirSet(root);

    CleaningPlan plan(root);
    QVERIFY(plan.markDelete(QStringLiteral("ours brun/été 1.jpg")));
    QVERIFY(plan.relabel(QStringLiteral("ours brun/naïve, \"q\".png"), QStringLiteral("日本")));
    QVERIFY(plan.relabel(QStringLiteral("кошки/é.jpg"), QStringLiteral("日本")));
    QVERIFY(plan.relabel(QStringLiteral("unlabeled/ spaced  name .jpg"), QStringLiteral("новый класс")));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY2(r.ok, qPrintable(r.message()));
    const auto after = hashTree(root);
    QCOMPARE(after.value(QStringLiteral("日本/naïve, \"q\".png")),
        before.value(QStringLiteral("ours brun/naïve, \"q\".png")));
    QCOMPARE(after.value(QStringLiteral("日本/é (1).jpg")), before.value(QStringLiteral("кошки/é.jpg")));
    QCOMPARE(after.value(QStringLiteral("новый класс/ spaced  name .jpg")),
        before.value(QStringLiteral("unlabeled/ spaced  name .jpg")));

    const TransactionResult u = Cleaning::undoLast(root);
    QVERIFY2(u.ok, qPrintable(u.message()));
    QCOMPARE(hashTree(root), before);
    QCOMPARE(CleaningTest::dirSet(root), beforeDirs); // the new class folder is gone again
}

void TestApply::trainValidLayout()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    for (const char* f :
        { "train/cats/1.jpg", "train/dogs/2.jpg", "valid/cats/3.jpg", "valid/dogs/4.jpg", "unlabeled/5.jpg" })
        QVERIFY(writeFile(root, QString::fromLatin1(f), f));
    const auto before = hashTree(root);
    CleaningPlan plan(root, Layout::TrainValid);
    QVERIFY(plan.relabel("valid/cats/3.jpg", "dogs"));
    QVERIFY(plan.relabel("train/dogs/2.jpg", "cats"));
    QVERIFY(plan.relabel("unlabeled/5.jpg", "bears"));
    QVERIFY(plan.markDelete("valid/dogs/4.jpg"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY2(r.ok, qPrintable(r.message()));
    const auto after = hashTree(root);
    QCOMPARE(after.value("valid/dogs/3.jpg"), before.value("valid/cats/3.jpg"));
    QCOMPARE(after.value("train/cats/2.jpg"), before.value("train/dogs/2.jpg"));
    QCOMPARE(after.value("train/bears/5.jpg"), before.value("unlabeled/5.jpg"));
    QVERIFY(!after.contains("valid/dogs/4.jpg"));
    QVERIFY(Cleaning::undoLast(root).ok);
    QCOMPARE(hashTree(root), before);
}

void TestApply::previewTouchesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.relabel("cats/a.jpg", "dogs"));
    QVERIFY(plan.markDelete("cats/b.jpg"));
    const TransactionResult p = Cleaning::preview(root, plan);
    QVERIFY2(p.ok, qPrintable(p.message()));
    QCOMPARE(p.moves.size(), 2);
    QCOMPARE(p.moves[0].to, QStringLiteral("dogs/a (1).jpg"));
    QCOMPARE(p.moves[1].kind, MoveKind::Delete);
    QVERIFY(p.moves[1].to.startsWith(".winnow/trash/"));
    QCOMPARE(hashTree(root), before);
    QVERIFY(!QFileInfo::exists(root + "/.winnow"));

    QVERIFY(plan.markDelete("cats/nope.jpg"));
    const TransactionResult bad = Cleaning::preview(root, plan);
    QVERIFY(!bad.ok);
    QCOMPARE(bad.problems.size(), 1);
    QVERIFY(bad.problems[0].contains("cats/nope.jpg"));
}

void TestApply::emptyPlanRejected()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    makeBasicTree(dir.path());
    const TransactionResult r = Cleaning::applyPlan(dir.path(), CleaningPlan(dir.path()));
    QVERIFY(!r.ok);
    QVERIFY(r.error.contains("nothing to do"));
    QVERIFY(!QFileInfo::exists(dir.path() + "/.winnow"));
}

void TestApply::vanishedSource()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "dogs"));
    QVERIFY(QFile::remove(root + "/cats/b.jpg"));
    const auto before = hashTree(root);
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains("nothing was moved"), qPrintable(r.error));
    QCOMPARE(r.problems.size(), 1);
    QVERIFY(r.problems[0].contains("cats/b.jpg no longer exists"));
    QCOMPARE(hashTree(root), before);
    QVERIFY(Cleaning::status(root).transactions.isEmpty()); // no journal written
}

void TestApply::changedSource_data()
{
    QTest::addColumn<bool>("changeSize");
    QTest::newRow("content and size") << true;
    QTest::newRow("mtime only") << false;
}

void TestApply::changedSource()
{
    QFETCH(bool, changeSize);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.relabel("cats/a.jpg", "dogs"));
    QFile f(root + "/cats/a.jpg");
    if (changeSize) {
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("a different, longer content");
        f.close();
    } else {
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.setFileTime(QDateTime::currentDateTimeUtc().addSecs(-3600), QFileDevice::FileModificationTime));
        f.close();
    }
    const auto before = hashTree(root);
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QCOMPARE(r.problems.size(), 1);
    QVERIFY2(r.problems[0].contains("changed since the plan was made"), qPrintable(r.problems[0]));
    QCOMPARE(hashTree(root), before);
}

void TestApply::destinationIsAFile()
{
    // Works as root too: a file where the class folder should be cannot be written into by anyone.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    QVERIFY(writeFile(root, "birds", "I am a file"));
    const auto before = hashTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "birds"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QCOMPARE(r.problems.size(), 1);
    QVERIFY2(r.problems[0].contains("birds is a file, not a folder"), qPrintable(r.problems[0]));
    QCOMPARE(hashTree(root), before);
}

void TestApply::readOnlyFolder()
{
    if (isRoot())
        QSKIP("running as root: chmod cannot make a folder read-only for root (destinationIsAFile and "
              "failureMidwayRollsBack cover the same paths)");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);
    QFile::Permissions saved = QFile::permissions(root + "/dogs");
    QVERIFY(QFile::setPermissions(root + "/dogs", QFile::ReadOwner | QFile::ExeOwner));
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "dogs")); // into a read-only folder
    QVERIFY(plan.markDelete("dogs/d.jpg")); // out of a read-only folder
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QFile::setPermissions(root + "/dogs", saved);
    QVERIFY(!r.ok);
    QCOMPARE(r.problems.size(), 2);
    QVERIFY(r.problems.join('\n').contains("folder dogs is read-only"));
    QCOMPARE(hashTree(root), before);
}

void TestApply::layoutMismatch()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    QVERIFY(writeFile(root, "train/cats/1.jpg", "1"));
    QVERIFY(writeFile(root, "valid/cats/2.jpg", "2"));
    CleaningPlan plan(root, Layout::FolderPerClass); // wrong: would move train/cats/1.jpg to dogs/1.jpg
    QVERIFY(plan.relabel("train/cats/1.jpg", "dogs"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY(r.problems.join('\n').contains("looks train/valid"));
    QVERIFY(QFileInfo::exists(root + "/train/cats/1.jpg"));
}

void TestApply::failureMidwayRollsBack()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);
    const auto beforeDirs = CleaningTest::dirSet(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "birds"));
    QVERIFY(plan.relabel("cats/c.jpg", "dogs"));
    QVERIFY(plan.markDelete("dogs/d.jpg"));
    Cleaning::TestHooks::setFailingMoves({ 3 }); // the third move fails like an I/O error
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY(r.rolledBack);
    QVERIFY(!r.incomplete);
    QVERIFY(r.moves.isEmpty());
    QVERIFY2(r.error.contains("put back"), qPrintable(r.error));
    QVERIFY(r.problems.join('\n').contains("simulated"));
    QCOMPARE(hashTree(root), before);
    QCOMPARE(CleaningTest::dirSet(root), beforeDirs); // birds/ and the trash folders are gone
    QVERIFY(CleaningTest::trashByOriginal(root).isEmpty());
    QCOMPARE(stateOf(root, r.transactionId), TransactionState::RolledBack);
    QVERIFY(!Cleaning::undoLast(root).ok); // a rolled-back transaction is not undoable
    QVERIFY(!Cleaning::recover(root).acted());
}

void TestApply::failureDuringRollbackRecovered()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);
    const auto beforeAll = CleaningTest::contentMultiset(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "birds"));
    QVERIFY(plan.relabel("cats/c.jpg", "dogs"));
    // Move 3 fails; the rollback's first move (4, returning cats/b.jpg) fails too; move 5 returns cats/a.jpg.
    Cleaning::TestHooks::setFailingMoves({ 3, 4 });
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY(r.incomplete);
    QVERIFY(!r.rolledBack);
    QCOMPARE(CleaningTest::contentMultiset(root), beforeAll); // nothing lost even now
    QVERIFY(hashTree(root) != before);
    HistoryStatus st = Cleaning::status(root);
    QVERIFY(st.hasIncomplete);
    QVERIFY(st.undoTarget.isEmpty());

    // Anything else is refused until recovery succeeds... which every operation tries first.
    const RecoveryReport rep = Cleaning::recover(root);
    QVERIFY2(rep.ok(), qPrintable(rep.message()));
    QCOMPARE(rep.actions.size(), 1);
    QCOMPARE(rep.actions[0].filesMoved, 1);
    QVERIFY(!rep.actions[0].completed);
    QVERIFY(rep.message().contains("rolled back"));
    QCOMPARE(hashTree(root), before);
    QCOMPARE(stateOf(root, r.transactionId), TransactionState::RolledBack);
    QVERIFY(!Cleaning::recover(root).acted());
}

void TestApply::cancelRollsBack()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto before = hashTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.markDelete("cats/b.jpg"));
    QVERIFY(plan.markDelete("cats/c.jpg"));
    ApplyOptions options;
    QList<int> seen;
    options.progress = [&](int done, int total) {
        seen << done;
        return !(done == 2 && total == 3);
    };
    const TransactionResult r = Cleaning::applyPlan(root, plan, options);
    QVERIFY(!r.ok);
    QVERIFY(r.cancelled);
    QVERIFY(r.rolledBack);
    QCOMPARE(seen, QList<int>({ 1, 2 }));
    QCOMPARE(hashTree(root), before);
}

void TestApply::applyUndoRedoUndoIdentical()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto s0 = hashTree(root);
    const auto d0 = CleaningTest::dirSet(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "dogs"));
    QVERIFY(plan.relabel("unlabeled/a.jpg", "dogs"));
    QVERIFY(plan.relabel("dogs/d.jpg", "fish"));
    const TransactionResult a = Cleaning::applyPlan(root, plan);
    QVERIFY2(a.ok, qPrintable(a.message()));
    const auto s1 = hashTree(root, true);
    const auto d1 = CleaningTest::dirSet(root);

    const TransactionResult u = Cleaning::undoLast(root);
    QVERIFY2(u.ok, qPrintable(u.message()));
    QCOMPARE(u.transactionId, a.transactionId);
    QCOMPARE(u.moves.size(), 4);
    QCOMPARE(hashTree(root, true), s0); // no trash left either
    QCOMPARE(CleaningTest::dirSet(root), d0);
    QVERIFY(!QFileInfo::exists(root + "/.winnow/trash/" + a.transactionId + ".json"));
    QCOMPARE(stateOf(root, a.transactionId), TransactionState::Undone);
    QCOMPARE(Cleaning::status(root).redoTarget, a.transactionId);

    const TransactionResult re = Cleaning::redo(root);
    QVERIFY2(re.ok, qPrintable(re.message()));
    QCOMPARE(hashTree(root, true), s1);
    QCOMPARE(CleaningTest::dirSet(root), d1);
    QCOMPARE(stateOf(root, a.transactionId), TransactionState::Applied);
    QVERIFY(!Cleaning::redo(root).ok); // nothing left to redo

    QVERIFY(Cleaning::undoLast(root).ok);
    QCOMPARE(hashTree(root, true), s0);
    QCOMPARE(CleaningTest::dirSet(root), d0);
    const TransactionResult none = Cleaning::undoLast(root);
    QVERIFY(!none.ok);
    QCOMPARE(none.error, QStringLiteral("nothing to undo"));
}

void TestApply::undoRefusedWhenOriginalTaken()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.relabel("cats/a.jpg", "birds"));
    QVERIFY(plan.markDelete("cats/b.jpg"));
    QVERIFY(Cleaning::applyPlan(root, plan).ok);
    QVERIFY(writeFile(root, "cats/a.jpg", "a new file with the old name"));
    const auto before = hashTree(root, true);
    const TransactionResult u = Cleaning::undoLast(root);
    QVERIFY(!u.ok);
    QVERIFY(u.error.contains("nothing was moved"));
    QCOMPARE(u.problems.size(), 1);
    QVERIFY(u.problems[0].contains("cats/a.jpg already exists"));
    QCOMPARE(hashTree(root, true), before);
    // Once the user moves their new file away, undo works.
    QVERIFY(QFile::rename(root + "/cats/a.jpg", root + "/new.jpg"));
    QVERIFY(Cleaning::undoLast(root).ok);
    QVERIFY(QFileInfo::exists(root + "/cats/a.jpg"));
    QVERIFY(QFileInfo::exists(root + "/cats/b.jpg"));
}

void TestApply::redoStackSemantics()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    auto applyOne = [&](const QString& file) {
        CleaningPlan p(root);
        p.markDelete(file);
        const TransactionResult r = Cleaning::applyPlan(root, p);
        return r.ok ? r.transactionId : QString();
    };
    const QString a = applyOne("cats/a.jpg");
    const QString b = applyOne("cats/b.jpg");
    QVERIFY(!a.isEmpty() && !b.isEmpty());
    QVERIFY(a < b);
    QCOMPARE(Cleaning::undoLast(root).transactionId, b);
    QCOMPARE(Cleaning::undoLast(root).transactionId, a);
    QCOMPARE(Cleaning::status(root).redoTarget, a);
    QCOMPARE(Cleaning::redo(root).transactionId, a);
    QCOMPARE(Cleaning::status(root).redoTarget, b);
    // A new transaction drops the redo stack (b can never be redone).
    const QString c = applyOne("cats/c.jpg");
    QVERIFY(!c.isEmpty());
    HistoryStatus st = Cleaning::status(root);
    QVERIFY(st.redoTarget.isEmpty());
    QVERIFY(st.transactions[1].orphaned);
    QCOMPARE(Cleaning::undoLast(root).transactionId, c);
    QCOMPARE(Cleaning::status(root).redoTarget, c);
    QCOMPARE(Cleaning::undoLast(root).transactionId, a);
    st = Cleaning::status(root);
    QCOMPARE(st.redoTarget, a);
    QVERIFY(st.undoTarget.isEmpty());
    QCOMPARE(Cleaning::redo(root).transactionId, a);
    QCOMPARE(Cleaning::redo(root).transactionId, c);
    QVERIFY(!Cleaning::redo(root).ok);
    QVERIFY(QFileInfo::exists(root + "/cats/b.jpg")); // b stayed undone
}

void TestApply::trashListAndRestore()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto s0 = hashTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.markDelete("dogs/a.jpg"));
    QVERIFY(plan.markDelete("unlabeled/u1.jpg"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(r.ok);
    QList<TrashEntry> trash = Cleaning::listTrash(root);
    QCOMPARE(trash.size(), 3);
    QCOMPARE(trash[0].originalPath, QStringLiteral("cats/a.jpg"));
    QCOMPARE(trash[0].transactionId, r.transactionId);
    QCOMPARE(trash[0].trashPath, ".winnow/trash/" + r.transactionId + "/cats/a.jpg");
    QVERIFY(trash[0].deleted.isValid());
    QCOMPARE(trash[0].size, qint64(QByteArray("content of cats/a.jpg").size()));

    // Unknown names: nothing restored.
    TransactionResult bad = Cleaning::restoreFromTrash(root, { "cats/a.jpg", "cats/zzz.jpg" });
    QVERIFY(!bad.ok);
    QVERIFY(bad.problems.join('\n').contains("cats/zzz.jpg is not in the trash"));
    QCOMPARE(Cleaning::listTrash(root).size(), 3);

    // By original path and by trash path.
    const TransactionResult res =
        Cleaning::restoreFromTrash(root, { "cats/a.jpg", ".winnow/trash/" + r.transactionId + "/dogs/a.jpg" });
    QVERIFY2(res.ok, qPrintable(res.message()));
    QCOMPARE(res.moves.size(), 2);
    QCOMPARE(hashTree(root).value("cats/a.jpg"), s0.value("cats/a.jpg"));
    QCOMPARE(hashTree(root).value("dogs/a.jpg"), s0.value("dogs/a.jpg"));
    trash = Cleaning::listTrash(root);
    QCOMPARE(trash.size(), 1);
    QCOMPARE(trash[0].originalPath, QStringLiteral("unlabeled/u1.jpg"));
    // Empty folders left in the trash by the restore are pruned.
    QVERIFY(!QFileInfo::exists(root + "/.winnow/trash/" + r.transactionId + "/cats"));

    // Restore all the rest.
    QVERIFY(Cleaning::restoreFromTrash(root).ok);
    QCOMPARE(hashTree(root), s0);
    QVERIFY(Cleaning::listTrash(root).isEmpty());
    QVERIFY(!Cleaning::restoreFromTrash(root).ok); // empty trash
}

void TestApply::restoreCollisionAndUndo()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    const auto s0 = hashTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.markDelete("cats/b.jpg"));
    QVERIFY(Cleaning::applyPlan(root, plan).ok);
    const auto s1 = hashTree(root, true);
    QVERIFY(writeFile(root, "cats/a.jpg", "a new cats/a.jpg"));
    const auto s1b = hashTree(root, true);
    const TransactionResult res = Cleaning::restoreFromTrash(root, { "cats/a.jpg" });
    QVERIFY2(res.ok, qPrintable(res.message()));
    QCOMPARE(res.moves.value(0).to, QStringLiteral("cats/a (1).jpg"));
    QCOMPARE(hashTree(root).value("cats/a (1).jpg"), s0.value("cats/a.jpg"));
    QCOMPARE(hashTree(root).value("cats/a.jpg"), CleaningTest::sha("a new cats/a.jpg"));
    QVERIFY(!res.warnings.isEmpty());

    // The restore is a transaction: undo puts the file back into the trash, exactly.
    const TransactionResult u = Cleaning::undoLast(root);
    QVERIFY2(u.ok, qPrintable(u.message()));
    QCOMPARE(u.transactionId, res.transactionId);
    QCOMPARE(hashTree(root, true), s1b);
    QVERIFY(QFile::remove(root + "/cats/a.jpg"));
    QCOMPARE(hashTree(root, true), s1);
    // And then the apply itself.
    QVERIFY(Cleaning::undoLast(root).ok);
    QCOMPARE(hashTree(root, true), s0);
}

void TestApply::emptyTrashPurges()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.markDelete("dogs/d.jpg"));
    QVERIFY(plan.relabel("cats/b.jpg", "dogs"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(r.ok);
    CleaningPlan plan2(root);
    QVERIFY(plan2.relabel("cats/c.jpg", "dogs")); // no deletes: stays undoable
    const TransactionResult r2 = Cleaning::applyPlan(root, plan2);
    QVERIFY(r2.ok);
    const auto datasetBefore = hashTree(root);

    const EmptyTrashResult e = Cleaning::emptyTrash(root);
    QVERIFY2(e.ok, qPrintable(e.error));
    QCOMPARE(e.filesRemoved, 2);
    QCOMPARE(e.bytesFreed, qint64(QByteArray("content of cats/a.jpg").size() * 2));
    QVERIFY(Cleaning::listTrash(root).isEmpty());
    QCOMPARE(hashTree(root), datasetBefore); // the dataset itself is untouched
    QCOMPARE(QDir(root + "/.winnow/trash").entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(), 0);

    const HistoryStatus st = Cleaning::status(root);
    QVERIFY(st.transactions[0].purged);
    QVERIFY(!st.transactions[1].purged);
    QVERIFY(Cleaning::undoLast(root).ok); // r2
    const TransactionResult u = Cleaning::undoLast(root); // r: refused
    QVERIFY(!u.ok);
    QVERIFY2(u.error.contains("trash was emptied"), qPrintable(u.error));
    QVERIFY(QFileInfo::exists(root + "/dogs/b.jpg")); // nothing half-undone
}

void TestApply::verifyHashRecorded()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    ApplyOptions options;
    options.verifyHash = true;
    const TransactionResult r = Cleaning::applyPlan(root, plan, options);
    QVERIFY(r.ok);
    QFile f(root + "/.winnow/journal/" + r.transactionId + ".json");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject step = QJsonDocument::fromJson(f.readAll()).object().value("steps").toArray().at(0).toObject();
    QCOMPARE(step.value("sha256").toString().toLatin1(), CleaningTest::sha("content of cats/a.jpg"));
    QCOMPARE(step.value("from").toString(), QStringLiteral("cats/a.jpg"));
    QCOMPARE(qint64(step.value("size").toDouble()), qint64(QByteArray("content of cats/a.jpg").size()));
}

void TestApply::busyLock()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    makeBasicTree(root);
    QVERIFY(QDir(root).mkpath(".winnow"));
    QLockFile other(root + "/.winnow/lock");
    QVERIFY(other.tryLock(0));
    CleaningPlan plan(root);
    QVERIFY(plan.markDelete("cats/a.jpg"));
    const TransactionResult r = Cleaning::applyPlan(root, plan);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains("another Winnow process"), qPrintable(r.error));
    QVERIFY(QFileInfo::exists(root + "/cats/a.jpg"));
    other.unlock();
    QVERIFY(Cleaning::applyPlan(root, plan).ok);
}

void TestApply::recoverOnCleanFolderCreatesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    makeBasicTree(dir.path());
    const RecoveryReport r = Cleaning::recover(dir.path());
    QVERIFY(r.ok());
    QVERIFY(!r.acted());
    QVERIFY(r.message().isEmpty());
    QVERIFY(!QFileInfo::exists(dir.path() + "/.winnow"));
    QVERIFY(Cleaning::status(dir.path()).transactions.isEmpty());
    QVERIFY(Cleaning::listTrash(dir.path()).isEmpty());
}

void TestApply::renameUndoRedo()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    QVERIFY(writeFile(root, "cats/00000090.jpg?1518390504", "photo 1"));
    QVERIFY(writeFile(root, "cats/photo", "photo 2"));
    QVERIFY(writeFile(root, "cats/photo.jpg", "a different photo, already so named"));
    QVERIFY(writeFile(root, "dogs/d.jpg", "d"));
    SplitStore store;
    store.settings = SplitSettings { 42, 0.2 };
    store.entries.insert("cats/00000090.jpg?1518390504", Split::Valid);
    store.entries.insert("cats/photo", Split::Train);
    QVERIFY(writeSplitStore(root, store));
    const auto before = hashTree(root);
    const TransactionResult r = Cleaning::renameFiles(
        root, { { "cats/00000090.jpg?1518390504", "00000090.jpg" }, { "cats/photo", "photo.jpg" } });
    QVERIFY2(r.ok, qPrintable(r.message()));
    QVERIFY2(r.summary.contains("2 renamed"), qPrintable(r.summary));
    QCOMPARE(CleaningTest::readFile(root + "/cats/00000090.jpg"), QByteArray("photo 1"));
    QCOMPARE(CleaningTest::readFile(root + "/cats/photo (1).jpg"), QByteArray("photo 2")); // the name was taken
    QCOMPARE(CleaningTest::readFile(root + "/cats/photo.jpg"), QByteArray("a different photo, already so named"));
    QVERIFY(!QFileInfo::exists(root + "/cats/photo"));
    // Each file keeps its split under its new name.
    const SplitStoreRead after = readSplitStore(root);
    QVERIFY(after.store);
    QCOMPARE(after.store->entries.value("cats/00000090.jpg"), Split::Valid);
    QCOMPARE(after.store->entries.value("cats/photo (1).jpg"), Split::Train);
    const HistoryStatus st = Cleaning::status(root);
    QCOMPARE(st.transactions.last().renames, 2);

    const TransactionResult u = Cleaning::undoLast(root);
    QVERIFY2(u.ok, qPrintable(u.message()));
    QCOMPARE(hashTree(root), before);
    const TransactionResult re = Cleaning::redo(root);
    QVERIFY2(re.ok, qPrintable(re.message()));
    QVERIFY(QFileInfo::exists(root + "/cats/00000090.jpg"));
}

void TestApply::renameRefusesBadNames()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    QVERIFY(writeFile(root, "cats/a", "a"));
    QVERIFY(writeFile(root, "cats/b", "b"));
    const auto before = hashTree(root);
    for (const QString& bad : { QString("../escape.jpg"), QString("sub/dir.jpg"), QString(".hidden.jpg"), QString() }) {
        const TransactionResult r = Cleaning::renameFiles(root, { { "cats/b", "b.jpg" }, { "cats/a", bad } });
        QVERIFY2(!r.ok, qPrintable(bad));
        QVERIFY2(r.problems.join('\n').contains("cats/a"), qPrintable(r.message()));
        QCOMPARE(hashTree(root), before); // the good rename beside it did not happen either
    }
    const TransactionResult missing = Cleaning::renameFiles(root, { { "cats/gone", "gone.jpg" } });
    QVERIFY(!missing.ok);
    QVERIFY(missing.problems.join('\n').contains("no longer exists"));
    QVERIFY(!Cleaning::renameFiles(root, {}).ok);
}

void TestApply::renameKeepsEverySplit()
{
    // No saved split yet (a folder opened for the first time): the split comes from the rank of every path's hash,
    // so a new name could move other files between train and valid. The rename saves the split first.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.path();
    QVERIFY(writeFile(root, "a/00000090.jpg?1518390504", "odd 1"));
    QVERIFY(writeFile(root, "b/photo", "odd 2"));
    for (int i = 0; i < 12; ++i) {
        QVERIFY(writeFile(root, QStringLiteral("a/%1.jpg").arg(i), "a" + QByteArray::number(i)));
        QVERIFY(writeFile(root, QStringLiteral("b/%1.jpg").arg(i), "b" + QByteArray::number(i)));
    }
    ScanOptions so;
    so.verifyImages = false;
    so.validPct = 0.3;
    const ScanResult before = scanDataset(root, so);
    QVERIFY(before.ok());
    QVERIFY(!readSplitStore(root).store);
    ApplyOptions options;
    options.split = SplitSettings::of(before.dataset->options);
    const TransactionResult r = Cleaning::renameFiles(
        root, { { "a/00000090.jpg?1518390504", "00000090.jpg" }, { "b/photo", "photo.jpg" } }, options);
    QVERIFY2(r.ok, qPrintable(r.message()));
    const ScanResult after = scanDataset(root, so);
    QVERIFY(after.ok());
    const QHash<QString, QString> renamed { { "a/00000090.jpg?1518390504", "a/00000090.jpg" },
        { "b/photo", "b/photo.jpg" } };
    for (const Sample& s : before.dataset->samples) {
        const int i = after.dataset->findSample(renamed.value(s.relPath, s.relPath));
        QVERIFY2(i >= 0, qPrintable(s.relPath));
        QVERIFY2(after.dataset->samples.at(i).split == s.split, qPrintable(s.relPath));
    }
    QVERIFY(Cleaning::undoLast(root).ok); // and back: the old names with their old splits
    const ScanResult undone = scanDataset(root, so);
    for (const Sample& s : before.dataset->samples)
        QCOMPARE(undone.dataset->samples.at(undone.dataset->findSample(s.relPath)).split, s.split);
}

QTEST_APPLESS_MAIN(TestApply)
#include "tst_apply.moc"
