// SPDX-License-Identifier: GPL-3.0-or-later
// Randomised property test: for hundreds of seeded random trees and plans, apply / undo / redo / undo (with random
// trash restores in between) keeps every byte, puts each file where the plan says, and undo restores the exact tree.
#include <QDir>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "tests/cleaning/cleaningtestutil.h"
#include "tests/cleaning/randomtree.h"

using namespace Winnow;
using CleaningTest::hashTree;
using namespace CleaningTest::RandomTree;

namespace {

QString parentOf(const QString& rel)
{
    return rel.section(QLatin1Char('/'), 0, -2);
}

/// "a.jpg" is a valid collision rename of itself, as are "a (3).jpg" and (for "a (1).jpg") "a (2).jpg".
bool isCollisionName(const QString& original, const QString& chosen)
{
    if (original == chosen)
        return true;
    const int dot = int(original.lastIndexOf(QLatin1Char('.')));
    QString base = dot > 0 ? original.left(dot) : original;
    const QString ext = dot > 0 ? original.mid(dot) : QString();
    static const QRegularExpression numbered(QStringLiteral("^(.*) \\((\\d+)\\)$"));
    if (const auto m = numbered.match(base); m.hasMatch())
        base = m.captured(1);
    const QRegularExpression re(QStringLiteral("^") + QRegularExpression::escape(base) + QStringLiteral(" \\(\\d+\\)")
        + QRegularExpression::escape(ext) + QStringLiteral("$"));
    return re.match(chosen).hasMatch();
}

} // namespace

class TestApplyProperty : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        Cleaning::TestHooks::reset();
        // Process kills and rollbacks do not depend on fsync; thousands of fsyncs on a shared disk would make this
        // test slow. tst_apply and tst_apply_crash run with fsync on.
        Cleaning::TestHooks::setSyncEnabled(false);
    }
    void cleanupTestCase()
    {
        Cleaning::TestHooks::reset();
    }
    void randomPlans();
};

