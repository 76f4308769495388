// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <numeric>

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/dataset/dataset.h"
#include "core/engine/predictor.h"

namespace {

QJsonArray topK(const Winnow::Prediction& p, const QStringList& vocab, int k)
{
    std::vector<int> order(size_t(p.probabilities.size()));
    std::iota(order.begin(), order.end(), 0);
    k = std::min<int>(k, int(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
        [&](int a, int b) { return p.probabilities[a] > p.probabilities[b]; });
    QJsonArray out;
    for (int i = 0; i < k; ++i)
        out.append(QJsonObject { { QStringLiteral("index"), order[size_t(i)] },
            { QStringLiteral("label"), vocab.at(order[size_t(i)]) },
            { QStringLiteral("probability"), double(p.probabilities[order[size_t(i)]]) } });
    return out;
}

} // namespace

int Winnow::Cli::predict(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Predict the class of images.\n"
        "  winnow predict MODEL_FILE IMG... [--json]   with an exported model (or a run folder)\n"
        "  winnow predict --arch A --weights W --labels L IMG... [--json]   top-5 of a plain ImageNet network\n"
        "IMG may be a folder (its images, recursively)."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("MODEL_FILE"), QStringLiteral("exported model (omit with --arch)"));
    p.addPositionalArgument(QStringLiteral("IMG"), QStringLiteral("image files or folders"), QStringLiteral("IMG..."));
    p.addOptions({
        { QStringLiteral("json"), QStringLiteral("one JSON object per image and line") },
        { QStringLiteral("top"), QStringLiteral("--arch: classes to list"), QStringLiteral("K"), QStringLiteral("5") },
        { QStringLiteral("batch-size"), QStringLiteral("images per forward pass"), QStringLiteral("N"),
            QStringLiteral("32") },
    });
    addModelOptions(p);
    if (const auto exitCode = parseArguments(p, QStringLiteral("predict"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
    const bool imagenet = p.isSet(QStringLiteral("arch"));
    QStringList positional = p.positionalArguments();
    const QString modelFile = imagenet || positional.isEmpty() ? QString() : positional.takeFirst();
    if (positional.isEmpty()) {
        err << "winnow predict: give " << (imagenet ? "" : "a model file and ") << "at least one image (see --help)\n";
        return 2;
    }
    bool ok = false;
    const int batchSize = p.value(QStringLiteral("batch-size")).toInt(&ok);
    if (!ok || batchSize < 1) {
        err << "winnow predict: --batch-size must be a positive integer\n";
        return 2;
    }
    const int top = p.value(QStringLiteral("top")).toInt(&ok);
    if (!ok || top < 1) {
        err << "winnow predict: --top must be a positive integer\n";
        return 2;
    }
    Predictor predictor(PredictorOptions { p.value(QStringLiteral("device")), batchSize });
    if (const int exitCode = loadModel(predictor, p, QStringLiteral("predict"), modelFile))
        return exitCode;

    const QStringList files = expandImageInputs(positional);
    if (files.isEmpty()) {
        err << "winnow predict: no images found\n";
        return 1;
    }
    const QStringList vocab = predictor.vocab();
    const bool json = p.isSet(QStringLiteral("json"));
    int failed = 0;
    // Batches stream out as they finish, so a long folder shows progress.
    const int chunk = std::max(batchSize, 32);
    for (int start = 0; start < files.size(); start += chunk) {
        const auto results = predictor.predictFiles(files.mid(start, chunk));
        for (const auto& r : results) {
            if (!r.ok()) {
                ++failed;
                if (json)
                    out << QJsonDocument(r.toJson(vocab)).toJson(QJsonDocument::Compact) << '\n';
                err << "winnow predict: " << r.file << ": " << r.error << '\n';
                continue;
            }
            if (imagenet) {
                const QJsonArray best = topK(r, vocab, top);
                if (json) {
                    out << QJsonDocument(
                        QJsonObject { { QStringLiteral("file"), r.file }, { QStringLiteral("top5"), best } })
                               .toJson(QJsonDocument::Compact)
                        << '\n';
                    continue;
                }
                out << r.file << '\n';
                for (const auto& v : best) {
                    const QJsonObject o = v.toObject();
                    out << QStringLiteral("  %1  %2  %3\n")
                               .arg(o.value(QStringLiteral("probability")).toDouble(), 7, 'f', 4)
                               .arg(o.value(QStringLiteral("index")).toInt(), 4)
                               .arg(o.value(QStringLiteral("label")).toString());
                }
                continue;
            }
            if (json) {
                out << QJsonDocument(r.toJson(vocab)).toJson(QJsonDocument::Compact) << '\n';
                continue;
            }
            out << r.file << ": " << r.label << " (index " << r.index
                << ", p=" << QString::number(r.probabilities[r.index], 'f', 4) << ")  ";
            for (int c = 0; c < vocab.size(); ++c)
                out << (c ? "  " : "") << vocab.at(c) << ' ' << QString::number(r.probabilities[c], 'f', 4);
            out << '\n';
        }
        out.flush();
    }
    if (failed)
        err << "winnow predict: " << failed << " of " << files.size() << " images could not be predicted\n";
    return failed ? 1 : 0;
}
