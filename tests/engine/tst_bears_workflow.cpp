// SPDX-License-Identifier: GPL-3.0-or-later
// The cleaning loop on real photos with planted problems: honest scores rank moved files on top, suggestions for
// unlabeled photos are right, and a retrain after cleaning lowers the valid error. Also the demo dataset's planted
// label errors.
#include "../testutils.h"
#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/demogenerator.h"
#include "core/engine/engine.h"
#include "enginetestutils.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <random>

using namespace Winnow;

namespace {

TrainConfig defaultConfig(const QString& shared)
{
    TrainConfig c; // the defaults (mobilenet_v2, one frozen + one unfrozen epoch) at 128 px to keep CI short
    c.size = 128;
    c.weights = WinnowTest::mobilenetWeights(shared);
    c.device = QStringLiteral("cpu");
    return c;
}

/// Fraction of `planted` files among the N highest-loss labeled records (N = planted.size()).
double topNRecall(const ScoreSet& scores, const QSet<QString>& planted, int* hits = nullptr)
{
    QVector<ScoreRecord> labeled;
    for (const auto& r : scores.records)
        if (r.given >= 0)
            labeled.append(r);
    labeled = sortedByLoss(labeled);
    int found = 0;
    for (int i = 0; i < planted.size() && i < labeled.size(); ++i)
        found += planted.contains(labeled.at(i).file);
    if (hits)
        *hits = found;
    return planted.isEmpty() ? 1.0 : double(found) / planted.size();
}

} // namespace

