// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>

#include "core/engine/types.h"

namespace Winnow {

/**
 * What changed between two scoring rounds of the same dataset (e.g. before and after a cleaning round and its
 * retrain): which images changed prediction, which of them the model now gets right or wrong, and the change of the
 * confusion matrix (labeled images, rows = given class, columns = predicted class, fastai's orientation).
 *
 * Files are matched by relative path: a relabelled file has a new path and counts as removed + added, not changed;
 * `moved` counts the removed files whose name reappears among the added ones (a relabel, or a file put back; a
 * " (2)" that a collision-safe move added before the extension is ignored), so filesChanged() counts each file once.
 */
struct RoundDiff
{
    int compared = 0; ///< labeled or unlabeled files scored in both rounds
    QStringList changed; ///< predicted class differs (sorted)
    QStringList fixed; ///< labeled, wrong before and right now (subset of changed)
    QStringList broken; ///< labeled, right before and wrong now (subset of changed)
    int removed = 0; ///< scored before, gone now (deleted or moved)
    int added = 0; ///< new now (added or moved here)
    int moved = 0; ///< removed + added pairs with the same file name (moved to another folder): in both counts above
    int errorsBefore = 0; ///< labeled images predicted as another class, whole previous round
    int errorsAfter = 0; ///< same, this round
    QStringList vocab; ///< the new round's classes
    int classes = 0; ///< 0 when the vocabularies differ (no confusion delta then)
    QVector<int> confusionDelta; ///< classes x classes, row-major: after - before

    int delta(int given, int predicted) const
    {
        return confusionDelta.value(given * classes + predicted);
    }
    /// Files that changed between the rounds, each once: deleted, added, or moved (relabelled).
    int filesChanged() const
    {
        return removed + added - moved;
    }
    /// One line for people: "12 predictions changed (9 fixed, 1 broken); errors 31 -> 23; 4 files changed (1 removed, 3
    /// moved)".
    QString text() const;
};

RoundDiff compareRounds(const ScoreSet& before, const ScoreSet& after);

} // namespace Winnow
