// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"

namespace Winnow {

/// What the analysis pages' side panel and the large preview say about one image, as rich text: file, split, given
/// label, prediction, loss, probabilities, label issue and its suggestion, and which scorer produced the score.
struct SampleDetails
{
    enum class View {
        Review, ///< the prediction against the given label (Cleaner, Confusion, Issues pages)
        Label, ///< an unlabeled image: the model's suggestion and its top three classes (Label page)
    };
    /// `record` is the sample's score (null: not scored) and `vocab` the scores' class names.
    static QString html(const Dataset& dataset, int sampleIndex, const ScoreRecord* record, const QStringList& vocab,
        View view = View::Review);
};

} // namespace Winnow
