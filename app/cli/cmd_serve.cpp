// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow serve MODEL_FILE`: a local HTTP prediction endpoint on Qt HttpServer (Qt 6.4 API).
//
// Requests are handled one at a time in the event loop: concurrent clients are queued, each gets its own answer.
// QHttpServer 6.4's deferred (QFuture) responses keep a raw socket pointer that dangles if the client disconnects
// early, so the synchronous path is the safe one; the forward pass uses every core through LibTorch anyway.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"

#ifdef WINNOW_HAVE_HTTPSERVER
#include <QHostAddress>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QSocketNotifier>

#ifdef Q_OS_UNIX
#include <csignal>
#include <unistd.h>
#endif
#endif

namespace {

#ifdef WINNOW_HAVE_HTTPSERVER

using Status = QHttpServerResponder::StatusCode;

constexpr qint64 kDefaultMaxBytes = qint64(20) << 20;
constexpr int kMaxParts = 64;

const char kIndexHtml[] = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Winnow model server</title>
<style>
body{font-family:system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#222}
#drop{border:2px dashed #999;border-radius:8px;padding:2em;text-align:center;cursor:pointer}
#drop.over{background:#eef}
img{max-width:100%;max-height:260px;display:block;margin:1em auto}
table{border-collapse:collapse;width:100%}td{padding:2px 6px}
.bar{background:#4a7;height:12px}
code{background:#f3f3f3;padding:1px 4px}
</style></head><body>
<h1>Winnow model server</h1>
<p id="meta">loading model information&hellip;</p>
<div id="drop">Drop an image here or click to choose one<input id="file" type="file" accept="image/*" hidden></div>
<img id="preview" alt="" hidden>
<h2 id="label"></h2>
<table id="probs"></table>
<p>From a shell: <code>curl -F image=@photo.jpg <span class="origin"></span>/predict</code></p>
<script>
const $=id=>document.getElementById(id);
document.querySelectorAll('.origin').forEach(e=>e.textContent=location.origin);
fetch('/model').then(r=>r.json()).then(m=>{
  $('meta').textContent=`${m.arch} (${m.kind}), ${m.size} px, classes: ${m.vocab.join(', ')}`;});
function show(file){
  $('preview').src=URL.createObjectURL(file);$('preview').hidden=false;
  $('label').textContent='predicting\u2026';$('probs').innerHTML='';
  const fd=new FormData();fd.append('image',file);
  fetch('/predict',{method:'POST',body:fd}).then(r=>r.json()).then(res=>{
    if(res.error){$('label').textContent='Error: '+res.error;return;}
    $('label').textContent=`${res.label} (${(100*res.probabilities[res.label]).toFixed(1)}%)`;
    const rows=Object.entries(res.probabilities).sort((a,b)=>b[1]-a[1]);
    $('probs').innerHTML=rows.map(([k,p])=>
      `<tr><td>${k.replace(/</g,'&lt;')}</td><td style="width:60%"><div class="bar" style="width:${(100*p).toFixed(1)}%"></div></td><td>${p.toFixed(4)}</td></tr>`).join('');
  }).catch(e=>{$('label').textContent='Error: '+e;});
}
$('drop').onclick=()=>$('file').click();
$('file').onchange=e=>{if(e.target.files.length)show(e.target.files[0]);};
$('drop').ondragover=e=>{e.preventDefault();$('drop').classList.add('over');};
$('drop').ondragleave=()=>$('drop').classList.remove('over');
$('drop').ondrop=e=>{e.preventDefault();$('drop').classList.remove('over');if(e.dataTransfer.files.length)show(e.dataTransfer.files[0]);};
</script></body></html>
)html";

QHttpServerResponse jsonError(Status status, const QString& message)
{
    return QHttpServerResponse(QJsonObject { { QStringLiteral("error"), message } }, status);
}

QByteArray header(const QHttpServerRequest& request, const QByteArray& name)
{
    for (const auto& [key, value] : request.headers())
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

QString methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get:
        return QStringLiteral("GET");
    case QHttpServerRequest::Method::Post:
        return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put:
        return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete:
        return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Head:
        return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Options:
        return QStringLiteral("OPTIONS");
    case QHttpServerRequest::Method::Patch:
        return QStringLiteral("PATCH");
    default:
        return QStringLiteral("OTHER");
    }
}

/// The value of parameter `name` in a header like `multipart/form-data; boundary="abc"`.
QByteArray headerParameter(const QByteArray& value, const QByteArray& name)
{
    for (QByteArray part : value.split(';')) {
        part = part.trimmed();
        const int eq = part.indexOf('=');
        if (eq <= 0 || part.left(eq).trimmed().toLower() != name)
            continue;
        QByteArray v = part.mid(eq + 1).trimmed();
        if (v.size() >= 2 && v.startsWith('"') && v.endsWith('"'))
            v = v.mid(1, v.size() - 2);
        return v;
    }
    return {};
}

/**
 * Extracts field `field` from a multipart/form-data body (RFC 7578). Returns false with *error for a malformed body;
 * true with an empty *data when the field is absent (*found false).
 */
bool multipartField(const QByteArray& body, const QByteArray& contentType, const QByteArray& field, QByteArray* data,
    bool* found, QString* error)
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
    for (int parts = 0; parts <= kMaxParts; ++parts) {
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
    *error = QStringLiteral("multipart body with more than %1 parts").arg(kMaxParts);
    return false;
}

class ModelServer
{
public:
    ModelServer(const Winnow::Predictor& predictor, qint64 maxBytes, bool quiet)
        : m_predictor(predictor)
        , m_maxBytes(maxBytes)
        , m_quiet(quiet)
    {
        m_uptime.start();
        // Every route takes any method and answers a wrong one with 405 (the router alone would say 404).
        m_server.route(QStringLiteral("/"),
            [this](const QHttpServerRequest& r) { return log(r, getOnly(r, [this] { return page(); })); });
        m_server.route(QStringLiteral("/health"),
            [this](const QHttpServerRequest& r) { return log(r, getOnly(r, [this] { return health(); })); });
        m_server.route(QStringLiteral("/model"),
            [this](const QHttpServerRequest& r) { return log(r, getOnly(r, [this] { return model(); })); });
        m_server.route(QStringLiteral("/predict"), [this](const QHttpServerRequest& r) { return log(r, predict(r)); });
        m_server.setMissingHandler([this](const QHttpServerRequest& r, QHttpServerResponder&& responder) {
            ++m_requests;
            const QString msg =
                QStringLiteral("no such endpoint: %1 (try GET /, GET /health, GET /model, POST /predict)")
                    .arg(r.url().path());
            logLine(r, 404);
            responder.write(QJsonDocument(QJsonObject { { QStringLiteral("error"), msg } }), Status::NotFound);
        });
    }

    quint16 listen(const QHostAddress& address, quint16 port)
    {
        return m_server.listen(address, port);
    }

private:
    /// make() for a GET, else 405 with an Allow header.
    template <typename Make> QHttpServerResponse getOnly(const QHttpServerRequest& r, Make&& make) const
    {
        if (r.method() == QHttpServerRequest::Method::Get)
            return make();
        auto reply = jsonError(Status::MethodNotAllowed,
            QStringLiteral("method %1 not allowed on %2; use GET").arg(methodName(r.method()), r.url().path()));
        reply.addHeader("Allow", "GET");
        return reply;
    }

    QHttpServerResponse page() const
    {
        return QHttpServerResponse(QByteArrayLiteral("text/html; charset=utf-8"), QByteArray(kIndexHtml));
    }

    QHttpServerResponse health() const
    {
        return QHttpServerResponse(QJsonObject { { QStringLiteral("status"), QStringLiteral("ok") },
            { QStringLiteral("model"), m_predictor.info().arch },
            { QStringLiteral("classes"), m_predictor.vocab().size() },
            { QStringLiteral("uptime_s"), m_uptime.elapsed() / 1000.0 }, { QStringLiteral("requests"), m_requests },
            { QStringLiteral("predictions"), m_predictions } });
    }

    QHttpServerResponse model() const
    {
        QJsonObject o = m_predictor.metadata();
        o.insert(QStringLiteral("max_bytes"), m_maxBytes);
        return QHttpServerResponse(o);
    }

    QHttpServerResponse predict(const QHttpServerRequest& r)
    {
        if (r.method() != QHttpServerRequest::Method::Post) {
            auto reply = jsonError(Status::MethodNotAllowed,
                QStringLiteral("method %1 not allowed on /predict; POST an image (multipart field 'image', or the raw "
                               "bytes as the body)")
                    .arg(methodName(r.method())));
            reply.addHeader("Allow", "POST");
            return reply;
        }
        const QByteArray body = r.body();
        if (body.size() > m_maxBytes)
            return jsonError(Status::PayloadTooLarge,
                QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                    .arg(body.size())
                    .arg(m_maxBytes));
        const QByteArray contentType = header(r, "content-type");
        QByteArray image = body;
        if (contentType.trimmed().toLower().startsWith("multipart/")) {
            bool found = false;
            QString error;
            if (!multipartField(body, contentType, "image", &image, &found, &error))
                return jsonError(Status::BadRequest, error);
            if (!found)
                return jsonError(Status::BadRequest,
                    QStringLiteral("multipart body has no 'image' field (send it as -F image=@photo.jpg)"));
        }
        if (image.isEmpty())
            return jsonError(Status::BadRequest,
                QStringLiteral("empty body: POST an image (multipart field 'image', or the raw bytes as the body)"));
        const auto prediction = m_predictor.predict(image);
        if (!prediction.ok())
            return jsonError(
                Status::UnsupportedMediaType, QStringLiteral("not a readable image: %1").arg(prediction.error));
        ++m_predictions;
        return QHttpServerResponse(prediction.toJson(m_predictor.vocab()));
    }

    QHttpServerResponse log(const QHttpServerRequest& r, QHttpServerResponse&& response)
    {
        ++m_requests;
        logLine(r, int(response.statusCode()));
        return std::move(response);
    }

    void logLine(const QHttpServerRequest& r, int status) const
    {
        if (m_quiet)
            return;
        QTextStream(stderr) << methodName(r.method()) << ' ' << r.url().path() << ' ' << status << ' '
                            << r.body().size() << " bytes\n";
    }

    const Winnow::Predictor& m_predictor;
    const qint64 m_maxBytes;
    const bool m_quiet;
    QHttpServer m_server;
    QElapsedTimer m_uptime;
    qint64 m_requests = 0;
    qint64 m_predictions = 0;
};

#ifdef Q_OS_UNIX
int g_signalPipe[2] = { -1, -1 };

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(g_signalPipe[1], &c, 1);
}

/// SIGTERM / SIGINT quit the event loop (then the server closes its sockets and the process exits 0).
void installQuitOnSignals()
{
    if (::pipe(g_signalPipe) != 0)
        return;
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    auto* notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [] {
        char c;
        [[maybe_unused]] const auto n = ::read(g_signalPipe[0], &c, 1);
        QCoreApplication::quit();
    });
}
#endif

