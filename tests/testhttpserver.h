// SPDX-License-Identifier: GPL-3.0-or-later
// A tiny HTTP/1.1 server on 127.0.0.1 for download tests (weights catalogue): no Qt HttpServer needed.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QString>
#include <QTcpServer>
#include <QTcpSocket>

namespace WinnowTest {

/// One response per connection: GET /good (the file), /missing (404), /truncated (Content-Length says more, then
/// the connection closes), /garbage (200, random bytes), /stall (a little, then nothing until the client gives up).
class TinyHttpServer : public QObject
{
public:
    explicit TinyHttpServer(const QByteArray& body)
        : m_body(body)
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = m_server.nextPendingConnection()) {
                s->setParent(this);
                QObject::connect(s, &QTcpSocket::readyRead, this, [this, s] { serve(s); });
            }
        });
    }
    bool listen()
    {
        return m_server.listen(QHostAddress::LocalHost, 0);
    }
    QString url(const QString& path) const
    {
        return QStringLiteral("http://127.0.0.1:%1/%2").arg(m_server.serverPort()).arg(path);
    }
    int requests = 0;

private:
    void serve(QTcpSocket* s)
    {
        QByteArray& buffer = m_pending[s];
        buffer += s->readAll();
        if (!buffer.contains("\r\n\r\n"))
            return;
        ++requests;
        const QByteArray path = buffer.split(' ').value(1);
        const auto header = [](int status, const char* reason, qint64 length) -> QByteArray {
            return QByteArray("HTTP/1.1 ") + QByteArray::number(status) + ' ' + reason
                + "\r\nContent-Type: application/octet-stream\r\nConnection: close\r\nContent-Length: "
                + QByteArray::number(length) + "\r\n\r\n";
        };
        if (path == "/good") {
            s->write(header(200, "OK", m_body.size()));
            for (qsizetype at = 0; at < m_body.size(); at += 1 << 20)
                s->write(m_body.mid(at, 1 << 20));
            s->disconnectFromHost();
        } else if (path == "/truncated") {
            s->write(header(200, "OK", m_body.size()));
            s->write(m_body.left(m_body.size() / 2));
            s->flush();
            s->disconnectFromHost();
        } else if (path == "/garbage") {
            QByteArray junk(100000, 'x');
            s->write(header(200, "OK", junk.size()));
            s->write(junk);
            s->disconnectFromHost();
        } else if (path == "/stall") {
            s->write(header(200, "OK", m_body.size()));
            s->write(m_body.left(200000));
            s->flush(); // and never the rest
        } else {
            const QByteArray page = "no such file";
            s->write(header(404, "Not Found", page.size()) + page);
            s->disconnectFromHost();
        }
    }

    QTcpServer m_server;
    QByteArray m_body;
    QHash<QTcpSocket*, QByteArray> m_pending;
};

} // namespace WinnowTest
