// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/serve/httprequest.h"

namespace Winnow::Http {

namespace {

/// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(c))
            return false;
    return true;
}

QByteArrayView trimmedBlanks(QByteArrayView s)
{
    while (!s.isEmpty() && (s.front() == ' ' || s.front() == '\t'))
        s = s.sliced(1);
    while (!s.isEmpty() && (s.back() == ' ' || s.back() == '\t'))
        s.chop(1);
    return s;
}

bool equalsLower(QByteArrayView a, QByteArrayView lower)
{
    if (a.size() != lower.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

/// Calls f on each blank-trimmed item of `value` split at `sep`, until f returns true; returns whether it did.
template <typename F> bool anyItem(QByteArrayView value, char sep, F&& f)
{
    qsizetype start = 0;
    while (start <= value.size()) {
        qsizetype end = value.indexOf(sep, start);
        if (end < 0)
            end = value.size();
        if (f(trimmedBlanks(value.sliced(start, end - start))))
            return true;
        start = end + 1;
    }
    return false;
}

/// Does the comma-separated list `value` hold `lowerToken` (case-insensitive)?
bool listHas(QByteArrayView value, QByteArrayView lowerToken)
{
    return anyItem(value, ',', [&](QByteArrayView item) { return equalsLower(item, lowerToken); });
}

HeadResult fail(Error* error, int status, const QString& message)
{
    error->status = status;
    error->message = message;
    return HeadResult::Failed;
}

} // namespace

QByteArray Request::header(QByteArrayView name) const
{
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

HeadResult parseHead(QByteArrayView buffer, const Limits& limits, Request* request, qsizetype* headBytes, Error* error)
{
    // Empty lines before the request line are ignored (at most a few; more is not a client speaking HTTP).
    qsizetype start = 0;
    for (int blank = 0; blank < 4; ++blank) {
        if (buffer.sliced(start).startsWith("\r\n"))
            start += 2;
        else if (buffer.sliced(start).startsWith("\n"))
            start += 1;
        else
            break;
    }

    // The request line must end within the target limit (plus room for the method and the version).
    const qsizetype lineEnd = buffer.indexOf('\n', start);
    const qsizetype lineRoom = qsizetype(limits.maxTarget) + 64;
    if (lineEnd < 0) {
        if (buffer.size() - start > lineRoom)
            return fail(error, 414, QStringLiteral("request line longer than %1 bytes").arg(lineRoom));
        if (buffer.size() > limits.maxHead)
            return fail(error, 431, QStringLiteral("request head larger than %1 bytes").arg(limits.maxHead));
        return HeadResult::NeedMore;
    }
    if (lineEnd - start > lineRoom)
        return fail(error, 414, QStringLiteral("request line longer than %1 bytes").arg(lineRoom));

    // The end of the head: the first empty line.
    qsizetype pos = lineEnd + 1;
    qsizetype headEnd = -1;
    while (true) {
        const qsizetype nl = buffer.indexOf('\n', pos);
        if (nl < 0)
            break;
        const qsizetype len = nl - pos;
        if (len == 0 || (len == 1 && buffer[pos] == '\r')) {
            headEnd = nl + 1;
            break;
        }
        pos = nl + 1;
    }
    if (headEnd < 0) {
        if (buffer.size() > limits.maxHead)
            return fail(error, 431, QStringLiteral("request head larger than %1 bytes").arg(limits.maxHead));
        return HeadResult::NeedMore;
    }
    if (headEnd > limits.maxHead)
        return fail(error, 431, QStringLiteral("request head larger than %1 bytes").arg(limits.maxHead));

    Request r;
    // Request line: method SP request-target SP HTTP-version.
    QByteArrayView line = buffer.sliced(start, lineEnd - start);
    if (line.endsWith('\r'))
        line.chop(1);
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0)
        return fail(error, 400, QStringLiteral("malformed request line (expected METHOD /path HTTP/1.1)"));
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method))
        return fail(error, 400, QStringLiteral("malformed request line: the method is not a token"));
    if (target.size() > limits.maxTarget)
        return fail(error, 414, QStringLiteral("request target longer than %1 bytes").arg(limits.maxTarget));
    // origin-form "/path", or absolute-form "http://host/path" (RFC 9112 §3.2.2: a server must accept it).
    qsizetype pathStart = 0;
    for (const QByteArrayView scheme : { QByteArrayView("http://"), QByteArrayView("https://") }) {
        if (target.size() > scheme.size() && equalsLower(target.first(scheme.size()), scheme)) {
            // The authority ends at the first '/', '?' or '#'; the path is "/" unless a '/' ends it.
            pathStart = target.size();
            for (qsizetype i = scheme.size(); i < target.size(); ++i)
                if (target[i] == '/' || target[i] == '?' || target[i] == '#') {
                    pathStart = i;
                    break;
                }
            break;
        }
    }
    if (pathStart == 0 && (target.isEmpty() || target.front() != '/'))
        return fail(error, 400, QStringLiteral("request target must be a path starting with '/'"));
    for (char c : target)
        if (uchar(c) <= 0x20 || uchar(c) == 0x7f)
            return fail(error, 400, QStringLiteral("request target holds a control character"));
    if (version.size() != 8 || !version.startsWith("HTTP/") || version[6] != '.' || version[5] < '0' || version[5] > '9'
        || version[7] < '0' || version[7] > '9')
        return fail(error, 400, QStringLiteral("malformed request line: bad HTTP version"));
    if (version[5] != '1')
        return fail(error, 505,
            QStringLiteral("HTTP version %1 not supported; use HTTP/1.1").arg(QString::fromLatin1(version)));
    r.method = method.toByteArray();
    r.target = target.toByteArray();
    qsizetype pathEnd = r.target.size();
    for (qsizetype i = pathStart; i < r.target.size(); ++i)
        if (r.target[i] == '?' || r.target[i] == '#') {
            pathEnd = i;
            break;
        }
    r.path = pathStart < r.target.size() && r.target[pathStart] == '/' ? r.target.mid(pathStart, pathEnd - pathStart)
                                                                       : QByteArray("/");
    r.minorVersion = version[7] - '0';

