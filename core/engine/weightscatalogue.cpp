// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/weightscatalogue.h"

#include <cstdio>
#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QtEndian>

#include "core/engine/types.h"

namespace Winnow {

namespace {

// timm republished torchvision's own ImageNet weights ("tv_in1k") as safetensors with torchvision's tensor names
// (ResNets only: timm's MobileNetV2 is a different module tree). Apache-2.0 (timm) over torchvision's BSD weights.
// The hub publishes each file's SHA-256 only in its LFS pointer, not at a stable URL, so none is pinned here: the
// download records the checksum it computed, and a user catalogue can pin one.
const char* kBuiltin = R"json([
  {"id": "resnet18.tv_in1k", "arch": "resnet18",
   "title": "ResNet-18, ImageNet-1k (torchvision V1 weights, via timm)",
   "url": "https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors",
   "source": "torchvision (BSD-3-Clause), republished by timm on the Hugging Face Hub"},
  {"id": "resnet34.tv_in1k", "arch": "resnet34",
   "title": "ResNet-34, ImageNet-1k (torchvision V1 weights, via timm)",
   "url": "https://huggingface.co/timm/resnet34.tv_in1k/resolve/main/model.safetensors",
   "source": "torchvision (BSD-3-Clause), republished by timm on the Hugging Face Hub"},
  {"id": "resnet50.tv_in1k", "arch": "resnet50",
   "title": "ResNet-50, ImageNet-1k (torchvision V1 weights, via timm)",
   "url": "https://huggingface.co/timm/resnet50.tv_in1k/resolve/main/model.safetensors",
   "source": "torchvision (BSD-3-Clause), republished by timm on the Hugging Face Hub"},
  {"id": "resnet50.tv2_in1k", "arch": "resnet50",
   "title": "ResNet-50, ImageNet-1k (torchvision V2 weights, via timm)",
   "url": "https://huggingface.co/timm/resnet50.tv2_in1k/resolve/main/model.safetensors",
   "source": "torchvision (BSD-3-Clause), republished by timm on the Hugging Face Hub"}
])json";

bool isLoopback(const QString& host)
{
    return host == QLatin1String("127.0.0.1") || host == QLatin1String("::1") || host == QLatin1String("localhost");
}

} // namespace

const WeightsEntry* WeightsCatalogue::find(const QString& id) const
{
    for (const WeightsEntry& e : entries)
        if (e.id == id)
            return &e;
    return nullptr;
}

QList<WeightsEntry> WeightsCatalogue::forArch(const QString& arch) const
{
    QList<WeightsEntry> out;
    for (const WeightsEntry& e : entries)
        if (e.arch == arch)
            out << e;
    return out;
}

bool isAllowedWeightsUrl(const QUrl& url)
{
    if (!url.isValid() || url.host().isEmpty())
        return false;
    const QString scheme = url.scheme().toLower();
    return scheme == QLatin1String("https") || (scheme == QLatin1String("http") && isLoopback(url.host()));
}

