// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow serve` over real HTTP on loopback: uploads (multipart and raw), concurrent requests, malformed and
// oversized bodies, wrong paths and methods, a non-image upload; the server keeps answering and stops on SIGTERM.
// On raw sockets: a body over the limit is refused from its Content-Length before it is sent (and what is sent
// anyway is not kept: the server's peak RSS does not grow), Expect: 100-continue, keep-alive and pipelining,
// malformed heads (each status of core/serve/httprequest.h), and, on a second server with a 1 s timeout and three
// connections, slow heads and bodies (408), idle connections closed, and the fourth client refused (503).
// The model: a head-retrained run (linear probe) on the shared pretrained MobileNetV2, exported with `winnow export`.
// Expected answers come from `winnow predict --json` on the same model and files.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

    quint16 port() const
    {
        return quint16(m_base.section(QLatin1Char(':'), -1).toInt());
    }

    /// Sends `bytes` on a new connection, then reads until the server closes it or `waitMs` pass.
    /// With `done`, it stops as soon as done(received) holds.
    static QByteArray rawExchange(quint16 port, const QByteArray& bytes, int waitMs = 10000, bool* closed = nullptr,
        const std::function<bool(const QByteArray&)>& done = {})
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, port);
        if (!s.waitForConnected(5000))
            return "connect failed";
        s.write(bytes);
        QByteArray got;
        QElapsedTimer clock;
        clock.start();
        while (s.state() == QAbstractSocket::ConnectedState && clock.elapsed() < waitMs && !(done && done(got))) {
            s.waitForReadyRead(100);
            got += s.readAll();
        }
        got += s.readAll();
        if (closed)
            *closed = s.state() != QAbstractSocket::ConnectedState;
        return got;
    }

    /// Appends what `s` receives to *got until `done(*got)` or `ms` pass.
    template <typename Done> static void readUntil(QTcpSocket& s, QByteArray* got, Done&& done, int ms)
    {
        QElapsedTimer clock;
        clock.start();
        while (!done(*got) && clock.elapsed() < ms) {
            s.waitForReadyRead(100);
            *got += s.readAll();
        }
    }

    static int statusOf(const QByteArray& response)
    {
        if (!response.startsWith("HTTP/1.1 "))
            return 0;
        return response.mid(9, 3).toInt();
    }

    static QJsonObject jsonOf(const QByteArray& response)
    {
        const qsizetype at = response.indexOf("\r\n\r\n");
        return at < 0 ? QJsonObject() : QJsonDocument::fromJson(response.mid(at + 4)).object();
    }

    /// VmHWM (peak resident set) of a process, in kB.
    static qint64 peakRssKb(qint64 pid)
    {
        QFile f(QStringLiteral("/proc/%1/status").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("VmHWM:"))
                return line.mid(6).trimmed().split(' ').value(0).toLongLong();
        return -1;
    }

    static QByteArray postHead(qint64 length, const QByteArray& extra = {})
    {
        return "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: "
            + QByteArray::number(length) + "\r\n" + extra + "\r\n";
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
        // Under AddressSanitizer, freed memory waits in a quarantine (256 MB by default) and counts in the peak RSS
        // the memory tests read: keep it small for the server, so that a peak measures what the server keeps.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        const QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
        env.insert(QStringLiteral("ASAN_OPTIONS"),
            (asan.isEmpty() ? QString() : asan + QLatin1Char(':')) + QStringLiteral("quarantine_size_mb=16"));
        m_server.setProcessEnvironment(env);
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

    void tooLargeRefusedBeforeTheBody()
    {
        // 300 MB announced: the 413 comes from the head alone, before a byte of the body is sent. A plain POSIX
        // socket, because a QTcpSocket stops sending once the server has shut down its side after the refusal.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        const auto closeFd = qScopeGuard([fd] { ::close(fd); });
        timeval tv { 20, 0 };
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QVERIFY(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        const QByteArray head = postHead(300000000);
        QCOMPARE(::send(fd, head.constData(), size_t(head.size()), MSG_NOSIGNAL), ssize_t(head.size()));
        QByteArray got;
        char buf[4096];
        while (!jsonOf(got).contains(QStringLiteral("error"))) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            got.append(buf, n);
        }
        QVERIFY2(statusOf(got) == 413, got.constData());
        QVERIFY(got.contains("Connection: close"));
        QVERIFY2(jsonOf(got)
                     .value(QStringLiteral("error"))
                     .toString()
                     .contains(QStringLiteral("300000000 bytes exceeds the limit")),
            got.constData());
        // The client sends 256 MB anyway: the server reads and drops it; its peak RSS does not grow by it.
        const qint64 before = peakRssKb(m_server.processId());
        QVERIFY(before > 0);
        const QByteArray chunk(1 << 20, 'x');
        qint64 sent = 0;
        for (int i = 0; i < 256; ++i) {
            const ssize_t n = ::send(fd, chunk.constData(), size_t(chunk.size()), MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += n;
        }
        QVERIFY2(sent >= qint64(200) << 20, qPrintable(QStringLiteral("only %1 bytes went out").arg(sent)));
        const qint64 after = peakRssKb(m_server.processId());
        QVERIFY2(after - before < 24 * 1024, qPrintable(QStringLiteral("peak RSS %1 -> %2 kB").arg(before).arg(after)));
        checkAlive();
    }

    void clientThatDoesNotRead()
    {
        // 20,000 pipelined page requests (50 MB of answers), never read: the server stops reading the requests once
        // 1 MB of answers wait, so its peak RSS does not grow by them.
        const qint64 before = peakRssKb(m_server.processId());
        QTcpSocket s;
        s.setReadBufferSize(64 * 1024);
        s.connectToHost(QHostAddress::LocalHost, port());
        QVERIFY(s.waitForConnected(5000));
        QByteArray many;
        for (int i = 0; i < 20000; ++i)
            many += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        s.write(many);
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 3000) {
            s.waitForBytesWritten(100);
            QTest::qWait(50);
        }
        const qint64 after = peakRssKb(m_server.processId());
        s.abort();
        QVERIFY2(after - before < 24 * 1024, qPrintable(QStringLiteral("peak RSS %1 -> %2 kB").arg(before).arg(after)));
        checkAlive();
    }

    void expectContinue()
    {
        const QByteArray image = readFile(m_images[1]);
        QVERIFY(image.size() < kMaxBytes);
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, port());
        QVERIFY(s.waitForConnected(5000));
        s.write(postHead(image.size(), "Expect: 100-continue\r\n"));
        QByteArray got;
        readUntil(
            s, &got, [](const QByteArray& g) { return g.contains("\r\n\r\n"); }, 10000);
        QCOMPARE(got, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        s.write(image);
        got.clear();
        readUntil(
            s, &got, [](const QByteArray& g) { return jsonOf(g).contains(QStringLiteral("label")); }, 60000);
        QVERIFY2(statusOf(got) == 200, got.constData());
        QCOMPARE(jsonOf(got).value(QStringLiteral("label")).toString(),
            m_expected.value(m_images[1]).value(QStringLiteral("label")).toString());
        // Too large with Expect: the 413 instead of the 100, and no body is wanted.
        bool closed = false;
        const QByteArray refused =
            rawExchange(port(), postHead(kMaxBytes + 1, "Expect: 100-continue\r\n"), 10000, &closed);
        QVERIFY2(statusOf(refused) == 413, refused.constData());
        QVERIFY(!refused.contains("100 Continue"));
        QVERIFY(closed);
    }

    void keepAliveAndPipelining()
    {
        // Two requests in one write on one connection: two answers, in order; then HTTP/1.0 closes after one.
        bool closed = true;
        const QByteArray two =
            rawExchange(port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 8000,
                &closed, [](const QByteArray& g) { return g.contains("no such endpoint") && g.endsWith("}"); });
        QVERIFY2(two.startsWith("HTTP/1.1 200 OK\r\n"), two.constData());
        const qsizetype second = two.indexOf("HTTP/1.1 404 Not Found\r\n");
        QVERIFY2(second > 0, two.constData());
        QVERIFY(two.left(second).contains("\"status\":\"ok\""));
        QVERIFY(!closed); // keep-alive: the server waits for a third request
        // HEAD: GET's fields without the content, so the next answer follows the head directly.
        const QByteArray head = rawExchange(port(),
            "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET http://127.0.0.1/model HTTP/1.1\r\nHost: x\r\n\r\n", 8000,
            nullptr, [](const QByteArray& g) { return g.contains("\"max_bytes\"") && g.endsWith("}"); });
        QVERIFY2(head.startsWith("HTTP/1.1 200 OK\r\n"), head.constData());
        const qsizetype headEnd = head.indexOf("\r\n\r\n");
        QVERIFY(head.left(headEnd).contains("Content-Length: "));
        QVERIFY2(head.mid(headEnd + 4).startsWith("HTTP/1.1 200 OK\r\n"), head.constData()); // no content in between
        QVERIFY(head.contains("\"max_bytes\"")); // the absolute-form target reached /model
        const QByteArray old = rawExchange(port(), "GET /health HTTP/1.0\r\n\r\n", 10000, &closed);
        QCOMPARE(statusOf(old), 200);
        QVERIFY(old.contains("Connection: close"));
        QVERIFY(closed);
    }

    void malformedHeads_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("errorPart");
        const QByteArray get = "GET /health HTTP/1.1\r\nHost: x\r\n";
        QTest::newRow("HTTP/2.0") << QByteArray("GET /health HTTP/2.0\r\nHost: x\r\n\r\n") << 505 << "not supported";
        QTest::newRow("bad version") << QByteArray("GET /health HTTP/one\r\nHost: x\r\n\r\n") << 400
                                     << "bad HTTP version";
        QTest::newRow("target not a path")
            << QByteArray("GET health HTTP/1.1\r\nHost: x\r\n\r\n") << 400 << "starting with '/'";
        QTest::newRow("two spaces") << QByteArray("GET  /health HTTP/1.1\r\nHost: x\r\n\r\n") << 400
                                    << "malformed request line";
        QTest::newRow("no Host") << QByteArray("GET /health HTTP/1.1\r\n\r\n") << 400 << "without a Host";
        QTest::newRow("field without colon") << get + "Bad Header\r\n\r\n" << 400 << "malformed header line";
        QTest::newRow("space before colon") << get + "X-A : b\r\n\r\n" << 400 << "malformed header line";
        QTest::newRow("folded field") << get + "X-A: b\r\n c\r\n\r\n" << 400 << "folded";
        QTest::newRow("NUL in a field") << get + QByteArray("X-A: b\0c\r\n\r\n", 12) << 400 << "control character";
        QTest::newRow("long target") << "GET /" + QByteArray(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"
                                     << 414 << "longer than";
        QTest::newRow("huge field") << get + "X-A: " + QByteArray(20000, 'a') + "\r\n\r\n"
                                    << 431 << "larger than 16384";
        QByteArray many = get;
        for (int i = 0; i < 150; ++i)
            many += "X-" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("150 fields") << many + "\r\n" << 431 << "more than 100 header fields";
        QTest::newRow("bad length") << QByteArray("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n")
                                    << 400 << "Content-Length";
        QTest::newRow("negative length") << QByteArray(
            "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
                                         << 400 << "Content-Length";
        QTest::newRow("two lengths") << QByteArray(
            "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
                                     << 400 << "two different Content-Length";
        QTest::newRow("chunked") << QByteArray("POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                               "5\r\nhello\r\n0\r\n\r\n")
                                 << 411 << "Content-Length";
        QTest::newRow("chunked and length") << QByteArray(
            "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
            "hello") << 400 << "both Transfer-Encoding and Content-Length";
        QTest::newRow("gzip encoding") << QByteArray(
            "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
                                       << 501 << "not supported";
        QTest::newRow("odd Expect") << get + "Expect: 200-ok\r\n\r\n" << 417 << "only 100-continue";
    }

    void malformedHeads()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QString, errorPart);
        bool closed = false;
        const QByteArray got = rawExchange(port(), request, 10000, &closed);
        QVERIFY2(statusOf(got) == status, got.left(200).constData());
        QVERIFY(got.contains("Connection: close"));
        const QString error = jsonOf(got).value(QStringLiteral("error")).toString();
        QVERIFY2(error.contains(errorPart), qPrintable(error));
        QVERIFY(closed);
        checkAlive();
    }

    void manyClients()
    {
        // 16 clients at once on raw keep-alive connections, 3 uploads each: every answer right, none lost.
        struct Client
        {
            std::unique_ptr<QTcpSocket> socket;
            int sent = 0;
            int answered = 0;
            QByteArray got;
            QString file;
        };
        std::vector<Client> clients(16);
        for (size_t i = 0; i < clients.size(); ++i) {
            clients[i].socket = std::make_unique<QTcpSocket>();
            clients[i].socket->connectToHost(QHostAddress::LocalHost, port());
            QVERIFY(clients[i].socket->waitForConnected(5000));
            clients[i].file = m_images[i % m_images.size()];
        }
        const auto send = [&](Client& c) {
            const QByteArray image = readFile(c.file);
            c.socket->write(postHead(image.size()) + image);
            ++c.sent;
        };
        for (Client& c : clients)
            send(c);
        QElapsedTimer clock;
        clock.start();
        int done = 0;
        while (done < int(clients.size()) && clock.elapsed() < 120000) {
            QTest::qWait(20);
            for (Client& c : clients) {
                c.got += c.socket->readAll();
                const qsizetype end = c.got.indexOf("\r\n\r\n");
                if (end < 0)
                    continue;
                const qsizetype lengthAt = c.got.indexOf("Content-Length: ");
                QVERIFY(lengthAt > 0 && lengthAt < end);
                const qint64 length =
                    c.got.mid(lengthAt + 16, c.got.indexOf("\r\n", lengthAt) - lengthAt - 16).toLongLong();
                if (c.got.size() < end + 4 + length)
                    continue;
                QVERIFY2(statusOf(c.got) == 200, c.got.constData());
                const QJsonObject o = QJsonDocument::fromJson(c.got.mid(end + 4, length)).object();
                QCOMPARE(o.value(QStringLiteral("label")).toString(),
                    m_expected.value(c.file).value(QStringLiteral("label")).toString());
                c.got.remove(0, end + 4 + length);
                ++c.answered;
                if (c.sent < 3)
                    send(c);
                else
                    ++done;
            }
        }
        QCOMPARE(done, int(clients.size()));
        checkAlive();
    }

    void slowAndExcessClients()
    {
        // A second server: 1 s timeout, three connections at most.
        QProcess server;
        server.setProgram(winnowBinary());
        server.setArguments({ QStringLiteral("serve"), m_model, QStringLiteral("--port"), QStringLiteral("0"),
            QStringLiteral("--timeout"), QStringLiteral("1"), QStringLiteral("--max-connections"), QStringLiteral("3"),
            QStringLiteral("--quiet") });
        server.start();
        QVERIFY(server.waitForStarted(10000));
        QByteArray banner;
        QElapsedTimer clock;
        clock.start();
        const QRegularExpression re(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
        quint16 p = 0;
        while (p == 0 && clock.elapsed() < 120000 && server.state() == QProcess::Running) {
            server.waitForReadyRead(1000);
            banner += server.readAllStandardOutput();
            const auto m = re.match(QString::fromUtf8(banner));
            if (m.hasMatch())
                p = quint16(m.captured(1).toInt());
        }
        QVERIFY2(p != 0, banner.constData());

        // A head that never ends: 408 after about a second.
        bool closed = false;
        clock.restart();
        QByteArray got = rawExchange(p, "GET /health HTTP/1.1\r\nHo", 10000, &closed);
        QVERIFY2(statusOf(got) == 408, got.constData());
        QVERIFY(jsonOf(got).value(QStringLiteral("error")).toString().contains(QStringLiteral("head not received")));
        QVERIFY(closed);
        QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));
        // A body that stalls: 408 after 3 x the timeout, naming how much came.
        got = rawExchange(p, postHead(1000) + "0123456789", 15000, &closed);
        QVERIFY2(statusOf(got) == 408, got.constData());
        QVERIFY(jsonOf(got).value(QStringLiteral("error")).toString().contains(QStringLiteral("10 of 1000 bytes")));
        QVERIFY(closed);
        // An idle connection is closed without a word.
        got = rawExchange(p, {}, 10000, &closed);
        QVERIFY(got.isEmpty());
        QVERIFY(closed);

        // Three clients hold the connections; the fourth is told to come back.
        std::vector<std::unique_ptr<QTcpSocket>> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(std::make_unique<QTcpSocket>());
            held.back()->connectToHost(QHostAddress::LocalHost, p);
            QVERIFY(held.back()->waitForConnected(5000));
        }
        QTest::qWait(100);
        got = rawExchange(p, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 5000, &closed);
        QVERIFY2(statusOf(got) == 503, got.constData());
        QVERIFY(got.contains("Retry-After"));
        QVERIFY(jsonOf(got).value(QStringLiteral("error")).toString().contains(QStringLiteral("too many connections")));
        held.clear();
        // Once they are gone (the server has seen them close), a client is served again.
        clock.restart();
        do {
            QTest::qWait(100);
            got = rawExchange(p, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000, &closed);
        } while (statusOf(got) == 503 && clock.elapsed() < 10000);
        QVERIFY2(statusOf(got) == 200, got.constData());
        QVERIFY(jsonOf(got).value(QStringLiteral("refused_connections")).toInteger() >= 1);

        server.terminate();
        QVERIFY(server.waitForFinished(15000));
        QCOMPARE(server.exitCode(), 0);
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
