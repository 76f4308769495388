// SPDX-License-Identifier: GPL-3.0-or-later
// The weights catalogue and its downloader, against a small HTTP server on 127.0.0.1 serving the shared
// MobileNetV2 safetensors file: progress, checksum verification, atomic placement in the cache, and every way a
// download can go wrong (404, truncated, wrong checksum, not safetensors, cancel, disallowed URL) leaving nothing.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/engine/weightscatalogue.h"
#include "tests/testhttpserver.h"
#include "tests/testutils.h"

using namespace Winnow;

using WinnowTest::TinyHttpServer;

class TestWeightsCatalogue : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_sharedFile;
    QByteArray m_bytes;
    QString m_sha;
    std::unique_ptr<TinyHttpServer> m_server;

    WeightsEntry entry(const QString& path, const QString& sha = {}, qint64 bytes = 0) const
    {
        WeightsEntry e;
        e.id = QStringLiteral("mobilenet_v2.local");
        e.arch = QStringLiteral("mobilenet_v2");
        e.url = QUrl(m_server->url(path));
        e.sha256 = sha;
        e.bytes = bytes;
        return e;
    }
    QStringList cacheFiles(const QString& dir) const
    {
        return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
    }

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        m_sharedFile = shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors");
        QFile f(m_sharedFile);
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_bytes = f.readAll();
        m_sha = QString::fromLatin1(QCryptographicHash::hash(m_bytes, QCryptographicHash::Sha256).toHex());
        m_server = std::make_unique<TinyHttpServer>(m_bytes);
        QVERIFY(m_server->listen());
    }

    void builtinCatalogue()
    {
        const WeightsCatalogue c = builtinWeightsCatalogue();
        QVERIFY2(c.errors.isEmpty(), qPrintable(c.errors.join(QLatin1Char('\n'))));
        QVERIFY(c.entries.size() >= 3);
        for (const WeightsEntry& e : c.entries) {
            QCOMPARE(e.url.scheme(), QStringLiteral("https"));
            QVERIFY(!e.title.isEmpty() && !e.source.isEmpty());
        }
        QVERIFY(c.find(QStringLiteral("resnet18.tv_in1k")));
        QCOMPARE(c.forArch(QStringLiteral("resnet50")).size(), 2);
    }

    void parseChecksEveryEntry()
    {
        const WeightsCatalogue c = parseWeightsCatalogue(QByteArray(
            "["
            "{\"id\": \"ok\", \"arch\": \"resnet18\", \"url\": \"https://example.org/a.safetensors\"},"
            "{\"id\": \"../evil\", \"arch\": \"resnet18\", \"url\": \"https://example.org/a.safetensors\"},"
            "{\"id\": \"arch\", \"arch\": \"vgg16\", \"url\": \"https://example.org/a.safetensors\"},"
            "{\"id\": \"plain\", \"arch\": \"resnet18\", \"url\": \"http://example.org/a.safetensors\"},"
            "{\"id\": \"local\", \"arch\": \"resnet18\", \"url\": \"http://127.0.0.1:8000/a.safetensors\"},"
            "{\"id\": \"sum\", \"arch\": \"resnet18\", \"url\": \"https://example.org/a\", \"sha256\": \"abc\"},"
            "{\"id\": \"ok\", \"arch\": \"resnet34\", \"url\": \"https://example.org/b.safetensors\"}"
            "]"));
        QCOMPARE(c.entries.size(), 2);
        QCOMPARE(c.entries.at(0).id, QStringLiteral("ok"));
        QCOMPARE(c.entries.at(1).id, QStringLiteral("local"));
        QCOMPARE(c.errors.size(), 5);
        QVERIFY(c.errors.at(0).contains(QLatin1String("\"id\"")));
        QVERIFY(c.errors.at(1).contains(QLatin1String("vgg16")));
        QVERIFY(c.errors.at(2).contains(QLatin1String("https")));
        QVERIFY(c.errors.at(3).contains(QLatin1String("sha256")));
        QVERIFY(c.errors.at(4).contains(QLatin1String("duplicate")));
        QVERIFY(!parseWeightsCatalogue("{").errors.isEmpty());
        QVERIFY(!parseWeightsCatalogue("{}").errors.isEmpty());
    }

    void downloadsVerifiedIntoTheCache()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("ok"));
        WeightsDownloader d;
        d.setCacheDir(cache);
        QSignalSpy progress(&d, &WeightsDownloader::progress);
        QSignalSpy finished(&d, &WeightsDownloader::finished);
        QSignalSpy failed(&d, &WeightsDownloader::failed);
        const WeightsEntry e = entry(QStringLiteral("good"), m_sha, m_bytes.size());
        QVERIFY(cachedWeightsFile(e, cache).isEmpty());
        QVERIFY(d.start(e));
        QVERIFY(d.isRunning());
        QVERIFY(!d.start(e)); // one at a time
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || failed.size() > 1, 60000);
        QVERIFY2(finished.size() == 1, qPrintable(failed.value(1).value(0).toString()));
        const QString path = finished.first().at(0).toString();
        QCOMPARE(path, QDir(cache).filePath(QStringLiteral("mobilenet_v2.local.safetensors")));
        QCOMPARE(finished.first().at(1).toString(), m_sha);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll() == m_bytes);
        QCOMPARE(cacheFiles(cache), QStringList { QStringLiteral("mobilenet_v2.local.safetensors") }); // no .part
        QCOMPARE(cachedWeightsFile(e, cache), path);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(1).toLongLong(), qint64(m_bytes.size()));
        QVERIFY(progress.last().at(0).toLongLong() <= m_bytes.size());
        QVERIFY(checkSafetensorsStructure(path).isEmpty());
    }

    // The default-weights policy the Train page and the CLI share: $WINNOW_SHARED, when set, is the only shared folder
    // looked at; without a file there (and no cached download) training starts from random initialisation.
    void defaultWeightsPolicy()
    {
        const QByteArray oldShared = qgetenv("WINNOW_SHARED"), oldCache = qgetenv("WINNOW_CACHE_DIR");
        const QString shared = m_tmp.filePath(QStringLiteral("policy-shared"));
        QVERIFY(QDir().mkpath(shared + QStringLiteral("/weights")));
        qputenv("WINNOW_SHARED", shared.toLocal8Bit());
        qputenv("WINNOW_CACHE_DIR", m_tmp.filePath(QStringLiteral("policy-cache")).toLocal8Bit());
        const QString none = defaultPretrainedWeights(QStringLiteral("resnet34"));
        QFile f(shared + QStringLiteral("/weights/resnet34-imagenet.safetensors"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const QString found = defaultPretrainedWeights(QStringLiteral("resnet34"));
        auto restore = [](const char* name, const QByteArray& value) {
            if (value.isNull())
                qunsetenv(name);
            else
                qputenv(name, value);
        };
        restore("WINNOW_SHARED", oldShared);
        restore("WINNOW_CACHE_DIR", oldCache);
        QVERIFY2(none.isEmpty(), qPrintable(none)); // not taken from ../shared beside the build
        QCOMPARE(QFileInfo(found).canonicalFilePath(), QFileInfo(f.fileName()).canonicalFilePath());
    }

    void failuresLeaveNothing_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("sha");
        QTest::addColumn<QString>("expected");
        QTest::newRow("404") << QStringLiteral("missing") << QString() << QStringLiteral("404");
        QTest::newRow("truncated") << QStringLiteral("truncated") << QString() << QStringLiteral("download failed");
        QTest::newRow("wrong checksum") << QStringLiteral("good") << QString(64, QLatin1Char('0'))
                                        << QStringLiteral("checksum mismatch");
        QTest::newRow("not safetensors") << QStringLiteral("garbage") << QString()
                                         << QStringLiteral("not usable weights");
    }

    void failuresLeaveNothing()
    {
        QFETCH(QString, path);
        QFETCH(QString, sha);
        QFETCH(QString, expected);
        // A good file from an earlier download must survive a failed new one.
        const QString cache = m_tmp.filePath(QStringLiteral("fail-") + QString::fromLatin1(QTest::currentDataTag()));
        QVERIFY(QDir().mkpath(cache));
        const QString existing = QDir(cache).filePath(QStringLiteral("mobilenet_v2.local.safetensors"));
        QVERIFY(QFile::copy(m_sharedFile, existing));
        WeightsDownloader d;
        d.setCacheDir(cache);
        QSignalSpy finished(&d, &WeightsDownloader::finished);
        QSignalSpy failed(&d, &WeightsDownloader::failed);
        QVERIFY(d.start(entry(path, sha)));
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty() || !finished.isEmpty(), 60000);
        QVERIFY(finished.isEmpty());
        const QString message = failed.first().at(0).toString();
        QVERIFY2(message.contains(expected), qPrintable(message));
        QCOMPARE(cacheFiles(cache), QStringList { QStringLiteral("mobilenet_v2.local.safetensors") });
        QCOMPARE(QFileInfo(existing).size(), qint64(m_bytes.size()));
        QVERIFY(!d.isRunning());
    }

    void cancelAndRefusals()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("cancel"));
        WeightsDownloader d;
        d.setCacheDir(cache);
        QSignalSpy progress(&d, &WeightsDownloader::progress);
        QSignalSpy failed(&d, &WeightsDownloader::failed);
        QVERIFY(d.start(entry(QStringLiteral("stall"))));
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 30000); // some bytes arrived, then the server stalls
        d.cancel();
        QTRY_COMPARE(failed.size(), 1);
        QCOMPARE(failed.first().at(0).toString(), QStringLiteral("cancelled"));
        QVERIFY(cacheFiles(cache).isEmpty());

        // Plain http to another machine is refused before any connection.
        WeightsEntry remote = entry(QStringLiteral("good"));
        remote.url = QUrl(QStringLiteral("http://example.org/w.safetensors"));
        const int before = m_server->requests;
        QVERIFY(!d.start(remote));
        QCOMPARE(failed.size(), 2);
        QVERIFY(failed.last().at(0).toString().contains(QLatin1String("only https")));
        QCOMPARE(m_server->requests, before);
    }

    /// `winnow weights download ID` with a user catalogue: the file lands in $WINNOW_CACHE_DIR/weights and
    /// `winnow weights path ID` finds it.
    void cli()
    {
        const QString catalogue = m_tmp.filePath(QStringLiteral("catalogue.json"));
        QFile f(catalogue);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            QStringLiteral("[{\"id\": \"mnv2.test\", \"arch\": \"mobilenet_v2\", \"url\": \"%1\", \"sha256\": \"%2\"}]")
                .arg(m_server->url(QStringLiteral("good")), m_sha)
                .toUtf8());
        f.close();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("WINNOW_WEIGHTS_CATALOGUE"), catalogue);
        env.insert(QStringLiteral("WINNOW_CACHE_DIR"), m_tmp.filePath(QStringLiteral("cli-cache")));
        const auto run = [&](const QStringList& args, QByteArray* out) {
            QProcess p;
            p.setProcessEnvironment(env);
            QSignalSpy done(&p, &QProcess::finished);
            p.start(winnowBinary(), args);
            if (!p.waitForStarted(30000)) {
                qWarning("cannot start %s: %s", qPrintable(winnowBinary()), qPrintable(p.errorString()));
                return -2;
            }
            // The server lives in this event loop: wait with it running.
            if (!done.wait(120000))
                return -1;
            *out = p.readAllStandardOutput();
            return p.exitCode();
        };
        QByteArray out;
        QCOMPARE(run({ QStringLiteral("weights"), QStringLiteral("path"), QStringLiteral("mnv2.test") }, &out), 1);
        QCOMPARE(run({ QStringLiteral("weights"), QStringLiteral("download"), QStringLiteral("mnv2.test"),
                         QStringLiteral("--json") },
                     &out),
            0);
        const QJsonObject o = QJsonDocument::fromJson(out).object();
        QCOMPARE(o.value(QStringLiteral("sha256")).toString(), m_sha);
        const QString file = o.value(QStringLiteral("file")).toString();
        QCOMPARE(QFileInfo(file).size(), qint64(m_bytes.size()));
        QCOMPARE(run({ QStringLiteral("weights"), QStringLiteral("path"), QStringLiteral("mnv2.test") }, &out), 0);
        QCOMPARE(QString::fromUtf8(out).trimmed(), file);
        QCOMPARE(run({ QStringLiteral("weights"), QStringLiteral("list"), QStringLiteral("--json") }, &out), 0);
        QVERIFY(out.contains("resnet18.tv_in1k"));
        QVERIFY(out.contains("mnv2.test"));
        QCOMPARE(run({ QStringLiteral("weights"), QStringLiteral("download"), QStringLiteral("nope") }, &out), 1);
    }
};

QTEST_GUILESS_MAIN(TestWeightsCatalogue)
#include "tst_weightscatalogue.moc"