    // Fields.
    bool sawLength = false, sawEncoding = false, sawHost = false, sawClose = false, sawKeepAlive = false;
    QByteArrayView encoding;
    pos = lineEnd + 1;
    while (pos < headEnd) {
        const qsizetype nl = buffer.indexOf('\n', pos);
        QByteArrayView field = buffer.sliced(pos, nl - pos);
        pos = nl + 1;
        if (field.endsWith('\r'))
            field.chop(1);
        if (field.isEmpty())
            break; // the blank line
        if (field.front() == ' ' || field.front() == '\t')
            return fail(error, 400, QStringLiteral("folded header line (obsolete line folding is not accepted)"));
        if (r.headers.size() >= limits.maxHeaders)
            return fail(error, 431, QStringLiteral("more than %1 header fields").arg(limits.maxHeaders));
        const qsizetype colon = field.indexOf(':');
        if (colon <= 0 || !isToken(field.first(colon)))
            return fail(error, 400, QStringLiteral("malformed header line (expected Name: value)"));
        const QByteArrayView name = field.first(colon);
        const QByteArrayView value = trimmedBlanks(field.sliced(colon + 1));
        for (char c : value)
            if ((uchar(c) < 0x20 && c != '\t') || uchar(c) == 0x7f)
                return fail(
                    error, 400, QStringLiteral("header %1 holds a control character").arg(QString::fromLatin1(name)));
        if (equalsLower(name, "content-length")) {
            QByteArrayView digits = value;
            while (digits.size() > 1 && digits.front() == '0')
                digits = digits.sliced(1);
            if (digits.isEmpty() || digits.size() > 18)
                return fail(error, 400, QStringLiteral("bad Content-Length"));
            qint64 n = 0;
            for (char c : digits) {
                if (c < '0' || c > '9')
                    return fail(error, 400, QStringLiteral("bad Content-Length (not a decimal number)"));
                n = n * 10 + (c - '0');
            }
            if (sawLength && n != r.contentLength)
                return fail(error, 400, QStringLiteral("two different Content-Length fields"));
            sawLength = true;
            r.contentLength = n;
        } else if (equalsLower(name, "transfer-encoding")) {
            sawEncoding = true;
            encoding = value;
        } else if (equalsLower(name, "host")) {
            if (sawHost)
                return fail(error, 400, QStringLiteral("two Host fields"));
            sawHost = true;
        } else if (equalsLower(name, "connection")) {
            sawClose = sawClose || listHas(value, "close");
            sawKeepAlive = sawKeepAlive || listHas(value, "keep-alive");
        } else if (equalsLower(name, "expect")) {
            if (!equalsLower(value, "100-continue"))
                return fail(error, 417,
                    QStringLiteral("Expect: %1 is not supported (only 100-continue)").arg(QString::fromLatin1(value)));
            r.expectContinue = true;
        }
        r.headers.append({ name.toByteArray(), value.toByteArray() });
    }
    r.keepAlive = !sawClose && (r.minorVersion >= 1 || sawKeepAlive);
    if (r.minorVersion >= 1 && !sawHost)
        return fail(error, 400, QStringLiteral("HTTP/1.1 request without a Host header"));
    if (sawEncoding) {
        if (sawLength)
            return fail(error, 400, QStringLiteral("both Transfer-Encoding and Content-Length"));
        if (listHas(encoding, "chunked"))
            return fail(
                error, 411, QStringLiteral("chunked uploads are not accepted: send the body with a Content-Length"));
        return fail(
            error, 501, QStringLiteral("Transfer-Encoding %1 is not supported").arg(QString::fromLatin1(encoding)));
    }
    *headBytes = headEnd;
    *request = std::move(r);
    if (request->contentLength > limits.maxBody)
        return fail(error, 413,
            QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                .arg(request->contentLength)
                .arg(limits.maxBody));
    return HeadResult::Done;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

QByteArray formatResponse(int status, const QByteArray& contentType, const QByteArray& body, bool keepAlive,
    const QList<QByteArray>& extra, bool withBody)
{
    QByteArray out;
    out.reserve(160 + body.size());
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    if (!contentType.isEmpty())
        out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const QByteArray& h : extra)
        out += h + "\r\n";
    out += "\r\n";
    if (withBody)
        out += body;
    return out;
}

