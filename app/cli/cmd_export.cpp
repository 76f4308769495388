// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/modelfile.h"
#include "core/engine/predictor.h"

int Winnow::Cli::exportModel(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Export a run's model to one portable file (safetensors: weights, classes, input size, "
                       "normalisation and inference transform; nothing executes on load)."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("a run folder written by 'winnow train'"));
    p.addOptions({
        { QStringLiteral("out"), QStringLiteral("the model file to write (default RUN_DIR/model.winnow)"),
            QStringLiteral("MODEL_FILE") },
        { QStringLiteral("weights"),
            QStringLiteral("pretrained weights of a head-retrained run, if they moved since training"),
            QStringLiteral("FILE") },
        { QStringLiteral("json"), QStringLiteral("print the written model's metadata as JSON") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("export"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
    if (p.positionalArguments().size() != 1) {
        err << "winnow export: give exactly one run folder (see --help)\n";
        return 2;
    }
    const QString runDir = p.positionalArguments().constFirst();
    const QString outFile = p.isSet(QStringLiteral("out"))
        ? p.value(QStringLiteral("out"))
        : QDir(runDir).filePath(QStringLiteral("model.") + QLatin1String(kModelFileSuffix));
    ExportOptions options;
    options.weights = p.value(QStringLiteral("weights"));

    QString error;
    ModelInfo info;
    if (!exportModel(runDir, outFile, options, &error, &info)) {
        err << "winnow export: " << error << '\n';
        return 1;
    }
    // Prove the file loads before reporting success (the same validation every reader applies).
    Predictor check(PredictorOptions { QStringLiteral("cpu"), 1 });
    if (!check.load(outFile, &error)) {
        err << "winnow export: the written file does not load back: " << error << '\n';
        return 1;
    }
    if (p.isSet(QStringLiteral("json"))) {
        QJsonObject o = info.toJson();
        o.insert(QStringLiteral("file"), QFileInfo(outFile).absoluteFilePath());
        o.insert(QStringLiteral("bytes"), QFileInfo(outFile).size());
        out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }
    out << "exported " << info.arch << " (" << info.kind << ", " << info.vocab.size()
        << " classes: " << info.vocab.join(QStringLiteral(", ")) << "; " << info.size << " px, " << info.transform
        << ") to " << QDir::toNativeSeparators(outFile) << " ("
        << QString::number(QFileInfo(outFile).size() / 1e6, 'f', 1) << " MB)\n";
    return 0;
}
