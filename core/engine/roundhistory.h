// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>

#include <QString>
#include <QVector>

#include "core/engine/types.h"

namespace Winnow {

/// Beside a run folder's run.json: the dataset's round history up to this run as the app shows it (rounds numbered
/// across fine-tunes, files changed per round), format "winnow-rounds" version 1. Optional: without it, run.json's
/// rounds are the history.
inline constexpr auto kRoundsFile = "rounds.json";

bool writeRoundHistory(const QString& runDir, const QVector<RoundSummary>& rounds, QString* error);
/// The rounds of rounds.json; nullopt (and `error`) when it is missing or unreadable.
std::optional<QVector<RoundSummary>> readRoundHistory(const QString& runDir, QString* error);

} // namespace Winnow
