// SPDX-License-Identifier: GPL-3.0-or-later
// Every kind of bad data besides wrong labels: duplicates, leakage across the split, outliers and unusable photos.
// Torch-free: the feature-space part comes in as a nearest-neighbour graph (Engine::featureNeighbours).
#pragma once

#include <array>
#include <functional>

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"
#include "core/imaging/imagestats.h"

namespace Winnow {

/// The kinds of data issue, in the order the Issues summary lists them.
enum class DataIssue : quint8 {
    ExactDuplicate, ///< the same bytes as another file
    NearDuplicate, ///< nearly the same photo as another file (resized, recompressed, slightly cropped)
    Leakage, ///< a valid file whose copy (exact or near) is in train: its score is not out-of-sample
    Outlier, ///< far from every other file in feature space: probably not a photo of any class
    Dark,
    Light,
    Blurry,
    LowInformation, ///< nearly blank: few grey levels
    OddAspectRatio,
    OddSize, ///< far smaller or larger than the set's typical image, or tiny
    Grayscale, ///< no colour in its pixels (whatever the file's colour mode says)
};
constexpr int kDataIssueCount = 11;

QString dataIssueKey(DataIssue t); ///< cleanlab's spelling: "exact_duplicate", "near_duplicate", "leakage", ...
QString dataIssueTitle(DataIssue t); ///< "Exact duplicates", ...
QString dataIssueExplanation(DataIssue t); ///< one sentence: what it is and why it matters
QString dataIssueBadge(DataIssue t); ///< a word for a card's badge: "copy", "near copy", "leak", "outlier", "dark", ...
/// The badges of a file's flags, most important first, joined by " · " ("" without flags).
QString dataIssueBadges(quint32 flags);
DataIssue dataIssueAt(int i);

/// The `k` nearest other readable files of each readable file in frozen pretrained-feature space (cosine similarity
/// of the pooled features), as Engine::featureNeighbours computes it.
struct FeatureNeighbours
{
    QVector<int> samples; ///< row -> index into Dataset::samples
    int k = 0;
    QVector<int> neighbours; ///< rows * k row indices, most similar first
    QVector<float> similarity; ///< rows * k cosine similarities, in [-1, 1]
    QString extractor; ///< what gave the features, e.g. "mobilenet_v2 (ImageNet) at 224 px"
    /// What the pretrained network itself calls each photo: per row its kConcepts most likely ImageNet classes (class
    /// ids, most likely first) from the weights' own classifier; empty when the weights carry none.
    static constexpr int kConcepts = 5;
    QVector<qint16> concepts;
    int rows() const
    {
        return int(samples.size());
    }
};

/// Thresholds. Defaults start from the peers' published ones (CleanVision, cleanlab's Datalab, fastdup) and were
/// checked on bears-small with planted problems (tests/metrics/tst_dataissues.cpp); each says where it comes from.
struct DataIssueOptions
{
    /// Two files are near duplicates at this cosine similarity of their pooled features or above. On bears-small
    /// (MobileNetV2, 224 px) copies resized to 60%, recompressed at quality 40 or cropped by 10% score 0.93 to 0.98,
    /// the closest two distinct photos 0.90 (fastdup's default is 0.9 on its own model).
    double nearDuplicateSimilarity = 0.92;
    /// Outliers: the mean cosine distance to the `outlierNeighbours` nearest files beyond the upper quartile by this
    /// many interquartile ranges (Tukey's fence). Ranked by that distance, bears-small's logos, drawings, figurines
    /// and phone cases come first.
    double outlierFence = 1.5;
    int outlierNeighbours = 10;
    /// Also an outlier: a file none of whose likely ImageNet classes (FeatureNeighbours::concepts) is among the likely
    /// classes of as many other files as this share of the set (and at least outlierConceptMin files).
    double outlierConceptShare = 0.005;
    int outlierConceptMin = 2;
    /// ImageStats::highlights under this: no bright pixel at all. CleanVision thresholds the mean brightness (0.32),
    /// which flags black bears in shade; their sky or fur highlights keep them above 0.44 here, and a photo three
    /// stops under is at 0.2 or below.
    double darkBelow = 0.3;
    double lightAbove = 0.8; ///< ImageStats::shadows over this: no dark pixel (a teddy on white keeps its teddy)
    double lowInformationBelow = 1.5; ///< grey-level entropy in bits; CleanVision: 0.1 * entropy < 0.15
    /// ImageStats::relativeEdgeVariance under this. CleanVision thresholds the plain edge variance, which also
    /// flags every dark or low-contrast photo; relative to the image's own contrast, bears-small's sharpest-looking
    /// soft photos stay above 0.19 and a Gaussian blur of 1/80 of the longer side drops below 0.04.
    double blurryBelow = 0.06;
    /// ... and under the set's own lower fence: its first quartile of log(relativeEdgeVariance) minus this many
    /// interquartile ranges (Tukey's 1.5). A low-resolution, heavily compressed set is soft all through: on flowers
    /// (128 px JPEGs of about 2 KB) the absolute threshold alone flagged 903 of 4,317 photos.
    double blurryFence = 1.5;
    double oddAspectBelow = 0.35; ///< min(w / h, h / w); CleanVision's value
    double oddSizeFactor = 10.0; ///< sqrt(w * h) beyond the median's / 10 or x 10; CleanVision's value
    int tinyBelow = 32; ///< shorter side in pixels: too small to learn from whatever the set's median
    double grayscaleBelow = 0.01; ///< colourfulness (mean max - min channel / 255)
    double imbalanceShare = 0.1; ///< a class under this share of an even split (1 / classes) is flagged (cleanlab)
    double similarClassesOverlap = 0.25; ///< share of a class's neighbours in the other class, both ways averaged
};

/// The issues of one readable file.
struct FileDataIssues
{
    int sample = -1; ///< index into Dataset::samples of the scan the report was made from
    QString file; ///< its relative path: what ties the report to a later scan (remapDataIssues)
    /// Per DataIssue: 1 = no sign of it, towards 0 = more severe (cleanlab's convention; `<issue>_score`).
    std::array<float, kDataIssueCount> score {};
    quint32 flags = 0; ///< bit DataIssue
    int group = -1; ///< index into DataIssueReport::groups, or -1
    bool keep = true; ///< false for the members of a duplicate group other than the one to keep
    /// For a member that is not kept: its similarity to the group's kept file (1 for an exact copy), or -1 when the
    /// two are only linked through other members (a chain of near copies may join distinct photos: such a member
    /// is shown with its group but left out of "delete all but one").
    float keptSimilarity = -1;
    bool has(DataIssue t) const
    {
        return flags & (1u << int(t));
    }
};

/// Files that are (nearly) the same photo. The first is the one to keep: a train copy if any (so deleting the
/// rest also ends the leak into valid), then the most pixels, then the most bytes (the least recompressed), then the
/// oldest file (a copy is saved later), then the first path.
struct DuplicateSet
{
    QVector<int> samples;
    float similarity = 1; ///< the lowest similarity that joined the group (1 when every copy is exact)
    bool exact = false; ///< all copies have the same bytes or the same decoded pixels
    bool acrossSplit = false;
    bool conflictingLabels = false;
};

struct ClassOverlap
{
    int a = -1, b = -1; ///< vocab indices, a < b
    float overlap = 0; ///< mean share of each class's neighbours that belong to the other
    bool flagged = false;
};

struct DataIssueReport
{
    QVector<FileDataIssues> files; ///< one per readable file, in dataset order
    QVector<DuplicateSet> groups; ///< largest similarity first, then largest
    std::array<int, kDataIssueCount> counts {}; ///< flagged files per DataIssue
    QVector<int> classCounts; ///< readable labeled files per class
    QVector<bool> underrepresented; ///< per class (class imbalance)
    QVector<ClassOverlap> similarClasses; ///< every pair, largest overlap first
    bool usedFeatures = false; ///< duplicates beyond exact copies, leakage of near copies, outliers, similar classes
    bool usedPixels = false; ///< the quality checks
    /// relativeEdgeVariance under which a file was flagged blurry: DataIssueOptions::blurryBelow, or the set's own
    /// lower fence where that is lower. 0 without the quality checks.
    double blurryThreshold = 0;
    QString extractor;
    /// Valid error rate of the scores with and without the leaked valid files (-1 = no scores given).
    double validError = -1;
    double validErrorWithoutLeaked = -1;
    int validScored = 0;
    int validLeakedScored = 0;
    const FileDataIssues* forSample(int sample) const; ///< null for unreadable or unknown samples
    int flaggedFiles() const; ///< files with at least one flag
};

/// Measures every readable file's pixels (imaging/imagestats.h) on all cores. Index-aligned with
/// Dataset::samples; unreadable files get a default (not ok) entry. `progress(done, total)` returning false cancels
/// (the result is then empty).
QVector<ImageStats> measureDatasetImages(
    const Dataset& dataset, const std::function<bool(int done, int total)>& progress = {});

/**
 * Runs every detector. `stats` (from measureDatasetImages; empty = skip the quality checks), `neighbours` (null =
 * only exact duplicates, by Sample::contentHash) and `scores` (null = no leakage effect on the valid error) are
 * optional inputs.
 */
DataIssueReport findDataIssues(const Dataset& dataset, const QVector<ImageStats>& stats,
    const FeatureNeighbours* neighbours, const ScoreSet* scores, const DataIssueOptions& options = {});

/**
 * The report for another scan of the same dataset (a rescan after Apply, files added): every file is found again
 * by its path (FileDataIssues::file) and gets its index in `dataset`; files that are gone drop out of the files,
 * groups and counts. A report must never be read against another scan without this.
 */
DataIssueReport remapDataIssues(const DataIssueReport& report, const Dataset& dataset);

/// {"files", "flagged_files", "issues": [{"type", "title", "count"}], "groups", "class_imbalance", "similar_classes",
/// "leakage": {...}, "extractor"} for `winnow issues` and the run folder.
QJsonObject dataIssueSummaryJson(const DataIssueReport& report, const Dataset& dataset);

/// One JSON object per file (cleanlab's columns: is_<issue>, <issue>_score) plus file, split, label, group, keep.
QJsonObject fileDataIssuesJson(const FileDataIssues& f, const Dataset& dataset);

} // namespace Winnow

Q_DECLARE_METATYPE(Winnow::DataIssueReport)
