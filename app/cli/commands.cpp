// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTextStream>

#include "core/engine/predictor.h"
#include "core/engine/run.h"

namespace Winnow::Cli {

std::optional<int> parseArguments(QCommandLineParser& parser, const QString& name, const QStringList& args)
{
    if (!parser.parse(QStringList(QStringLiteral("winnow ") + name) + args)) {
        QTextStream(stderr) << "winnow " << name << ": " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    return std::nullopt;
}

void warnUnreadable(QTextStream& err, const QString& command, const QStringList& files, const QString& what)
{
    if (files.isEmpty())
        return;
    constexpr int kShown = 5;
    QString list = files.mid(0, kShown).join(QStringLiteral(", "));
    if (files.size() > kShown)
        list += QStringLiteral(" (and %1 more)").arg(files.size() - kShown);
    err << "winnow " << command << ": warning: " << files.size() << " file(s) could not be read " << what
        << " and were left out: " << list << '\n';
}

void addModelOptions(QCommandLineParser& p)
{
    p.addOptions({
        { QStringLiteral("arch"),
            QStringLiteral("plain pretrained network: ") + pretrainedArchitectureNames().join(QLatin1Char('|')),
            QStringLiteral("A") },
        { QStringLiteral("weights"), QStringLiteral("its torchvision weights (.safetensors)"), QStringLiteral("W") },
        { QStringLiteral("labels"), QStringLiteral("its class names, one per line"), QStringLiteral("L") },
        { QStringLiteral("size"), QStringLiteral("--arch input size (resize to size*256/224, centre crop)"),
            QStringLiteral("N"), QStringLiteral("224") },
        { QStringLiteral("device"), QStringLiteral("auto | cpu | cuda"), QStringLiteral("D"), QStringLiteral("auto") },
    });
}

int loadModel(Predictor& predictor, const QCommandLineParser& p, const QString& command, const QString& model)
{
    QTextStream err(stderr);
    const bool imagenet = p.isSet(QStringLiteral("arch"));
    if (imagenet && (!p.isSet(QStringLiteral("weights")) || !p.isSet(QStringLiteral("labels")))) {
        err << "winnow " << command << ": --arch needs --weights and --labels\n";
        return 2;
    }
    if (!imagenet && (p.isSet(QStringLiteral("weights")) || p.isSet(QStringLiteral("labels")))) {
        err << "winnow " << command << ": --weights and --labels go with --arch (a model file carries its own)\n";
        return 2;
    }
    bool ok = false;
    const int size = p.value(QStringLiteral("size")).toInt(&ok);
    if (!ok || size < 16) {
        err << "winnow " << command << ": --size must be an integer >= 16\n";
        return 2;
    }
    QString error;
    bool loaded;
    if (imagenet)
        loaded = predictor.loadImageNet(p.value(QStringLiteral("arch")), p.value(QStringLiteral("weights")),
            p.value(QStringLiteral("labels")), &error, size);
    else if (QFileInfo(QDir(model).filePath(QLatin1String(kRunFile))).isFile())
        loaded = predictor.loadRun(model, &error); // a run folder works too
    else
        loaded = predictor.load(model, &error);
    if (!loaded) {
        err << "winnow " << command << ": " << error << '\n';
        return 1;
    }
    return 0;
}

QString csvField(QString s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return s;
}

} // namespace Winnow::Cli
