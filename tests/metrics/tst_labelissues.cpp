// SPDX-License-Identifier: GPL-3.0-or-later
// Confident learning (core/metrics/labelissues.h) on hand-built score sets whose thresholds, confident joints,
// calibrated joints, estimates and flags are worked out by hand below, then on the demo dataset's planted label errors.
#include <QJsonArray>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/dataset/demogenerator.h"
#include "core/metrics/labelissues.h"

using namespace Winnow;

namespace {

ScoreRecord rec(const QString& file, int given, QVector<float> probs, Split split = Split::Train)
{
    ScoreRecord r;
    r.file = file;
    r.given = given;
    r.split = split;
    r.probs = std::move(probs);
    return r;
}

QVector<int> flagged(const ScoreSet& set)
{
    QVector<int> out;
    for (int i = 0; i < set.records.size(); ++i)
        if (set.records[i].issue)
            out << i;
    return out;
}

} // namespace

class TestLabelIssues : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Three classes, one clear error in a and one in c.
    void threeClasses()
    {
        ScoreSet set;
        set.vocab = { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") };
        set.records = {
            rec("a0", 0, { 0.9f, 0.05f, 0.05f }), // 0
            rec("a1", 0, { 0.8f, 0.1f, 0.1f }), // 1
            rec("a2", 0, { 0.7f, 0.2f, 0.1f }, Split::Valid), // 2
            rec("a3", 0, { 0.05f, 0.9f, 0.05f }), // 3: really b
            rec("b0", 1, { 0.1f, 0.8f, 0.1f }), // 4
            rec("b1", 1, { 0.2f, 0.6f, 0.2f }), // 5: confident for nothing
            rec("b2", 1, { 0.05f, 0.9f, 0.05f }, Split::Valid), // 6
            rec("c0", 2, { 0.1f, 0.1f, 0.8f }), // 7
            rec("c1", 2, { 0.1f, 0.2f, 0.7f }), // 8
            rec("c2", 2, { 0.7f, 0.1f, 0.2f }), // 9: really a
            // Unlabeled (split), even with a label index and probabilities that would be an error: never looked at.
            rec("u0", 0, { 0.0f, 1.0f, 0.0f }, Split::Unlabeled), // 10
            rec("u1", -1, { 0.1f, 0.1f, 0.8f }, Split::Unlabeled), // 11
        };
        // t_a = (.9+.8+.7+.05)/4 = .6125, t_b = (.8+.6+.9)/3 = .7667, t_c = (.8+.7+.2)/3 = .5667 (u0 not counted).
        const ConfidentJoint cj = computeConfidentJoint(set);
        QCOMPARE(cj.labeled, 10);
        QVERIFY(qAbs(cj.thresholds[0] - 0.6125) < 1e-6);
        QVERIFY(qAbs(cj.thresholds[1] - 2.3 / 3) < 1e-6);
        QVERIFY(qAbs(cj.thresholds[2] - 1.7 / 3) < 1e-6);
        // Guesses: a0..a2 -> a, a3 -> b, b0 b2 -> b, b1 none, c0 c1 -> c, c2 -> a. C rows: a [3 1 0], b [0 2 0],
        // c [1 0 2].
        QCOMPARE(cj.guess, (QVector<int> { 0, 0, 0, 1, 1, -1, 1, 2, 2, 0, -1, -1 }));
        QCOMPARE(cj.counts, (QVector<int> { 3, 1, 0, 0, 2, 0, 1, 0, 2 }));
        // Calibrated: row a *4/4, row b *3/2 -> [0 3 0], row c *3/3; total 10 = records.
        QCOMPARE(cj.calibrated, (QVector<int> { 3, 1, 0, 0, 3, 0, 1, 0, 2 }));

        flagLabelIssues(set);
        // Estimate: off-diagonal a3 (a->b) and c2 (c->a), both predicted elsewhere.
        QCOMPARE(set.estimatedErrors, 2);
        QCOMPARE(set.issuePairs, (QVector<int> { 0, 1, 0, 0, 0, 0, 1, 0, 0 }));
        // Flags: given a, the 1 record with the largest p_b - p_a (a3); given c, the 1 with the largest p_a - p_c (c2).
        QCOMPARE(flagged(set), (QVector<int> { 3, 9 }));
        QCOMPARE(set.records[3].suggested, 1);
        QCOMPARE(set.records[9].suggested, 0);
        QCOMPARE(set.records[5].suggested, 1); // not flagged: the predicted class
        QCOMPARE(set.records[0].suggested, 0);
        for (int i : { 10, 11 }) {
            QVERIFY(!set.records[i].issue);
            QCOMPARE(set.records[i].suggested, -1);
        }
        QCOMPARE(flaggedCount(set), 2);
        QCOMPARE(labelIssueSummary(set),
            QStringLiteral("about 2 likely label errors (cleanlab's confident learning): a->b 1, c->a 1"));
        const QJsonObject json = labelIssueSummaryJson(set);
        QCOMPARE(json.value(QStringLiteral("estimated_label_errors")).toInt(), 2);
        QCOMPARE(json.value(QStringLiteral("flagged")).toInt(), 2);
        QCOMPARE(json.value(QStringLiteral("pairs")).toArray().size(), 2);

        // Idempotent, and stale flags are cleared.
        set.records[0].issue = true;
        flagLabelIssues(set);
        QCOMPARE(flagged(set), (QVector<int> { 3, 9 }));
        QCOMPARE(set.estimatedErrors, 2);
    }

    /// Calibration rounds a row up: the flags take 2 records where the estimate counts 1.
    void calibrationRoundsUp()
    {
        ScoreSet set;
        set.vocab = { QStringLiteral("x"), QStringLiteral("y") };
        set.records = {
            rec("s0", 0, { 0.95f, 0.05f }), // 0
            rec("s1", 0, { 0.9f, 0.1f }), // 1
            rec("s2", 0, { 0.1f, 0.9f }), // 2: really y
            rec("s3", 0, { 0.45f, 0.55f }), // 3: unsure
            rec("s4", 0, { 0.4f, 0.6f }), // 4: leans y
            rec("u0", 1, { 0.1f, 0.9f }), // 5
            rec("u1", 1, { 0.4f, 0.6f }), // 6
            rec("u2", 1, { 0.15f, 0.85f }), // 7
        };
        // t_x = (.95+.9+.1+.45+.4)/5 = .56, t_y = (.9+.6+.85)/3 = .7833. s3, s4, u1 are confident for nothing.
        const ConfidentJoint cj = computeConfidentJoint(set);
        QVERIFY(qAbs(cj.thresholds[0] - 0.56) < 1e-6);
        QCOMPARE(cj.guess, (QVector<int> { 0, 0, 1, -1, -1, 1, -1, 1 }));
        QCOMPARE(cj.counts, (QVector<int> { 2, 1, 0, 2 }));
        // Row x: [2 1] * 5/3 = [3.33 1.67] -> [3 2]; row y: [0 2] * 3/2 = [0 3].
        QCOMPARE(cj.calibrated, (QVector<int> { 3, 2, 0, 3 }));

        flagLabelIssues(set);
        QCOMPARE(set.estimatedErrors, 1); // s2 only
        QCOMPARE(set.issuePairs, (QVector<int> { 0, 1, 0, 0 }));
        // Given x, the 2 largest p_y - p_x: s2 (.8) and s4 (.2); both predicted y, so both stay.
        QCOMPARE(flagged(set), (QVector<int> { 2, 4 }));
        QCOMPARE(set.records[2].suggested, 1); // its confident class
        QCOMPARE(set.records[4].suggested, 1); // no confident class: the prediction
        QVERIFY(!set.records[6].issue); // u1 leans to its given label
    }

    /// Several confident classes: cleanlab takes the overall argmax, even one below its own threshold. And a flag
    /// can land on another record than the one counted in the estimate.
    void severalConfidentClasses()
    {
        ScoreSet set;
        set.vocab = { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") };
        set.records = {
            rec("a0", 0, { 0.3f, 0.3f, 0.4f }), // 0: confident for a and b; argmax c
            rec("a1", 0, { 0.25f, 0.05f, 0.7f }), // 1: confident for nothing
            rec("b0", 1, { 0.05f, 0.25f, 0.7f }), // 2: nothing
            rec("b1", 1, { 0.05f, 0.33f, 0.62f }), // 3: b
            rec("c0", 2, { 0.0f, 0.0f, 1.0f }), // 4: c
            rec("c1", 2, { 0.1f, 0.1f, 0.8f }), // 5: nothing (t_c = .9)
        };
        // t_a = .275, t_b = .29, t_c = .9.
        const ConfidentJoint cj = computeConfidentJoint(set);
        QCOMPARE(cj.guess, (QVector<int> { 2, -1, -1, 1, 2, -1 }));
        // Row a [0 0 1] with the diagonal raised to 1.
        QCOMPARE(cj.counts, (QVector<int> { 1, 0, 1, 0, 1, 0, 0, 0, 1 }));
        // Rows scaled to 2 records each: a [1 0 1], b [0 2 0], c [0 0 2].
        QCOMPARE(cj.calibrated, (QVector<int> { 1, 0, 1, 0, 2, 0, 0, 0, 2 }));

        flagLabelIssues(set);
        QCOMPARE(set.estimatedErrors, 1); // a0, as a->c
        QCOMPARE(set.issuePairs.at(0 * 3 + 2), 1);
        // Given a, 1 record with the largest p_c - p_a: a1 (.45 > .1); predicted c, so it stays.
        QCOMPARE(flagged(set), (QVector<int> { 1 }));
        QCOMPARE(set.records[1].suggested, 2);
    }

    /// Nothing labeled: an estimate of 0, no flags; an empty vocab changes nothing but the estimate.
    void degenerate()
    {
        ScoreSet set;
        set.vocab = { QStringLiteral("a"), QStringLiteral("b") };
        set.records = { rec("u", -1, { 0.5f, 0.5f }, Split::Unlabeled) };
        flagLabelIssues(set);
        QCOMPARE(set.estimatedErrors, 0);
        QVERIFY(!set.records[0].issue);
        QCOMPARE(set.records[0].suggested, -1);
        QCOMPARE(labelIssueSummary(set), QStringLiteral("no likely label errors (cleanlab's confident learning)"));

        ScoreSet none;
        QCOMPARE(labelIssueSummary(none), QString()); // not estimated
        flagLabelIssues(none);
        QCOMPARE(none.estimatedErrors, 0);

        // A record whose probabilities do not match the vocab is skipped, not read out of bounds.
        ScoreSet bad;
        bad.vocab = { QStringLiteral("a"), QStringLiteral("b") };
        bad.records = { rec("x", 1, { 1.0f }), rec("y", 0, { 0.9f, 0.1f }), rec("z", 0, { 0.8f, 0.2f }) };
        flagLabelIssues(bad);
        QVERIFY(!bad.records[0].issue);
        QCOMPARE(bad.estimatedErrors, 0);
    }

    /// The demo dataset's planted label errors, with probabilities that know the true class: the flags find them.
    void demoPlantedErrors()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        DemoOptions options;
        options.imageSize = 48;
        options.mislabelFraction = 0.1;
        const DemoResult demo = writeDemoDataset(tmp.filePath(QStringLiteral("demo")), options);
        QVERIFY2(demo.ok(), qPrintable(demo.error));
        ScanOptions so;
        so.verifyImages = false;
        const auto scan = scanDataset(demo.root, so);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        const Dataset& ds = *scan.dataset;

        QHash<QString, QString> trueClass; // planted mislabeled files
        QSet<QString> junk;
        for (const auto& p : demo.problems) {
            if (p.kind == QLatin1String("mislabeled"))
                trueClass.insert(p.file, p.trueClass);
            else
                junk.insert(p.file);
        }
        QVERIFY(trueClass.size() >= 20);

        ScoreSet set;
        set.vocab = ds.vocab;
        const int n = int(ds.vocab.size());
        QRandomGenerator rng(1234);
        auto probsFor = [&](int truth, double low) {
            // p(true) in [low, 0.95], the rest spread at random over the other classes.
            QVector<float> p(n);
            const double top = low + (0.95 - low) * rng.generateDouble();
            double rest = 0;
            QVector<double> w(n);
            for (int j = 0; j < n; ++j)
                if (j != truth)
                    rest += (w[j] = rng.generateDouble() + 1e-3);
            for (int j = 0; j < n; ++j)
                p[j] = float(j == truth ? top : (1 - top) * w[j] / rest);
            return p;
        };
        int unlabeled = 0;
        for (const Sample& s : ds.samples) {
            ScoreRecord r;
            r.file = s.relPath;
            r.split = s.split;
            r.given = s.split == Split::Unlabeled ? -1 : s.label;
            int truth = s.label;
            double low = 0.5;
            if (trueClass.contains(s.relPath)) {
                truth = int(ds.vocab.indexOf(trueClass.value(s.relPath)));
                low = 0.8;
            } else if (junk.contains(s.relPath) || truth < 0) {
                truth = int(rng.bounded(n));
            }
            r.probs = probsFor(truth, low);
            unlabeled += r.given < 0 ? 1 : 0;
            set.records.append(r);
        }
        QVERIFY(unlabeled > 0);

        flagLabelIssues(set);
        int tp = 0, fp = 0;
        for (const auto& r : set.records) {
            if (r.given < 0) {
                QVERIFY2(!r.issue, qPrintable(r.file)); // flags are not computed for unlabeled records
                QCOMPARE(r.suggested, -1);
                continue;
            }
            if (!r.issue || junk.contains(r.file))
                continue;
            if (trueClass.contains(r.file)) {
                ++tp;
                QCOMPARE(set.vocab.value(r.suggested), trueClass.value(r.file));
            } else {
                ++fp;
            }
        }
        const double precision = tp + fp > 0 ? double(tp) / (tp + fp) : 0.0;
        const double recall = double(tp) / trueClass.size();
        qInfo("planted %lld, flagged %d correctly and %d wrongly, estimate %d", qlonglong(trueClass.size()), tp, fp,
            set.estimatedErrors);
        QVERIFY2(precision >= 0.8, qPrintable(QString::number(precision)));
        QVERIFY2(recall >= 0.8, qPrintable(QString::number(recall)));
        QVERIFY(set.estimatedErrors >= recall * trueClass.size() / 2);
    }
};

QTEST_GUILESS_MAIN(TestLabelIssues)
#include "tst_labelissues.moc"