class TestBearsWorkflow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noisyBears()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QTemporaryDir tmp;
        const QString root = tmp.filePath(QStringLiteral("bears"));
        QVERIFY(WinnowTest::copyTree(shared + QStringLiteral("/datasets/bears-small"), root));
        auto scan = scanDataset(root);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        const QStringList classes = scan.dataset->vocab;
        QStringList files;
        for (const auto& s : scan.dataset->samples)
            files << s.relPath;
        files.sort();

        // Move a random 10% (seed 0) into another class folder; 30 others go to unlabeled/.
        std::mt19937 rng(0);
        std::shuffle(files.begin(), files.end(), rng);
        const int nMoved = files.size() / 10;
        QHash<QString, QString> movedTrueClass; // new relPath -> true class
        QDir dir(root);
        for (int i = 0; i < nMoved; ++i) {
            const QString from = files.at(i);
            const QString cls = from.section(QLatin1Char('/'), 0, 0);
            QString other;
            do {
                other = classes.at(int(rng() % classes.size()));
            } while (other == cls);
            const QString to = other + QLatin1Char('/') + QStringLiteral("moved-") + from.section(QLatin1Char('/'), -1);
            QVERIFY(dir.rename(from, to));
            movedTrueClass.insert(to, cls);
        }
        QVERIFY(dir.mkdir(QStringLiteral("unlabeled")));
        QHash<QString, QString> unlabeledTrue;
        for (int i = nMoved; i < nMoved + 30; ++i) {
            const QString from = files.at(i);
            const QString to = QStringLiteral("unlabeled/") + from.section(QLatin1Char('/'), 0, 0) + QLatin1Char('-')
                + from.section(QLatin1Char('/'), -1);
            QVERIFY(dir.rename(from, to));
            unlabeledTrue.insert(to, from.section(QLatin1Char('/'), 0, 0));
        }

        scan = scanDataset(root);
        QVERIFY(scan.ok());
        const Dataset noisy = *scan.dataset;
        QCOMPARE(noisy.vocab, classes); // unlabeled/ is not a class
        QCOMPARE(noisy.count(Split::Unlabeled), 30);
        QCOMPARE(noisy.count(Split::Train) + noisy.count(Split::Valid), 450);

        Engine engine;
        QElapsedTimer clock;
        clock.start();
        auto st = engine.train(noisy, defaultConfig(shared));
        QVERIFY2(st.ok(), qPrintable(st.message));
        const double errorBefore = engine.runInfo().epochs.constLast().errorRate;
        qInfo("fine-tune on noisy bears: %.1f s, valid error %.4f", clock.elapsed() / 1000.0, errorBefore);
        // Unlabeled files are never trained on and never in the metrics.
        for (const auto& f : engine.runInfo().trainFiles + engine.runInfo().validFiles)
            QVERIFY(!f.startsWith(QLatin1String("unlabeled/")));

        clock.restart();
        ScoreSet honest;
        st = engine.score(noisy, {}, &honest);
        QVERIFY2(st.ok(), qPrintable(st.message));
        qInfo("honest scoring: %.1f s", clock.elapsed() / 1000.0);
        QCOMPARE(honest.records.size(), 480);
        const QSet<QString> planted(movedTrueClass.keyBegin(), movedTrueClass.keyEnd());
        int hits = 0;
        const double recall = topNRecall(honest, planted, &hits);
        ScoreOptions inSample;
        inSample.method = ScoreOptions::Method::InSample;
        ScoreSet fastaiLike;
        QVERIFY(engine.score(noisy, inSample, &fastaiLike).ok());
        qInfo("moved files in the top-%d: honest %d (%.0f%%), in-sample %.0f%%", nMoved, hits, recall * 100,
              topNRecall(fastaiLike, planted) * 100);
        QVERIFY2(recall >= 0.80, qPrintable(QStringLiteral("only %1 of %2 moved files in the top-N").arg(hits).arg(nMoved)));

        // Suggestions for the unlabeled photos.
        int right = 0;
        for (const auto& r : honest.records) {
            if (r.split != Split::Unlabeled)
                continue;
            QCOMPARE(r.given, -1);
            right += honest.vocab.value(r.predicted) == unlabeledTrue.value(r.file);
        }
        qInfo("suggestions right for %d of 30 unlabeled photos", right);
        QVERIFY2(right >= 27, qPrintable(QStringLiteral("%1 of 30 suggestions right").arg(right)));

        // Clean: relabel the moved files to their true class, apply, rescan, quick retrain.
        ScoreSet headBefore;
        RoundSummary roundBefore;
        QVERIFY(engine.retrainHead(noisy, {}, &headBefore, &roundBefore).ok());
        CleaningPlan plan = CleaningPlan::forDataset(noisy);
        for (auto it = movedTrueClass.cbegin(); it != movedTrueClass.cend(); ++it)
            QVERIFY(plan.relabel(it.key(), it.value()));
        const auto applied = Cleaning::applyPlan(root, plan);
        QVERIFY2(applied.ok, qPrintable(applied.message()));
        scan = scanDataset(root);
        QVERIFY(scan.ok());
        clock.restart();
        ScoreSet after;
        RoundSummary round;
        st = engine.retrainHead(*scan.dataset, {}, &after, &round);
        QVERIFY2(st.ok(), qPrintable(st.message));
        qInfo("retrain after clean: %.2f s in all (%.2f s in the engine); valid error %.4f -> %.4f",
              clock.elapsed() / 1000.0, round.seconds, roundBefore.errorRate, round.errorRate);
        QVERIFY(round.errorRate < roundBefore.errorRate);
        QVERIFY(round.errorRate < errorBefore);
    }

    void demoPlantedErrors()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QTemporaryDir tmp;
        const QString root = tmp.filePath(QStringLiteral("demo"));
        const auto demo = writeDemoDataset(root);
        QVERIFY2(demo.ok(), qPrintable(demo.error));
        QSet<QString> planted;
        for (const auto& p : demo.problems)
            if (p.kind == QLatin1String("mislabeled"))
                planted.insert(p.file);
        QVERIFY(planted.size() >= 5);
        const auto scan = scanDataset(root);
        QVERIFY(scan.ok());
        Engine engine;
        auto st = engine.train(*scan.dataset, defaultConfig(shared));
        QVERIFY2(st.ok(), qPrintable(st.message));
        ScoreSet scores;
        QVERIFY(engine.score(*scan.dataset, {}, &scores).ok());
        int hits = 0;
        const double recall = topNRecall(scores, planted, &hits);
        qInfo("demo: %d of %d planted mislabels in the top-N (valid error %.4f)", hits, int(planted.size()),
              engine.runInfo().epochs.constLast().errorRate);
        QVERIFY(recall >= 0.80);
    }
};

QTEST_GUILESS_MAIN(TestBearsWorkflow)
#include "tst_bears_workflow.moc"
