// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>
#include <limits>

#include <QAbstractItemModelTester>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QValueAxis>

#include "core/engine/trainingcontroller.h"
#include "tests/testhttpserver.h"
#include "tests/testutils.h"
#include "ui/training/lossplot.h"
#include "ui/training/trainingmodels.h"
#include "ui/training/trainingpanel.h"
#include "ui/training/weightspicker.h"

using namespace Winnow;

namespace {

Dataset twoClassDataset(const QString& root = QStringLiteral("/data/two"))
{
    Dataset ds;
    ds.root = root;
    ds.vocab = { QStringLiteral("a"), QStringLiteral("b") };
    for (int i = 0; i < 10; ++i) {
        Sample s;
        s.relPath = QStringLiteral("%1/%2.jpg").arg(i < 5 ? QStringLiteral("a") : QStringLiteral("b")).arg(i);
        s.label = i < 5 ? 0 : 1;
        s.split = i % 5 == 0 ? Split::Valid : Split::Train;
        ds.samples.append(s);
    }
    return ds;
}

EpochStats epoch(int n, double train, double valid, double error)
{
    EpochStats e;
    e.epoch = n;
    e.stage = n == 0 ? 0 : 1;
    e.trainLoss = train;
    e.validLoss = valid;
    e.errorRate = error;
    e.accuracy = 1 - error;
    e.seconds = 12.4;
    return e;
}

} // namespace

class TestTrainingPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("WinnowTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_trainingpanel"));
    }

    void lossPlot()
    {
        LossPlot plot;
        plot.reset(5);
        QCOMPARE(plot.epochAxis()->max(), 5.0);
        QCOMPARE(plot.lossAxis()->max(), 1.0);
        plot.addTrainPoint(0.5, 2.34);
        plot.addTrainPoint(0.6, std::nan("")); // not drawn
        plot.addValidPoint(1, 1.2);
        plot.addValidPoint(2, std::numeric_limits<double>::infinity());
        QCOMPARE(plot.trainSeries()->count(), 1);
        QCOMPARE(plot.validSeries()->count(), 1);
        QVERIFY(plot.lossAxis()->max() >= 2.34); // fits the largest loss, rounded up
        QVERIFY(plot.lossAxis()->max() < 2.34 * 1.2);
        plot.addTrainPoint(0.7, 0.5);
        QVERIFY(plot.lossAxis()->max() >= 2.34); // never shrinks while a curve is drawn
        plot.reset(0);
        QCOMPARE(plot.trainSeries()->count(), 0);
        QCOMPARE(plot.epochAxis()->max(), 1.0); // at least one epoch
        QCOMPARE(plot.lossAxis()->max(), 1.0);
    }

    void widgetsExist()
    {
        TrainingController controller;
        TrainingPanel panel(&controller);
        for (const char* name : { "archCombo", "weightsEdit", "sizeSpin", "batchSpin", "epochsSpin", "validPctSpin",
                 "seedSpin", "deviceCombo", "startButton", "cancelButton", "retrainButton", "progressBar", "epochTable",
                 "roundTable", "lossChart" })
            QVERIFY2(panel.findChild<QWidget*>(QString::fromLatin1(name)), name);

        auto* arch = panel.findChild<QComboBox*>(QStringLiteral("archCombo"));
        QStringList archs;
        for (int i = 0; i < arch->count(); ++i)
            archs << arch->itemText(i);
        QCOMPARE(archs,
            (QStringList { QStringLiteral("resnet18"), QStringLiteral("resnet34"), QStringLiteral("resnet50"),
                QStringLiteral("mobilenet_v2") }));

        // fastai-like defaults.
        const TrainConfig c = panel.config();
        QCOMPARE(c.arch, QStringLiteral("mobilenet_v2"));
        QCOMPARE(c.size, 224); // fastai's default size
        QCOMPARE(c.batchSize, 32);
        QCOMPARE(c.epochs, 1);
        QCOMPARE(c.validPct, 0.2);
        QCOMPARE(c.seed, quint64(42));
        QCOMPARE(c.device, QStringLiteral("auto"));
        QCOMPARE(c.weights, TrainingPanel::defaultWeightsPath(QStringLiteral("mobilenet_v2")));

        TrainConfig other = c;
        other.arch = QStringLiteral("resnet34");
        other.size = 224;
        other.batchSize = 16;
        other.epochs = 3;
        other.validPct = 0.25;
        other.seed = 7;
        other.device = QStringLiteral("cpu");
        other.weights.clear();
        panel.setConfig(other);
        const TrainConfig back = panel.config();
        QCOMPARE(back.arch, other.arch);
        QCOMPARE(back.size, other.size);
        QCOMPARE(back.batchSize, other.batchSize);
        QCOMPARE(back.epochs, other.epochs);
        QCOMPARE(back.validPct, other.validPct);
        QCOMPARE(back.seed, other.seed);
        QCOMPARE(back.device, other.device);
        QVERIFY(back.weights.isEmpty());
        // Empty weights warn about random init.
        QVERIFY(!panel.findChild<QLabel*>(QStringLiteral("weightsWarning"))->isHidden());
    }

    void defaultWeightsFromEnvironment()
    {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("weights"))));
        QFile f(dir.filePath(QStringLiteral("weights/resnet18-imagenet.safetensors")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const QByteArray old = qgetenv("WINNOW_SHARED");
        qputenv("WINNOW_SHARED", dir.path().toLocal8Bit());
        const QString found = TrainingPanel::defaultWeightsPath(QStringLiteral("resnet18"));
        if (old.isNull())
            qunsetenv("WINNOW_SHARED");
        else
            qputenv("WINNOW_SHARED", old);
        QCOMPARE(QFileInfo(found).canonicalFilePath(), QFileInfo(f.fileName()).canonicalFilePath());
        QVERIFY(TrainingPanel::defaultWeightsPath(QStringLiteral("no_such_arch")).isEmpty());
    }

    void startDisabledWhileBusy()
    {
        TrainingController controller;
        TrainingPanel panel(&controller);
        QVERIFY(!panel.startButton()->isEnabled()); // no dataset
        panel.setDataset(twoClassDataset());
        QVERIFY(panel.startButton()->isEnabled());
        QVERIFY(!panel.cancelButton()->isEnabled());
        QVERIFY(!panel.retrainButton()->isEnabled()); // no model yet

        QSignalSpy busy(&panel, &TrainingPanel::busyChanged);
        Q_EMIT controller.started(1, QStringLiteral("train"));
        QVERIFY(panel.isBusy());
        QCOMPARE(busy.count(), 1);
        QVERIFY(!panel.startButton()->isEnabled());
        QVERIFY(!panel.retrainButton()->isEnabled());
        QVERIFY(panel.cancelButton()->isEnabled());
        QVERIFY(!panel.findChild<QSpinBox*>(QStringLiteral("epochsSpin"))->isEnabled());

        Q_EMIT controller.finished(1);
        QVERIFY(!panel.isBusy());
        QVERIFY(panel.startButton()->isEnabled());
        QVERIFY(panel.retrainButton()->isEnabled()); // a model exists now
        QVERIFY(!panel.cancelButton()->isEnabled());

        Q_EMIT controller.started(2, QStringLiteral("retrain"));
        QVERIFY(!panel.startButton()->isEnabled());
        Q_EMIT controller.cancelled(2);
        QVERIFY(panel.startButton()->isEnabled());

        Q_EMIT controller.started(3, QStringLiteral("train"));
        Q_EMIT controller.failed(3, QStringLiteral("out of memory"));
        QVERIFY(panel.startButton()->isEnabled());
        QVERIFY(
            panel.findChild<QLabel*>(QStringLiteral("statusLabel"))->text().contains(QStringLiteral("out of memory")));

        // One class cannot be trained.
        Dataset one = twoClassDataset(QStringLiteral("/data/one"));
        one.vocab = { QStringLiteral("a") };
        panel.setDataset(one);
        QVERIFY(!panel.startButton()->isEnabled());
    }

    void epochRowsAndPlotFollowSignals()
    {
        TrainingController controller;
        TrainingPanel panel(&controller);
        QAbstractItemModelTester epochTester(panel.epochModel());
        QAbstractItemModelTester roundTester(panel.roundModel());
        panel.setDataset(twoClassDataset());
        TrainConfig c = panel.config();
        c.freezeEpochs = 1;
        c.epochs = 2;
        panel.setConfig(c);

        Q_EMIT controller.started(5, QStringLiteral("train"));
        TrainProgress p;
        p.epoch = 0;
        p.totalEpochs = 3;
        p.batchesPerEpoch = 10;
        p.phase = QStringLiteral("train");
        for (int b = 1; b <= 10; ++b) {
            p.batch = b;
            p.smoothLoss = 1.5 - 0.05 * b;
            Q_EMIT controller.progress(5, p);
        }
        QVERIFY(panel.progressBar()->value() > 0);
        QCOMPARE(panel.epochModel()->rowCount(), 0);

        Q_EMIT controller.epochFinished(5, epoch(0, 1.0, 0.8, 0.25));
        QCOMPARE(panel.epochModel()->rowCount(), 1);
        Q_EMIT controller.epochFinished(5, epoch(1, 0.6, 0.5, 0.125));
        QCOMPARE(panel.epochModel()->rowCount(), 2);
        EpochTableModel* m = panel.epochModel();
        QCOMPARE(m->index(1, EpochTableModel::EpochColumn).data().toInt(), 1);
        QCOMPARE(m->index(1, EpochTableModel::TrainLossColumn).data().toString(), QStringLiteral("0.600000"));
        QCOMPARE(m->index(1, EpochTableModel::ValidLossColumn).data().toString(), QStringLiteral("0.500000"));
        QCOMPARE(m->index(1, EpochTableModel::ErrorRateColumn).data().toString(), QStringLiteral("0.125000"));
        QCOMPARE(m->index(1, EpochTableModel::TimeColumn).data().toString(), QStringLiteral("00:12"));
        QCOMPARE(
            m->headerData(EpochTableModel::TrainLossColumn, Qt::Horizontal).toString(), QStringLiteral("train_loss"));

        // The plot has one train point per batch report and one valid point per epoch.
        auto* chart = panel.findChild<QChartView*>(QStringLiteral("lossChart"))->chart();
        const auto series = chart->series();
        QCOMPARE(series.size(), 2);
        QCOMPARE(static_cast<QLineSeries*>(series.at(0))->count(), 10);
        QCOMPARE(static_cast<QLineSeries*>(series.at(1))->count(), 2);

        RoundSummary r;
        r.round = 0;
        r.kind = QStringLiteral("fine-tune");
        r.errorRate = 0.125;
        r.validLoss = 0.5;
        Q_EMIT controller.roundFinished(5, r);
        QCOMPARE(panel.roundModel()->rowCount(), 1);
        QCOMPARE(
            panel.roundModel()->index(0, RoundTableModel::KindColumn).data().toString(), QStringLiteral("fine-tune"));
        Q_EMIT controller.finished(5);
        QCOMPARE(panel.progressBar()->value(), panel.progressBar()->maximum());

        // A head retrain keeps the epoch table; a new training clears it.
        Q_EMIT controller.started(6, QStringLiteral("retrain"));
        QCOMPARE(panel.epochModel()->rowCount(), 2);
        Q_EMIT controller.finished(6);
        Q_EMIT controller.started(7, QStringLiteral("train"));
        QCOMPARE(panel.epochModel()->rowCount(), 0);
        QCOMPARE(panel.roundModel()->rowCount(), 1); // the history stays
        Q_EMIT controller.cancelled(7);
    }

    /// The round history of a dataset: numbers only grow (a second fine-tune is not round 0 again), "Files" counts
    /// each changed file once (as its tooltip and the predictions tooltip say), and the status follows the latest
    /// round, not the first fine-tune's epochs.
    /// Files that could not be read while the job ran are named in the status, for that job only.
    void unreadableFilesAreNamed()
    {
        TrainingController controller;
        TrainingPanel panel(&controller);
        const Dataset ds = twoClassDataset();
        panel.setDataset(ds);
        auto* status = panel.findChild<QLabel*>(QStringLiteral("statusLabel"));
        QVERIFY(status);
        ScoreSet scores;
        scores.datasetRoot = ds.root;
        scores.vocab = ds.vocab;
        scores.unreadable = QStringList { QStringLiteral("a/2.jpg"), QStringLiteral("b/1.jpg") };
        Q_EMIT controller.started(1, QStringLiteral("train"));
        Q_EMIT controller.scoresReady(1, scores);
        Q_EMIT controller.finished(1);
        QVERIFY2(status->toolTip().contains(QLatin1String("2 file")), qPrintable(status->toolTip()));
        QVERIFY2(status->toolTip().contains(QLatin1String("could not be read")), qPrintable(status->toolTip()));
        QVERIFY2(status->toolTip().contains(QLatin1String("a/2.jpg, b/1.jpg")), qPrintable(status->toolTip()));
        QVERIFY2(status->toolTip().contains(QLatin1String("Rescan")), qPrintable(status->toolTip()));
        // The next job (a data-issue search brings no scores) does not repeat the note.
        Q_EMIT controller.started(2, QStringLiteral("find data issues"));
        Q_EMIT controller.finished(2);
        QVERIFY2(!status->toolTip().contains(QLatin1String("could not be read")), qPrintable(status->toolTip()));
    }

    void roundHistoryNumbersAndCounts()
    {
        TrainingController controller;
        TrainingPanel panel(&controller);
        const Dataset ds = twoClassDataset();
        panel.setDataset(ds);
        QCOMPARE(panel.retrainButton()->toolTip(), QStringLiteral("Train a model first"));
        ScoreSet before;
        before.datasetRoot = ds.root;
        before.vocab = ds.vocab;
        for (const Sample& sample : ds.samples) {
            ScoreRecord r;
            r.file = sample.relPath;
            r.given = sample.label;
            r.predicted = sample.label;
            before.records << r;
        }
        const auto round = [](int n, const char* kind, double error) {
            RoundSummary r;
            r.round = n;
            r.kind = QString::fromLatin1(kind);
            r.errorRate = error;
            r.validLoss = error * 2;
            return r;
        };
        Q_EMIT controller.started(1, QStringLiteral("train"));
        Q_EMIT controller.epochFinished(1, epoch(0, 1.0, 0.9, 0.5));
        Q_EMIT controller.scoresReady(1, before);
        Q_EMIT controller.roundFinished(1, round(0, "fine-tune", 0.5));
        Q_EMIT controller.finished(1);
        QVERIFY(panel.retrainButton()->isEnabled());

        // A head retrain after cleaning: a/1.jpg relabelled to b/, a/2.jpg deleted, a new unlabeled file.
        ScoreSet after = before;
        after.records.removeIf([](const ScoreRecord& r) { return r.file == QLatin1String("a/2.jpg"); });
        for (ScoreRecord& r : after.records)
            if (r.file == QLatin1String("a/1.jpg")) {
                r.file = QStringLiteral("b/1.jpg");
                r.given = 1;
            }
        ScoreRecord fresh;
        fresh.file = QStringLiteral("unlabeled/new.jpg");
        fresh.predicted = 0;
        after.records << fresh;
        Q_EMIT controller.started(2, QStringLiteral("retrain"));
        Q_EMIT controller.scoresReady(2, after);
        Q_EMIT controller.roundFinished(2, round(1, "head retrain", 0.25));
        Q_EMIT controller.finished(2);
        RoundTableModel* m = panel.roundModel();
        QCOMPARE(m->rowCount(), 2);
        QCOMPARE(m->index(1, RoundTableModel::FilesChangedColumn).data().toInt(), 3);
        const QString tip = m->index(1, RoundTableModel::PredictionsChangedColumn).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QLatin1String("3 files changed (1 removed, 1 moved, 1 added)")), qPrintable(tip));
        QVERIFY(m->index(1, RoundTableModel::FilesChangedColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QLatin1String("1 removed, 1 moved, 1 added")));

        // The engine numbers a new fine-tune 0 again: the history goes on with 2.
        Q_EMIT controller.started(3, QStringLiteral("train"));
        Q_EMIT controller.scoresReady(3, after);
        Q_EMIT controller.roundFinished(3, round(0, "fine-tune", 0.125));
        Q_EMIT controller.finished(3);
        QCOMPARE(m->rowCount(), 3);
        QCOMPARE(m->index(0, RoundTableModel::RoundColumn).data().toInt(), 0);
        QCOMPARE(m->index(1, RoundTableModel::RoundColumn).data().toInt(), 1);
        QCOMPARE(m->index(2, RoundTableModel::RoundColumn).data().toInt(), 2);
        QCOMPARE(m->index(2, RoundTableModel::FilesChangedColumn).data().toInt(), 0);
        const QString status = panel.findChild<QLabel*>(QStringLiteral("statusLabel"))->text();
        QVERIFY2(
            status.contains(QLatin1String("round 2")) && status.contains(QLatin1String("0.1250")), qPrintable(status));

        // Results of a job for another folder (opened meanwhile) stay out of this folder's history.
        panel.setDataset(twoClassDataset(QStringLiteral("/data/other")));
        QCOMPARE(m->rowCount(), 0);
        QVERIFY(!panel.hasModel());
        panel.setDataset(ds);
        Q_EMIT controller.started(4, QStringLiteral("train"));
        panel.setDataset(twoClassDataset(QStringLiteral("/data/third")));
        Q_EMIT controller.roundFinished(4, round(0, "fine-tune", 0.1));
        Q_EMIT controller.finished(4);
        QCOMPARE(m->rowCount(), 0);
        QVERIFY(!panel.hasModel());
    }

    /// The catalogue menu: an entry not yet cached is downloaded (from a server on 127.0.0.1) with a progress bar,
    /// Start is disabled meanwhile, and the weights field then holds the cached file; a second pick uses the cache.
    void catalogueDownload()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QFile weights(shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors"));
        QVERIFY(weights.open(QIODevice::ReadOnly));
        WinnowTest::TinyHttpServer server(weights.readAll());
        QVERIFY(server.listen());
        QTemporaryDir dir;
        const QString catalogue = dir.filePath(QStringLiteral("catalogue.json"));
        QFile f(catalogue);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral("[{\"id\": \"mnv2.panel\", \"arch\": \"mobilenet_v2\", \"title\": \"Test MobileNetV2\", "
                               "\"url\": \"%1\"}, {\"id\": \"broken\", \"arch\": \"mobilenet_v2\", \"url\": \"%2\"}]")
                    .arg(server.url(QStringLiteral("good")), server.url(QStringLiteral("missing")))
                    .toUtf8());
        f.close();
        qputenv("WINNOW_WEIGHTS_CATALOGUE", catalogue.toLocal8Bit());
        qputenv("WINNOW_CACHE_DIR", dir.filePath(QStringLiteral("cache")).toLocal8Bit());
        const auto restore = qScopeGuard([] {
            qunsetenv("WINNOW_WEIGHTS_CATALOGUE");
            qunsetenv("WINNOW_CACHE_DIR");
        });

        TrainingController controller;
        TrainingPanel panel(&controller);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.findChild<QComboBox*>(QStringLiteral("archCombo"))->setCurrentText(QStringLiteral("mobilenet_v2"));
        QMetaObject::invokeMethod(panel.catalogueMenu(), "aboutToShow");
        QAction* pick = nullptr;
        for (QAction* a : panel.catalogueMenu()->actions())
            if (a->data().toString() == QLatin1String("mnv2.panel"))
                pick = a;
        QVERIFY(pick);
        QVERIFY(pick->text().contains(QLatin1String("(download)")));
        QSignalSpy downloaded(&panel, &TrainingPanel::weightsDownloaded);
        QSignalSpy failed(&panel, &TrainingPanel::weightsDownloadFailed);
        pick->trigger();
        QVERIFY(panel.isDownloading());
        QVERIFY(panel.findChild<QProgressBar*>(QStringLiteral("downloadBar"))->isVisible());
        QVERIFY(!panel.startButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!downloaded.isEmpty() || !failed.isEmpty(), 60000);
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
        const QString path = downloaded.first().at(0).toString();
        QCOMPARE(path, dir.filePath(QStringLiteral("cache/weights/mnv2.panel.safetensors")));
        QCOMPARE(QFileInfo(path).size(), weights.size());
        QCOMPARE(panel.config().weights, path);
        QVERIFY(!panel.findChild<QProgressBar*>(QStringLiteral("downloadBar"))->isVisible());

        // Cached now: the menu says so and picking it needs no server.
        QMetaObject::invokeMethod(panel.catalogueMenu(), "aboutToShow");
        for (QAction* a : panel.catalogueMenu()->actions())
            if (a->data().toString() == QLatin1String("mnv2.panel"))
                QVERIFY(a->text().contains(QLatin1String("(downloaded)")));
        const int requests = server.requests;
        panel.findChild<QLineEdit*>(QStringLiteral("weightsEdit"))->clear();
        QVERIFY(panel.useCatalogueWeights(QStringLiteral("mnv2.panel")));
        QCOMPARE(panel.config().weights, path);
        QCOMPARE(server.requests, requests);

        // A failing entry says why and leaves the field alone.
        QVERIFY(panel.useCatalogueWeights(QStringLiteral("broken")));
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 60000);
        QVERIFY(failed.first().at(0).toString().contains(QLatin1String("404")));
        QCOMPARE(panel.config().weights, path);
        QVERIFY(!panel.useCatalogueWeights(QStringLiteral("no-such-id")));

        // The menu also offers the local ImageNet file and "no weights".
        QMetaObject::invokeMethod(panel.catalogueMenu(), "aboutToShow");
        QAction* local = nullptr;
        QAction* none = nullptr;
        for (QAction* a : panel.catalogueMenu()->actions()) {
            if (a->text().startsWith(QLatin1String("Local ImageNet weights")))
                local = a;
            if (a->text() == QLatin1String("No Pretrained Weights"))
                none = a;
        }
        QVERIFY(local && none);
        none->trigger();
        QVERIFY(panel.config().weights.isEmpty());
        local->trigger();
        QCOMPARE(panel.config().weights, TrainingPanel::defaultWeightsPath(QStringLiteral("mobilenet_v2")));
    }

    /// The weights picker alone: the default follows the architecture until the user types a path of their own, the
    /// warning names an empty field, a missing file and a wrong kind of file, and a cached catalogue entry of another
    /// architecture asks for that architecture and is used without a download.
    void weightsPicker()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("shared/weights"))));
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("cache/weights"))));
        const auto touch = [](const QString& path) {
            QFile f(path);
            return f.open(QIODevice::WriteOnly) && f.write("x") == 1;
        };
        QVERIFY(touch(dir.filePath(QStringLiteral("shared/weights/resnet18-imagenet.safetensors"))));
        QVERIFY(touch(dir.filePath(QStringLiteral("shared/weights/resnet34-imagenet.safetensors"))));
        const QString cached = dir.filePath(QStringLiteral("cache/weights/r50.picker.safetensors"));
        QVERIFY(touch(cached)); // "downloaded" before: picking it needs no server
        QFile f(dir.filePath(QStringLiteral("catalogue.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[{\"id\": \"r50.picker\", \"arch\": \"resnet50\", \"title\": \"Test ResNet-50\", "
                "\"url\": \"https://example.invalid/r50.safetensors\"}]");
        f.close();
        const QByteArray oldShared = qgetenv("WINNOW_SHARED");
        qputenv("WINNOW_SHARED", dir.filePath(QStringLiteral("shared")).toLocal8Bit());
        qputenv("WINNOW_WEIGHTS_CATALOGUE", f.fileName().toLocal8Bit());
        qputenv("WINNOW_CACHE_DIR", dir.filePath(QStringLiteral("cache")).toLocal8Bit());
        const auto restore = qScopeGuard([oldShared] {
            if (oldShared.isNull())
                qunsetenv("WINNOW_SHARED");
            else
                qputenv("WINNOW_SHARED", oldShared);
            qunsetenv("WINNOW_WEIGHTS_CATALOGUE");
            qunsetenv("WINNOW_CACHE_DIR");
        });
        const QString r18 = TrainingPanel::defaultWeightsPath(QStringLiteral("resnet18"));
        const QString r34 = TrainingPanel::defaultWeightsPath(QStringLiteral("resnet34"));
        QVERIFY(r18.endsWith(QLatin1String("/resnet18-imagenet.safetensors")));
        QVERIFY(r34.endsWith(QLatin1String("/resnet34-imagenet.safetensors")));
        QCOMPARE(TrainingPanel::defaultWeightsPath(QStringLiteral("resnet50")), cached); // the cached download

        WeightsPicker picker;
        auto* warning = picker.findChild<QLabel*>(QStringLiteral("weightsWarning"));
        auto* edit = picker.findChild<QLineEdit*>(QStringLiteral("weightsEdit"));
        QVERIFY(warning && edit);
        QCOMPARE(picker.lineEdit(), edit);
        QVERIFY(picker.findChild<QProgressBar*>(QStringLiteral("downloadBar")));
        QCOMPARE(picker.catalogueMenu(), picker.findChild<QMenu*>(QStringLiteral("catalogueMenu")));

        // Empty: random initialisation.
        QVERIFY(picker.weights().isEmpty());
        QVERIFY2(picker.warning().contains(QLatin1String("random values")), qPrintable(picker.warning()));
        QVERIFY(!warning->isHidden());

        // An empty field follows the architecture to its default, and so does a default.
        QSignalSpy changed(&picker, &WeightsPicker::weightsChanged);
        picker.setArch(QStringLiteral("resnet18"));
        QCOMPARE(picker.weights(), r18);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.last().at(0).toString(), r18);
        QVERIFY(picker.warning().isEmpty());
        QVERIFY(warning->isHidden());
        picker.setArch(QStringLiteral("resnet34"));
        QCOMPARE(picker.weights(), r34);

        // A path of the user's own stays; a missing one is named.
        const QString mine = dir.filePath(QStringLiteral("mine.safetensors"));
        edit->setText(mine);
        QCOMPARE(picker.warning(), QStringLiteral("File not found."));
        QVERIFY(!warning->isHidden());
        picker.setArch(QStringLiteral("resnet18"));
        QCOMPARE(picker.weights(), mine);
        QVERIFY(touch(mine));
        picker.setWeights(mine); // the same text: the warning looks again
        QVERIFY(picker.warning().isEmpty());
        const QString notSafetensors = dir.filePath(QStringLiteral("weights.bin"));
        QVERIFY(touch(notSafetensors));
        picker.setWeights(notSafetensors);
        QCOMPARE(picker.warning(), QStringLiteral("Expected a .safetensors file."));
        picker.setArch(QStringLiteral("resnet34"));
        QCOMPARE(picker.weights(), notSafetensors);

        // A saved setting: empty stays empty; a default set with its architecture follows again.
        picker.setArchAndWeights(QStringLiteral("resnet34"), QString());
        QVERIFY(picker.weights().isEmpty());
        QCOMPARE(picker.arch(), QStringLiteral("resnet34"));
        picker.setArchAndWeights(QStringLiteral("resnet18"), r18);
        picker.setArch(QStringLiteral("resnet34"));
        QCOMPARE(picker.weights(), r34);

        // The menu lists the architecture's entries; a cached entry of another architecture asks for it first.
        QMetaObject::invokeMethod(picker.catalogueMenu(), "aboutToShow");
        for (QAction* a : picker.catalogueMenu()->actions())
            QVERIFY(a->data().toString() != QLatin1String("r50.picker"));
        QSignalSpy archRequested(&picker, &WeightsPicker::archRequested);
        QSignalSpy downloading(&picker, &WeightsPicker::downloadingChanged);
        connect(&picker, &WeightsPicker::archRequested, &picker, &WeightsPicker::setArch); // as the panel does
        picker.setWeights(mine);
        QVERIFY(picker.useCatalogueWeights(QStringLiteral("r50.picker")));
        QCOMPARE(archRequested.count(), 1);
        QCOMPARE(archRequested.first().at(0).toString(), QStringLiteral("resnet50"));
        QCOMPARE(picker.arch(), QStringLiteral("resnet50"));
        QCOMPARE(picker.weights(), cached);
        QVERIFY(!picker.isDownloading());
        QCOMPARE(downloading.count(), 0);
        QMetaObject::invokeMethod(picker.catalogueMenu(), "aboutToShow");
        QAction* pick = nullptr;
        for (QAction* a : picker.catalogueMenu()->actions())
            if (a->data().toString() == QLatin1String("r50.picker"))
                pick = a;
        QVERIFY(pick);
        QVERIFY(pick->text().contains(QLatin1String("(downloaded)")));
        edit->clear();
        pick->trigger(); // the same architecture: nothing asked
        QCOMPARE(archRequested.count(), 1);
        QCOMPARE(picker.weights(), cached);
        QVERIFY(!picker.useCatalogueWeights(QStringLiteral("no-such-id")));

        // While a job runs the field and the catalogue are locked.
        auto* catalogueButton = picker.findChild<QToolButton*>(QStringLiteral("catalogueButton"));
        QVERIFY(catalogueButton);
        picker.setJobRunning(true);
        QVERIFY(!edit->isEnabled());
        QVERIFY(!catalogueButton->isEnabled());
        picker.setJobRunning(false);
        QVERIFY(edit->isEnabled());
        QVERIFY(catalogueButton->isEnabled());
    }

    void formatsDurations_data()
    {
        QTest::addColumn<double>("seconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << "00:00";
        QTest::newRow("rounding") << 59.6 << "01:00";
        QTest::newRow("minutes") << 754.0 << "12:34";
        QTest::newRow("hours") << 3725.0 << "1:02:05";
    }

    void formatsDurations()
    {
        QFETCH(double, seconds);
        QFETCH(QString, text);
        QCOMPARE(formatDuration(seconds), text);
    }
};

QTEST_MAIN(TestTrainingPanel)
#include "tst_trainingpanel.moc"
