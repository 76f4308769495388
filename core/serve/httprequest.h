// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>

/**
 * The HTTP/1.1 request reader of `winnow serve` (RFC 9112), as pure functions on bytes so that it can be fuzzed
 * (tests/fuzz/fuzz_http.cpp) and tested without a socket. The server (httpserver.h) feeds it what has arrived.
 *
 * What it refuses, and with which status: a request line that is not `METHOD SP /target SP HTTP/1.x` (400; another
 * HTTP version 505), a target over Limits::maxTarget (414), a head over Limits::maxHead bytes or with more than
 * Limits::maxHeaders fields (431), a malformed field (no name, space before the colon, a control character, an
 * obsolete folded line: 400), a missing Host in HTTP/1.1 (400), a Content-Length that is not a decimal number or
 * disagrees with another (400), Transfer-Encoding (411 for chunked, 501 for the rest; with a Content-Length too, 400),
 * an Expect other than 100-continue (417), and a Content-Length over Limits::maxBody (413, known from the head, so
 * the body is never read).
 */
namespace Winnow::Http {

struct Limits
{
    qint64 maxBody = qint64(20) << 20; ///< largest body accepted (Content-Length)
    int maxHead = 16 * 1024; ///< request line + fields + blank line
    int maxHeaders = 100;
    int maxTarget = 8 * 1024;
};

struct Request
{
    QByteArray method; ///< as sent, e.g. "POST" (a token, case-sensitive)
    QByteArray target; ///< as sent, e.g. "/predict?x=1" or "http://host/predict"
    QByteArray path; ///< the target's path, up to '?' or '#' (of an absolute-form target, the part after the host)
    int minorVersion = 1; ///< HTTP/1.<minorVersion>
    QList<QPair<QByteArray, QByteArray>> headers; ///< names as sent, values without surrounding blanks
    qint64 contentLength = 0;
    bool keepAlive = true; ///< HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive"
    bool expectContinue = false; ///< "Expect: 100-continue"
    QByteArray body;

    /// The first field called `name` (case-insensitive), or an empty array.
    QByteArray header(QByteArrayView name) const;
};

struct Error
{
    int status = 400;
    QString message;
};

enum class HeadResult {
    NeedMore, ///< no complete head yet, and nothing wrong so far
    Done, ///< *request holds the head; *headBytes bytes of `buffer` were the head (blank line included)
    Failed, ///< *error says why; for a 413 the fields of *request are filled (the server may still honour Expect)
};

/// Reads the request head at the start of `buffer` (empty lines before the request line are skipped, RFC 9112 §2.2).
HeadResult parseHead(QByteArrayView buffer, const Limits& limits, Request* request, qsizetype* headBytes, Error* error);

/// "Not Found" for 404, ...; "Unknown" for a status it does not know.
QByteArray reasonPhrase(int status);

/// A whole response: status line, Content-Type, Content-Length, Connection, `extraHeaders` (each "Name: value"),
/// then the body unless `withBody` is false (the answer to a HEAD: the same fields, no content).
QByteArray formatResponse(int status, const QByteArray& contentType, const QByteArray& body, bool keepAlive,
    const QList<QByteArray>& extraHeaders = {}, bool withBody = true);

/// The value of parameter `name` in a field like `multipart/form-data; boundary="abc"` (name compared in lower case).
QByteArray headerParameter(QByteArrayView value, QByteArrayView name);

/**
 * Field `field` of a multipart/form-data body (RFC 7578). Returns false with *error for a malformed body; true with
 * *found false when the field is absent. At most `maxParts` parts are read.
 */
bool multipartField(const QByteArray& body, const QByteArray& contentType, const QByteArray& field, QByteArray* data,
    bool* found, QString* error, int maxParts = 64);

} // namespace Winnow::Http