void TestApplyProperty::randomPlans()
{
    bool seedOk = false;
    quint32 seed = quint32(qEnvironmentVariableIntValue("WINNOW_PROPERTY_SEED", &seedOk));
    if (!seedOk)
        seed = 20240601;
    int iterations = qEnvironmentVariableIntValue("WINNOW_PROPERTY_ITERATIONS");
    if (iterations <= 0)
        iterations = 300;
    QRandomGenerator rng(seed);
    QTemporaryDir tmp(CleaningTest::fastTempTemplate(QStringLiteral("winnow-property")));
    QVERIFY(tmp.isValid());
    int applied = 0, restores = 0, collisions = 0, moves = 0;
    for (int it = 0; it < iterations; ++it) {
        const QString where = QStringLiteral("seed %1, iteration %2").arg(seed).arg(it);
        const QString root = tmp.filePath(QString::number(it));
        QVERIFY(QDir().mkpath(root));
        const Generated g = generateTree(rng, root);
        const CleaningPlan plan = randomPlan(rng, root, g);
        if (plan.isEmpty()) {
            QDir(root).removeRecursively();
            continue;
        }
        const auto s0 = hashTree(root);
        const auto d0 = CleaningTest::dirSet(root);
        const auto all0 = CleaningTest::contentMultiset(root);

        // Apply.
        const TransactionResult a = Cleaning::applyPlan(root, plan);
        QVERIFY2(a.ok, qPrintable(where + QStringLiteral(": ") + a.message()));
        ++applied;
        QCOMPARE(a.moves.size(), plan.size());
        const auto s1 = hashTree(root, true);
        const auto d1 = CleaningTest::dirSet(root);
        QVERIFY2(CleaningTest::contentMultiset(root) == all0, qPrintable(where + ": contents lost or duplicated"));
        QSet<QString> moved;
        QSet<QString> arrived;
        for (const FileMove& m : a.moves) {
            const auto d = plan.decision(m.from);
            QVERIFY2(d.has_value(), qPrintable(where + ": moved a file without a decision: " + m.from));
            QVERIFY2(!moved.contains(m.from), qPrintable(where + ": moved twice: " + m.from));
            moved.insert(m.from);
            arrived.insert(m.to);
            QCOMPARE(s1.value(m.to), s0.value(m.from)); // the same bytes arrived
            QVERIFY2(!s1.contains(m.from), qPrintable(where + ": still at its source: " + m.from));
            if (d->action == CleanAction::Delete) {
                QCOMPARE(m.kind, MoveKind::Delete);
                QCOMPARE(m.to, ".winnow/trash/" + a.transactionId + "/" + m.from);
            } else {
                QCOMPARE(m.kind, MoveKind::Relabel);
                const QString wanted = plan.relabelDestination(m.from, d->toClass);
                QCOMPARE(parentOf(m.to), parentOf(wanted));
                QVERIFY2(isCollisionName(wanted.section('/', -1), m.to.section('/', -1)),
                    qPrintable(where + ": odd name " + m.to + " for " + wanted));
                QCOMPARE(plan.classOf(m.to), d->toClass);
                QCOMPARE(plan.splitOf(m.to),
                    plan.splitOf(m.from).isEmpty() && g.layout == Layout::TrainValid ? QStringLiteral("train")
                                                                                     : plan.splitOf(m.from));
                if (m.to != wanted) {
                    ++collisions;
                    // Only renamed because the wanted name was taken before, or by an earlier move.
                    QVERIFY2(s0.contains(wanted) || arrived.contains(wanted),
                        qPrintable(where + ": renamed without a collision: " + m.to));
                }
            }
            ++moves;
        }
        // Untouched files are untouched; nothing else appeared.
        for (auto f = s0.cbegin(); f != s0.cend(); ++f) {
            if (!moved.contains(f.key()))
                QVERIFY2(s1.value(f.key()) == f.value(), qPrintable(where + ": changed " + f.key()));
        }
        QCOMPARE(s1.size(), s0.size());

        // Sometimes restore part of the trash and undo that first.
        const QList<TrashEntry> trash = Cleaning::listTrash(root);
        if (!trash.isEmpty() && rng.bounded(3) == 0) {
            QStringList some;
            for (const TrashEntry& e : trash) {
                if (rng.bounded(2))
                    some << e.originalPath;
            }
            if (!some.isEmpty()) {
                const TransactionResult r = Cleaning::restoreFromTrash(root, some);
                QVERIFY2(r.ok, qPrintable(where + ": " + r.message()));
                QCOMPARE(r.moves.size(), some.size());
                QVERIFY(CleaningTest::contentMultiset(root) == all0);
                const TransactionResult u = Cleaning::undoLast(root);
                QVERIFY2(u.ok, qPrintable(where + ": " + u.message()));
                QVERIFY2(hashTree(root, true) == s1, qPrintable(where + ": undoing a restore changed the tree"));
                ++restores;
            }
        }

        // Undo, redo, undo.
        TransactionResult u = Cleaning::undoLast(root);
        QVERIFY2(u.ok, qPrintable(where + ": " + u.message()));
        QVERIFY2(hashTree(root, true) == s0, qPrintable(where + ": undo did not restore the tree"));
        QVERIFY2(CleaningTest::dirSet(root) == d0, qPrintable(where + ": undo left folders behind"));
        const TransactionResult r = Cleaning::redo(root);
        QVERIFY2(r.ok, qPrintable(where + ": " + r.message()));
        QVERIFY2(hashTree(root, true) == s1, qPrintable(where + ": redo differs from apply"));
        QVERIFY2(CleaningTest::dirSet(root) == d1, qPrintable(where + ": redo folders differ"));
        u = Cleaning::undoLast(root);
        QVERIFY2(u.ok, qPrintable(where + ": " + u.message()));
        QVERIFY2(hashTree(root, true) == s0, qPrintable(where + ": second undo did not restore the tree"));
        QVERIFY2(CleaningTest::dirSet(root) == d0, qPrintable(where + ": second undo left folders behind"));
        QVERIFY(!Cleaning::recover(root).acted());
        QDir(root).removeRecursively();
    }
    qInfo("%d plans applied (%d file moves, %d collision renames), %d partial restores", applied, moves, collisions,
        restores);
    QVERIFY(applied > iterations / 2);
    QVERIFY(collisions > 0); // the generator must exercise collisions
    QVERIFY(restores > 0);
}

QTEST_APPLESS_MAIN(TestApplyProperty)
#include "tst_apply_property.moc"
