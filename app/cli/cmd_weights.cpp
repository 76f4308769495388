// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/weightscatalogue.h"

namespace {

QJsonObject entryJson(const Winnow::WeightsEntry& e)
{
    QJsonObject o { { QStringLiteral("id"), e.id }, { QStringLiteral("arch"), e.arch },
        { QStringLiteral("title"), e.title }, { QStringLiteral("url"), e.url.toString() },
        { QStringLiteral("source"), e.source } };
    if (!e.sha256.isEmpty())
        o.insert(QStringLiteral("sha256"), e.sha256);
    if (e.bytes > 0)
        o.insert(QStringLiteral("bytes"), e.bytes);
    const QString cached = Winnow::cachedWeightsFile(e);
    o.insert(QStringLiteral("cached"), cached.isEmpty() ? QJsonValue() : QJsonValue(cached));
    return o;
}

} // namespace

int Winnow::Cli::weights(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "List the catalogue of pretrained weights, or download one into the cache (checked: HTTP status, size and "
        "SHA-256 when the catalogue gives them, safetensors structure; written atomically).\n"
        "  winnow weights list [--json]\n"
        "  winnow weights download ID\n"
        "  winnow weights path ID          (the cached file, if downloaded)\n"
        "Extra entries: a JSON file named by $WINNOW_WEIGHTS_CATALOGUE. Cache: $WINNOW_CACHE_DIR/weights, else "
        "~/.cache/winnow/weights."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("ACTION"), QStringLiteral("list, download or path"));
    p.addPositionalArgument(
        QStringLiteral("ID"), QStringLiteral("a catalogue id (download, path)"), QStringLiteral("[ID]"));
    p.addOptions({ { QStringLiteral("json"), QStringLiteral("machine-readable output") } });
    if (const auto exitCode = parseArguments(p, QStringLiteral("weights"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
    const QStringList pos = p.positionalArguments();
    const QString action = pos.value(0, QStringLiteral("list"));
    const WeightsCatalogue catalogue = weightsCatalogue();
    for (const QString& e : catalogue.errors)
        err << "winnow weights: catalogue: " << e << '\n';

    if (action == QLatin1String("list")) {
        if (p.isSet(QStringLiteral("json"))) {
            for (const WeightsEntry& e : catalogue.entries)
                out << QJsonDocument(entryJson(e)).toJson(QJsonDocument::Compact) << '\n';
            return 0;
        }
        for (const WeightsEntry& e : catalogue.entries) {
            const QString cached = cachedWeightsFile(e);
            out << e.id << "  [" << e.arch << "]  " << e.title << '\n'
                << "    " << e.url.toString() << '\n'
                << "    " << (cached.isEmpty() ? QStringLiteral("not downloaded") : QStringLiteral("cached: ") + cached)
                << (e.sha256.isEmpty() ? QString() : QStringLiteral("; sha256 ") + e.sha256) << '\n';
        }
        return 0;
    }
    if (action != QLatin1String("download") && action != QLatin1String("path")) {
        err << "winnow weights: unknown action \"" << action << "\" (list, download or path)\n";
        return 2;
    }
    if (pos.size() != 2) {
        err << "winnow weights " << action << ": give one catalogue id (see winnow weights list)\n";
        return 2;
    }
    const WeightsEntry* entry = catalogue.find(pos.at(1));
    if (!entry) {
        err << "winnow weights: no catalogue entry \"" << pos.at(1) << "\" (see winnow weights list)\n";
        return 1;
    }
    if (action == QLatin1String("path")) {
        const QString cached = cachedWeightsFile(*entry);
        if (cached.isEmpty()) {
            err << "winnow weights: " << entry->id << " is not downloaded (winnow weights download " << entry->id
                << ")\n";
            return 1;
        }
        out << cached << '\n';
        return 0;
    }

    WeightsDownloader downloader;
    QEventLoop loop;
    int exitCode = 1;
    int lastPercent = -1;
    QObject::connect(&downloader, &WeightsDownloader::progress, &loop, [&](qint64 received, qint64 total) {
        const int percent = total > 0 ? int(100 * received / total) : -1;
        if (percent == lastPercent && percent >= 0)
            return;
        lastPercent = percent;
        err << "\r" << entry->id << ": " << QString::number(received / 1e6, 'f', 1) << " MB"
            << (total > 0 ? QStringLiteral(" of %1 MB (%2%)").arg(total / 1e6, 0, 'f', 1).arg(percent) : QString());
        err.flush();
    });
    QObject::connect(&downloader, &WeightsDownloader::finished, &loop, [&](const QString& path, const QString& sha) {
        err << '\n';
        if (p.isSet(QStringLiteral("json"))) {
            QJsonObject o = entryJson(*entry);
            o.insert(QStringLiteral("file"), path);
            o.insert(QStringLiteral("sha256"), sha);
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        } else {
            out << path << '\n';
            err << "sha256 " << sha
                << (entry->sha256.isEmpty() ? " (computed; the catalogue pins none)" : " (verified)") << '\n';
        }
        exitCode = 0;
        loop.quit();
    });
    QObject::connect(&downloader, &WeightsDownloader::failed, &loop, [&](const QString& message) {
        err << "\nwinnow weights: " << entry->id << ": " << message << '\n';
        exitCode = 1;
        loop.quit();
    });
    if (downloader.start(*entry))
        loop.exec();
    return exitCode;
}
