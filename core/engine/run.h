// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/engine/types.h"

namespace Winnow {

/**
 * A run folder, as written by `winnow train --out RUN_DIR` and the app:
 *   run.json           what defines and describes the run (this struct), format "winnow-run" version 1
 *   model.safetensors  the fine-tuned weights (body.* and head.* names), F32
 *   scores.jsonl       one JSON object per scored image (see scoreToJson)
 * Reading never trusts the files: every problem is a clear error message.
 */
struct RunInfo
{
    QString datasetRoot;
    Layout layout = Layout::FolderPerClass;
    TrainConfig config;
    QStringList vocab;
    QStringList trainFiles; ///< relative paths
    QStringList validFiles;
    QVector<EpochStats> epochs;
    QVector<RoundSummary> rounds;
    QString device; ///< what actually ran: "cpu" or "cuda:0"
    QDateTime created;
    double trainSeconds = 0;
    QString scoreMethod; ///< "honest", "in-sample" or "fastai"
};

inline constexpr auto kRunFile = "run.json";
inline constexpr auto kModelFile = "model.safetensors";
inline constexpr auto kScoresFile = "scores.jsonl";

bool writeRunInfo(const QString& dir, const RunInfo& info, QString* error);
std::optional<RunInfo> readRunInfo(const QString& dir, QString* error);

/// Scores as JSON lines (sorted by loss, highest first) and back. Labels are written as names. readScores() also
/// flags likely label errors (flagLabelIssues, core/metrics/labelissues.h): the flags are never read from the file.
bool writeScores(const QString& dir, const ScoreSet& scores, QString* error);
std::optional<ScoreSet> readScores(const QString& dir, QString* error);

/// file, split, given, predicted, loss, p_predicted, p_given, margin, entropy, score ("out-of-sample" |
/// "in-sample"), issue (bool: flagged as a likely label error), suggested (class name, null when unlabeled) and, with
/// withProbs, probabilities {class: p}.
QJsonObject scoreToJson(const ScoreRecord& r, const QStringList& vocab, bool withProbs = true);
QString scoreKindName(ScoreKind kind);
QString scoreMethodName(ScoreOptions::Method m);
std::optional<ScoreOptions::Method> parseScoreMethod(const QString& name);

/// Fills loss, pPredicted, pGiven, margin, entropy and predicted from `probs` and `given` (given may be -1).
void completeScore(ScoreRecord& r);

/// Records sorted by loss, highest first (unlabeled records last, by smallest margin).
QVector<ScoreRecord> sortedByLoss(QVector<ScoreRecord> records);

} // namespace Winnow
