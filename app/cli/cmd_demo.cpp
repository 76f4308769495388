// SPDX-License-Identifier: GPL-3.0-or-later
// winnow demo [DIR]: writes the built-in demo dataset (shapes with planted label errors) and its manifest.
#include <QCommandLineParser>
#include <QRegularExpression>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/dataset/demogenerator.h"

int Winnow::Cli::demo(const QStringList& args)
{
    QTextStream out(stdout);
    QTextStream err(stderr);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Write the demo dataset: %1 classes of drawn shapes, a few images deliberately put in the "
                       "wrong class folder and a few junk images. The list of planted problems goes to "
                       "DIR.manifest.json beside the dataset (never inside it).")
            .arg(demoClasses().size()));
    parser.addHelpOption();
    parser.addPositionalArgument(
        QStringLiteral("DIR"), QStringLiteral("where to write it (default: %1)").arg(defaultDemoDir()), "[DIR]");
    const QCommandLineOption seed(
        QStringLiteral("seed"), QStringLiteral("generator seed (default 7)"), QStringLiteral("S"), QStringLiteral("7"));
    const QCommandLineOption perClass(QStringLiteral("per-class"), QStringLiteral("images per class (default 60)"),
        QStringLiteral("N"), QStringLiteral("60"));
    parser.addOptions({ seed, perClass });

    QStringList argv = args;
    argv.prepend(QStringLiteral("winnow demo"));
    const auto help = [&] {
        QString h = parser.helpText();
        h.replace(QRegularExpression(QStringLiteral("^Usage: (\\S+)")), QStringLiteral("Usage: \\1 demo"));
        return h;
    };
    if (!parser.parse(argv)) {
        err << "winnow demo: " << parser.errorText() << "\n\n" << help();
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << help();
        return 0;
    }
    const QStringList pos = parser.positionalArguments();
    if (pos.size() > 1) {
        err << "winnow demo: expected at most one folder\n\n" << help();
        return 2;
    }

    DemoOptions options;
    bool ok = false;
    options.seed = parser.value(seed).toULongLong(&ok);
    if (!ok) {
        err << "winnow demo: --seed must be a non-negative integer, got '" << parser.value(seed) << "'\n";
        return 2;
    }
    options.imagesPerClass = parser.value(perClass).toInt(&ok);
    if (!ok || options.imagesPerClass < 1 || options.imagesPerClass > 100000) {
        err << "winnow demo: --per-class must be a positive integer, got '" << parser.value(perClass) << "'\n";
        return 2;
    }

    const QString dir = pos.isEmpty() ? defaultDemoDir() : pos.first();
    const bool again = isDemoDataset(dir);
    const DemoResult r = writeDemoDataset(dir, options);
    if (!r.ok()) {
        err << "winnow demo: " << r.error << '\n';
        return 1;
    }
    int mislabeled = 0, junk = 0;
    for (const PlantedProblem& p : r.problems)
        (p.kind == QLatin1String("junk") ? junk : mislabeled) += 1;
    out << (again ? "Regenerated" : "Wrote") << " the demo dataset: " << r.images - r.unlabeled.size() << " images in "
        << r.classes.size() << " classes (" << r.classes.join(QStringLiteral(", ")) << ')';
    if (!r.unlabeled.isEmpty())
        out << " and " << r.unlabeled.size() << " in unlabeled/";
    out << ", " << QString::number(r.seconds, 'f', 1) << " s\n";
    out << "  dataset:  " << r.root << '\n';
    out << "  manifest: " << r.manifestPath << " (" << mislabeled << " mislabeled, " << junk
        << " junk; not part of the dataset)\n";
    out << "Try: winnow scan " << r.root << '\n';
    return 0;
}
