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
    QString scoreMethod; ///< "honest", "in-sample", "fastai" or "frozen"
    /// Cross-validated fine-tunes (TrainConfig::cvFolds of them, files cv<k>.safetensors): fold k's model never
    /// trained on the train files whose content falls in fold k (cvFoldOf).
    int cvModels = 0;
    QString runId; ///< random, made by each fine-tune: names the run's feature caches
    double frozenC = 0; ///< L2 strength the frozen-feature K-fold heads chose (0 = not chosen yet)
    /// Files of the split that could not be decoded while the last fine-tune ran (deleted, truncated or rewritten
    /// since the scan), relative paths: left out of training and of the valid metrics, never learnt from as blanks.
    QStringList unreadableFiles;
};

/// The cross-validation fold of a file, from its content key (FeatureCache::fileKey) and the seed: files with the
/// same bytes share a fold, and a moved or relabelled file keeps it.
int cvFoldOf(const QByteArray& contentKey, quint64 seed, int folds);

inline constexpr auto kRunFile = "run.json";
inline constexpr auto kModelFile = "model.safetensors";
inline constexpr auto kScoresFile = "scores.jsonl";
/// Content keys (hex MD5) of the files each model trained on: "<model>\t<key>" lines, model "model" or "cv<k>";
/// and the last round's labels: "label\t<key>\t<class>" lines (for counting the files a cleaning round changed).
inline constexpr auto kTrainedFile = "trained.tsv";

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
/// ScoreRecord::source as text: "model", "cv0", "model+cv0+cv1", "frozen-kfold", "in-sample" ("" for 0), and back.
QString scoreSourceName(quint16 source);
/// The same for people: "cross-validation network 2, frozen-feature heads, neighbours' labels".
QString scoreSourceDescription(quint16 source);
quint16 parseScoreSource(const QString& name);
QString scoreMethodName(ScoreOptions::Method m);
std::optional<ScoreOptions::Method> parseScoreMethod(const QString& name);

/// Fills loss, pPredicted, pGiven, margin, entropy and predicted from `probs` and `given` (given may be -1).
void completeScore(ScoreRecord& r);

/// Records sorted by loss, highest first (unlabeled records last, by smallest margin).
QVector<ScoreRecord> sortedByLoss(QVector<ScoreRecord> records);

} // namespace Winnow