QByteArray headerParameter(QByteArrayView value, QByteArrayView name)
{
    QByteArray result;
    anyItem(value, ';', [&](QByteArrayView part) {
        const qsizetype eq = part.indexOf('=');
        if (eq <= 0 || !equalsLower(trimmedBlanks(part.first(eq)), name))
            return false;
        QByteArrayView v = trimmedBlanks(part.sliced(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
            v = v.sliced(1, v.size() - 2);
        result = v.toByteArray();
        return true;
    });
    return result;
}

bool multipartField(const QByteArray& body, const QByteArray& contentType, const QByteArray& field, QByteArray* data,
    bool* found, QString* error, int maxParts)
{
    *found = false;
    const QByteArray boundary = headerParameter(contentType, "boundary");
    if (boundary.isEmpty() || boundary.size() > 200) {
        *error = QStringLiteral("multipart body without a valid boundary");
        return false;
    }
    const QByteArray delimiter = "--" + boundary;
    qsizetype pos = body.indexOf(delimiter);
    if (pos < 0) {
        *error = QStringLiteral("malformed multipart body: no boundary line");
        return false;
    }
    for (int parts = 0; parts <= maxParts; ++parts) {
        pos += delimiter.size();
        if (body.mid(pos, 2) == "--")
            return true; // closing delimiter
        if (body.mid(pos, 2) != "\r\n") {
            *error = QStringLiteral("malformed multipart body: bad boundary line");
            return false;
        }
        pos += 2;
        const qsizetype headersEnd = body.indexOf("\r\n\r\n", pos);
        if (headersEnd < 0) {
            *error = QStringLiteral("malformed multipart body: part without headers");
            return false;
        }
        QByteArray name;
        for (const QByteArray& line : body.mid(pos, headersEnd - pos).split('\n')) {
            const QByteArray l = line.trimmed();
            const int colon = l.indexOf(':');
            if (colon > 0 && l.left(colon).trimmed().toLower() == "content-disposition")
                name = headerParameter(l.mid(colon + 1), "name");
        }
        const qsizetype dataStart = headersEnd + 4;
        const qsizetype next = body.indexOf(QByteArray("\r\n" + delimiter), dataStart);
        if (next < 0) {
            *error = QStringLiteral("malformed multipart body: unterminated part");
            return false;
        }
        if (name == field && !*found) {
            *data = body.mid(dataStart, next - dataStart);
            *found = true;
        }
        pos = next + 2;
    }
    *error = QStringLiteral("multipart body with more than %1 parts").arg(maxParts);
    return false;
}

} // namespace Winnow::Http
