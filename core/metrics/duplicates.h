// SPDX-License-Identifier: GPL-3.0-or-later
// Exact duplicates: files of a dataset with the same bytes, and the copies that leak across the train/valid split.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "core/dataset/dataset.h"

namespace Winnow {

/// Files with identical bytes (Sample::contentHash), readable ones only.
struct DuplicateGroup
{
    QStringList files; ///< relative paths; the first is the one to keep (see findExactDuplicates)
    bool acrossSplit = false; ///< copies in both train and valid: the valid copy's score is not out-of-sample
    bool conflictingLabels = false; ///< copies filed under different classes: at least one label is wrong
};

struct DuplicateReport
{
    QList<DuplicateGroup> groups; ///< largest first, then by the kept file's path
    int redundant = 0; ///< files that could go (every copy but the kept one)
    int leakedValid = 0; ///< valid copies of a file that is also in train
    int conflicting = 0; ///< groups whose copies carry different labels
    bool checked = false; ///< false when the scan did not read whole files (ScanOptions::verifyImages off)
};

/// Where a group of copies lies (exact or near duplicates alike).
struct CopySpread
{
    bool train = false; ///< a copy is in train
    bool valid = false; ///< a copy is in valid
    bool acrossSplit = false; ///< both: the valid copy's score is not out-of-sample
    bool conflictingLabels = false; ///< copies filed under different classes
};
CopySpread copySpread(const Dataset& dataset, const QList<int>& samples);

/**
 * Groups the dataset's readable files by content. The file to keep in each group is a train copy if there is one (so
 * deleting the others also removes the leak into valid), else a valid one, else an unlabeled one; ties go to the
 * oldest file (a copy is saved later), then the first path. Cheap: the hashes come from the scan, which read every
 * byte anyway.
 */
DuplicateReport findExactDuplicates(const Dataset& dataset);

} // namespace Winnow
