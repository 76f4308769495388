// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow predict --arch mobilenet_v2 --weights ... --labels ...` on the shared photos with known answers: the real
// ImageNet weights, torchvision's inference transform (shorter side 256, centre crop 224, ImageNet mean/std), and
// the top-1 class and probability of torchvision's own run (../shared/images/expected-top1.tsv).
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "tests/testutils.h"

class TestCliImageNet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void top1MatchesTorchvision()
    {
        WINNOW_REQUIRE_SHARED(shared);
        const QDir images(shared + QStringLiteral("/images"));
        QFile tsv(images.filePath(QStringLiteral("expected-top1.tsv")));
        QVERIFY2(tsv.open(QIODevice::ReadOnly | QIODevice::Text), qPrintable(tsv.fileName()));
        struct Expected
        {
            int index;
            double probability;
        };
        QHash<QString, Expected> expected;
        QStringList files;
        while (!tsv.atEnd()) {
            const QString line = QString::fromUtf8(tsv.readLine()).trimmed();
            if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
                continue;
            const QStringList f = line.split(QLatin1Char('\t'));
            QCOMPARE(f.size(), 4);
            expected.insert(f.at(0), { f.at(1).toInt(), f.at(3).toDouble() });
            files << images.filePath(f.at(0));
        }
        QVERIFY(files.size() >= 5);

        QProcess p;
        p.start(winnowBinary(),
            QStringList { QStringLiteral("predict"), QStringLiteral("--arch"), QStringLiteral("mobilenet_v2"),
                QStringLiteral("--weights"), shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors"),
                QStringLiteral("--labels"), shared + QStringLiteral("/weights/imagenet-classes.txt"),
                QStringLiteral("--json") }
                + files);
        QVERIFY(p.waitForFinished(300000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), files.size());
        double worst = 0;
        for (const QByteArray& line : lines) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            const QString name = QFileInfo(o.value(QStringLiteral("file")).toString()).fileName();
            QVERIFY2(expected.contains(name), qPrintable(name));
            const QJsonArray top5 = o.value(QStringLiteral("top5")).toArray();
            QCOMPARE(top5.size(), 5);
            const QJsonObject best = top5.at(0).toObject();
            QVERIFY2(best.value(QStringLiteral("index")).toInt() == expected[name].index,
                qPrintable(QStringLiteral("%1: top-1 %2 (%3), expected %4")
                               .arg(name)
                               .arg(best.value(QStringLiteral("index")).toInt())
                               .arg(best.value(QStringLiteral("label")).toString())
                               .arg(expected[name].index)));
            const double diff =
                std::abs(best.value(QStringLiteral("probability")).toDouble() - expected[name].probability);
            worst = std::max(worst, diff);
            qInfo("%s: top-1 %d p=%.4f (torchvision %.4f)", qPrintable(name), expected[name].index,
                best.value(QStringLiteral("probability")).toDouble(), expected[name].probability);
        }
        QVERIFY2(worst <= kTolerance, qPrintable(QStringLiteral("probabilities differ by up to %1").arg(worst)));
    }

    /// `winnow explain`: one JSON line per image with the class asked for, its probability (torchvision's for the
    /// predicted class) and a PNG overlay of the photo's size; an unknown class is a usage error.
    void explainWritesOverlays()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QTemporaryDir out;
        QVERIFY(out.isValid());
        const QStringList model { QStringLiteral("--arch"), QStringLiteral("mobilenet_v2"), QStringLiteral("--weights"),
            shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors"), QStringLiteral("--labels"),
            shared + QStringLiteral("/weights/imagenet-classes.txt") };
        const QString parrot = shared + QStringLiteral("/images/parrot.jpg");
        const QString owl = shared + QStringLiteral("/images/owl.jpg");
        QProcess p;
        p.start(winnowBinary(),
            QStringList { QStringLiteral("explain") } + model
                + QStringList { QStringLiteral("--json"), QStringLiteral("-o"), out.path(), parrot, owl });
        QVERIFY(p.waitForFinished(300000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const QJsonObject a = QJsonDocument::fromJson(lines[0]).object();
        const QJsonObject b = QJsonDocument::fromJson(lines[1]).object();
        QCOMPARE(a.value(QStringLiteral("class_index")).toInt(), 88); // macaw, predicted
        QCOMPARE(b.value(QStringLiteral("class_index")).toInt(), 21); // kite: the owl's top-1 in torchvision too
        QVERIFY(std::abs(b.value(QStringLiteral("probability")).toDouble() - 0.6487) <= kTolerance);
        QCOMPARE(a.value(QStringLiteral("heat")).toArray().size(), 49);
        for (const QJsonObject& o : { a, b }) {
            const QString overlay = o.value(QStringLiteral("overlay")).toString();
            QImage written, original;
            QVERIFY2(written.load(overlay), qPrintable(overlay));
            QVERIFY(original.load(o.value(QStringLiteral("file")).toString()));
            QCOMPARE(written.size(), original.size());
        }

        // Another class by name: the owl's map for "great grey owl" (index 24), whatever it predicts.
        p.start(winnowBinary(),
            QStringList { QStringLiteral("explain") } + model
                + QStringList { QStringLiteral("--json"), QStringLiteral("--class"),
                    QStringLiteral("great grey owl, great gray owl, Strix nebulosa"), owl });
        QVERIFY(p.waitForFinished(300000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QJsonObject c = QJsonDocument::fromJson(p.readAllStandardOutput().trimmed()).object();
        QCOMPARE(c.value(QStringLiteral("class_index")).toInt(), 24);
        QCOMPARE(c.value(QStringLiteral("predicted")).toString(), b.value(QStringLiteral("class")).toString());

        p.start(winnowBinary(),
            QStringList { QStringLiteral("explain") } + model
                + QStringList { QStringLiteral("--class"), QStringLiteral("no such class"), owl });
        QVERIFY(p.waitForFinished(300000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("has no class 'no such class'"));
    }

private:
    static constexpr double kTolerance = 0.002; // seen: equal to the reference's 4 decimals
};

QTEST_GUILESS_MAIN(TestCliImageNet)
#include "tst_cli_imagenet.moc"
