// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace Winnow::JobStatus {

/// The Train page's status line for the controller's jobs, in one place (translated in the TrainingPanel context).

/// When a job of kind `what` ("train", "retrain", "score", "load", "find data issues") starts.
QString startedText(const QString& what);
/// While a job reports progress in a phase other than training epochs ("score", "cross-validation 1/2", "features",
/// "k-fold", "valid", ...).
QString phaseText(const QString& phase);
/// The files a finished job could not read, naming the first three.
QString unreadableText(const QStringList& files);

} // namespace Winnow::JobStatus
