// SPDX-License-Identifier: GPL-3.0-or-later
// Crash test: a child process is killed (SIGKILL) at every crash point of an apply, an undo, a redo, a restore and of
// a recovery itself; the next recovery must leave nothing lost, the tree equal to the state before or after the
// operation, and the journal saying which.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "tests/cleaning/cleaningtestutil.h"

using namespace Winnow;
using CleaningTest::hashTree;

namespace {

using Tree = QMap<QString, QByteArray>;

void makeTree(const QString& root)
{
    QDir(root).removeRecursively();
    QDir().mkpath(root);
    for (const char* f : { "cats/a.jpg", "cats/b.jpg", "cats/c.jpg", "dogs/a.jpg", "dogs/d.jpg", "unlabeled/u.jpg" })
        CleaningTest::writeFile(root, QString::fromLatin1(f), QByteArray("bytes of ") + f);
}

CleaningPlan makePlan()
{
    CleaningPlan plan; // no root: no fingerprints, so the same plan fits every fresh copy
    plan.markDelete(QStringLiteral("cats/a.jpg"));
    plan.markDelete(QStringLiteral("dogs/d.jpg"));
    plan.relabel(QStringLiteral("cats/b.jpg"), QStringLiteral("dogs"));
    plan.relabel(QStringLiteral("cats/c.jpg"), QStringLiteral("new class")); // creates a folder
    plan.relabel(QStringLiteral("unlabeled/u.jpg"), QStringLiteral("dogs"));
    plan.relabel(QStringLiteral("dogs/a.jpg"), QStringLiteral("cats")); // collides: cats/a (1).jpg
    return plan;
}

/// The split a scan gives every labeled file (the saved split in .winnow/splits.tsv must follow the files).
QHash<QString, Split> splitsOf(const QString& root)
{
    ScanOptions o;
    o.verifyImages = false;
    QHash<QString, Split> out;
    if (const ScanResult r = scanDataset(root, o); r.ok())
        for (const Sample& s : r.dataset->samples)
            if (s.label >= 0)
                out.insert(s.relPath, s.split);
    return out;
}

/// One reachable state of the fixture: dataset files, folders, trash contents and the split of every file.
struct State
{
    Tree files;
    QSet<QString> dirs;
    Tree trash;
    QHash<QString, Split> splits;
    static State of(const QString& root)
    {
        return { hashTree(root), CleaningTest::dirSet(root), CleaningTest::trashByOriginal(root), splitsOf(root) };
    }
    bool operator==(const State&) const = default;
};

struct Outcome
{
    bool crashed = false;
    int exitCode = 0;
};

Outcome runHelper(const QStringList& args, int crashAt)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("WINNOW_CRASH_AT"), QString::number(crashAt));
    env.insert(QStringLiteral("WINNOW_TEST_NO_FSYNC"), QStringLiteral("1")); // a kill does not lose the page cache
    env.remove(QStringLiteral("WINNOW_FAIL_MOVES"));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(QStringLiteral(CRASH_HELPER), args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return { false, -1 };
    }
    return { p.exitStatus() == QProcess::CrashExit, p.exitCode() };
}

QString stateName(TransactionState s)
{
    return transactionStateName(s);
}

} // namespace

class TestApplyCrash : public QObject
{
    Q_OBJECT

public:
    TestApplyCrash();

private Q_SLOTS:
    void initTestCase();
    void init()
    {
        Cleaning::TestHooks::reset();
        Cleaning::TestHooks::setSyncEnabled(false); // kills, not power cuts: fsync changes nothing here but time
    }
    void cleanupTestCase()
    {
        Cleaning::TestHooks::reset();
    }
    void crashDuringApply();
    void crashDuringUndo();
    void crashDuringRedo();
    void crashDuringRestore();
    void crashDuringRecovery();

private:
    /// Recovers `root` in-process and checks it against the allowed end states. Returns the index of the state.
    int recoverAndCheck(const QString& root, const QList<State>& allowed, const QList<QStringList>& allowedTxnStates,
        const QString& where);

    QTemporaryDir m_tmp;
    QString m_planPath;
    State m_s0; // before
    State m_s1; // after the apply
    State m_sRestored; // after the apply and restoring the whole trash
    QList<QByteArray> m_contents;
};

TestApplyCrash::TestApplyCrash()
    : m_tmp(CleaningTest::fastTempTemplate(QStringLiteral("winnow-crash")))
{ }

