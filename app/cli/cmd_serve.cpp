// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow serve MODEL_FILE`: a local HTTP prediction endpoint on Winnow's own HTTP/1.1 server (core/serve).
//
// The server thread only moves bytes: it reads each request within the limits (a body over --max-bytes is refused
// from its Content-Length, before it is read), times out slow clients, and answers GET routes at once, so a slow
// upload never holds up the others. Uploads are decoded and predicted one at a time on one inference thread:
// LibTorch's CPU kernels run on an OpenMP team per calling thread, and two teams taking turns spin against each
// other (measured on 2 cores, 8 clients: two inference threads 21 requests/s, one 27; batching the queued uploads
// into one forward pass, 24).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSocketNotifier>
#include <QTextStream>
#include <QThreadPool>

#include "app/cli/commands.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"
#include "core/serve/httpserver.h"
#include "core/util/threads.h"

#ifdef Q_OS_UNIX
#include <csignal>
#include <unistd.h>
#endif

namespace {

constexpr qint64 kDefaultMaxBytes = qint64(20) << 20;

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

QByteArray jsonBody(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray errorBody(const QString& message)
{
    return jsonBody(QJsonObject { { QStringLiteral("error"), message } });
}

class ModelServer
{
public:
    ModelServer(const Winnow::Predictor& predictor, const Winnow::Http::ServerOptions& options, bool quiet)
        : m_predictor(predictor)
        , m_maxBytes(options.limits.maxBody)
        , m_http(options, [this](const Winnow::Http::Request& r, const Winnow::Http::Responder& w) { handle(r, w); })
    {
        m_uptime.start();
        m_pool.setMaxThreadCount(Winnow::threads::kModelWorkerThreads); // the inference thread (top of this file)
        m_pool.setExpiryTimeout(-1); // and always the same one
        m_http.setLogger([this, quiet](const Winnow::Http::Exchange& e) {
            ++m_requests;
            if (!quiet)
                QTextStream(stderr) << (e.method.isEmpty() ? QByteArray("-") : e.method) << ' '
                                    << (e.path.isEmpty() ? QByteArray("-") : e.path) << ' ' << e.status << ' '
                                    << e.bodyBytes << " bytes\n";
        });
    }

    ~ModelServer()
    {
        m_pool.clear(); // uploads still queued are not predicted: their clients are being disconnected
        m_pool.waitForDone(); // and the one being predicted may not answer through a server that is gone
    }

    quint16 listen(const QHostAddress& address, quint16 port)
    {
        return m_http.listen(address, port);
    }

private:
    void handle(const Winnow::Http::Request& r, const Winnow::Http::Responder& w)
    {
        const auto json = [&w](int status, const QByteArray& body, const QList<QByteArray>& extra = {}) {
            w.send(status, "application/json", body, extra);
        };
        const bool get = r.method == "GET" || r.method == "HEAD"; // the server leaves out a HEAD's content
        const auto wrongMethod = [&](const char* allow, const QString& hint) {
            json(405,
                errorBody(QStringLiteral("method %1 not allowed on %2; %3")
                              .arg(QString::fromLatin1(r.method), QString::fromLatin1(r.path), hint)),
                { QByteArray("Allow: ") + allow });
        };
        if (r.path == "/" || r.path == "/health" || r.path == "/model") {
            if (!get)
                return wrongMethod("GET, HEAD", QStringLiteral("use GET"));
            if (r.path == "/")
                return w.send(200, "text/html; charset=utf-8", QByteArray(kIndexHtml));
            if (r.path == "/health")
                return json(200, jsonBody(health()));
            QJsonObject o = m_predictor.metadata();
            o.insert(QStringLiteral("max_bytes"), m_maxBytes);
            return json(200, jsonBody(o));
        }
        if (r.path != "/predict")
            return json(404,
                errorBody(QStringLiteral("no such endpoint: %1 (try GET /, GET /health, GET /model, POST /predict)")
                              .arg(QString::fromLatin1(r.path))));
        if (r.method != "POST")
            return wrongMethod(
                "POST", QStringLiteral("POST an image (multipart field 'image', or the raw bytes as the body)"));
        m_inFlight.fetchAndAddRelaxed(1);
        m_pool.start([this, r, w] {
            const auto [status, body] = predict(r);
            if (status == 200)
                m_predictions.fetchAndAddRelaxed(1);
            m_inFlight.fetchAndAddRelaxed(-1);
            w.send(status, "application/json", body);
        });
    }

    /// Runs on the inference thread.
    std::pair<int, QByteArray> predict(const Winnow::Http::Request& r) const
    {
        const QByteArray contentType = r.header("content-type");
        QByteArray image = r.body;
        if (contentType.trimmed().toLower().startsWith("multipart/")) {
            bool found = false;
            QString error;
            if (!Winnow::Http::multipartField(r.body, contentType, "image", &image, &found, &error))
                return { 400, errorBody(error) };
            if (!found)
                return { 400,
                    errorBody(QStringLiteral("multipart body has no 'image' field (send it as -F image=@photo.jpg)")) };
        }
        if (image.isEmpty())
            return { 400,
                errorBody(QStringLiteral(
                    "empty body: POST an image (multipart field 'image', or the raw bytes as the body)")) };
        const auto prediction = m_predictor.predict(image);
        if (!prediction.ok())
            return { 415, errorBody(QStringLiteral("not a readable image: %1").arg(prediction.error)) };
        return { 200, jsonBody(prediction.toJson(m_predictor.vocab())) };
    }

    QJsonObject health() const
    {
        return QJsonObject { { QStringLiteral("status"), QStringLiteral("ok") },
            { QStringLiteral("model"), m_predictor.info().arch },
            { QStringLiteral("classes"), m_predictor.vocab().size() },
            { QStringLiteral("uptime_s"), m_uptime.elapsed() / 1000.0 }, { QStringLiteral("requests"), m_requests },
            { QStringLiteral("predictions"), qint64(m_predictions.loadRelaxed()) },
            { QStringLiteral("in_flight"), m_inFlight.loadRelaxed() },
            { QStringLiteral("connections"), m_http.connectionCount() },
            { QStringLiteral("refused_connections"), m_http.refusedConnections() } };
    }

    const Winnow::Predictor& m_predictor;
    const qint64 m_maxBytes;
    QThreadPool m_pool;
    Winnow::Http::HttpServer m_http;
    QElapsedTimer m_uptime;
    qint64 m_requests = 0; ///< server thread only
    QAtomicInteger<qint64> m_predictions = 0;
    QAtomicInt m_inFlight = 0;
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
            QStringLiteral("N"), QString::number(kDefaultMaxBytes) },
        { QStringLiteral("timeout"),
            QStringLiteral("seconds a client gets to send a request's head (and an idle connection stays open); "
                           "3 x this for its body (default 10)"),
            QStringLiteral("S"), QStringLiteral("10") },
        { QStringLiteral("max-connections"),
            QStringLiteral("clients connected at once; one more gets 503 (default 64)"), QStringLiteral("N"),
            QStringLiteral("64") },
        { QStringLiteral("device"), QStringLiteral("auto | cpu | cuda"), QStringLiteral("D"), QStringLiteral("auto") },
        { QStringLiteral("quiet"), QStringLiteral("do not log requests to stderr") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("serve"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
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
    Winnow::Http::ServerOptions options;
    options.limits.maxBody = maxBytes;
    const double timeout = p.value(QStringLiteral("timeout")).toDouble(&ok);
    if (!ok || !(timeout >= 0.1 && timeout <= 3600)) {
        err << "winnow serve: --timeout must be 0.1..3600 seconds\n";
        return 2;
    }
    options.timeoutMs = int(timeout * 1000);
    options.maxConnections = p.value(QStringLiteral("max-connections")).toInt(&ok);
    if (!ok || options.maxConnections < 1 || options.maxConnections > 10000) {
        err << "winnow serve: --max-connections must be 1..10000\n";
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
    ModelServer server(predictor, options, p.isSet(QStringLiteral("quiet")));
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
}