#endif // WINNOW_HAVE_HTTPSERVER

} // namespace

int Winnow::Cli::serve(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Serve an exported model over local HTTP.\n"
        "  POST /predict   an image (multipart field 'image', or the raw bytes) -> {label, index, probabilities}\n"
        "  GET /health, GET /model (metadata), GET / (a page to try it in a browser)"));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("MODEL_FILE"), QStringLiteral("a model written by 'winnow export'"));
    p.addOptions({
        { QStringLiteral("host"), QStringLiteral("address to listen on (default 127.0.0.1)"), QStringLiteral("HOST"),
            QStringLiteral("127.0.0.1") },
        { QStringLiteral("port"), QStringLiteral("port (default 8765; 0 = any free port)"), QStringLiteral("P"),
            QStringLiteral("8765") },
        { QStringLiteral("max-bytes"), QStringLiteral("largest accepted request body (default 20 MiB)"),
            QStringLiteral("N"), QString::number(qint64(20) << 20) },
        { QStringLiteral("device"), QStringLiteral("auto | cpu | cuda"), QStringLiteral("D"), QStringLiteral("auto") },
        { QStringLiteral("quiet"), QStringLiteral("do not log requests to stderr") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("serve"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
#ifndef WINNOW_HAVE_HTTPSERVER
    err << "winnow serve: this build has no Qt HttpServer (install qt6-httpserver-dev and rebuild)\n";
    return 1;
#else
    if (p.positionalArguments().size() != 1) {
        err << "winnow serve: give exactly one model file (see --help)\n";
        return 2;
    }
    bool ok = false;
    const uint port = p.value(QStringLiteral("port")).toUInt(&ok);
    if (!ok || port > 65535) {
        err << "winnow serve: --port must be 0..65535\n";
        return 2;
    }
    const qint64 maxBytes = p.value(QStringLiteral("max-bytes")).toLongLong(&ok);
    if (!ok || maxBytes < 1) {
        err << "winnow serve: --max-bytes must be a positive integer\n";
        return 2;
    }
    const QString hostName = p.value(QStringLiteral("host"));
    QHostAddress host;
    if (hostName == QLatin1String("localhost"))
        host = QHostAddress(QHostAddress::LocalHost);
    else if (!host.setAddress(hostName)) {
        err << "winnow serve: --host must be an IP address (e.g. 127.0.0.1 or 0.0.0.0), not '" << hostName << "'\n";
        return 2;
    }

    const QString modelFile = p.positionalArguments().constFirst();
    Predictor predictor(PredictorOptions { p.value(QStringLiteral("device")), 1 });
    QString error;
    const bool loaded = QFileInfo(QDir(modelFile).filePath(QLatin1String(kRunFile))).isFile()
        ? predictor.loadRun(modelFile, &error)
        : predictor.load(modelFile, &error);
    if (!loaded) {
        err << "winnow serve: " << error << '\n';
        return 1;
    }
    ModelServer server(predictor, maxBytes, p.isSet(QStringLiteral("quiet")));
    const quint16 bound = server.listen(host, quint16(port));
    if (bound == 0) {
        err << "winnow serve: cannot listen on " << hostName << ':' << port << " (port in use, or no such address)\n";
        return 1;
    }
#ifdef Q_OS_UNIX
    installQuitOnSignals();
#endif
    const QString shownHost = host.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1Char('[') + host.toString() + QLatin1Char(']')
        : host.toString();
    out << "serving " << predictor.info().arch << " (" << predictor.info().kind << "; "
        << predictor.vocab().join(QStringLiteral(", ")) << ") on " << predictor.device() << '\n';
    out << "listening on http://" << shownHost << ':' << bound << '\n';
    out.flush();
    const int rc = QCoreApplication::exec();
    out << "stopped\n";
    return rc;
#endif
}
