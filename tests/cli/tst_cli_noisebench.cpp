// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow noisebench` on a tiny demo dataset (64 px, random init, one frozen epoch): the JSON's shape, figures in
// [0, 1] that agree with the counts, a review file beside the dataset, --rate 0 without a division by zero, the
// source left alone, and clear refusals.
#include <cmath>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/dataset/demogenerator.h"
#include "tests/testutils.h"

using namespace Winnow;

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runWinnow(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment())
{
    Run r;
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(winnowBinary(), args);
    if (!p.waitForStarted(10000)) {
        r.err = "could not start " + winnowBinary().toUtf8();
        return r;
    }
    if (!p.waitForFinished(480000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QStringList fileList(const QString& root)
{
    ScanOptions o;
    o.verifyImages = false;
    const auto scan = scanDataset(root, o);
    QStringList files;
    if (scan.ok())
        for (const Sample& s : scan.dataset->samples)
            files << s.relPath;
    return files;
}

bool inUnit(const QJsonValue& v)
{
    return v.isDouble() && v.toDouble() >= 0 && v.toDouble() <= 1;
}

} // namespace

class TestCliNoiseBench : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        DemoOptions o;
        o.imagesPerClass = 12;
        o.imageSize = 64;
        o.mislabelFraction = 0;
        o.junk = false;
        o.unlabeledImages = 2;
        const DemoResult demo = writeDemoDataset(m_tmp.filePath(QStringLiteral("demo")), o);
        QVERIFY2(demo.ok(), qPrintable(demo.error));
        m_root = demo.root;
        m_files = fileList(m_root);
        QCOMPARE(m_files.size(), 62);
        // A review beside the dataset: one wrong label, one junk image.
        const QStringList circles = m_files.filter(QStringLiteral("circle/"));
        QVERIFY(circles.size() >= 2);
        m_wrong = circles.at(0);
        m_junk = circles.at(1);
        QFile review(m_root + QStringLiteral(".review.tsv"));
        QVERIFY(review.open(QIODevice::WriteOnly));
        review.write("# test review\nfile\tverdict\tright_class\tnote\n");
        review.write((m_wrong + QStringLiteral("\twrong\tsquare\tnot a circle\n")).toUtf8());
        review.write((m_junk + QStringLiteral("\tjunk\t\tblank\n")).toUtf8());
        review.write("nosuch/file.jpg\twrong\tsquare\tnot in the dataset\n");
        review.close();
        QFile empty(m_tmp.filePath(QStringLiteral("empty.review.tsv")));
        QVERIFY(empty.open(QIODevice::WriteOnly));
        empty.write("file\tverdict\tright_class\tnote\n");
    }

    void refusals()
    {
        // A train/ + valid/ layout is not a folder-per-class dataset.
        QTemporaryDir tv;
        for (const char* rel : { "train/a/x.jpg", "valid/a/y.jpg", "train/b/z.jpg" }) {
            QDir().mkpath(QFileInfo(tv.filePath(QLatin1String(rel))).absolutePath());
            QVERIFY(QFile::copy(QDir(m_root).filePath(m_files.at(0)), tv.filePath(QLatin1String(rel))));
        }
        Run r = runWinnow({ QStringLiteral("noisebench"), tv.path(), QStringLiteral("--weights"), QString() });
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("folder-per-class"), r.err.constData());
        r = runWinnow({ QStringLiteral("noisebench"), m_root, QStringLiteral("--rate"), QStringLiteral("1.5") });
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--rate"), r.err.constData());
        r = runWinnow({ QStringLiteral("noisebench"), m_tmp.filePath(QStringLiteral("missing")) });
        QVERIFY(r.exitCode != 0);
        // No --weights and no shared weights: says what to pass.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("WINNOW_SHARED"), m_tmp.filePath(QStringLiteral("no-shared")));
        r = runWinnow({ QStringLiteral("noisebench"), m_root }, env);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("--weights"), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }

    void benchmark()
    {
        const QString outFile = m_tmp.filePath(QStringLiteral("bench.json"));
        const Run r = runWinnow({ QStringLiteral("noisebench"), m_root, QStringLiteral("--rate"), QStringLiteral("0.2"),
            QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--weights"), QString(),
            QStringLiteral("--size"), QStringLiteral("64"), QStringLiteral("--epochs"), QStringLiteral("0"),
            QStringLiteral("--bs"), QStringLiteral("16"), QStringLiteral("--methods"),
            QStringLiteral("honest,frozen,bogus"), QStringLiteral("--out"), outFile });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QJsonParseError perr;
        const QJsonObject doc = QJsonDocument::fromJson(r.out, &perr).object();
        QVERIFY2(perr.error == QJsonParseError::NoError, r.out.constData());
        QFile f(outFile);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(f.readAll()).object(), doc);

        QCOMPARE(doc.value(QStringLiteral("benchmark")).toString(), QStringLiteral("winnow-noisebench"));
        const QJsonObject settings = doc.value(QStringLiteral("settings")).toObject();
        QCOMPARE(settings.value(QStringLiteral("rate")).toDouble(), 0.2);
        QVERIFY(settings.value(QStringLiteral("weights")).isNull());
        QVERIFY(settings.value(QStringLiteral("review")).toString().endsWith(QLatin1String("demo.review.tsv")));
        const QJsonObject data = doc.value(QStringLiteral("data")).toObject();
        QCOMPARE(data.value(QStringLiteral("labeled")).toInt(), 60);
        QCOMPARE(data.value(QStringLiteral("moved")).toInt(), 12); // round(0.2 * 60)
        QCOMPARE(data.value(QStringLiteral("moved_files")).toArray().size(), 12);
        QCOMPARE(data.value(QStringLiteral("review_wrong")).toInt(), 1);
        QCOMPARE(data.value(QStringLiteral("excluded")).toInt(), 1);
        QCOMPARE(data.value(QStringLiteral("ranked")).toInt(), 59); // the junk image is left out
        const int errors = data.value(QStringLiteral("errors")).toInt();
        QCOMPARE(errors, 13); // 12 moved + 1 reviewed wrong
        for (const auto& m : data.value(QStringLiteral("moved_files")).toArray()) {
            const QString from = m.toObject().value(QStringLiteral("from")).toString();
            const QString to = m.toObject().value(QStringLiteral("to")).toString();
            QVERIFY(from != m_wrong && from != m_junk); // reviewed files are never moved
            QVERIFY2(from.section(QLatin1Char('/'), 0, 0) != to.section(QLatin1Char('/'), 0, 0), qPrintable(to));
        }

        const QJsonObject methods = doc.value(QStringLiteral("methods")).toObject();
        const QJsonArray skipped = doc.value(QStringLiteral("skipped")).toArray();
        QVERIFY(skipped.contains(QStringLiteral("bogus")));
        QVERIFY(methods.contains(QStringLiteral("frozen")) != skipped.contains(QStringLiteral("frozen")));
        QVERIFY(methods.contains(QStringLiteral("honest")));
        for (auto it = methods.constBegin(); it != methods.constEnd(); ++it) {
            const QJsonObject m = it.value().toObject();
            const QString what = it.key();
            QVERIFY2(inUnit(m.value(QStringLiteral("recall_at_n"))), qPrintable(what));
            QVERIFY(inUnit(m.value(QStringLiteral("recall_at_2n"))));
            QVERIFY(inUnit(m.value(QStringLiteral("average_precision"))));
            QVERIFY(inUnit(m.value(QStringLiteral("flag_recall"))));
            const int topN = m.value(QStringLiteral("errors_in_top_n")).toInt();
            const int top2N = m.value(QStringLiteral("errors_in_top_2n")).toInt();
            QVERIFY(topN <= top2N && top2N <= errors);
            QCOMPARE(m.value(QStringLiteral("recall_at_n")).toDouble(), double(topN) / errors);
            QCOMPARE(m.value(QStringLiteral("recall_at_2n")).toDouble(), double(top2N) / errors);
            const int flagged = m.value(QStringLiteral("flagged")).toInt();
            const int flaggedErrors = m.value(QStringLiteral("flagged_errors")).toInt();
            QVERIFY(flaggedErrors <= flagged && flaggedErrors <= errors);
            QCOMPARE(m.value(QStringLiteral("flag_recall")).toDouble(), double(flaggedErrors) / errors);
            if (flagged > 0)
                QCOMPARE(m.value(QStringLiteral("flag_precision")).toDouble(), double(flaggedErrors) / flagged);
            else
                QVERIFY(m.value(QStringLiteral("flag_precision")).isNull());
            QVERIFY(m.value(QStringLiteral("estimated_errors")).toInt() >= 0);
            QVERIFY(m.value(QStringLiteral("seconds")).toObject().value(QStringLiteral("score")).toDouble() >= 0);
        }
        const QJsonObject ratios = doc.value(QStringLiteral("ratios_to_frozen")).toObject();
        QCOMPARE(ratios.contains(QStringLiteral("honest")), methods.contains(QStringLiteral("frozen")));
        const QJsonObject seconds = doc.value(QStringLiteral("seconds")).toObject();
        for (const char* phase : { "copy", "noise", "scan", "train", "total" })
            QVERIFY2(seconds.value(QLatin1String(phase)).toDouble(-1) >= 0, phase);
        QVERIFY(doc.value(QStringLiteral("peak_rss_mb")).toDouble() > 10);

        // The source is untouched.
        QCOMPARE(fileList(m_root), m_files);
    }

    void noNoise()
    {
        const Run r = runWinnow({ QStringLiteral("noisebench"), m_root, QStringLiteral("--rate"), QStringLiteral("0"),
            QStringLiteral("--weights"), QString(), QStringLiteral("--size"), QStringLiteral("64"),
            QStringLiteral("--epochs"), QStringLiteral("0"), QStringLiteral("--bs"), QStringLiteral("16"),
            QStringLiteral("--methods"), QStringLiteral("honest"), QStringLiteral("--review"),
            m_tmp.filePath(QStringLiteral("empty.review.tsv")) });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject doc = QJsonDocument::fromJson(r.out).object();
        const QJsonObject data = doc.value(QStringLiteral("data")).toObject();
        QCOMPARE(data.value(QStringLiteral("moved")).toInt(), 0);
        QCOMPARE(data.value(QStringLiteral("errors")).toInt(), 0);
        QCOMPARE(data.value(QStringLiteral("ranked")).toInt(), 60);
        const QJsonObject honest =
            doc.value(QStringLiteral("methods")).toObject().value(QStringLiteral("honest")).toObject();
        QVERIFY(!honest.isEmpty());
        // Nothing to find: the figures are undefined (null), not a division by zero.
        for (const char* key : { "recall_at_n", "recall_at_2n", "average_precision", "flag_recall" })
            QVERIFY2(honest.value(QLatin1String(key)).isNull(), key);
        QCOMPARE(honest.value(QStringLiteral("errors_in_top_n")).toInt(), 0);
        QCOMPARE(fileList(m_root), m_files);
    }

private:
    QTemporaryDir m_tmp;
    QString m_root;
    QStringList m_files;
    QString m_wrong;
    QString m_junk;
};

QTEST_GUILESS_MAIN(TestCliNoiseBench)
#include "tst_cli_noisebench.moc"