void TestApplyCrash::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QVERIFY2(QFileInfo::exists(QStringLiteral(CRASH_HELPER)), CRASH_HELPER);
    m_planPath = m_tmp.filePath(QStringLiteral("plan.json"));
    QString error;
    QVERIFY2(makePlan().save(m_planPath, &error), qPrintable(error));

    const QString ref = m_tmp.filePath(QStringLiteral("reference"));
    makeTree(ref);
    m_s0 = State::of(ref);
    m_contents = CleaningTest::contentMultiset(ref);
    TransactionResult r = Cleaning::applyPlan(ref, makePlan());
    QVERIFY2(r.ok, qPrintable(r.message()));
    m_s1 = State::of(ref);
    QVERIFY(m_s1.files.contains(QStringLiteral("cats/a (1).jpg")));
    QVERIFY(m_s1.dirs.contains(QStringLiteral("new class")));
    QCOMPARE(m_s1.trash.size(), 2);
    // Relabelled files keep their split; the newly labelled one gets the per-file rule.
    QCOMPARE(m_s0.splits.size(), 5);
    QCOMPARE(m_s1.splits.value(QStringLiteral("dogs/b.jpg")), m_s0.splits.value(QStringLiteral("cats/b.jpg")));
    QCOMPARE(m_s1.splits.value(QStringLiteral("new class/c.jpg")), m_s0.splits.value(QStringLiteral("cats/c.jpg")));
    QCOMPARE(m_s1.splits.value(QStringLiteral("cats/a (1).jpg")), m_s0.splits.value(QStringLiteral("dogs/a.jpg")));
    QCOMPARE(m_s1.splits.value(QStringLiteral("dogs/u.jpg")), splitFor(QStringLiteral("dogs/u.jpg"), 42, 0.2));
    r = Cleaning::restoreFromTrash(ref);
    QVERIFY2(r.ok, qPrintable(r.message()));
    m_sRestored = State::of(ref);
    QVERIFY(!(m_sRestored == m_s1));
}

int TestApplyCrash::recoverAndCheck(
    const QString& root, const QList<State>& allowed, const QList<QStringList>& allowedTxnStates, const QString& where)
{
    const RecoveryReport rep = Cleaning::recover(root);
    if (!rep.ok()) {
        QTest::qFail(qPrintable(where + QStringLiteral(": recovery failed: ") + rep.message()), __FILE__, __LINE__);
        return -1;
    }
    if (Cleaning::recover(root).acted()) {
        QTest::qFail(qPrintable(where + QStringLiteral(": a second recovery still had work")), __FILE__, __LINE__);
        return -1;
    }
    if (CleaningTest::contentMultiset(root) != m_contents) {
        QTest::qFail(qPrintable(where + QStringLiteral(": file contents lost or duplicated")), __FILE__, __LINE__);
        return -1;
    }
    const State now = State::of(root);
    const int idx = int(allowed.indexOf(now));
    if (idx < 0) {
        QStringList files = now.files.keys();
        QStringList splits;
        for (auto it = now.splits.cbegin(); it != now.splits.cend(); ++it)
            splits << it.key() + QLatin1Char('=') + splitName(it.value());
        splits.sort();
        QTest::qFail(
            qPrintable(where + QStringLiteral(": the tree is neither the state before nor after: ")
                + files.join(QStringLiteral(", ")) + QStringLiteral("; splits: ") + splits.join(QStringLiteral(", "))),
            __FILE__, __LINE__);
        return -1;
    }
    // The journal agrees with the tree.
    const HistoryStatus st = Cleaning::status(root);
    QStringList states;
    for (const TransactionInfo& t : st.transactions)
        states << stateName(t.state);
    if (st.hasIncomplete || states != allowedTxnStates.at(idx)) {
        QTest::qFail(
            qPrintable(where
                + QStringLiteral(": journal says [%1], expected [%2]")
                      .arg(states.join(QStringLiteral(", ")), allowedTxnStates.at(idx).join(QStringLiteral(", ")))),
            __FILE__, __LINE__);
        return -1;
    }
    return idx;
}

void TestApplyCrash::crashDuringApply()
{
    const QString root = m_tmp.filePath(QStringLiteral("apply"));
    int outcomes[2] = { 0, 0 };
    int k = 1;
    for (;; ++k) {
        QVERIFY2(k < 200, "the apply never finished");
        makeTree(root);
        const Outcome o = runHelper({ QStringLiteral("apply"), root, m_planPath }, k);
        const QString where = QStringLiteral("apply, crash point %1").arg(k);
        if (!o.crashed) {
            QCOMPARE(o.exitCode, 0);
            QCOMPARE(recoverAndCheck(root, { m_s1 }, { { "applied" } }, where), 0);
            break;
        }
        const int idx = recoverAndCheck(root, { m_s0, m_s1 }, { { "rolled back" }, { "applied" } }, where);
        if (QTest::currentTestFailed())
            return;
        ++outcomes[idx];
    }
    qInfo("apply: %d crash points; %d rolled back, %d completed or committed", k - 1, outcomes[0], outcomes[1]);
    QVERIFY(k > 6 * 3); // at least three crash points per file
    QVERIFY(outcomes[0] > 0);
    QVERIFY(outcomes[1] > 0);
}

