// SPDX-License-Identifier: GPL-3.0-or-later
// The fastbook bear task end to end through the CLI: fine-tune MobileNetV2 at 128 px for one epoch and reach the
// error rate fastai reaches; then `winnow score` prints every field for every image.
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "../testutils.h"
#include "enginetestutils.h"

class TestBearsTrain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fineTuneAndScore()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QTemporaryDir tmp;
        const QString run = tmp.filePath(QStringLiteral("run"));
        QByteArray out, err;
        QElapsedTimer clock;
        clock.start();
        const int rc = WinnowTest::runWinnow(
            { QStringLiteral("train"), shared + QStringLiteral("/datasets/bears-small"), QStringLiteral("--arch"),
                QStringLiteral("mobilenet_v2"), QStringLiteral("--weights"), WinnowTest::mobilenetWeights(shared),
                QStringLiteral("--size"), QStringLiteral("128"), QStringLiteral("--epochs"), QStringLiteral("1"),
                QStringLiteral("--json"), QStringLiteral("--out"), run },
            &out, &err);
        QVERIFY2(rc == 0, err.constData());
        qInfo("winnow train took %.1f s in all", clock.elapsed() / 1000.0);
        const auto lines = out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2); // frozen epoch + one unfrozen epoch
        QJsonObject last;
        for (const auto& line : lines) {
            const auto o = QJsonDocument::fromJson(line).object();
            for (const char* key : { "epoch", "train_loss", "valid_loss", "error_rate", "accuracy", "seconds" })
                QVERIFY2(o.contains(QLatin1String(key)), line.constData());
            qInfo("epoch %d: train_loss %.4f valid_loss %.4f error_rate %.4f (%.1f s)",
                o[QStringLiteral("epoch")].toInt(), o[QStringLiteral("train_loss")].toDouble(),
                o[QStringLiteral("valid_loss")].toDouble(), o[QStringLiteral("error_rate")].toDouble(),
                o[QStringLiteral("seconds")].toDouble());
            last = o;
        }
        QVERIFY2(last[QStringLiteral("error_rate")].toDouble() <= 0.08,
            qPrintable(QStringLiteral("error rate %1 > 0.08").arg(last[QStringLiteral("error_rate")].toDouble())));

        QVERIFY(QFileInfo::exists(run + QStringLiteral("/run.json")));
        QVERIFY(QFileInfo::exists(run + QStringLiteral("/model.safetensors")));
        QVERIFY2(WinnowTest::runWinnow({ QStringLiteral("score"), run, QStringLiteral("--json") }, &out, &err) == 0,
            err.constData());
        const auto records = out.trimmed().split('\n');
        QCOMPARE(records.size(), 480);
        double previous = 1e300;
        for (const auto& line : records) {
            const auto o = QJsonDocument::fromJson(line).object();
            for (const char* key :
                { "file", "split", "given", "predicted", "loss", "p_predicted", "p_given", "margin", "entropy" })
                QVERIFY2(o.contains(QLatin1String(key)), line.constData());
            const double loss = o[QStringLiteral("loss")].toDouble();
            QVERIFY(loss <= previous); // sorted by loss, highest first
            previous = loss;
            QVERIFY(o[QStringLiteral("p_predicted")].toDouble() >= o[QStringLiteral("p_given")].toDouble() - 1e-9);
        }
        // CSV carries the same rows plus a header.
        QVERIFY(WinnowTest::runWinnow({ QStringLiteral("score"), run, QStringLiteral("--csv") }, &out) == 0);
        QCOMPARE(out.trimmed().split('\n').size(), 481);
    }
};

QTEST_GUILESS_MAIN(TestBearsTrain)
#include "tst_bears_train.moc"