WeightsCatalogue parseWeightsCatalogue(const QByteArray& json)
{
    WeightsCatalogue out;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError) {
        out.errors << QStringLiteral("not valid JSON: %1 at offset %2").arg(error.errorString()).arg(error.offset);
        return out;
    }
    if (!doc.isArray()) {
        out.errors << QStringLiteral("expected a JSON array of entries");
        return out;
    }
    static const QRegularExpression idPattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$"));
    static const QRegularExpression hexPattern(QStringLiteral("^[0-9a-f]{64}$"));
    const QJsonArray array = doc.array();
    for (int i = 0; i < array.size(); ++i) {
        const QJsonObject o = array.at(i).toObject();
        WeightsEntry e;
        e.id = o.value(QStringLiteral("id")).toString();
        e.arch = o.value(QStringLiteral("arch")).toString();
        e.title = o.value(QStringLiteral("title")).toString(e.id);
        e.url = QUrl(o.value(QStringLiteral("url")).toString());
        e.sha256 = o.value(QStringLiteral("sha256")).toString().toLower();
        e.bytes = qint64(o.value(QStringLiteral("bytes")).toDouble(0));
        e.source = o.value(QStringLiteral("source")).toString();
        const QString where = QStringLiteral("entry %1%2")
                                  .arg(i + 1)
                                  .arg(e.id.isEmpty() ? QString() : QStringLiteral(" (\"%1\")").arg(e.id));
        QString problem;
        if (!array.at(i).isObject())
            problem = QStringLiteral("not an object");
        else if (!idPattern.match(e.id).hasMatch())
            problem = QStringLiteral("\"id\" must be 1-100 letters, digits, '.', '_', '+' or '-'");
        else if (!pretrainedArchitectureNames().contains(e.arch))
            problem = QStringLiteral("unknown \"arch\" \"%1\" (expected one of %2)")
                          .arg(e.arch, pretrainedArchitectureNames().join(QStringLiteral(", ")));
        else if (!isAllowedWeightsUrl(e.url))
            problem = QStringLiteral("\"url\" must be https (or http to this machine): \"%1\"").arg(e.url.toString());
        else if (!e.sha256.isEmpty() && !hexPattern.match(e.sha256).hasMatch())
            problem = QStringLiteral("\"sha256\" must be 64 hex digits");
        else if (e.bytes < 0)
            problem = QStringLiteral("\"bytes\" must not be negative");
        else if (out.find(e.id))
            problem = QStringLiteral("duplicate id");
        if (!problem.isEmpty()) {
            out.errors << where + QStringLiteral(": ") + problem;
            continue;
        }
        out.entries << e;
    }
    return out;
}

WeightsCatalogue builtinWeightsCatalogue()
{
    return parseWeightsCatalogue(QByteArray(kBuiltin));
}

WeightsCatalogue weightsCatalogue()
{
    WeightsCatalogue all = builtinWeightsCatalogue();
    const QString path = qEnvironmentVariable("WINNOW_WEIGHTS_CATALOGUE");
    if (path.isEmpty())
        return all;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        all.errors << QStringLiteral("%1: %2").arg(path, f.errorString());
        return all;
    }
    const WeightsCatalogue user = parseWeightsCatalogue(f.readAll());
    for (const QString& e : user.errors)
        all.errors << QStringLiteral("%1: %2").arg(path, e);
    for (const WeightsEntry& e : user.entries) {
        bool replaced = false;
        for (WeightsEntry& mine : all.entries)
            if (mine.id == e.id) {
                mine = e;
                replaced = true;
            }
        if (!replaced)
            all.entries << e;
    }
    return all;
}

QString weightsCacheDir()
{
    const QString env = qEnvironmentVariable("WINNOW_CACHE_DIR");
    if (!env.isEmpty())
        return QDir::cleanPath(env + QStringLiteral("/weights"));
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.cache");
    return QDir::cleanPath(base + QStringLiteral("/winnow/weights"));
}

QString defaultPretrainedWeights(const QString& arch)
{
    const QString file = arch + QStringLiteral("-imagenet.safetensors");
    QStringList dirs;
    const QString env = qEnvironmentVariable("WINNOW_SHARED");
    QStringList starts; // $WINNOW_SHARED, when set, is the only shared folder looked at
    if (!env.isEmpty())
        dirs << env + QStringLiteral("/weights");
    else
        starts << QDir::currentPath();
    if (env.isEmpty() && QCoreApplication::instance())
        starts << QCoreApplication::applicationDirPath();
    for (const QString& start : std::as_const(starts)) {
        QDir dir(start);
        for (int up = 0; up < 6; ++up) {
            dirs << dir.filePath(QStringLiteral("shared/weights")) << dir.filePath(QStringLiteral("../shared/weights"));
            if (!dir.cdUp())
                break;
        }
    }
    for (const QString& d : std::as_const(dirs)) {
        const QFileInfo info(QDir(d).filePath(file));
        if (info.isFile())
            return QDir::cleanPath(info.absoluteFilePath());
    }
    for (const WeightsEntry& e : weightsCatalogue().forArch(arch))
        if (const QString cached = cachedWeightsFile(e); !cached.isEmpty())
            return cached;
    return {};
}

