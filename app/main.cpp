// SPDX-License-Identifier: GPL-3.0-or-later
// Thin entry point: a subcommand runs headless under QCoreApplication; anything else opens the GUI.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <QApplication>
#include <QCoreApplication>
#include <QFileInfo>
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
    { "issues", Winnow::Cli::issues, "duplicates, leakage, outliers and unusable photos of a run's dataset" },
    { "predict", Winnow::Cli::predict, "predict the class of images with an exported or pretrained model" },
    { "explain", Winnow::Cli::explain, "show where in an image a model finds the evidence for a class" },
    { "export", Winnow::Cli::exportModel, "export a run's model to one portable file" },
    { "serve", Winnow::Cli::serve, "serve an exported model over local HTTP" },
    { "clean", Winnow::Cli::clean, "apply, undo or inspect a cleaning plan" },
    { "trash", Winnow::Cli::trash, "list, restore or empty a dataset's trash" },
    { "suggest", Winnow::Cli::suggest, "suggest labels for unlabeled images" },
    { "retrain", Winnow::Cli::retrain, "retrain a run after its dataset was cleaned" },
    { "weights", Winnow::Cli::weights, "list or download pretrained weights" },
    { "noisebench", Winnow::Cli::noisebench, "label-noise benchmark: how well each scoring method finds errors" },
};

/// The command closest to a mistyped one (edit distance at most 2), or null.
const char* nearestCommand(const char* typed)
{
    const std::string t(typed);
    const char* best = nullptr;
    size_t bestDistance = 3;
    for (const auto& c : kCommands) {
        const std::string name(c.name);
        std::vector<size_t> row(name.size() + 1);
        for (size_t j = 0; j <= name.size(); ++j)
            row[j] = j;
        for (size_t i = 1; i <= t.size(); ++i) {
            size_t diagonal = row[0];
            row[0] = i;
            for (size_t j = 1; j <= name.size(); ++j) {
                const size_t up = row[j];
                row[j] = std::min({ row[j] + 1, row[j - 1] + 1, diagonal + (t[i - 1] == name[j - 1] ? 0 : 1) });
                diagonal = up;
            }
        }
        if (row[name.size()] < bestDistance) {
            bestDistance = row[name.size()];
            best = c.name;
        }
    }
    return best;
}

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
        if (!std::strcmp(first, "bench")) {
            std::fprintf(stderr,
                "winnow: the throughput benchmark is a program of its own: winnow-bench, built beside "
                "winnow (tests/bench/run.sh builds and runs it)\n");
            return 2;
        }
        if (first[0] == '-') {
            std::fprintf(stderr, "winnow: unknown option '%s'\n", first);
            printHelp();
            return 2;
        }
        // Not a command: it must be a folder to open. A mistyped command or a missing folder is said, not opened.
        const QString path = QString::fromLocal8Bit(first);
        const QFileInfo info(path);
        if (!info.exists()) {
            if (!path.contains(QLatin1Char('/'))) {
                std::fprintf(stderr, "winnow: '%s' is neither a command nor a folder", first);
                if (const char* near = nearestCommand(first))
                    std::fprintf(stderr, " (did you mean 'winnow %s'?)", near);
                std::fprintf(stderr, "\nRun 'winnow --help' for the commands.\n");
            } else {
                std::fprintf(stderr, "winnow: no such folder: %s\n", first);
            }
            return 2;
        }
        if (!info.isDir()) {
            std::fprintf(
                stderr, "winnow: %s is not a folder: open the folder that holds one folder per class\n", first);
            return 2;
        }
    }
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    // No display and no platform chosen: say so instead of aborting inside Qt.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(stderr,
            "winnow: no display to open the window on (DISPLAY is not set). The commands run headless: "
            "winnow --help lists them; or set QT_QPA_PLATFORM=offscreen.\n");
        return 2;
    }
#endif

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
