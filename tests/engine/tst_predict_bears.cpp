// SPDX-License-Identifier: GPL-3.0-or-later
// Export and prediction on the real bear task: train MobileNetV2 at 64 px for one epoch (CLI), export, and check that
// the exported file predicts what the app computed: `winnow predict` equals `winnow score --method in-sample` on the
// valid images; after a head retrain (the fine-tuned network with its refitted last layer) the Predictor equals the
// engine's scores on every image; `winnow serve` answers a multipart upload of a bear photo with its label.
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHttpMultiPart>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "../testutils.h"
#include "core/dataset/dataset.h"
#include "core/engine/engine.h"
#include "core/engine/modelfile.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"
#include "enginetestutils.h"

using namespace Winnow;

namespace {

QList<QJsonObject> jsonLines(const QByteArray& out)
{
    QList<QJsonObject> list;
    for (const QByteArray& line : out.trimmed().split('\n'))
        if (!line.isEmpty())
            list << QJsonDocument::fromJson(line).object();
    return list;
}

} // namespace

class TestPredictBears : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_shared;
    QString m_run;
    QString m_model;
    QString m_root;

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        m_shared = shared;
        QVERIFY(m_dir.isValid());
        m_root = shared + QStringLiteral("/datasets/bears-small");
        m_run = m_dir.filePath(QStringLiteral("run"));
        QByteArray out, err;
        QElapsedTimer clock;
        clock.start();
        const int rc = WinnowTest::runWinnow(
            { QStringLiteral("train"), m_root, QStringLiteral("--arch"), QStringLiteral("mobilenet_v2"),
                QStringLiteral("--weights"), WinnowTest::mobilenetWeights(shared), QStringLiteral("--size"),
                QStringLiteral("64"), QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--cv-folds"),
                QStringLiteral("0"), QStringLiteral("--out"), m_run },
            &out, &err);
        QVERIFY2(rc == 0, err.constData());
        qInfo("trained in %.1f s", clock.elapsed() / 1000.0);
        m_model = m_dir.filePath(QStringLiteral("bears.winnow"));
        QVERIFY2(
            WinnowTest::runWinnow({ QStringLiteral("export"), m_run, QStringLiteral("--out"), m_model }, &out, &err)
                == 0,
            err.constData());
        QVERIFY(out.contains("fastai"));
    }

    /// The exported file's predictions on the valid images equal the run's in-sample scores (same preprocessing).
    void predictEqualsScore()
    {
        QByteArray out, err;
        QVERIFY2(WinnowTest::runWinnow({ QStringLiteral("score"), m_run, QStringLiteral("--method"),
                                           QStringLiteral("in-sample"), QStringLiteral("--json") },
                     &out, &err)
                == 0,
            err.constData());
        QHash<QString, QJsonObject> scores; // absolute path -> score record
        for (const auto& o : jsonLines(out))
            if (o.value(QStringLiteral("split")).toString() == QLatin1String("valid"))
                scores.insert(QDir(m_root).filePath(o.value(QStringLiteral("file")).toString()), o);
        QVERIFY(scores.size() >= 50);
        QStringList files = scores.keys();
        files.sort();
        QElapsedTimer clock;
        clock.start();
        QVERIFY2(WinnowTest::runWinnow(
                     QStringList { QStringLiteral("predict"), m_model, QStringLiteral("--json") } + files, &out, &err)
                == 0,
            err.constData());
        qInfo("winnow predict: %lld images in %.1f s (process start and model load included)", qlonglong(files.size()),
            clock.elapsed() / 1000.0);
        const auto predictions = jsonLines(out);
        QCOMPARE(predictions.size(), files.size());
        int correct = 0;
        double maxDiff = 0;
        for (const auto& p : predictions) {
            const QString file = p.value(QStringLiteral("file")).toString();
            QVERIFY2(scores.contains(file), qPrintable(file));
            const QJsonObject s = scores.value(file);
            QCOMPARE(p.value(QStringLiteral("label")).toString(), s.value(QStringLiteral("predicted")).toString());
            const QJsonObject pp = p.value(QStringLiteral("probabilities")).toObject();
            const QJsonObject sp = s.value(QStringLiteral("probabilities")).toObject();
            QCOMPARE(pp.keys(), sp.keys());
            for (const QString& k : sp.keys())
                maxDiff = std::max(maxDiff, std::abs(pp.value(k).toDouble() - sp.value(k).toDouble()));
            correct += p.value(QStringLiteral("label")).toString() == s.value(QStringLiteral("given")).toString();
        }
        qInfo("labels identical on %lld valid images; max |p - p_score| = %.2g; accuracy %.3f", qlonglong(files.size()),
            maxDiff, double(correct) / files.size());
        QVERIFY2(maxDiff < 1e-4, qPrintable(QString::number(maxDiff)));
    }

    /// After a head-retrain round the export is the fine-tuned network with the refitted last layer (an ordinary
    /// fastai model, not a probe on frozen features), and it predicts what the engine scored.
    void retrainedHeadEqualsEngine()
    {
        Engine engine;
        auto st = engine.loadRun(m_run);
        QVERIFY2(st.ok(), qPrintable(st.message));
        ScanOptions so;
        so.validPct = engine.runInfo().config.validPct;
        so.seed = engine.runInfo().config.seed;
        const auto scan = scanDataset(m_root, so);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        ScoreOptions options;
        options.method = ScoreOptions::Method::InSample;
        ScoreSet set;
        RoundSummary round;
        st = engine.retrainHead(*scan.dataset, options, &set, &round);
        QVERIFY2(st.ok(), qPrintable(st.message));
        const QString run2 = m_dir.filePath(QStringLiteral("run-retrained"));
        st = engine.saveRun(run2);
        QVERIFY2(st.ok(), qPrintable(st.message));

        const QString file = m_dir.filePath(QStringLiteral("retrained.winnow"));
        QString error;
        ModelInfo info;
        QVERIFY2(exportModel(run2, file, {}, &error, &info), qPrintable(error));
        QCOMPARE(info.kind, QStringLiteral("fastai"));
        Predictor predictor(PredictorOptions { QStringLiteral("auto"), 32 });
        QVERIFY2(predictor.load(file, &error), qPrintable(error));
        QCOMPARE(predictor.vocab(), set.vocab);

        QStringList files;
        for (const auto& r : std::as_const(set.records))
            files << QDir(m_root).filePath(r.file);
        const auto predictions = predictor.predictFiles(files);
        double maxDiff = 0;
        for (int i = 0; i < set.records.size(); ++i) {
            const auto& r = set.records[i];
            const auto& p = predictions[i];
            QVERIFY2(p.ok(), qPrintable(p.error));
            QCOMPARE(p.index, r.predicted);
            for (int c = 0; c < r.probs.size(); ++c)
                maxDiff = std::max(maxDiff, double(std::abs(p.probabilities[c] - r.probs[c])));
        }
        qInfo("retrained head: labels identical on all %lld images; max |p - p_engine| = %.2g",
            qlonglong(set.records.size()), maxDiff);
        QVERIFY2(maxDiff < 1e-4, qPrintable(QString::number(maxDiff)));
    }

    /// `winnow serve` answers a multipart upload of a bear photo with the right label.
    void serveBearPhoto()
    {
        // A valid-split photo the model gets right (from the in-sample scores).
        QByteArray out, err;
        QVERIFY(WinnowTest::runWinnow({ QStringLiteral("score"), m_run, QStringLiteral("--method"),
                                          QStringLiteral("in-sample"), QStringLiteral("--json") },
                    &out, &err)
            == 0);
        QString photo, label;
        for (const auto& o : jsonLines(out)) {
            if (o.value(QStringLiteral("split")).toString() == QLatin1String("valid")
                && o.value(QStringLiteral("given")).toString() == QLatin1String("grizzly")
                && o.value(QStringLiteral("predicted")).toString() == QLatin1String("grizzly")) {
                photo = QDir(m_root).filePath(o.value(QStringLiteral("file")).toString());
                label = QStringLiteral("grizzly");
            }
        }
        QVERIFY(!photo.isEmpty());

        QProcess server;
        server.start(
            winnowBinary(), { QStringLiteral("serve"), m_model, QStringLiteral("--port"), QStringLiteral("0") });
        QVERIFY(server.waitForStarted());
        QString base;
        QElapsedTimer clock;
        clock.start();
        QByteArray banner;
        while (base.isEmpty() && clock.elapsed() < 120000 && server.state() == QProcess::Running) {
            server.waitForReadyRead(1000);
            banner += server.readAllStandardOutput();
            const auto m =
                QRegularExpression(QStringLiteral("listening on (http://\\S+:\\d+)")).match(QString::fromUtf8(banner));
            if (m.hasMatch())
                base = m.captured(1);
        }
        QVERIFY2(!base.isEmpty(), banner.constData());

        QNetworkAccessManager nam;
        auto* multi = new QHttpMultiPart(QHttpMultiPart::FormDataType);
        QHttpPart part;
        part.setHeader(
            QNetworkRequest::ContentDispositionHeader, QByteArray("form-data; name=\"image\"; filename=\"bear.jpg\""));
        QFile f(photo);
        QVERIFY(f.open(QIODevice::ReadOnly));
        part.setBody(f.readAll());
        multi->append(part);
        QNetworkReply* reply = nam.post(QNetworkRequest(QUrl(base + QStringLiteral("/predict"))), multi);
        multi->setParent(reply);
        QEventLoop loop;
        connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        loop.exec();
        QVERIFY(reply->isFinished());
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
        qInfo("POST /predict %s -> %s", qPrintable(QFileInfo(photo).fileName()),
            QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        QCOMPARE(o.value(QStringLiteral("label")).toString(), label);
        reply->deleteLater();

        server.terminate();
        QVERIFY(server.waitForFinished(15000));
        QCOMPARE(server.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestPredictBears)
#include "tst_predict_bears.moc"
