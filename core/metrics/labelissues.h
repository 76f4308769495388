// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QString>
#include <QVector>

#include "core/engine/types.h"

namespace Winnow {

/**
 * Confident learning (Northcutt et al., as cleanlab 2.x implements it) on the labeled records of a ScoreSet: records
 * with a given label in [0, n) whose split is Train or Valid and that have n probabilities (n = vocab size).
 * Unlabeled records are never looked at and never changed. The probabilities should be out-of-sample.
 *
 * Definitions (cleanlab's count.compute_confident_joint, count.num_label_issues, filter.find_label_issues):
 *  - threshold t_j = mean p_j over the records given j (2 for a class nobody is given, so nothing is counted
 *    there), clipped below at 2e-6;
 *  - a record is confident for class j when p_j >= t_j - 1e-6. Its guessed true class j* is that class when there
 *    is exactly one, the overall argmax of p when there are several (cleanlab's choice, even if the argmax itself is
 *    below its threshold), none when there is none (the record is not counted);
 *  - the confident joint C[given][j*]; its diagonal is raised to at least 1; calibrated: each row scaled to the
 *    number of records given that class, then the whole to the number of records, then rounded preserving row sums;
 *  - the estimate (num_label_issues, estimation_method "off_diagonal"): the records counted off the diagonal of the
 *    uncalibrated C, less those whose argmax (with p(given) favoured by 1e-6) is their given label;
 *  - the flags (find_label_issues, filter_by "prune_by_noise_rate", frac_noise 1, min_examples_per_class 1): for
 *    every given class i with more than one record and every j != i, the round(calibrated C[i][j]) records given i
 *    with the largest p_j - p_i (ties: earlier record first); then a record whose argmax is its given label is
 *    unflagged.
 * The flags and the estimate are two views of the same joint and need not agree exactly (as in cleanlab).
 */
struct ConfidentJoint
{
    int classes = 0;
    int labeled = 0; ///< records taken into account
    QVector<double> thresholds; ///< t_j, per class
    QVector<int> counts; ///< uncalibrated C (diagonal >= 1), classes^2, row-major [given * classes + true]
    QVector<int> calibrated; ///< calibrated and rounded C, same layout
    QVector<int> guess; ///< per record of the set: j*, or -1 (no confident class, or not a labeled record)
};

/// The confident joint of the labeled records of `set` (nothing is written into the set).
ConfidentJoint computeConfidentJoint(const ScoreSet& set);

/// Fills ScoreRecord::issue and ::suggested of every record, ScoreSet::estimatedErrors and ::issuePairs (the
/// estimate per (given, true) pair; it sums to estimatedErrors). Idempotent: recomputes from the probabilities.
/// Unlabeled records get issue = false and suggested = -1. O(records x classes + classes^2 x records log records).
void flagLabelIssues(ScoreSet& set);

/// How many records are flagged (issue == true).
int flaggedCount(const ScoreSet& set);

/// "about 7 likely label errors (cleanlab's confident learning): black->grizzly 3, grizzly->black 2, ..." with at
/// most `maxPairs` pairs, largest first (given->true); "no likely label errors (...)" for 0; "" when not estimated.
QString labelIssueSummary(const ScoreSet& set, int maxPairs = 6);

/// {"estimated_label_errors": N (-1: not estimated), "flagged": M, "pairs": [{"given", "true", "count"}] (largest
/// first, count > 0 only), "method": "cleanlab confident learning: num_label_issues off_diagonal, flags
/// prune_by_noise_rate"}.
QJsonObject labelIssueSummaryJson(const ScoreSet& set);

} // namespace Winnow