QString cachedWeightsFile(const WeightsEntry& entry, const QString& cacheDir)
{
    const QString path = QDir(cacheDir).filePath(entry.fileName());
    const QFileInfo info(path);
    if (!info.isFile() || (entry.bytes > 0 && info.size() != entry.bytes))
        return {};
    return path;
}

QString checkSafetensorsStructure(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return f.errorString();
    const qint64 size = f.size();
    if (size < 8)
        return QStringLiteral("too short for a safetensors file (%1 bytes)").arg(size);
    const QByteArray head = f.read(8);
    const quint64 n = qFromLittleEndian<quint64>(head.constData());
    if (n == 0 || n > quint64(100) * 1024 * 1024 || qint64(8 + n) > size)
        return QStringLiteral("not a safetensors file (header length %1 in a file of %2 bytes)").arg(n).arg(size);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(qint64(n)), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return QStringLiteral("not a safetensors file (the header is not a JSON object)");
    qint64 end = 0;
    int tensors = 0;
    const QJsonObject header = doc.object();
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == QLatin1String("__metadata__"))
            continue;
        const QJsonArray offsets = it.value().toObject().value(QStringLiteral("data_offsets")).toArray();
        if (offsets.size() != 2)
            return QStringLiteral("tensor \"%1\" has no data_offsets").arg(it.key());
        const qint64 a = qint64(offsets.at(0).toDouble(-1));
        const qint64 b = qint64(offsets.at(1).toDouble(-1));
        if (a < 0 || b < a || 8 + qint64(n) + b > size)
            return QStringLiteral("tensor \"%1\" lies outside the file").arg(it.key());
        end = std::max(end, b);
        ++tensors;
    }
    if (tensors == 0)
        return QStringLiteral("the file holds no tensors");
    if (8 + qint64(n) + end != size)
        return QStringLiteral("the file is %1 bytes, its header describes %2").arg(size).arg(8 + qint64(n) + end);
    return {};
}

// ---------------------------------------------------------------------------------------------------------------

WeightsDownloader::WeightsDownloader(QObject* parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
    , m_cacheDir(weightsCacheDir())
{
    m_network->setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
}

WeightsDownloader::~WeightsDownloader()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
    cleanup();
}

void WeightsDownloader::setCacheDir(const QString& dir)
{
    m_cacheDir = dir;
}

QString WeightsDownloader::cacheDir() const
{
    return m_cacheDir;
}

void WeightsDownloader::setMaxBytes(qint64 bytes)
{
    m_maxBytes = bytes;
}

bool WeightsDownloader::isRunning() const
{
    return m_reply != nullptr;
}

bool WeightsDownloader::start(const WeightsEntry& entry)
{
    if (isRunning()) {
        Q_EMIT failed(QStringLiteral("a download is already running"));
        return false;
    }
    if (!isAllowedWeightsUrl(entry.url)) {
        Q_EMIT failed(QStringLiteral("refusing to download from \"%1\": only https (or http to this machine)")
                          .arg(entry.url.toString()));
        return false;
    }
    if (!QDir().mkpath(m_cacheDir)) {
        Q_EMIT failed(QStringLiteral("cannot create the cache folder %1").arg(m_cacheDir));
        return false;
    }
    m_entry = entry;
    m_error.clear();
    m_received = 0;
    m_lastProgressMs = -1;
    m_hash.reset();
    m_file = new QFile(QDir(m_cacheDir).filePath(QLatin1Char('.') + entry.fileName() + QStringLiteral(".part")), this);
    if (!m_file->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        const QString message = QStringLiteral("cannot write to %1: %2").arg(m_cacheDir, m_file->errorString());
        cleanup();
        Q_EMIT failed(message);
        return false;
    }
    QNetworkRequest request(entry.url);
    request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Winnow/" WINNOW_VERSION));
    request.setTransferTimeout(60000); // no byte for a minute: give up
    m_clock.start();
    m_reply = m_network->get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &WeightsDownloader::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &WeightsDownloader::onFinished);
    return true;
}

