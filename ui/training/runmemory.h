// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace Winnow::RunMemory {

/// Which run folder belongs to which dataset, across sessions (the Train page reloads it when the dataset opens
/// again). Kept in QSettings under `lastRun/<sha1 of the cleaned dataset root>`.

/// The run folder last remembered for `datasetRoot`, empty if none.
QString lastRunDir(const QString& datasetRoot);
void rememberRun(const QString& datasetRoot, const QString& runDir);

/// Run folders that may hold the last run of `datasetRoot`, best first: the remembered one (if it still exists), then
/// the runs the settings forgot, `<runsRoot>/<dataset folder name>-<yyyyMMdd-HHmmss>`, newest first. The caller's
/// worker checks each run.json's dataset folder.
QStringList runCandidates(const QString& datasetRoot, const QString& runsRoot);

} // namespace Winnow::RunMemory
