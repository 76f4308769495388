// SPDX-License-Identifier: GPL-3.0-or-later
// compareRounds(): what changed between two scoring rounds (round history's "predictions changed").
#include <QTest>

#include "core/engine/rounddiff.h"
#include "core/engine/run.h"
#include "ui/training/trainingmodels.h"

using namespace Winnow;

namespace {

ScoreRecord rec(const QString& file, int given, int predicted)
{
    ScoreRecord r;
    r.file = file;
    r.given = given;
    r.predicted = predicted;
    r.split = given < 0 ? Split::Unlabeled : Split::Train;
    return r;
}

ScoreSet set(const QStringList& vocab, const QVector<ScoreRecord>& records)
{
    ScoreSet s;
    s.datasetRoot = QStringLiteral("/data/pets");
    s.vocab = vocab;
    s.records = records;
    return s;
}

} // namespace

class TestRoundDiff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void changedFixedBroken()
    {
        const QStringList vocab { QStringLiteral("cat"), QStringLiteral("dog") };
        const auto before = set(vocab,
            { rec(QStringLiteral("cat/a.jpg"), 0, 1), rec(QStringLiteral("cat/b.jpg"), 0, 0),
                rec(QStringLiteral("dog/c.jpg"), 1, 1), rec(QStringLiteral("dog/d.jpg"), 1, 0),
                rec(QStringLiteral("cat/moved.jpg"), 0, 1), rec(QStringLiteral("unlabeled/u.jpg"), -1, 0) });
        // a fixed, b broken, c same, d same (still wrong), moved -> dog/moved.jpg (relabelled), u changed.
        const auto after = set(vocab,
            { rec(QStringLiteral("cat/a.jpg"), 0, 0), rec(QStringLiteral("cat/b.jpg"), 0, 1),
                rec(QStringLiteral("dog/c.jpg"), 1, 1), rec(QStringLiteral("dog/d.jpg"), 1, 0),
                rec(QStringLiteral("dog/moved.jpg"), 1, 1), rec(QStringLiteral("unlabeled/u.jpg"), -1, 1) });
        const RoundDiff d = compareRounds(before, after);
        QCOMPARE(d.compared, 5);
        QCOMPARE(d.changed,
            QStringList(
                { QStringLiteral("cat/a.jpg"), QStringLiteral("cat/b.jpg"), QStringLiteral("unlabeled/u.jpg") }));
        QCOMPARE(d.fixed, QStringList { QStringLiteral("cat/a.jpg") });
        QCOMPARE(d.broken, QStringList { QStringLiteral("cat/b.jpg") });
        QCOMPARE(d.removed, 1);
        QCOMPARE(d.added, 1);
        QCOMPARE(d.errorsBefore, 3); // a, d, moved
        QCOMPARE(d.errorsAfter, 2); // b, d
        QCOMPARE(d.classes, 2);
        // Rows given, columns predicted: before [[1,2],[1,1]], after [[1,1],[1,2]].
        QCOMPARE(d.delta(0, 0), 0);
        QCOMPARE(d.delta(0, 1), -1);
        QCOMPARE(d.delta(1, 0), 0);
        QCOMPARE(d.delta(1, 1), 1);
        QVERIFY(d.text().contains(QStringLiteral("3 predictions changed (1 fixed, 1 broken); errors 3 -> 2")));
        // The relabelled file is one changed file, not one removed and one added.
        QCOMPARE(d.moved, 1);
        QCOMPARE(d.filesChanged(), 1);
        QVERIFY2(d.text().endsWith(QStringLiteral("; 1 file changed (1 moved)")), qPrintable(d.text()));
    }

    /// 2 deleted, 4 relabelled, 1 new: 7 files changed (the round history's column and its tooltip agree on it).
    void filesChangedCountsEachFileOnce()
    {
        const QStringList vocab { QStringLiteral("cat"), QStringLiteral("dog") };
        QVector<ScoreRecord> before;
        QVector<ScoreRecord> after;
        for (int i = 0; i < 6; ++i)
            before << rec(QStringLiteral("cat/%1.jpg").arg(i), 0, 0);
        before << rec(QStringLiteral("dog/keep.jpg"), 1, 1);
        for (int i = 2; i < 6; ++i)
            after << rec(QStringLiteral("dog/%1.jpg").arg(i), 1, 1);
        after << rec(QStringLiteral("dog/keep.jpg"), 1, 1) << rec(QStringLiteral("unlabeled/new.jpg"), -1, 1);
        const RoundDiff d = compareRounds(set(vocab, before), set(vocab, after));
        QCOMPARE(d.removed, 6);
        QCOMPARE(d.added, 5);
        QCOMPARE(d.moved, 4);
        QCOMPARE(d.filesChanged(), 7);
        QVERIFY2(
            d.text().endsWith(QStringLiteral("; 7 files changed (2 removed, 4 moved, 1 added)")), qPrintable(d.text()));
    }

    /// A relabel onto a taken name is renamed "name (1).jpg" by the collision-safe move: still one moved file.
    void collisionRenamedMoveIsOneFile()
    {
        const QStringList vocab { QStringLiteral("cat"), QStringLiteral("dog") };
        const QVector<ScoreRecord> before { rec(QStringLiteral("cat/7.jpg"), 0, 1),
            rec(QStringLiteral("dog/7.jpg"), 1, 1), rec(QStringLiteral("cat/x (2) b.jpg"), 0, 0),
            rec(QStringLiteral("cat/gone.jpg"), 0, 0) };
        const QVector<ScoreRecord> after { rec(QStringLiteral("dog/7 (1).jpg"), 1, 1),
            rec(QStringLiteral("dog/7.jpg"), 1, 1), rec(QStringLiteral("dog/x (2) b.jpg"), 1, 1),
            rec(QStringLiteral("dog/other (3).jpg"), 1, 1) };
        const RoundDiff d = compareRounds(set(vocab, before), set(vocab, after));
        QCOMPARE(d.removed, 3);
        QCOMPARE(d.added, 3);
        QCOMPARE(d.moved, 2); // 7.jpg -> 7 (1).jpg and "x (2) b.jpg" (not a collision suffix) moved as it is
        QCOMPARE(d.filesChanged(), 4); // 2 moved, gone.jpg removed, other (3).jpg added
    }

    void vocabularyChange()
    {
        // A class added between rounds: predictions compare by name; no confusion delta.
        const auto before = set({ QStringLiteral("cat"), QStringLiteral("dog") },
            { rec(QStringLiteral("cat/a.jpg"), 0, 1), rec(QStringLiteral("dog/b.jpg"), 1, 1) });
        const auto after = set({ QStringLiteral("bird"), QStringLiteral("cat"), QStringLiteral("dog") },
            { rec(QStringLiteral("cat/a.jpg"), 1, 1), rec(QStringLiteral("dog/b.jpg"), 2, 2) });
        const RoundDiff d = compareRounds(before, after);
        QCOMPARE(d.changed, QStringList { QStringLiteral("cat/a.jpg") });
        QCOMPARE(d.fixed, QStringList { QStringLiteral("cat/a.jpg") });
        QCOMPARE(d.classes, 0);
        QVERIFY(d.confusionDelta.isEmpty());
    }

    /// `scored_by` names (run files) and the words shown in the app: fixed order, and names parse back.
    void scoreSourceNames()
    {
        const quint16 s = SourceModel | quint16(SourceCrossValBase << 1) | SourceFrozenKFold | SourceNeighbours;
        QCOMPARE(scoreSourceName(s), QStringLiteral("model+cv1+frozen-kfold+neighbours"));
        QCOMPARE(scoreSourceDescription(s),
            QStringLiteral(
                "the fine-tuned model, cross-validation network 2, frozen-feature heads, neighbours' labels"));
        QCOMPARE(scoreSourceName(SourceInSample), QStringLiteral("in-sample"));
        for (int bits = 0; bits < 16; ++bits)
            for (int cv = 0; cv < 3; ++cv) {
                const quint16 v = quint16(bits) | quint16(cv ? (SourceCrossValBase << (cv - 1)) : 0);
                QCOMPARE(parseScoreSource(scoreSourceName(v)), v);
            }
        QCOMPARE(parseScoreSource(QStringLiteral("cv9+bogus")), quint16(0));
    }

    void roundTableShowsIt()
    {
        RoundTableModel model;
        RoundSummary first;
        first.round = 0;
        model.append(first);
        const QModelIndex none = model.index(0, RoundTableModel::PredictionsChangedColumn);
        QCOMPARE(none.data().toString(), QStringLiteral("–"));
        const QStringList vocab { QStringLiteral("cat"), QStringLiteral("dog") };
        const RoundDiff d = compareRounds(set(vocab, { rec(QStringLiteral("cat/a.jpg"), 0, 1) }),
            set(vocab, { rec(QStringLiteral("cat/a.jpg"), 0, 0) }));
        RoundSummary second;
        second.round = 1;
        model.append(second, d);
        const QModelIndex cell = model.index(1, RoundTableModel::PredictionsChangedColumn);
        QCOMPARE(cell.data().toString(), QStringLiteral("1 (+1 / −0)"));
        const QString tip = cell.data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("cat/a.jpg")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("cat predicted as dog: -1")), qPrintable(tip));
    }
};

QTEST_GUILESS_MAIN(TestRoundDiff)
#include "tst_rounddiff.moc"
