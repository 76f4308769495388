// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class QFile;

namespace Winnow {

/// One downloadable set of pretrained weights in safetensors form, with torchvision's tensor names.
struct WeightsEntry
{
    QString id; ///< unique, used as the cached file's name: "resnet18.tv_in1k"
    QString arch; ///< "resnet18", "resnet34", "resnet50" or "mobilenet_v2"
    QString title; ///< for people: "ResNet-18, ImageNet-1k (torchvision V1 weights)"
    QUrl url; ///< https (http only to this machine: 127.0.0.1, ::1, localhost)
    QString sha256; ///< lowercase hex of the whole file; empty when the publisher gives none
    qint64 bytes = 0; ///< expected size; 0 = unknown
    QString source; ///< who publishes it, under which licence

    QString fileName() const
    {
        return id + QStringLiteral(".safetensors");
    }
};

/// Entries of a catalogue and the problems found reading it (bad entries are skipped, never half-used).
struct WeightsCatalogue
{
    QList<WeightsEntry> entries;
    QStringList errors;

    /// The entry with that id, or null.
    const WeightsEntry* find(const QString& id) const;
    /// Entries for one architecture, in catalogue order.
    QList<WeightsEntry> forArch(const QString& arch) const;
};

/// Winnow's built-in catalogue (torchvision-compatible ImageNet weights published as safetensors).
WeightsCatalogue builtinWeightsCatalogue();

/**
 * Parses a catalogue: a JSON array of objects with "id", "arch", "url" and optionally "title", "sha256", "bytes",
 * "source". Every entry is checked (known architecture, id usable as a file name, URL allowed by
 * isAllowedWeightsUrl, sha256 64 hex digits); a bad entry is reported in `errors` and left out.
 */
WeightsCatalogue parseWeightsCatalogue(const QByteArray& json);

/// The built-in catalogue plus the entries of $WINNOW_WEIGHTS_CATALOGUE (a JSON file, see parseWeightsCatalogue),
/// which replace built-in entries with the same id.
WeightsCatalogue weightsCatalogue();

/// https anywhere; plain http only to this machine (127.0.0.1, ::1, localhost). Nothing else.
bool isAllowedWeightsUrl(const QUrl& url);

/// Where downloaded weights are kept: $WINNOW_CACHE_DIR/weights, else the user's cache folder
/// (~/.cache/winnow/weights on Linux).
QString weightsCacheDir();

/// The cached file of an entry if it has been downloaded (and verified) before, else empty.
QString cachedWeightsFile(const WeightsEntry& entry, const QString& cacheDir = weightsCacheDir());

/**
 * The pretrained weights Winnow uses for `arch` when none are chosen (the GUI's form and `winnow train`/`noisebench`
 * share this policy): `<arch>-imagenet.safetensors` from $WINNOW_SHARED/weights when that variable is set, else from
 * a `shared/weights` folder beside the working folder, the program or one of their ancestors; failing that, a
 * catalogue download for `arch` that is already in the cache. Empty when there is none (training then starts from
 * random initialisation).
 */
QString defaultPretrainedWeights(const QString& arch);

/// Cheap structural check of a safetensors file without loading it (8-byte header length, JSON header whose
/// data_offsets stay inside the file and cover it exactly). Returns "" when it looks right, else the reason.
QString checkSafetensorsStructure(const QString& path);

/**
 * Downloads one catalogue entry into the cache, safely: the bytes stream into a hidden `.part` file beside the final
 * name (so an interrupted, cancelled or failed download leaves nothing behind and never replaces a good file), the
 * SHA-256 is computed on the way, and the file is renamed into place (atomically) only if the HTTP status was 200, the
 * size and checksum match the entry (when it gives them), and the content is structurally a safetensors file. Redirects
 * that would drop from https to http are refused. Progress comes at most ~10 times a second.
 */
class WeightsDownloader : public QObject
{
    Q_OBJECT
public:
    explicit WeightsDownloader(QObject* parent = nullptr);
    ~WeightsDownloader() override;

    void setCacheDir(const QString& dir); ///< default weightsCacheDir()
    QString cacheDir() const;
    /// Largest file accepted when the entry gives no size (default 2 GiB).
    void setMaxBytes(qint64 bytes);

    /// Starts the download. False (and failed() emitted) when one is already running or the entry is unusable.
    bool start(const WeightsEntry& entry);
    /// Stops the running download; emits failed("cancelled"). Nothing is written.
    void cancel();
    bool isRunning() const;

Q_SIGNALS:
    void progress(qint64 received, qint64 total); ///< total -1 when unknown
    void finished(const QString& path, const QString& sha256);
    void failed(const QString& message);

private:
    void onReadyRead();
    void onFinished();
    void fail(const QString& message);
    void cleanup();

    QNetworkAccessManager* m_network = nullptr;
    QPointer<QNetworkReply> m_reply;
    QFile* m_file = nullptr; ///< the hidden .part file in the cache folder; renamed over the final name when good
    QCryptographicHash m_hash { QCryptographicHash::Sha256 };
    WeightsEntry m_entry;
    QString m_cacheDir;
    qint64 m_maxBytes = qint64(2) << 30;
    qint64 m_received = 0;
    QElapsedTimer m_clock;
    qint64 m_lastProgressMs = -1;
    QString m_error;
};

} // namespace Winnow
