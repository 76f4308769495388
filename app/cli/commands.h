// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

/// Winnow's command-line subcommands. Each takes the arguments after its name, prints to stdout/stderr and returns
/// the process exit code (0 ok, 1 failure, 2 usage error). They run under a QCoreApplication (no display needed).
namespace Winnow::Cli {

int scan(const QStringList& args);
int demo(const QStringList& args);
int train(const QStringList& args);
int score(const QStringList& args);
int predict(const QStringList& args);
int exportModel(const QStringList& args);
int serve(const QStringList& args);
int clean(const QStringList& args);
int trash(const QStringList& args);
int suggest(const QStringList& args);
int bench(const QStringList& args);

} // namespace Winnow::Cli
