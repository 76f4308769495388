// SPDX-License-Identifier: GPL-3.0-or-later
// Random kills: a child process applies, undoes and redoes a random plan on a random tree (fsync on, on the real temp
// folder) and is killed with SIGKILL at a random moment, wherever it is: inside fsync, rename, a journal write,
// between transactions. Recovery must then leave every byte there (dataset + trash), the dataset exactly as before
// the plan or as after it, and a history that still undoes to the original tree and redoes to the applied one.
// WINNOW_KILL_CYCLES (default 40) cycles; tests/bench/README.md shows the 1,000-cycle run.
#include <algorithm>
#include <csignal>
#include <thread>
#include <vector>

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "tests/cleaning/cleaningtestutil.h"
#include "tests/cleaning/randomtree.h"

using namespace Winnow;
using namespace CleaningTest;
using namespace CleaningTest::RandomTree;

namespace {

/// Every file under root (.winnow included) with its size and content hash, and the recovery's report: what a
/// failure shows.
QString describe(const QString& root, const RecoveryReport& rep, const QList<QByteArray>& expected)
{
    QStringList lines { QStringLiteral("recovery: ")
        + (rep.acted() ? rep.message() : QStringLiteral("nothing to do")) };
    QDirIterator it(
        root, QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        lines << QStringLiteral("  %1 (%2 bytes) %3")
                     .arg(path.mid(root.size() + 1))
                     .arg(QFileInfo(path).size())
                     .arg(QString::fromLatin1(sha(readFile(path)).left(8)));
    }
    QStringList want;
    for (const QByteArray& h : expected)
        want << QString::fromLatin1(h.left(8));
    lines << QStringLiteral("expected contents: ") + want.join(QLatin1Char(' '));
    return lines.join(QLatin1Char('\n'));
}

} // namespace

class TestApplyKill : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        Cleaning::TestHooks::reset(); // fsync on in this process too: the checks below run real transactions
    }
    void randomKills();
};

