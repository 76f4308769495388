// SPDX-License-Identifier: GPL-3.0-or-later
// The Predict page: loads an exported model (and a run folder), predicts added images off the GUI thread and shows
// exactly what the Predictor (= `winnow predict`) computes; bad files show an error instead of a prediction.
// The model: a head-retrained run on the shared pretrained MobileNetV2 (no LibTorch needed in the test).
#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include "../testutils.h"
#include "core/engine/modelfile.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"
#include "enginetestutils.h"
#include "ui/predict/predictpage.h"

using namespace Winnow;

namespace {

constexpr int kFeatures = 2560;

/// Writes a head-retrained run (random seeded logistic head, F32 safetensors written by hand).
bool writeProbeRun(const QString& dir, const QString& weights, const QString& datasetRoot)
{
    QRandomGenerator rng(11);
    QList<WinnowTest::F32Tensor> ts { { QStringLiteral("quickhead.bias"), { 3 }, QVector<float>(3) },
        { QStringLiteral("quickhead.mean"), { kFeatures }, QVector<float>(kFeatures) },
        { QStringLiteral("quickhead.std"), { kFeatures }, QVector<float>(kFeatures) },
        { QStringLiteral("quickhead.weight"), { 3, kFeatures }, QVector<float>(3 * kFeatures) } };
    for (auto& t : ts)
        for (auto& x : t.values)
            x = t.name.endsWith(QLatin1String("std")) ? float(0.5 + rng.generateDouble())
                                                      : float((rng.generateDouble() - 0.5) * 0.2);
    QDir().mkpath(dir);
    QFile f(QDir(dir).filePath(QLatin1String(kModelFile)));
    if (!f.open(QIODevice::WriteOnly) || f.write(WinnowTest::safetensorsBytes(ts)) < 0)
        return false;
    f.close();
    RunInfo info;
    info.datasetRoot = datasetRoot;
    info.config.arch = QStringLiteral("mobilenet_v2");
    info.config.weights = weights;
    info.config.size = 64;
    info.vocab = { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };
    info.created = QDateTime::currentDateTimeUtc();
    QString error;
    return writeRunInfo(dir, info, &error);
}

} // namespace

