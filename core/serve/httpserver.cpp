// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/serve/httpserver.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace Winnow::Http {

namespace {

/// Bytes Qt buffers per socket before it stops reading from the kernel (TCP flow control does the rest).
constexpr qint64 kSocketBuffer = 256 * 1024;
/// Answers waiting to be sent, per connection, above which no further request of it is read.
constexpr qint64 kMaxUnsent = 1 << 20;
/// How long a closing socket may take to flush before it is dropped.
constexpr int kCloseMs = 2000;

QByteArray errorBody(const QString& message)
{
    return QJsonDocument(QJsonObject { { QStringLiteral("error"), message } }).toJson(QJsonDocument::Compact);
}

} // namespace

struct HttpServer::Connection
{
    enum class State { Head, Body, Handling, Draining, Closing };
    quint64 id = 0;
    QTcpSocket* socket = nullptr;
    QTimer* timer = nullptr; ///< child of socket
    State state = State::Head;
    QByteArray buffer; ///< bytes read but not yet parsed (head, or the next pipelined request)
    Request request;
    QElapsedTimer drainClock; ///< since the refusal, while Draining
    quint64 serial = 0; ///< requests read so far: the one being handled is `serial`
    bool counted = true; ///< an accepted connection (false: refused at once with 503, only draining)
    bool shutdownPending = false; ///< shut down the sending side once the refusal is flushed
};

void Responder::send(
    int status, const QByteArray& contentType, const QByteArray& body, const QList<QByteArray>& extraHeaders) const
{
    HttpServer* server = m_server;
    const quint64 id = m_connection, serial = m_request;
    if (!server)
        return;
    if (QThread::currentThread() == server->thread()) {
        server->deliver(id, serial, status, contentType, body, extraHeaders);
        return;
    }
    QMetaObject::invokeMethod(
        server,
        [server, id, serial, status, contentType, body, extraHeaders] {
            server->deliver(id, serial, status, contentType, body, extraHeaders);
        },
        Qt::QueuedConnection);
}

HttpServer::HttpServer(const ServerOptions& options, Handler handler, QObject* parent)
    : QObject(parent)
    , m_options(options)
    , m_handler(std::move(handler))
    , m_tcp(new QTcpServer(this))
{
    connect(m_tcp, &QTcpServer::newConnection, this, &HttpServer::onNewConnection);
}

HttpServer::~HttpServer()
{
    for (Connection* c : std::as_const(m_connections)) {
        c->socket->disconnect(this);
        c->socket->abort();
        delete c->socket;
        delete c;
    }
}

quint16 HttpServer::listen(const QHostAddress& address, quint16 port)
{
    return m_tcp->listen(address, port) ? m_tcp->serverPort() : 0;
}

void HttpServer::setLogger(Logger logger)
{
    m_logger = std::move(logger);
}

int HttpServer::connectionCount() const
{
    return m_active;
}

qint64 HttpServer::refusedConnections() const
{
    return m_refused;
}

void HttpServer::onNewConnection()
{
    while (QTcpSocket* socket = m_tcp->nextPendingConnection()) {
        const bool refused = m_active >= m_options.maxConnections;
        if (refused && m_connections.size() >= 2 * qsizetype(m_options.maxConnections)) {
            socket->abort(); // a flood: not even a 503 for this one
            socket->deleteLater();
            ++m_refused;
            continue;
        }
        auto* c = new Connection;
        c->id = m_nextId++;
        c->socket = socket;
        c->timer = new QTimer(socket);
        c->timer->setSingleShot(true);
        c->counted = !refused;
        socket->setReadBufferSize(kSocketBuffer);
        m_connections.insert(c->id, c);
        if (c->counted)
            ++m_active;
        const quint64 id = c->id;
        connect(socket, &QTcpSocket::readyRead, this, [this, id] { onReadable(id); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this, id] { onWritten(id); });
        connect(socket, &QTcpSocket::disconnected, this, [this, id] { finish(id); });
        connect(c->timer, &QTimer::timeout, this, [this, id] { onTimeout(id); });
        if (refused) {
            ++m_refused;
            refuse(*c, 503, QStringLiteral("too many connections (%1); try again later").arg(m_options.maxConnections),
                { "Retry-After: 1" });
            continue;
        }
        c->timer->start(m_options.timeoutMs);
        onReadable(id); // bytes may have come with the connection
    }
}

