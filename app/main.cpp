// SPDX-License-Identifier: GPL-3.0-or-later
// Thin entry point: a subcommand runs headless under QCoreApplication; anything else opens the GUI.
#include <cstdio>
#include <cstring>

#include <QApplication>
#include <QCoreApplication>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/nn/allocator.h"
#include "ui/englishplurals.h"
#include "ui/mainwindow.h"

namespace {

struct Subcommand
{
    const char* name;
    int (*run)(const QStringList&);
    const char* summary;
};

constexpr Subcommand kCommands[] = {
    { "scan", Winnow::Cli::scan, "scan a dataset folder: classes, split sizes, unreadable files" },
    { "demo", Winnow::Cli::demo, "write the built-in demo dataset (with planted label errors)" },
    { "train", Winnow::Cli::train, "fine-tune a pretrained CNN the fastai way and write a run folder" },
    { "score", Winnow::Cli::score, "print a score for every image of a run, highest loss first" },
    { "predict", Winnow::Cli::predict, "predict the class of images with an exported or pretrained model" },
    { "export", Winnow::Cli::exportModel, "export a run's model to one portable file" },
    { "serve", Winnow::Cli::serve, "serve an exported model over local HTTP" },
    { "clean", Winnow::Cli::clean, "apply, undo or inspect a cleaning plan" },
    { "trash", Winnow::Cli::trash, "list, restore or empty a dataset's trash" },
    { "suggest", Winnow::Cli::suggest, "suggest labels for unlabeled images" },
    { "retrain", Winnow::Cli::retrain, "retrain a run after its dataset was cleaned" },
    { "bench", Winnow::Cli::bench, "measure throughput and print JSON" },
    { "weights", Winnow::Cli::weights, "list or download pretrained weights" },
    { "noisebench", Winnow::Cli::noisebench, "label-noise benchmark: how well each scoring method finds errors" },
};

void printHelp()
{
    QTextStream out(stdout);
    out << "Usage: winnow [FOLDER]            open the GUI (on FOLDER, or the demo dataset on first run)\n"
           "       winnow COMMAND [ARGS...]   run a command headless\n"
           "       winnow --help | --version\n\nCommands:\n";
    for (const auto& c : kCommands)
        out << "  " << QString::fromLatin1(c.name).leftJustified(11) << c.summary << '\n';
    out << "\nRun 'winnow COMMAND --help' for a command's options.\n";
}

} // namespace

int main(int argc, char** argv)
{
    // Before any thread starts: keep tensor-sized blocks in one malloc arena (see core/nn/allocator.h).
    Winnow::nn::tuneAllocatorForTensors();
    QCoreApplication::setOrganizationName(QStringLiteral("Winnow"));
    QCoreApplication::setApplicationName(QStringLiteral("Winnow"));
    QCoreApplication::setApplicationVersion(QStringLiteral(WINNOW_VERSION));

    if (argc >= 2) {
        const char* first = argv[1];
        if (!std::strcmp(first, "--help") || !std::strcmp(first, "-h") || !std::strcmp(first, "help")) {
            printHelp();
            return 0;
        }
        if (!std::strcmp(first, "--version") || !std::strcmp(first, "-v")) {
            std::printf("winnow %s\n", WINNOW_VERSION);
            return 0;
        }
        for (const auto& c : kCommands) {
            if (!std::strcmp(first, c.name)) {
                QCoreApplication app(argc, argv);
                QStringList args = app.arguments().mid(2);
                return c.run(args);
            }
        }
        if (first[0] == '-') {
            std::fprintf(stderr, "winnow: unknown option '%s'\n", first);
            printHelp();
            return 2;
        }
    }

    QApplication app(argc, argv);
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/winnow/icons/winnow.svg")));
    Winnow::EnglishPlurals::install(); // before any window text: "1 class", "2 classes"
    Winnow::MainWindow window;
    const QStringList args = app.arguments();
    if (args.size() >= 2)
        window.openDataset(args.at(1));
    else
        window.openDefault();
    window.show();
    return app.exec();
}
