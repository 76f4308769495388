// SPDX-License-Identifier: GPL-3.0-or-later
// winnow-bench: Winnow's throughput benchmark (README, "Performance"; tests/bench/run.sh runs it). A development tool
// of its own, beside the shipped `winnow`, so that what only a benchmark needs (the PyTorch reference script of the
// source tree, the grid models of ui/ driven headless) stays out of the CLI.
#pragma once

#include <QStringList>

namespace Winnow::Bench {

/// Runs the benchmark with the arguments after the program name; prints JSON to stdout, progress to stderr. Returns
/// the exit code (0 ok, 1 failure, 2 usage error).
int run(const QStringList& args);

} // namespace Winnow::Bench