class TestPredictPage : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_run, m_model;
    QStringList m_images;

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QVERIFY(m_dir.isValid());
        const QString bears = shared + QStringLiteral("/datasets/bears-small");
        m_run = m_dir.filePath(QStringLiteral("run"));
        QVERIFY(writeProbeRun(m_run, WinnowTest::mobilenetWeights(shared), bears));
        m_model = m_dir.filePath(QStringLiteral("bears.winnow"));
        QString error;
        QVERIFY2(exportModel(m_run, m_model, {}, &error), qPrintable(error));
        for (const char* cls : { "black", "grizzly", "teddys" })
            for (int i : { 0, 1 })
                m_images
                    << QStringLiteral("%1/%2/%3.jpg").arg(bears, QLatin1String(cls)).arg(i, 8, 10, QLatin1Char('0'));
        for (const QString& f : std::as_const(m_images))
            QVERIFY2(QFileInfo::exists(f), qPrintable(f));
    }

    void predictsLikeThePredictor()
    {
        PredictPage page;
        QSignalSpy loaded(&page, &PredictPage::modelLoaded);
        QSignalSpy ready(&page, &PredictPage::predictionsReady);
        // Images added before the model is there wait for it.
        page.addImages(m_images);
        QCOMPARE(page.imageCount(), m_images.size());
        QVERIFY(!page.prediction(0));
        page.openModelFile(m_model);
        QVERIFY(loaded.wait(60000));
        QVERIFY(page.hasModel());
        QVERIFY(page.modelDescription().contains(QStringLiteral("mobilenet_v2")));
        QTRY_VERIFY_WITH_TIMEOUT(page.prediction(m_images.size() - 1) != nullptr, 120000);

        Predictor reference(PredictorOptions { QStringLiteral("auto"), 8 });
        QString error;
        QVERIFY2(reference.load(m_model, &error), qPrintable(error));
        const auto expected = reference.predictFiles(m_images);
        for (int i = 0; i < m_images.size(); ++i) {
            const Prediction* p = page.prediction(i);
            QVERIFY(p && p->ok());
            QCOMPARE(p->label, expected[i].label);
            for (int c = 0; c < 3; ++c)
                QVERIFY(std::abs(p->probabilities[c] - expected[i].probabilities[c]) < 1e-5);
        }
        // The table shows the labels.
        auto* table = page.findChild<QTableWidget*>();
        QVERIFY(table);
        QCOMPARE(table->item(0, 1)->text(), expected[0].label);

        // A later, unreadable file gets an error, not a crash or a label.
        const QString bad = m_dir.filePath(QStringLiteral("bad.jpg"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not an image");
        f.close();
        page.addImages({ bad });
        QTRY_VERIFY_WITH_TIMEOUT(page.prediction(m_images.size()) != nullptr, 60000);
        QVERIFY(!page.prediction(m_images.size())->ok());

        // The evidence map of the selected image: computed in the background, then shown over the preview.
        QSignalSpy evidence(&page, &PredictPage::evidenceReady);
        table->selectRow(0);
        QVERIFY(!page.evidenceShown());
        page.setEvidenceVisible(true);
        QVERIFY(evidence.wait(60000));
        QCOMPARE(evidence.at(0).at(0).toInt(), 0);
        QVERIFY(page.evidenceShown());
        page.setEvidenceVisible(false);
        QVERIFY(!page.evidenceShown());

        page.clear();
        QCOMPARE(page.imageCount(), 0);
    }

    void runFolderAndBadModel()
    {
        PredictPage page;
        QSignalSpy loaded(&page, &PredictPage::modelLoaded);
        QSignalSpy failed(&page, &PredictPage::modelFailed);
        page.setRunDir(m_run); // loads the current run's model
        QVERIFY(loaded.wait(60000));
        QVERIFY(page.modelDescription().contains(QStringLiteral("current run")));
        page.addImages({ m_images[0] });
        QTRY_VERIFY_WITH_TIMEOUT(page.prediction(0) != nullptr, 60000);
        Predictor reference;
        QString error;
        QVERIFY(reference.load(m_model, &error));
        QCOMPARE(page.prediction(0)->probabilities, reference.predict(m_images[0]).probabilities);

        page.openModelFile(m_images[0]); // a JPEG is not a model
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.first().first().toString().contains(QStringLiteral("not a Winnow model file")));
        QVERIFY(page.hasModel()); // the previous model stays in use

        // The run folder was rewritten (a head retrain): the page follows it.
        loaded.clear();
        page.setRunDir(m_run);
        QVERIFY(loaded.wait(60000));
        // A model file the user opened is not replaced by a later round of the run.
        page.openModelFile(m_model);
        QVERIFY(loaded.wait(60000));
        QVERIFY(!page.modelDescription().contains(QStringLiteral("current run")));
        loaded.clear();
        page.setRunDir(m_run);
        QTest::qWait(300);
        QVERIFY(loaded.isEmpty());
        QVERIFY(!page.modelDescription().contains(QStringLiteral("current run")));
    }

    void exportsInTheBackground()
    {
        PredictPage page;
        QSignalSpy loaded(&page, &PredictPage::modelLoaded);
        QSignalSpy exported(&page, &PredictPage::exported);
        QSignalSpy failed(&page, &PredictPage::exportFailed);
        QVERIFY(!page.exportRunTo(m_dir.filePath(QStringLiteral("none.winnow")))); // no run yet
        page.setRunDir(m_run);
        QVERIFY(loaded.wait(60000));
        loaded.clear();

        const QString file = m_dir.filePath(QStringLiteral("exported.winnow"));
        QVERIFY(page.exportRunTo(file));
        // The call returns at once: the export runs off the GUI thread and reports through the event loop.
        QVERIFY(page.isExporting());
        QVERIFY(!page.exportRunTo(file)); // one at a time
        QVERIFY(exported.wait(60000));
        QCOMPARE(exported.first().first().toString(), file);
        QVERIFY(!page.isExporting());
        QVERIFY(failed.isEmpty());
        // The page then predicts with the written file, which gives what the run gives.
        QVERIFY(loaded.wait(60000));
        QVERIFY(!page.modelDescription().contains(QStringLiteral("current run")));
        Predictor fromFile, fromRun;
        QString error;
        QVERIFY2(fromFile.load(file, &error), qPrintable(error));
        QVERIFY2(fromRun.loadRun(m_run, &error), qPrintable(error));
        QCOMPARE(fromFile.predict(m_images[0]).probabilities, fromRun.predict(m_images[0]).probabilities);

        // A place that cannot be written (its folder is a file): a failure with the reason, nothing else.
        const QString blocker = m_dir.filePath(QStringLiteral("a-file"));
        QFile b(blocker);
        QVERIFY(b.open(QIODevice::WriteOnly));
        b.close();
        QVERIFY(page.exportRunTo(blocker + QStringLiteral("/model.winnow")));
        QVERIFY(failed.wait(60000));
        QVERIFY(!failed.first().first().toString().isEmpty());
        QCOMPARE(exported.size(), 1);
        QVERIFY(!page.isExporting());
        QVERIFY(page.exportRunTo(m_dir.filePath(QStringLiteral("again.winnow")))); // and the next one starts
        QVERIFY(exported.wait(60000));
    }
};

QTEST_MAIN(TestPredictPage)
#include "tst_predictpage.moc"
