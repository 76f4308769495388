// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP request-head reader of `winnow serve` (core/serve/httprequest.cpp) on bytes, without a socket: what it
// accepts and how it reads it (targets, lengths, keep-alive, Expect), that a head cut anywhere is never accepted,
// each refusal's status, the response format (HEAD without content) and the multipart reader.
#include <QTest>

#include "core/serve/httprequest.h"

using namespace Winnow::Http;

class TestHttpRequest : public QObject
{
    Q_OBJECT

    static HeadResult parse(
        const QByteArray& bytes, Request* r, qsizetype* n = nullptr, Error* e = nullptr, const Limits& limits = {})
    {
        qsizetype headBytes = -1;
        Error error;
        const HeadResult result = parseHead(bytes, limits, r, &headBytes, &error);
        if (n)
            *n = headBytes;
        if (e)
            *e = error;
        return result;
    }

private Q_SLOTS:
    void readsAHead()
    {
        const QByteArray head = "\r\nPOST /predict?x=1#f HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\n"
                                "content-length: 0005\r\nExpect: 100-Continue\r\n\r\n";
        Request r;
        qsizetype n = 0;
        QCOMPARE(parse(head + "hello", &r, &n), HeadResult::Done);
        QCOMPARE(n, head.size());
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.target, QByteArray("/predict?x=1#f"));
        QCOMPARE(r.path, QByteArray("/predict"));
        QCOMPARE(r.contentLength, 5); // leading zeros are a number still
        QVERIFY(r.expectContinue);
        QVERIFY(r.keepAlive);
        QCOMPARE(r.header("CONTENT-TYPE"), QByteArray("image/jpeg"));
        QCOMPARE(r.headers.size(), 4);
        // Cut anywhere before its end, the same head is never taken for a whole one.
        for (qsizetype cut = 0; cut < head.size(); ++cut)
            QVERIFY2(parse(head.left(cut), &r) == HeadResult::NeedMore, qPrintable(QString::number(cut)));
    }

    void targetsAndConnections_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("absolute form") << QByteArray("GET http://127.0.0.1:8765/model?a HTTP/1.1\r\nHost: h\r\n\r\n")
                                       << QByteArray("/model") << true;
        QTest::newRow("absolute, no path")
            << QByteArray("GET HTTP://h HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("/") << true;
        QTest::newRow("absolute, query holds a slash")
            << QByteArray("GET http://h?a=/predict HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("/") << true;
        QTest::newRow("absolute, fragment holds a slash")
            << QByteArray("GET http://h#/x HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("/") << true;
        QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: TE, close\r\n\r\n")
                                   << QByteArray("/") << false;
        QTest::newRow("1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QByteArray("/") << false;
        QTest::newRow("1.0 keep-alive, second field")
            << QByteArray("GET / HTTP/1.0\r\nConnection: TE\r\nConnection: Keep-Alive\r\n\r\n") << QByteArray("/")
            << true;
        QTest::newRow("bare LF") << QByteArray("GET /health HTTP/1.1\nHost: h\n\n") << QByteArray("/health") << true;
    }

    void targetsAndConnections()
    {
        QFETCH(QByteArray, head);
        QFETCH(QByteArray, path);
        QFETCH(bool, keepAlive);
        Request r;
        qsizetype n = 0;
        QCOMPARE(parse(head, &r, &n), HeadResult::Done);
        QCOMPARE(n, head.size());
        QCOMPARE(r.path, path);
        QCOMPARE(r.keepAlive, keepAlive);
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        const QByteArray get = "GET / HTTP/1.1\r\nHost: h\r\n";
        QTest::newRow("HTTP/2") << QByteArray("GET / HTTP/2.0\r\nHost: h\r\n\r\n") << 505;
        QTest::newRow("HTTP/0.9") << QByteArray("GET /\r\n\r\n") << 400;
        QTest::newRow("lower-case version") << QByteArray("GET / http/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("method not a token") << QByteArray("G(T / HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("star") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("control in target") << QByteArray("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("two hosts") << get + "Host: i\r\n\r\n" << 400;
        QTest::newRow("empty length") << get + "Content-Length:\r\n\r\n" << 400;
        QTest::newRow("19-digit length") << get + "Content-Length: 1234567890123456789\r\n\r\n" << 400;
        QTest::newRow("length list") << get + "Content-Length: 5, 5\r\n\r\n" << 400;
        QTest::newRow("same length twice") << get + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n" << 0;
        QTest::newRow("chunked, gzip") << get + "Transfer-Encoding: gzip, chunked\r\n\r\n" << 411;
        QTest::newRow("over the body limit") << get + "Content-Length: 1001\r\n\r\n" << 413;
        QTest::newRow("at the body limit") << get + "Content-Length: 1000\r\n\r\n" << 0;
        QTest::newRow("head over the limit") << get + "X: " + QByteArray(300, 'a') + "\r\n\r\n" << 431;
        QTest::newRow("unfinished head over the limit") << get + "X: " + QByteArray(300, 'a') << 431;
        QTest::newRow("request line over the limit") << "GET /" + QByteArray(200, 'a') << 414;
        QTest::newRow("five fields") << get + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n" << 431;
    }

    void refusals()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        Limits small;
        small.maxBody = 1000;
        small.maxHead = 256;
        small.maxHeaders = 4;
        small.maxTarget = 128;
        Request r;
        Error e;
        const HeadResult result = parse(head, &r, nullptr, &e, small);
        if (status == 0) {
            QCOMPARE(result, HeadResult::Done);
            return;
        }
        QCOMPARE(result, HeadResult::Failed);
        QCOMPARE(e.status, status);
        QVERIFY(!e.message.isEmpty());
        if (status == 413)
            QCOMPARE(r.contentLength, 1001); // the server still sees what was announced
    }

    void responses()
    {
        const QByteArray full = formatResponse(404, "application/json", "{}", true, { "Allow: GET" });
        QCOMPARE(full,
            QByteArray("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                       "Connection: keep-alive\r\nAllow: GET\r\n\r\n{}"));
        const QByteArray head = formatResponse(200, "text/html", "<html>", false, {}, false);
        QVERIFY(head.endsWith("Content-Length: 6\r\nConnection: close\r\n\r\n"));
        QCOMPARE(reasonPhrase(413), QByteArray("Content Too Large"));
    }

    void multipart()
    {
        const QByteArray type = "multipart/form-data; charset=utf-8; boundary=\"XY Z\"";
        const QByteArray body = "--XY Z\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
                                "--XY Z\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
                                "Content-Type: image/jpeg\r\n\r\n\xFF\xD8pixels\r\n--XY Z--\r\n";
        QByteArray data;
        bool found = false;
        QString error;
        QVERIFY(multipartField(body, type, "image", &data, &found, &error));
        QVERIFY(found);
        QCOMPARE(data, QByteArray("\xFF\xD8pixels"));
        QVERIFY(multipartField(body, type, "other", &data, &found, &error));
        QVERIFY(!found);
        QVERIFY(!multipartField(body.left(body.size() - 12), type, "image", &data, &found, &error));
        QVERIFY(error.contains(QStringLiteral("unterminated")));
        QByteArray many;
        for (int i = 0; i < 70; ++i)
            many += "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n";
        QVERIFY(!multipartField(many + "--b--\r\n", "multipart/form-data; boundary=b", "image", &data, &found, &error));
        QVERIFY(error.contains(QStringLiteral("more than 64 parts")));
        QCOMPARE(headerParameter("form-data; NAME = \"image\" ; filename=a", "name"), QByteArray("image"));
    }
};

QTEST_GUILESS_MAIN(TestHttpRequest)
#include "tst_httprequest.moc"
