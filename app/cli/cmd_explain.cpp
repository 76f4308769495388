// SPDX-License-Identifier: GPL-3.0-or-later
// winnow explain: Grad-CAM maps of a model's evidence, as JSON lines and as PNG overlays.
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonDocument>
#include <QSet>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/dataset/dataset.h"
#include "core/engine/predictor.h"
#include "core/util/atomicfile.h"

namespace {

/// "<base>.cam.png" in `dir`, with "-2", "-3", ... when two inputs share a base name.
QString overlayPath(const QDir& dir, const QString& image, QSet<QString>& taken)
{
    const QString base = QFileInfo(image).completeBaseName();
    QString name = base + QStringLiteral(".cam.png");
    for (int n = 2; taken.contains(name); ++n)
        name = QStringLiteral("%1-%2.cam.png").arg(base).arg(n);
    taken.insert(name);
    return dir.filePath(name);
}

} // namespace

int Winnow::Cli::explain(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Show where in each image the model finds the evidence for a class (Grad-CAM on the last feature map).\n"
        "  winnow explain MODEL_FILE|RUN_DIR IMG... [--class NAME] [--out DIR] [--json]\n"
        "  winnow explain --arch A --weights W --labels L IMG... [--class NAME] [--out DIR] [--json]\n"
        "Without --class the predicted class of each image is explained. IMG may be a folder (its images, "
        "recursively). --out writes IMAGE.cam.png for each: the photo with the map blended over it and the parts the "
        "model did not see dimmed."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("exported model or run folder (omit with --arch)"));
    p.addPositionalArgument(QStringLiteral("IMG"), QStringLiteral("image files or folders"), QStringLiteral("IMG..."));
    p.addOptions({
        { QStringLiteral("class"),
            QStringLiteral("the class to explain, by name or index (default: the predicted one)"),
            QStringLiteral("NAME") },
        { { QStringLiteral("o"), QStringLiteral("out") }, QStringLiteral("write one PNG overlay per image here"),
            QStringLiteral("DIR") },
        { QStringLiteral("json"), QStringLiteral("one JSON object per image and line, with the map") },
    });
    addModelOptions(p);
    if (const auto exitCode = parseArguments(p, QStringLiteral("explain"), args))
        return *exitCode;
    QTextStream out(stdout);
    QTextStream err(stderr);
    const bool imagenet = p.isSet(QStringLiteral("arch"));
    QStringList positional = p.positionalArguments();
    const QString model = imagenet || positional.isEmpty() ? QString() : positional.takeFirst();
    if (positional.isEmpty()) {
        err << "winnow explain: give " << (imagenet ? "" : "a model file or run folder and ")
            << "at least one image (see --help)\n";
        return 2;
    }
    QDir outDir;
    if (p.isSet(QStringLiteral("out"))) {
        outDir = QDir(p.value(QStringLiteral("out")));
        if (!outDir.mkpath(QStringLiteral("."))) {
            err << "winnow explain: cannot create " << QDir::toNativeSeparators(outDir.path()) << '\n';
            return 1;
        }
    }
    Predictor predictor(PredictorOptions { p.value(QStringLiteral("device")), 1 });
    if (const int exitCode = loadModel(predictor, p, QStringLiteral("explain"), model))
        return exitCode;
    const QStringList vocab = predictor.vocab();
    int cls = -1;
    if (p.isSet(QStringLiteral("class"))) {
        const QString name = p.value(QStringLiteral("class"));
        cls = int(vocab.indexOf(name));
        bool isNumber = false;
        const int index = name.toInt(&isNumber);
        if (cls < 0 && isNumber && index >= 0 && index < vocab.size())
            cls = index;
        if (cls < 0) {
            QStringList shown = vocab.mid(0, 10);
            if (vocab.size() > 10)
                shown << QStringLiteral("...");
            err << "winnow explain: the model has no class '" << name
                << "' (its classes: " << shown.join(QStringLiteral(", ")) << ")\n";
            return 2;
        }
    }
    const QStringList files = expandImageInputs(positional);
    if (files.isEmpty()) {
        err << "winnow explain: no images found\n";
        return 1;
    }
    const bool json = p.isSet(QStringLiteral("json"));
    QSet<QString> taken;
    int failed = 0;
    for (const QString& file : files) {
        Explanation e = predictor.explain(file, cls);
        QString written;
        if (e.ok() && p.isSet(QStringLiteral("out"))) {
            QImageReader reader(file);
            reader.setAutoTransform(true); // as the decoder: EXIF orientation applied
            const QImage overlay = e.overlay(reader.read());
            const QString path = overlayPath(outDir, file, taken);
            const bool saved = !overlay.isNull()
                && writeFileAtomically(path, [&overlay](QIODevice& f, QString*) { return overlay.save(&f, "PNG"); });
            if (!saved) {
                err << "winnow explain: " << QDir::toNativeSeparators(path) << ": cannot write the overlay"
                    << (overlay.isNull() ? QStringLiteral(" (Qt cannot read the image)") : QString()) << '\n';
                ++failed;
            } else {
                written = path;
            }
        }
        if (!e.ok()) {
            ++failed;
            err << "winnow explain: " << file << ": " << e.error << '\n';
        }
        if (json) {
            QJsonObject o = e.toJson();
            if (!written.isEmpty())
                o.insert(QStringLiteral("overlay"), written);
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        } else if (e.ok()) {
            const QPointF c = e.centroid();
            out << file << ": " << e.label << " p=" << QString::number(e.probability, 'f', 4);
            if (e.predictedIndex != e.classIndex)
                out << " (predicted " << e.predictedLabel << " p=" << QString::number(e.predictedProbability, 'f', 4)
                    << ')';
            out << "  evidence centred at x=" << QString::number(c.x(), 'f', 2)
                << " y=" << QString::number(c.y(), 'f', 2);
            if (!written.isEmpty())
                out << "  -> " << written;
            out << '\n';
        }
        out.flush();
    }
    if (failed)
        err << "winnow explain: " << failed << " of " << files.size() << " images could not be explained\n";
    return failed ? 1 : 0;
}