void WeightsDownloader::cancel()
{
    if (!m_reply)
        return;
    m_error = QStringLiteral("cancelled");
    m_reply->abort(); // finished() follows, synchronously
}

void WeightsDownloader::onReadyRead()
{
    if (!m_reply || !m_file || !m_error.isEmpty())
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 0 && status != 200) {
        m_reply->readAll(); // an error page: not written
        return;
    }
    const QByteArray data = m_reply->readAll();
    m_received += data.size();
    const qint64 limit = m_entry.bytes > 0 ? m_entry.bytes : m_maxBytes;
    if (m_received > limit) {
        m_error = QStringLiteral("the server sent more than the expected %1 bytes").arg(limit);
        m_reply->abort();
        return;
    }
    m_hash.addData(data);
    if (m_file->write(data) != data.size()) {
        m_error = QStringLiteral("cannot write to %1: %2").arg(m_cacheDir, m_file->errorString());
        m_reply->abort();
        return;
    }
    const qint64 now = m_clock.elapsed();
    if (m_lastProgressMs < 0 || now - m_lastProgressMs >= 100) {
        m_lastProgressMs = now;
        const qint64 total =
            m_entry.bytes > 0 ? m_entry.bytes : m_reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
        Q_EMIT progress(m_received, total > 0 ? total : -1);
    }
}

void WeightsDownloader::onFinished()
{
    if (!m_reply)
        return;
    onReadyRead(); // whatever is left
    QNetworkReply* reply = m_reply;
    m_reply = nullptr;
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString error = m_error;
    if (error.isEmpty() && status != 0 && status != 200)
        error = QStringLiteral("the server answered HTTP %1 %2")
                    .arg(status)
                    .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString());
    if (error.isEmpty() && reply->error() != QNetworkReply::NoError)
        error = QStringLiteral("download failed: %1").arg(reply->errorString());
    if (error.isEmpty() && status != 200)
        error = QStringLiteral("the server gave no HTTP status");
    const QString sha = QString::fromLatin1(m_hash.result().toHex());
    if (error.isEmpty() && m_entry.bytes > 0 && m_received != m_entry.bytes)
        error = QStringLiteral("got %1 bytes, expected %2").arg(m_received).arg(m_entry.bytes);
    if (error.isEmpty() && !m_entry.sha256.isEmpty() && sha != m_entry.sha256)
        error = QStringLiteral("checksum mismatch: the file's SHA-256 is %1, the catalogue says %2")
                    .arg(sha, m_entry.sha256);
    if (error.isEmpty() && (!m_file->flush() || ::fsync(m_file->handle()) != 0)) // on disk before the rename
        error = QStringLiteral("cannot write to %1: %2").arg(m_cacheDir, m_file->errorString());
    if (error.isEmpty()) {
        m_file->close();
        const QString part = m_file->fileName();
        const QString path = QDir(m_cacheDir).filePath(m_entry.fileName());
        if (const QString bad = checkSafetensorsStructure(part); !bad.isEmpty())
            error = QStringLiteral("the downloaded file is not usable weights: %1").arg(bad);
        else if (std::rename(QFile::encodeName(part).constData(), QFile::encodeName(path).constData()) != 0)
            error = QStringLiteral("cannot save %1").arg(path);
        if (error.isEmpty()) {
            delete m_file;
            m_file = nullptr;
            Q_EMIT finished(path, sha);
            return;
        }
    }
    fail(error);
}

void WeightsDownloader::fail(const QString& message)
{
    cleanup();
    Q_EMIT failed(message);
}

void WeightsDownloader::cleanup()
{
    if (m_file) {
        m_file->close();
        m_file->remove(); // the .part file only: a good file already in the cache is never touched
        delete m_file;
        m_file = nullptr;
    }
}

} // namespace Winnow
