// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow serve` over real HTTP on loopback: uploads (multipart and raw), concurrent requests, malformed and
// oversized bodies, wrong paths and methods, a non-image upload; the server keeps answering and stops on SIGTERM.
// The model: a head-retrained run (linear probe) on the shared pretrained MobileNetV2, exported with `winnow export`.
// Expected answers come from `winnow predict --json` on the same model and files.
#include <QDirIterator>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHttpMultiPart>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QtEndian>

#include "../testutils.h"
#include "core/engine/run.h"
#include "enginetestutils.h"

namespace {

constexpr int kSize = 64;
constexpr int kFeatures = 2560; // 2 x MobileNetV2's 1280 channels (concat pool)
constexpr qint64 kMaxBytes = 400000;

/// A minimal safetensors writer (F32 only) so the test needs no LibTorch.
struct Reply
{
    int status = 0;
    QByteArray body;
    QByteArray contentType;
    QByteArray allow;
    QString networkError;
    QJsonObject json() const
    {
        return QJsonDocument::fromJson(body).object();
    }
};

} // namespace

class TestServe : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;
    QStringList m_images;
    QHash<QString, QJsonObject> m_expected; ///< file -> `winnow predict --json` object
    QProcess m_server;
    QString m_base;
    QNetworkAccessManager m_nam;
    QByteArray m_serverOut;

    Reply finish(QNetworkReply* reply, int timeoutMs = 60000)
    {
        if (!reply->isFinished()) {
            QEventLoop loop;
            connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
            loop.exec();
        }
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        r.allow = reply->rawHeader("Allow");
        if (!reply->isFinished())
            r.networkError = QStringLiteral("timed out");
        else if (reply->error() != QNetworkReply::NoError && r.status == 0)
            r.networkError = reply->errorString();
        reply->deleteLater();
        return r;
    }

    QNetworkRequest request(const QString& path) const
    {
        QNetworkRequest req(QUrl(m_base + path));
        req.setTransferTimeout(60000);
        return req;
    }

    QNetworkReply* postMultipart(const QString& file, const QByteArray& field = "image")
    {
        auto* multi = new QHttpMultiPart(QHttpMultiPart::FormDataType);
        QHttpPart part;
        part.setHeader(QNetworkRequest::ContentDispositionHeader,
            QByteArray(QByteArray("form-data; name=\"") + field + "\"; filename=\""
                + QFileInfo(file).fileName().toUtf8() + "\""));
        part.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("image/jpeg"));
        QFile f(file);
        f.open(QIODevice::ReadOnly);
        part.setBody(f.readAll());
        multi->append(part);
        QHttpPart other; // an unrelated field first or after must not matter
        other.setHeader(QNetworkRequest::ContentDispositionHeader, QByteArray("form-data; name=\"note\""));
        other.setBody("hello");
        multi->append(other);
        auto* reply = m_nam.post(request(QStringLiteral("/predict")), multi);
        multi->setParent(reply);
        return reply;
    }

    QNetworkReply* postRaw(const QByteArray& body, const QByteArray& type = "application/octet-stream")
    {
        auto req = request(QStringLiteral("/predict"));
        req.setHeader(QNetworkRequest::ContentTypeHeader, type);
        return m_nam.post(req, body);
    }

    static QByteArray readFile(const QString& path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    void checkPrediction(const Reply& r, const QString& file)
    {
        QVERIFY2(r.networkError.isEmpty(), qPrintable(r.networkError));
        QVERIFY2(r.status == 200, r.body.constData());
        QVERIFY(r.contentType.startsWith("application/json"));
        const QJsonObject got = r.json();
        const QJsonObject want = m_expected.value(file);
        QVERIFY(!want.isEmpty());
        QCOMPARE(got.value(QStringLiteral("label")).toString(), want.value(QStringLiteral("label")).toString());
        QCOMPARE(got.value(QStringLiteral("index")).toInt(-1), want.value(QStringLiteral("index")).toInt(-2));
        const QJsonObject gp = got.value(QStringLiteral("probabilities")).toObject();
        const QJsonObject wp = want.value(QStringLiteral("probabilities")).toObject();
        QCOMPARE(gp.keys(), wp.keys());
        for (const QString& k : wp.keys())
            QVERIFY2(std::abs(gp.value(k).toDouble() - wp.value(k).toDouble()) < 1e-5, qPrintable(k));
    }

    void checkAlive()
    {
        QCOMPARE(m_server.state(), QProcess::Running);
        const Reply r = finish(m_nam.get(request(QStringLiteral("/health"))));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QVERIFY(m_dir.isValid());
        const QString bears = shared + QStringLiteral("/datasets/bears-small");
        for (const char* cls : { "black", "grizzly", "teddys" }) {
            QDirIterator it(QDir(bears).filePath(QLatin1String(cls)), { QStringLiteral("*.jpg") }, QDir::Files);
            QStringList files;
            while (it.hasNext())
                files << it.next();
            std::sort(files.begin(), files.end());
            m_images << files.mid(0, 3);
        }

        // A head-retrained run: random (seeded) logistic head over the pretrained body's features.
        const QString run = m_dir.filePath(QStringLiteral("run"));
        QVERIFY(QDir().mkpath(run));
        QRandomGenerator rng(7);
        QVector<float> mean(kFeatures), std(kFeatures), weight(3 * kFeatures), bias(3);
        for (auto& v : mean)
            v = float(rng.generateDouble());
        for (auto& v : std)
            v = float(0.5 + rng.generateDouble());
        for (auto& v : weight)
            v = float((rng.generateDouble() - 0.5) * 0.1);
        for (auto& v : bias)
            v = float(rng.generateDouble() - 0.5);
        QFile wf(QDir(run).filePath(QLatin1String(Winnow::kModelFile)));
        QVERIFY(wf.open(QIODevice::WriteOnly));
        wf.write(WinnowTest::safetensorsBytes({ { QStringLiteral("quickhead.bias"), { 3 }, bias },
            { QStringLiteral("quickhead.mean"), { kFeatures }, mean },
            { QStringLiteral("quickhead.std"), { kFeatures }, std },
            { QStringLiteral("quickhead.weight"), { 3, kFeatures }, weight } }));
        wf.close();
        Winnow::RunInfo info;
        info.datasetRoot = bears;
        info.config.arch = QStringLiteral("mobilenet_v2");
        info.config.weights = WinnowTest::mobilenetWeights(shared);
        info.config.size = kSize;
        info.vocab = { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };
        info.created = QDateTime::currentDateTimeUtc();
        QString error;
        QVERIFY2(Winnow::writeRunInfo(run, info, &error), qPrintable(error));

        m_model = m_dir.filePath(QStringLiteral("bears.winnow"));
        QByteArray out, err;
        QVERIFY2(
            WinnowTest::runWinnow({ QStringLiteral("export"), run, QStringLiteral("--out"), m_model }, &out, &err) == 0,
            err.constData());
        QVERIFY2(
            WinnowTest::runWinnow(
                QStringList { QStringLiteral("predict"), m_model, QStringLiteral("--json") } + m_images, &out, &err)
                == 0,
            err.constData());
        for (const QByteArray& line : out.trimmed().split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            m_expected.insert(o.value(QStringLiteral("file")).toString(), o);
        }
        QCOMPARE(m_expected.size(), m_images.size());

        m_server.setProgram(winnowBinary());
        m_server.setArguments({ QStringLiteral("serve"), m_model, QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
            QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--max-bytes"), QString::number(kMaxBytes),
            QStringLiteral("--quiet") });
        m_server.setProcessChannelMode(QProcess::SeparateChannels);
        m_server.start();
        QVERIFY(m_server.waitForStarted(10000));
        // The port comes from the banner line.
        const QRegularExpression re(QStringLiteral("listening on (http://127\\.0\\.0\\.1:(\\d+))"));
        QElapsedTimer clock;
        clock.start();
        while (m_base.isEmpty() && clock.elapsed() < 120000 && m_server.state() == QProcess::Running) {
            m_server.waitForReadyRead(1000);
            m_serverOut += m_server.readAllStandardOutput();
            const auto m = re.match(QString::fromUtf8(m_serverOut));
            if (m.hasMatch())
                m_base = m.captured(1);
        }
        QVERIFY2(!m_base.isEmpty(), QByteArray(m_serverOut + m_server.readAllStandardError()).constData());
        QVERIFY(m_base.section(QLatin1Char(':'), -1).toInt() > 0);
    }

    void health()
    {
        checkAlive();
    }

    void model()
    {
        const Reply r = finish(m_nam.get(request(QStringLiteral("/model"))));
        QCOMPARE(r.status, 200);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("format")).toString(), QStringLiteral("winnow-model"));
        QCOMPARE(o.value(QStringLiteral("arch")).toString(), QStringLiteral("mobilenet_v2"));
        QCOMPARE(o.value(QStringLiteral("kind")).toString(), QStringLiteral("linear-probe"));
        QCOMPARE(o.value(QStringLiteral("size")).toInt(), kSize);
        QCOMPARE(o.value(QStringLiteral("vocab")).toArray(),
            QJsonArray({ QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") }));
        QCOMPARE(o.value(QStringLiteral("max_bytes")).toInteger(), kMaxBytes);
    }

    void page()
    {
        const Reply r = finish(m_nam.get(request(QStringLiteral("/"))));
        QCOMPARE(r.status, 200);
        QVERIFY(r.contentType.startsWith("text/html"));
        QVERIFY(r.body.contains("<html"));
        QVERIFY(r.body.contains("/predict"));
    }

    void multipartUpload()
    {
        for (const QString& file : std::as_const(m_images))
            checkPrediction(finish(postMultipart(file)), file);
    }

    void rawUpload()
    {
        checkPrediction(finish(postRaw(readFile(m_images[4]), "image/jpeg")), m_images[4]);
        checkPrediction(finish(postRaw(readFile(m_images[7]))), m_images[7]);
    }

    void concurrent()
    {
        // 12 requests in flight at once (QNetworkAccessManager opens several connections), mixed kinds.
        QList<QPair<QNetworkReply*, QString>> inFlight;
        for (int i = 0; i < 12; ++i) {
            const QString file = m_images[(i * 5) % m_images.size()];
            inFlight.append({ i % 2 ? postMultipart(file) : postRaw(readFile(file)), file });
        }
        for (const auto& [reply, file] : inFlight)
            checkPrediction(finish(reply), file);
        checkAlive();
    }

    void badRequests_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("errorPart");
        QTest::newRow("unknown path") << "GET"
                                      << "/nope" << QByteArray() << QByteArray() << 404 << "no such endpoint";
        QTest::newRow("unknown post") << "POST"
                                      << "/predict/extra" << QByteArray("x") << QByteArray("text/plain") << 404
                                      << "no such endpoint";
        QTest::newRow("GET predict") << "GET"
                                     << "/predict" << QByteArray() << QByteArray() << 405 << "not allowed";
        QTest::newRow("PUT predict") << "PUT"
                                     << "/predict" << QByteArray("x") << QByteArray("text/plain") << 405
                                     << "not allowed";
        QTest::newRow("POST health") << "POST"
                                     << "/health" << QByteArray("x") << QByteArray("text/plain") << 405
                                     << "not allowed";
        QTest::newRow("DELETE model") << "DELETE"
                                      << "/model" << QByteArray() << QByteArray() << 405 << "not allowed";
        QTest::newRow("empty body") << "POST"
                                    << "/predict" << QByteArray() << QByteArray("image/jpeg") << 400 << "empty body";
        QTest::newRow("not an image") << "POST"
                                      << "/predict" << QByteArray("just some text, certainly no image\n")
                                      << QByteArray("text/plain") << 415 << "not a readable image";
        QTest::newRow("truncated jpeg") << "POST"
                                        << "/predict" << readFile(m_images[0]).left(300) << QByteArray("image/jpeg")
                                        << 415 << "not a readable image";
        QTest::newRow("multipart no boundary") << "POST"
                                               << "/predict" << QByteArray("--x\r\n\r\nabc\r\n--x--")
                                               << QByteArray("multipart/form-data") << 400 << "boundary";
        QTest::newRow("multipart malformed")
            << "POST"
            << "/predict" << QByteArray("this is not multipart at all")
            << QByteArray("multipart/form-data; boundary=XYZ") << 400 << "malformed multipart";
        QTest::newRow("multipart unterminated")
            << "POST"
            << "/predict" << QByteArray("--XYZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabcdef")
            << QByteArray("multipart/form-data; boundary=XYZ") << 400 << "unterminated";
        QTest::newRow("multipart no image field")
            << "POST"
            << "/predict"
            << QByteArray("--XYZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--XYZ--\r\n")
            << QByteArray("multipart/form-data; boundary=XYZ") << 400 << "no 'image' field";
        QTest::newRow("multipart image not an image")
            << "POST"
            << "/predict"
            << QByteArray("--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.txt\"\r\n\r\n"
                          "plain text\r\n--XYZ--\r\n")
            << QByteArray("multipart/form-data; boundary=XYZ") << 415 << "not a readable image";
        QTest::newRow("too large") << "POST"
                                   << "/predict" << QByteArray(int(kMaxBytes) + 1000, 'x') << QByteArray("image/jpeg")
                                   << 413 << "exceeds the limit";
    }

    void badRequests()
    {
        QFETCH(QString, method);
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, errorPart);
        auto req = request(path);
        if (!contentType.isEmpty())
            req.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        const Reply r = finish(m_nam.sendCustomRequest(req, method.toLatin1(), body));
        QVERIFY2(r.networkError.isEmpty(), qPrintable(r.networkError));
        QCOMPARE(r.status, status);
        QVERIFY(r.contentType.startsWith("application/json"));
        const QString error = r.json().value(QStringLiteral("error")).toString();
        QVERIFY2(error.contains(errorPart), qPrintable(error));
        if (status == 405)
            QVERIFY(!r.allow.isEmpty());
        checkAlive();
    }

    void garbageOnTheWire()
    {
        // Not HTTP at all, then a request cut off mid-body: the server drops those connections and carries on.
        for (const QByteArray& junk : { QByteArray("\x16\x03\x01\x02\x00garbage\r\n\r\n"),
                 QByteArray("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc") }) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, quint16(m_base.section(QLatin1Char(':'), -1).toInt()));
            QVERIFY(s.waitForConnected(5000));
            s.write(junk);
            s.waitForBytesWritten(5000);
            s.waitForReadyRead(500);
            s.abort();
        }
        checkAlive();
        checkPrediction(finish(postMultipart(m_images[2])), m_images[2]);
    }

    void cleanupTestCase()
    {
        if (m_server.state() != QProcess::Running)
            return;
        m_server.terminate(); // SIGTERM
        QVERIFY(m_server.waitForFinished(15000));
        QCOMPARE(m_server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_server.exitCode(), 0);
        QVERIFY(m_server.readAllStandardOutput().contains("stopped"));
    }
};

QTEST_GUILESS_MAIN(TestServe)
#include "tst_serve.moc"
