// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>

#include <QHash>
#include <QHostAddress>
#include <QObject>

#include "core/serve/httprequest.h"

class QTcpServer;
class QTcpSocket;

namespace Winnow::Http {

struct ServerOptions
{
    Limits limits;
    /// A client gets this long for a request's head (after connecting or after the previous response; an idle
    /// keep-alive connection is closed when it runs out) and 3 x this long for its body; then 408.
    int timeoutMs = 10000;
    /// Connections held at once; one more is answered 503 and closed.
    int maxConnections = 64;
};

/// One finished exchange, for the access log.
struct Exchange
{
    QByteArray method; ///< empty when the request line could not be read
    QByteArray path;
    int status = 0;
    qint64 bodyBytes = 0; ///< request body bytes received (not the announced length)
};

class HttpServer;

/// Answers one request, once, from any thread; a response for a client that has gone is dropped.
class Responder
{
public:
    void send(int status, const QByteArray& contentType, const QByteArray& body,
        const QList<QByteArray>& extraHeaders = {}) const;

private:
    friend class HttpServer;
    HttpServer* m_server = nullptr;
    quint64 m_connection = 0;
    quint64 m_request = 0; ///< which request of the connection this answers
};

/**
 * A small HTTP/1.1 server on QTcpServer for `winnow serve`, written for a local endpoint that must not fall over:
 * the head is read within Limits (see httprequest.h) and refused with a status before any body is read (a 413 for a
 * Content-Length over the limit, answered at once, also to `Expect: 100-continue`); after a refusal the server
 * shuts down its sending side, then reads and drops what the client still sends until it closes (so the client can
 * read the refusal: closing with unread data would reset the connection); a body is kept only up to its announced
 * length; slow clients time out (408); past ServerOptions::maxConnections, a new client gets 503; keep-alive and
 * pipelined requests are answered in order, and a client that does not read its answers is not read from either
 * (answers waiting to be sent stay under 1 MB per connection; stalled for the timeout, it is dropped). After a
 * "Connection: close" answer, as after a refusal, the server shuts down its side and drains. HEAD is
 * answered like GET without the content. A client that half-closes its side is taken to have gone (Qt's sockets).
 *
 * The handler runs in the server's thread and may answer at once or later, from any thread, through the Responder
 * (the connection reads nothing more until then). Lives in one thread; not copyable.
 */
class HttpServer : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<void(const Request&, const Responder&)>;
    using Logger = std::function<void(const Exchange&)>;

    explicit HttpServer(const ServerOptions& options, Handler handler, QObject* parent = nullptr);
    ~HttpServer() override;

    /// Listens on address:port (0 = any free port); returns the bound port, 0 on failure.
    quint16 listen(const QHostAddress& address, quint16 port);
    void setLogger(Logger logger);

    int connectionCount() const;
    qint64 refusedConnections() const;

private:
    friend class Responder;
    struct Connection;
    void onNewConnection();
    void onReadable(quint64 id);
    void onTimeout(quint64 id);
    void deliver(quint64 id, quint64 serial, int status, const QByteArray& contentType, const QByteArray& body,
        const QList<QByteArray>& extraHeaders);
    void refuse(Connection& c, int status, const QString& message, const QList<QByteArray>& extraHeaders = {});
    void endAfterAnswer(Connection& c);
    void shutdownSending(Connection& c);
    void onWritten(quint64 id);
    void close(Connection& c);
    void finish(quint64 id);

    ServerOptions m_options;
    Handler m_handler;
    Logger m_logger;
    QTcpServer* m_tcp = nullptr;
    QHash<quint64, Connection*> m_connections;
    quint64 m_nextId = 1;
    int m_active = 0; ///< connections accepted (not the ones refused at once)
    qint64 m_refused = 0;
};

} // namespace Winnow::Http
