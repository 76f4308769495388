// SPDX-License-Identifier: GPL-3.0-or-later
// TrainingController: signal order, busy refusal, cancellation within a batch, dropped late results; the engine with
// files deleted while it trains.
#include <cmath>

#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/engine/engine.h"
#include "core/engine/run.h"
#include "core/engine/trainingcontroller.h"
#include "tests/syntheticdataset.h"

using namespace Winnow;

class TestTrainingController : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    Dataset m_dataset;

    TrainConfig tinyConfig() const
    {
        TrainConfig c;
        c.arch = QStringLiteral("tiny"); // the whole path of a fine-tune, in a fraction of a ResNet's time
        c.size = 32;
        c.batchSize = 8;
        c.epochs = 1;
        c.freezeEpochs = 1;
        c.device = QStringLiteral("cpu");
        c.threads = 2;
        return c;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Three classes of colours under noise (each class its own colour): blue/, green/, red/ with img0..img15.png.
        const auto written = WinnowTest::writeDataset({ .root = m_dir.path(),
            .classes = { "blue", "green", "red" },
            .perClass = 16,
            .size = QSize(48, 48),
            .colours = { QColor(Qt::blue), QColor(Qt::green), QColor(Qt::red) },
            .noise = 60,
            .trainName = "img{i}" });
        QVERIFY2(written.ok(), qPrintable(written.error));
        auto scan = scanDataset(m_dir.path());
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        m_dataset = *scan.dataset;
        QCOMPARE(m_dataset.vocab.size(), 3);
    }

    void signalOrder()
    {
        TrainingController controller;
        QStringList order;
        connect(&controller, &TrainingController::started, this, [&] { order << QStringLiteral("started"); });
        connect(&controller, &TrainingController::progress, this, [&] {
            if (order.isEmpty() || order.constLast() != QLatin1String("progress"))
                order << QStringLiteral("progress");
        });
        connect(&controller, &TrainingController::epochFinished, this, [&] { order << QStringLiteral("epoch"); });
        connect(&controller, &TrainingController::scoresReady, this, [&] { order << QStringLiteral("scores"); });
        connect(&controller, &TrainingController::roundFinished, this, [&] { order << QStringLiteral("round"); });
        connect(&controller, &TrainingController::finished, this, [&] { order << QStringLiteral("finished"); });
        connect(&controller, &TrainingController::failed, this,
            [&](quint64, const QString& m) { order << QStringLiteral("failed: ") + m; });
        QSignalSpy done(&controller, &TrainingController::finished);
        QSignalSpy scores(&controller, &TrainingController::scoresReady);
        QSignalSpy issues(&controller, &TrainingController::dataIssuesReady);

        QTemporaryDir runs;
        QVERIFY(runs.isValid());
        const QString runDir = runs.filePath(QStringLiteral("run"));
        const quint64 job = controller.train(m_dataset, tinyConfig(), runDir);
        QVERIFY(job != 0);
        QVERIFY(controller.isBusy());
        QCOMPARE(controller.train(m_dataset, tinyConfig()), quint64(0)); // refused while busy
        QVERIFY2(done.wait(240000), qPrintable(order.join(QStringLiteral(", "))));
        QVERIFY(!controller.isBusy());

        // Progress comes before each epoch row (training batches) and may come while scoring.
        QCOMPARE(order.value(1), QStringLiteral("progress"));
        QStringList milestones = order;
        milestones.removeAll(QStringLiteral("progress"));
        const QStringList expected { QStringLiteral("started"), QStringLiteral("epoch"), QStringLiteral("epoch"),
            QStringLiteral("scores"), QStringLiteral("round"), QStringLiteral("finished") };
        QCOMPARE(milestones, expected);
        const auto set = scores.at(0).at(1).value<ScoreSet>();
        QCOMPARE(set.records.size(), m_dataset.count(Split::Train) + m_dataset.count(Split::Valid));
        for (const auto& r : set.records) {
            QCOMPARE(r.probs.size(), 3);
            QVERIFY(r.loss >= 0);
            QVERIFY(r.pPredicted >= r.pGiven - 1e-9);
        }

        // The data-issue detectors ran after the scores, on the run's own features.
        QCOMPARE(issues.count(), 1);
        const auto report = issues.at(0).at(1).value<DataIssueReport>();
        QCOMPARE(report.files.size(), m_dataset.size());
        QVERIFY(report.usedPixels);
        QVERIFY(report.usedFeatures);
        QCOMPARE(issues.at(0).at(2).toString(), m_dataset.root);

        // A second round on the same worker: head retrain reuses the model.
        QSignalSpy round(&controller, &TrainingController::roundFinished);
        QVERIFY(controller.retrainHead(m_dataset) != 0);
        QVERIFY(round.wait(120000));
        QCOMPARE(round.at(0).at(1).value<RoundSummary>().round, 1);
        // The run folder follows the new round (what Export writes).
        QCOMPARE(scores.constLast().at(1).value<ScoreSet>().runDir, runDir);
        QString error;
        const auto info = readRunInfo(runDir, &error);
        QVERIFY2(info, qPrintable(error));
        QVERIFY(!info->rounds.isEmpty());
        QCOMPARE(info->rounds.constLast().round, 1);
    }

    /// The Issues page's check before any training: pixels always, features from the default pretrained weights
    /// when there are some; it leaves no model behind.
    void dataIssuesWithoutAModel()
    {
        TrainingController controller;
        QSignalSpy issues(&controller, &TrainingController::dataIssuesReady);
        QSignalSpy done(&controller, &TrainingController::finished);
        const quint64 job = controller.findDataIssues(m_dataset);
        QVERIFY(job != 0);
        QCOMPARE(controller.findDataIssues(m_dataset), quint64(0)); // one job at a time
        QVERIFY(done.wait(120000));
        QCOMPARE(issues.count(), 1);
        QCOMPARE(issues.at(0).at(0).toULongLong(), job);
        const auto report = issues.at(0).at(1).value<DataIssueReport>();
        QCOMPARE(report.files.size(), m_dataset.size());
        QVERIFY(report.usedPixels);
        QCOMPARE(report.counts[int(DataIssue::ExactDuplicate)], 0);
        QCOMPARE(controller.score(m_dataset), quint64(0)); // still no model to score with
    }

    /// A cancel after the scores came out only stops the job's extras: the job finishes, with its round, and the
    /// model is there to score with.
    void cancelAfterTheScoresFinishes()
    {
        TrainingController controller;
        QSignalSpy finished(&controller, &TrainingController::finished);
        QSignalSpy cancelled(&controller, &TrainingController::cancelled);
        QSignalSpy round(&controller, &TrainingController::roundFinished);
        connect(&controller, &TrainingController::scoresReady, &controller, [&] { controller.cancel(); });
        QVERIFY(controller.train(m_dataset, tinyConfig()) != 0);
        QVERIFY(finished.wait(240000));
        QCOMPARE(cancelled.count(), 0);
        QCOMPARE(round.count(), 1);
        QSignalSpy scored(&controller, &TrainingController::finished);
        QVERIFY(controller.score(m_dataset) != 0); // the model is there
        QVERIFY(scored.wait(120000));
    }

    void cancelWithinABatch()
    {
        TrainingController controller;
        QSignalSpy cancelled(&controller, &TrainingController::cancelled);
        QSignalSpy finished(&controller, &TrainingController::finished);
        QSignalSpy epochs(&controller, &TrainingController::epochFinished);
        bool asked = false;
        connect(&controller, &TrainingController::progress, this, [&] {
            if (!asked) {
                asked = true;
                controller.cancel();
            }
        });
        auto cfg = tinyConfig();
        cfg.epochs = 3;
        QVERIFY(controller.train(m_dataset, cfg) != 0);
        QVERIFY(cancelled.wait(120000));
        QVERIFY(asked);
        QCOMPARE(cancelled.count(), 1);
        QTest::qWait(200);
        QCOMPARE(finished.count(), 0); // late results of the cancelled job are dropped
        QCOMPARE(epochs.count(), 0); // cancelled during the first epoch
        QVERIFY(!controller.isBusy());
        QCOMPARE(controller.score(m_dataset), quint64(0)); // no model after a cancelled first run
    }

    void failsCleanly()
    {
        TrainingController controller;
        QSignalSpy failed(&controller, &TrainingController::failed);
        auto cfg = tinyConfig();
        cfg.weights = m_dir.filePath(QStringLiteral("missing.safetensors"));
        QVERIFY(controller.train(m_dataset, cfg) != 0);
        QVERIFY(failed.wait(60000));
        QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        auto cfg2 = tinyConfig();
        cfg2.arch = QStringLiteral("vgg11");
        QVERIFY(controller.train(m_dataset, cfg2) != 0);
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.at(1).at(1).toString().contains(QLatin1String("vgg11")));
    }

    /// After the first epoch a train file is deleted and a valid file is overwritten with garbage: later epochs train
    /// and validate without them (one image fewer each, never a blank one), the run lists them, and the scores have
    /// no record for them.
    void filesDeletedDuringTraining()
    {
        QTemporaryDir copy;
        QVERIFY(copy.isValid());
        for (const Sample& s : m_dataset.samples) {
            QVERIFY(QDir(copy.path()).mkpath(QFileInfo(s.relPath).path()));
            QVERIFY(QFile::copy(m_dataset.absolutePath(s), QDir(copy.path()).filePath(s.relPath)));
        }
        auto scan = scanDataset(copy.path());
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        const Dataset ds = *scan.dataset;
        QString trainFile, validFile;
        int nTrain = 0, nValid = 0;
        for (const Sample& s : ds.samples) {
            QString& pick = s.split == Split::Train ? trainFile : validFile;
            (s.split == Split::Train ? nTrain : nValid)++;
            if (pick.isEmpty())
                pick = s.relPath;
        }
        QVERIFY(!trainFile.isEmpty() && !validFile.isEmpty());
        QCOMPARE(nTrain + nValid, 48);

        auto cfg = tinyConfig();
        cfg.batchSize = nTrain; // one full batch per epoch: every readable train image is seen each epoch
        cfg.epochs = 2;
        Engine engine;
        EngineCallbacks cb;
        int epochs = 0;
        cb.epoch = [&](const EpochStats&) {
            if (epochs++ == 0) {
                QFile::remove(QDir(copy.path()).filePath(trainFile));
                QFile damaged(QDir(copy.path()).filePath(validFile));
                if (damaged.open(QIODevice::WriteOnly | QIODevice::Truncate))
                    damaged.write("\x89PNG\r\n\x1a\n not any more");
            }
        };
        const auto st = engine.train(ds, cfg, cb);
        QVERIFY2(st.ok(), qPrintable(st.message));
        const auto& rows = engine.runInfo().epochs;
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows.at(0).trainSamples, nTrain);
        QCOMPARE(rows.at(0).validSamples, nValid);
        for (int e = 1; e < 3; ++e) {
            // A batch of nTrain - 1 readable images: the deleted one is left out, not fed as zeros.
            QCOMPARE(rows.at(e).trainSamples, nTrain - 1);
            QCOMPARE(rows.at(e).validSamples, nValid - 1);
            QVERIFY(std::isfinite(rows.at(e).validLoss));
            const double wrong = rows.at(e).errorRate * (nValid - 1);
            QVERIFY2(std::abs(wrong - std::round(wrong)) < 1e-6, "the error rate averages over the readable files");
        }
        QStringList deleted { trainFile, validFile };
        deleted.sort();
        QCOMPARE(engine.runInfo().unreadableFiles, deleted);

        QTemporaryDir runDir;
        QVERIFY(engine.saveRun(runDir.path()).ok());
        QString error;
        const auto info = readRunInfo(runDir.path(), &error);
        QVERIFY2(info, qPrintable(error));
        QCOMPARE(info->unreadableFiles, engine.runInfo().unreadableFiles);
        QCOMPARE(info->epochs.at(1).validSamples, nValid - 1);

        ScoreSet scores;
        const auto sst = engine.score(ds, ScoreOptions {}, &scores);
        QVERIFY2(sst.ok(), qPrintable(sst.message));
        QCOMPARE(scores.unreadable, engine.runInfo().unreadableFiles);
        QCOMPARE(int(scores.records.size()), ds.size() - 2);
        for (const ScoreRecord& r : scores.records)
            QVERIFY(r.file != trainFile && r.file != validFile);
    }
};

QTEST_MAIN(TestTrainingController)
#include "tst_trainingcontroller.moc"