void HttpServer::onReadable(quint64 id)
{
    Connection* c = m_connections.value(id);
    if (!c)
        return;
    using State = Connection::State;
    if (c->state == State::Draining) {
        while (c->socket->bytesAvailable() > 0)
            c->socket->skip(c->socket->bytesAvailable());
        const qint64 left = 3 * qint64(m_options.timeoutMs) - c->drainClock.elapsed();
        if (left <= 0)
            c->socket->abort(); // finish() runs from disconnected
        else
            c->timer->start(int(std::min<qint64>(m_options.timeoutMs, left)));
        return;
    }
    if (c->state == State::Head && c->socket->bytesToWrite() > kMaxUnsent)
        return; // the client does not read its answers: read nothing more until it does (onWritten)
    if (c->state == State::Head) {
        const qint64 room = qint64(m_options.limits.maxHead) + 1 - c->buffer.size();
        if (room > 0 && c->socket->bytesAvailable() > 0)
            c->buffer += c->socket->read(room);
        if (c->buffer.isEmpty())
            return;
        Request request;
        qsizetype headBytes = 0;
        Error error;
        switch (parseHead(c->buffer, m_options.limits, &request, &headBytes, &error)) {
        case HeadResult::NeedMore:
            return;
        case HeadResult::Failed:
            c->request = std::move(request);
            refuse(*c, error.status, error.message);
            return;
        case HeadResult::Done:
            break;
        }
        c->request = std::move(request);
        c->buffer.remove(0, headBytes);
        c->state = State::Body;
        ++c->serial;
        if (c->request.contentLength > 0 && c->request.expectContinue && c->request.minorVersion >= 1
            && c->buffer.isEmpty())
            c->socket->write("HTTP/1.1 100 Continue\r\n\r\n"); // never to HTTP/1.0 (RFC 9110 §10.1.1)
        c->timer->start(3 * m_options.timeoutMs);
    }
    if (c->state == State::Body) {
        qint64 need = c->request.contentLength - c->request.body.size();
        if (need > 0 && !c->buffer.isEmpty()) {
            const qint64 take = std::min<qint64>(need, c->buffer.size());
            c->request.body += c->buffer.left(take);
            c->buffer.remove(0, take);
            need -= take;
        }
        // Read what has come, into the body itself (grown as data arrives, not reserved for the announced size).
        const qint64 available = std::min(need, c->socket->bytesAvailable());
        if (available > 0) {
            const qsizetype had = c->request.body.size();
            c->request.body.resize(had + available);
            const qint64 got = c->socket->read(c->request.body.data() + had, available);
            c->request.body.resize(had + std::max<qint64>(0, got));
            need = c->request.contentLength - c->request.body.size();
        }
        if (need > 0)
            return;
        c->state = State::Handling;
        c->timer->stop();
        Responder responder;
        responder.m_server = this;
        responder.m_connection = id;
        responder.m_request = c->serial;
        m_handler(c->request, responder);
    }
}

void HttpServer::onTimeout(quint64 id)
{
    Connection* c = m_connections.value(id);
    if (!c)
        return;
    using State = Connection::State;
    const double seconds = m_options.timeoutMs / 1000.0;
    switch (c->state) {
    case State::Head:
        if (c->socket->bytesToWrite() > 0)
            c->socket->abort(); // answers not read for this long: the client is gone or stuck
        else if (c->buffer.isEmpty() && c->socket->bytesAvailable() == 0)
            close(*c); // an idle connection, nothing to answer
        else
            refuse(*c, 408, QStringLiteral("request head not received within %1 s").arg(seconds));
        return;
    case State::Body:
        refuse(*c, 408,
            QStringLiteral("request body not received within %1 s (%2 of %3 bytes)")
                .arg(3 * seconds)
                .arg(c->request.body.size())
                .arg(c->request.contentLength));
        return;
    case State::Handling:
        return;
    case State::Draining:
        c->socket->abort(); // silent for the whole timeout, or draining for 3 x it
        return;
    case State::Closing:
        c->socket->abort();
        return;
    }
}

