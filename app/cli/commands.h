// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>

#include <QStringList>

class QCommandLineParser;
class QTextStream;

namespace Winnow {
class Predictor;
}

/// Winnow's command-line subcommands. Each takes the arguments after its name, prints to stdout/stderr and returns
/// the process exit code (0 ok, 1 failure, 2 usage error). They run under a QCoreApplication (no display needed).
namespace Winnow::Cli {

/// Parses the arguments of `winnow NAME`: on a usage error prints it (returns 2), on --help prints the help text
/// (returns 0); std::nullopt means carry on.
std::optional<int> parseArguments(QCommandLineParser& parser, const QString& name, const QStringList& args);

/// A CSV field: quoted (with doubled quotes) when it holds a comma, a quote or a newline.
QString csvField(QString s);

/// "winnow CMD: warning: N file(s) could not be read WHAT and were left out: a, b, c (and M more)" on stderr when
/// `files` is not empty (files deleted or damaged after the scan; see RunInfo::unreadableFiles).
void warnUnreadable(QTextStream& err, const QString& command, const QStringList& files, const QString& what);

/// The options that choose a model for predict and explain: --arch, --weights, --labels, --size, --device.
void addModelOptions(QCommandLineParser& parser);
/**
 * Checks those options and loads MODEL (an exported model file or a run folder; ignored with --arch) into
 * `predictor`. Returns 0 when loaded, else the exit code after printing "winnow CMD: why" (2 for a usage error, 1
 * for a model that cannot be loaded).
 */
int loadModel(Predictor& predictor, const QCommandLineParser& parser, const QString& command, const QString& model);

int scan(const QStringList& args);
int demo(const QStringList& args);
int train(const QStringList& args);
int score(const QStringList& args);
int predict(const QStringList& args);
int explain(const QStringList& args);
int exportModel(const QStringList& args);
int serve(const QStringList& args);
int clean(const QStringList& args);
int trash(const QStringList& args);
int suggest(const QStringList& args);
int retrain(const QStringList& args);
int weights(const QStringList& args);
int noisebench(const QStringList& args);
int issues(const QStringList& args);

} // namespace Winnow::Cli
