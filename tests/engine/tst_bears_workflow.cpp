// SPDX-License-Identifier: GPL-3.0-or-later
// The cleaning loop on real photos with planted problems: honest scores rank moved files on top, suggestions for
// unlabeled photos are right, and a retrain after cleaning lowers the valid error. Also the demo dataset's planted
// label errors.
#include <algorithm>
#include <cmath>
#include <random>

#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "../testutils.h"
#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/demogenerator.h"
#include "core/engine/engine.h"
#include "enginetestutils.h"

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

/// The person's review of bears-small beside the shared folder: file -> verdict ("wrong", "junk", "ambiguous").
QHash<QString, QString> readReview(const QString& shared)
{
    QHash<QString, QString> out;
    QFile f(shared + QStringLiteral("/datasets/bears-small.review.tsv"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1String("file\t")))
            continue;
        const auto parts = line.split(QLatin1Char('\t'));
        if (parts.size() >= 2)
            out.insert(parts.at(0), parts.at(1));
    }
    return out;
}

/// recall@N as the label-noise benchmark counts it on bears-small: the errors are the moved files plus the files the
/// review marks wrong (N = their number); files it marks junk or ambiguous are left out of the ranking.
double reviewedRecall(
    const ScoreSet& scores, const QSet<QString>& moved, const QHash<QString, QString>& review, int* errors = nullptr)
{
    QSet<QString> wrong = moved;
    QVector<ScoreRecord> ranked;
    for (const auto& r : scores.records) {
        if (r.given < 0)
            continue;
        const QString verdict = review.value(r.file);
        if (verdict == QLatin1String("junk") || verdict == QLatin1String("ambiguous"))
            continue;
        if (verdict == QLatin1String("wrong"))
            wrong.insert(r.file);
        ranked.append(r);
    }
    ranked = sortedByLoss(ranked);
    int found = 0;
    for (int i = 0; i < wrong.size() && i < ranked.size(); ++i)
        found += wrong.contains(ranked.at(i).file);
    if (errors)
        *errors = int(wrong.size());
    return wrong.isEmpty() ? 1.0 : double(found) / wrong.size();
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
        ScoreOptions frozenOptions;
        frozenOptions.method = ScoreOptions::Method::FrozenKFold;
        ScoreSet frozen;
        QVERIFY(engine.score(noisy, frozenOptions, &frozen).ok());
        const double frozenRecall = topNRecall(frozen, planted);
        qInfo("moved files in the top-%d: honest %d (%.0f%%), frozen-feature K-fold %.0f%%, in-sample %.0f%%", nMoved,
            hits, recall * 100, frozenRecall * 100, topNRecall(fastaiLike, planted) * 100);
        // Counted as the label-noise benchmark counts bears-small: the review's plainly wrong labels are errors too,
        // its junk and ambiguous images stay out of the ranking.
        const auto review = readReview(shared);
        QVERIFY2(!review.isEmpty(), "bears-small.review.tsv is missing beside the shared dataset");
        int errors = 0;
        const double reviewed = reviewedRecall(honest, planted, review, &errors);
        const double frozenReviewed = reviewedRecall(frozen, planted, review);
        ScoreOptions withoutNeighbours;
        withoutNeighbours.neighbourWeight = 0;
        ScoreSet noNeighbours;
        QVERIFY(engine.score(noisy, withoutNeighbours, &noNeighbours).ok());
        qInfo("with the review's %d wrong labels (N = %d): honest recall@N %.3f (without the neighbours' labels "
              "%.3f), frozen-feature K-fold %.3f",
            errors - nMoved, errors, reviewed, reviewedRecall(noNeighbours, planted, review), frozenReviewed);
        QVERIFY2(reviewed >= 0.90, qPrintable(QStringLiteral("recall@N %1 < 0.90").arg(reviewed)));
        QVERIFY2(reviewed > frozenReviewed,
            qPrintable(QStringLiteral("the default scorer (%1) does not beat the frozen-feature baseline (%2)")
                           .arg(reviewed)
                           .arg(frozenReviewed)));

        // No score comes from a network that trained on that image: check every record against what the run
        // says each network trained on (by content).
        QTemporaryDir runDir;
        QVERIFY2(engine.saveRun(runDir.path()).ok(), "saveRun");
        QHash<QByteArray, QSet<QString>> trainedBy = WinnowTest::readTrainedKeys(runDir.path());
        QVERIFY(trainedBy.contains("model"));
        QVERIFY(trainedBy.contains("cv0") && trainedBy.contains("cv1"));
        int checked = 0;
        for (const auto& r : honest.records) {
            const QString key = QString::fromLatin1(WinnowTest::md5Hex(noisy.absolutePath(noisy.findSample(r.file))));
            QVERIFY2(r.source != 0, qPrintable(r.file));
            QVERIFY2(!(r.source & SourceInSample), qPrintable(r.file));
            if (r.source & SourceModel)
                QVERIFY2(!trainedBy.value("model").contains(key), qPrintable(r.file));
            for (int k = 0; k < 2; ++k)
                if (r.source & (SourceCrossValBase << k))
                    QVERIFY2(!trainedBy.value("cv" + QByteArray::number(k)).contains(key), qPrintable(r.file));
            if (r.split == Split::Train)
                QVERIFY2(!(r.source & SourceModel), qPrintable(r.file)); // the model trained on every train file
            ++checked;
        }
        QCOMPARE(checked, 480);

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

        // Clean: relabel the moved files to their true class, apply, rescan, quick retrain. First what the GUI does
        // while the user reviews the scores: compute the features a retrain reads and the scores did not need.
        QVERIFY(engine.prepareRetrain(noisy).ok());
        ScoreSet headBefore;
        RoundSummary roundBefore;
        QVERIFY(engine.retrainHead(noisy, {}, &headBefore, &roundBefore).ok());
        // With nothing changed, the refitted last layer keeps what fine-tuning learnt: on the same cached features of
        // the same validation files, the fine-tuned layer and the refitted one make (nearly) the same mistakes.
        qInfo("head retrain on unchanged data: valid error %.4f (fine-tune's epoch table %.4f; on the cached "
              "features: fine-tuned layer %.4f, refitted %.4f on %d files), %d files changed",
            roundBefore.errorRate, errorBefore, roundBefore.previousErrorOnCompared, roundBefore.errorOnCompared,
            roundBefore.compared, roundBefore.filesChanged);
        QVERIFY(roundBefore.compared > 0);
        QVERIFY(std::abs(roundBefore.errorOnCompared - roundBefore.previousErrorOnCompared) <= 0.0105);
        QVERIFY(std::abs(roundBefore.errorRate - errorBefore) <= 0.0105);
        QCOMPARE(roundBefore.filesChanged, 0);
        QCOMPARE(roundBefore.round, 1);
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
        QCOMPARE(round.filesChanged, nMoved); // each relabelled file counts once
        QCOMPARE(round.round, 2);
        QVERIFY(round.compared > 0);
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