void HttpServer::refuse(Connection& c, int status, const QString& message, const QList<QByteArray>& extraHeaders)
{
    c.socket->write(formatResponse(
        status, "application/json", errorBody(message), false, extraHeaders, c.request.method != "HEAD"));
    if (m_logger)
        m_logger({ c.request.method, c.request.path, status, c.request.body.size() });
    c.buffer = QByteArray();
    c.request = Request();
    endAfterAnswer(c);
}

void HttpServer::endAfterAnswer(Connection& c)
{
    // Nothing here may delete `c` (no flush: a failed write aborts the socket, whose disconnected signal would).
    // The shutdown happens in onWritten once the answer is out; what the client still sends is drained meanwhile.
    c.state = Connection::State::Draining;
    c.drainClock.start();
    c.shutdownPending = true;
    c.timer->start(m_options.timeoutMs);
    const quint64 id = c.id;
    QMetaObject::invokeMethod(
        this, [this, id] { onReadable(id); }, Qt::QueuedConnection);
}

void HttpServer::shutdownSending(Connection& c)
{
    c.shutdownPending = false;
#ifdef Q_OS_UNIX
    // The client reads the refusal, then end of stream; what it still sends is drained until it closes.
    if (c.socket->socketDescriptor() >= 0)
        ::shutdown(int(c.socket->socketDescriptor()), SHUT_WR);
#endif
}

void HttpServer::onWritten(quint64 id)
{
    Connection* c = m_connections.value(id);
    if (!c)
        return;
    if (c->shutdownPending) {
        if (c->socket->bytesToWrite() == 0)
            shutdownSending(*c);
        return;
    }
    if (c->state == Connection::State::Head && c->socket->bytesToWrite() <= kMaxUnsent / 2)
        onReadable(id); // it reads its answers again: read its next request
}

void HttpServer::close(Connection& c)
{
    c.state = Connection::State::Closing;
    c.timer->start(kCloseMs); // abort if the close does not complete
    c.socket->disconnectFromHost();
}

void HttpServer::deliver(quint64 id, quint64 serial, int status, const QByteArray& contentType, const QByteArray& body,
    const QList<QByteArray>& extraHeaders)
{
    Connection* c = m_connections.value(id);
    if (!c || c->state != Connection::State::Handling || c->serial != serial)
        return;
    const bool keepAlive = c->request.keepAlive;
    const bool head = c->request.method == "HEAD";
    c->socket->write(formatResponse(status, contentType, body, keepAlive, extraHeaders, !head));
    if (m_logger)
        m_logger({ c->request.method, c->request.path, status, c->request.body.size() });
    c->request = Request();
    if (!keepAlive) {
        c->buffer = QByteArray(); // a pipelined request after "Connection: close" is not answered
        endAfterAnswer(*c); // shut down, then drain: closing with unread bytes would reset the connection
        return;
    }
    c->state = Connection::State::Head;
    c->timer->start(m_options.timeoutMs);
    // The next (pipelined) request may be buffered already; read it from the event loop, not from inside a handler.
    QMetaObject::invokeMethod(
        this, [this, id] { onReadable(id); }, Qt::QueuedConnection);
}

void HttpServer::finish(quint64 id)
{
    Connection* c = m_connections.take(id);
    if (!c)
        return;
    if (c->counted)
        --m_active;
    c->timer->stop();
    c->socket->deleteLater();
    delete c;
}

} // namespace Winnow::Http