void TestApplyCrash::crashDuringUndo()
{
    const QString root = m_tmp.filePath(QStringLiteral("undo"));
    int outcomes[2] = { 0, 0 };
    int k = 1;
    for (;; ++k) {
        QVERIFY2(k < 200, "the undo never finished");
        makeTree(root);
        QVERIFY(Cleaning::applyPlan(root, makePlan()).ok);
        const Outcome o = runHelper({ QStringLiteral("undo"), root }, k);
        const QString where = QStringLiteral("undo, crash point %1").arg(k);
        if (!o.crashed) {
            QCOMPARE(o.exitCode, 0);
            QCOMPARE(recoverAndCheck(root, { m_s0 }, { { "undone" } }, where), 0);
            break;
        }
        const int idx = recoverAndCheck(root, { m_s1, m_s0 }, { { "applied" }, { "undone" } }, where);
        if (QTest::currentTestFailed())
            return;
        ++outcomes[idx];
    }
    qInfo("undo: %d crash points; %d rolled back, %d completed or committed", k - 1, outcomes[0], outcomes[1]);
    QVERIFY(outcomes[0] > 0);
    QVERIFY(outcomes[1] > 0);
}

void TestApplyCrash::crashDuringRedo()
{
    const QString root = m_tmp.filePath(QStringLiteral("redo"));
    int outcomes[2] = { 0, 0 };
    int k = 1;
    for (;; ++k) {
        QVERIFY2(k < 200, "the redo never finished");
        makeTree(root);
        QVERIFY(Cleaning::applyPlan(root, makePlan()).ok);
        QVERIFY(Cleaning::undoLast(root).ok);
        const Outcome o = runHelper({ QStringLiteral("redo"), root }, k);
        const QString where = QStringLiteral("redo, crash point %1").arg(k);
        if (!o.crashed) {
            QCOMPARE(o.exitCode, 0);
            QCOMPARE(recoverAndCheck(root, { m_s1 }, { { "applied" } }, where), 0);
            break;
        }
        const int idx = recoverAndCheck(root, { m_s0, m_s1 }, { { "undone" }, { "applied" } }, where);
        if (QTest::currentTestFailed())
            return;
        ++outcomes[idx];
    }
    qInfo("redo: %d crash points; %d rolled back, %d completed or committed", k - 1, outcomes[0], outcomes[1]);
    QVERIFY(outcomes[0] > 0);
    QVERIFY(outcomes[1] > 0);
}

void TestApplyCrash::crashDuringRestore()
{
    const QString root = m_tmp.filePath(QStringLiteral("restore"));
    int outcomes[2] = { 0, 0 };
    int k = 1;
    for (;; ++k) {
        QVERIFY2(k < 200, "the restore never finished");
        makeTree(root);
        QVERIFY(Cleaning::applyPlan(root, makePlan()).ok);
        const Outcome o = runHelper({ QStringLiteral("restore"), root }, k);
        const QString where = QStringLiteral("restore, crash point %1").arg(k);
        if (!o.crashed) {
            QCOMPARE(o.exitCode, 0);
            QCOMPARE(recoverAndCheck(root, { m_sRestored }, { { "applied", "applied" } }, where), 0);
            break;
        }
        const int idx = recoverAndCheck(
            root, { m_s1, m_sRestored }, { { "applied", "rolled back" }, { "applied", "applied" } }, where);
        if (QTest::currentTestFailed())
            return;
        ++outcomes[idx];
    }
    qInfo("restore: %d crash points; %d rolled back, %d completed or committed", k - 1, outcomes[0], outcomes[1]);
    QVERIFY(outcomes[0] > 0);
    QVERIFY(outcomes[1] > 0);
}

void TestApplyCrash::crashDuringRecovery()
{
    // Kill an apply part-way, then kill the recovery at each of its own crash points, then recover for real.
    const QString root = m_tmp.filePath(QStringLiteral("nested"));
    int runs = 0;
    for (const int applyCrash : { 5, 9, 14 }) {
        for (int k = 1;; ++k) {
            QVERIFY2(k < 200, "the recovery never finished");
            makeTree(root);
            const Outcome first = runHelper({ QStringLiteral("apply"), root, m_planPath }, applyCrash);
            QVERIFY(first.crashed);
            QVERIFY(Cleaning::status(root).hasIncomplete);
            const Outcome o = runHelper({ QStringLiteral("recover"), root }, k);
            ++runs;
            const QString where = QStringLiteral("apply crash %1, recovery crash point %2").arg(applyCrash).arg(k);
            recoverAndCheck(root, { m_s0, m_s1 }, { { "rolled back" }, { "applied" } }, where);
            if (QTest::currentTestFailed())
                return;
            if (!o.crashed) {
                QCOMPARE(o.exitCode, 0);
                break;
            }
        }
    }
    qInfo("recovery killed and resumed %d times", runs);
}

QTEST_GUILESS_MAIN(TestApplyCrash)
#include "tst_apply_crash.moc"