void TestApplyKill::randomKills()
{
    bool seedOk = false;
    quint32 seed = quint32(qEnvironmentVariableIntValue("WINNOW_KILL_SEED", &seedOk));
    if (!seedOk)
        seed = 20261202;
    int cycles = qEnvironmentVariableIntValue("WINNOW_KILL_CYCLES");
    if (cycles <= 0)
        cycles = 40;
    QRandomGenerator rng(seed);
    QTemporaryDir tmp(QDir::tempPath() + QStringLiteral("/winnow-kill-XXXXXX")); // a real disk: fsync takes time
    QVERIFY(tmp.isValid());

    // The kill lands uniformly in [0, the median uninterrupted cycle seen so far] after the child says "go".
    std::vector<qint64> durationsUs;
    auto medianUs = [&] {
        std::vector<qint64> d = durationsUs;
        std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
        return d[d.size() / 2];
    };
    int uninterrupted = 0, killed = 0, noJournal = 0, rolledBack = 0, completed = 0, endedBefore = 0, endedAfter = 0;
    QMap<QString, int> phases;
    QElapsedTimer total;
    total.start();
    for (int c = 0, done = 0; done < cycles; ++c) {
        const QString where = QStringLiteral("seed %1, cycle %2").arg(seed).arg(c);
        const QString root = tmp.filePath(QString::number(c));
        QVERIFY(QDir().mkpath(root));
        const Generated g = generateTree(rng, root);
        const CleaningPlan plan = randomPlan(rng, root, g);
        if (plan.isEmpty()) { // nothing to move: not a cycle
            QDir(root).removeRecursively();
            continue;
        }
        ++done;
        const QString planFile = tmp.filePath(QStringLiteral("plan-%1.json").arg(c));
        QVERIFY(plan.save(planFile));
        const auto s0 = hashTree(root, true);
        const auto all0 = contentMultiset(root);

        const bool calibrate = done <= 3; // the first cycles run to the end, to learn how long a cycle takes
        const qint64 delayUs = calibrate ? -1 : qint64(rng.bounded(quint32(medianUs() + 1)));
        QProcess child;
        child.start(QStringLiteral(CRASH_HELPER), { QStringLiteral("cycle"), root, planFile });
        QVERIFY2(child.waitForStarted(), qPrintable(where));
        QVERIFY2(child.waitForReadyRead(60000), qPrintable(where + ": the child never said go"));
        QElapsedTimer clock;
        clock.start();
        bool wasKilled = false;
        if (delayUs >= 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(delayUs));
            if (child.state() == QProcess::Running && ::kill(pid_t(child.processId()), SIGKILL) == 0)
                wasKilled = true;
        }
        QVERIFY2(child.waitForFinished(60000), qPrintable(where));
        const qint64 tookUs = clock.nsecsElapsed() / 1000;
        if (child.exitStatus() == QProcess::NormalExit) {
            QVERIFY2(child.exitCode() == 0, qPrintable(where + ": " + QString::fromUtf8(child.readAllStandardError())));
            wasKilled = false; // it finished before the signal
            durationsUs.push_back(tookUs);
            ++uninterrupted;
        } else {
            QVERIFY2(wasKilled, qPrintable(where + ": the child crashed by itself"));
            ++killed;
        }

        // Recovery (what the next Winnow does when it opens the folder).
        const RecoveryReport rep = Cleaning::recover(root);
        QVERIFY2(rep.ok(), qPrintable(where + ": " + rep.error + rep.message()));
        if (wasKilled && !rep.acted())
            ++noJournal;
        for (const RecoveryAction& a : rep.actions) {
            ++phases[a.phase];
            (a.completed ? completed : rolledBack)++;
        }
        const auto recovered = hashTree(root, true);
        QVERIFY2(contentMultiset(root) == all0,
            qPrintable(where + ": a file was lost or duplicated\n" + describe(root, rep, all0)));

        // Undo everything: exactly the original tree, trash empty.
        QStringList undos;
        for (int u = 0; u < 4; ++u) {
            const TransactionResult r = Cleaning::undoLast(root);
            undos << (r.ok ? r.summary : r.message());
            if (!r.ok)
                break;
        }
        QStringList before0;
        for (auto it = s0.cbegin(); it != s0.cend(); ++it)
            before0 << it.key() + QLatin1Char(' ') + QString::fromLatin1(it.value().left(8));
        QVERIFY2(hashTree(root, true) == s0,
            qPrintable(where + ": undoing all did not give the original tree back\nundo: " + undos.join(" | ")
                + "\nnow:\n" + describe(root, rep, all0) + "\nwas:\n  " + before0.join("\n  ")));
        // Redo (or apply again when the apply never committed): the applied tree.
        TransactionResult again = Cleaning::redo(root);
        if (!again.ok)
            again = Cleaning::applyPlan(root, plan);
        QVERIFY2(again.ok, qPrintable(where + ": " + again.message()));
        const auto applied = hashTree(root, true);
        QVERIFY2(contentMultiset(root) == all0, qPrintable(where + ": redo lost or duplicated a file"));

        // What recovery left was one of the two states, byte for byte (trash names carry transaction ids).
        const bool before = withoutTrash(recovered) == withoutTrash(s0);
        const bool after = withoutTrash(recovered) == withoutTrash(applied);
        QVERIFY2(before || after, qPrintable(where + ": recovery left a state between before and after"));
        (after && !before ? endedAfter : endedBefore)++;
        QDir(root).removeRecursively();
        QFile::remove(planFile);
    }
    const double seconds = total.nsecsElapsed() / 1e9;
    qInfo("%d cycles in %.1f s (seed %u): %d killed, %d ran to the end (median %.1f ms); recovery rolled back %d and "
          "completed %d interrupted phases (%s), %d kills left no journal to act on; the dataset ended as before the "
          "plan %d times and as after it %d times",
        killed + uninterrupted, seconds, seed, killed, uninterrupted, medianUs() / 1000.0, rolledBack, completed,
        qPrintable([&] {
            QStringList p;
            for (auto it = phases.cbegin(); it != phases.cend(); ++it)
                p << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
            return p.join(QStringLiteral(", "));
        }()),
        noJournal, endedBefore, endedAfter);
    QVERIFY2(killed > 0, "no cycle was interrupted: the kill timing is off");
}

QTEST_GUILESS_MAIN(TestApplyKill)
#include "tst_apply_kill.moc"
