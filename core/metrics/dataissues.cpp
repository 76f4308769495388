// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/metrics/dataissues.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include "core/metrics/duplicates.h"

namespace Winnow {

namespace {

struct IssueText
{
    const char* key;
    const char* title;
    const char* explanation;
    const char* badge;
};

constexpr IssueText kIssueText[kDataIssueCount] = {
    { "exact_duplicate", "Exact duplicates",
        "The same photo more than once (the same bytes or the same pixels): keep one copy.", "copy" },
    { "near_duplicate", "Near duplicates",
        "Nearly the same photo (resized, recompressed or slightly cropped): it counts twice in training.",
        "near copy" },
    { "leakage", "Train/valid leakage",
        "A validation photo with a copy in the training set: the model has seen it, so its score flatters.", "leak" },
    { "outlier", "Outliers",
        "Far from every other photo, or seen by the pretrained network as something no other photo is: probably "
        "not a picture of any class.",
        "outlier" },
    { "dark", "Too dark", "Underexposed: little for the model to see.", "dark" },
    { "light", "Overexposed", "Washed out: little for the model to see.", "overexposed" },
    { "blurry", "Blurry", "Out of focus or heavily smoothed.", "blurry" },
    { "low_information", "Nearly blank", "Very few grey levels: a blank, a solid colour or a scan of text.", "blank" },
    { "odd_aspect_ratio", "Odd aspect ratio", "Much wider than tall or the reverse: a crop will lose most of it.",
        "odd shape" },
    { "odd_size", "Odd size", "Far smaller or larger than the other photos, or too small to learn from.", "odd size" },
    { "grayscale", "Grayscale", "No colour in the pixels, unlike most photos of the set.", "grey" },
};

int splitRank(Split s)
{
    return s == Split::Train ? 0 : s == Split::Valid ? 1 : 2;
}

double quantile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

struct UnionFind
{
    std::vector<int> parent;
    explicit UnionFind(int n)
        : parent(size_t(n))
    {
        std::iota(parent.begin(), parent.end(), 0);
    }
    int find(int x)
    {
        while (parent[size_t(x)] != x)
            x = parent[size_t(x)] = parent[size_t(parent[size_t(x)])];
        return x;
    }
    void unite(int a, int b)
    {
        a = find(a);
        b = find(b);
        if (a != b)
            parent[size_t(std::max(a, b))] = std::min(a, b);
    }
};

float clamp01(double v)
{
    return float(std::clamp(v, 0.0, 1.0));
}

} // namespace

QString dataIssueKey(DataIssue t)
{
    return QString::fromLatin1(kIssueText[int(t)].key);
}

QString dataIssueTitle(DataIssue t)
{
    return QString::fromLatin1(kIssueText[int(t)].title);
}

QString dataIssueExplanation(DataIssue t)
{
    return QString::fromLatin1(kIssueText[int(t)].explanation);
}

QString dataIssueBadge(DataIssue t)
{
    return QString::fromLatin1(kIssueText[int(t)].badge);
}

QString dataIssueBadges(quint32 flags)
{
    QStringList words;
    for (int t = 0; t < kDataIssueCount; ++t)
        if ((flags >> t) & 1u)
            words << dataIssueBadge(dataIssueAt(t));
    return words.join(QStringLiteral(" \u00b7 "));
}

DataIssue dataIssueAt(int i)
{
    return DataIssue(std::clamp(i, 0, kDataIssueCount - 1));
}

const FileDataIssues* DataIssueReport::forSample(int sample) const
{
    const auto it = std::lower_bound(
        files.cbegin(), files.cend(), sample, [](const FileDataIssues& f, int s) { return f.sample < s; });
    return it != files.cend() && it->sample == sample ? &*it : nullptr;
}

int DataIssueReport::flaggedFiles() const
{
    return int(std::count_if(files.cbegin(), files.cend(), [](const FileDataIssues& f) { return f.flags != 0; }));
}

QVector<ImageStats> measureDatasetImages(const Dataset& dataset, const std::function<bool(int, int)>& progress)
{
    QVector<ImageStats> out(dataset.size());
    std::vector<int> todo;
    for (int i = 0; i < dataset.size(); ++i)
        if (dataset.samples.at(i).readable())
            todo.push_back(i);
    std::atomic<int> done { 0 };
    std::atomic<bool> cancelled { false };
    // Chunks keep the progress callback on this thread and cancellation prompt.
    constexpr size_t kChunk = 256;
    for (size_t b = 0; b < todo.size() && !cancelled; b += kChunk) {
        const std::vector<int> chunk(
            todo.begin() + qsizetype(b), todo.begin() + qsizetype(std::min(todo.size(), b + kChunk)));
        QtConcurrent::blockingMap(chunk, [&](int i) {
            out[i] = measureImageFile(dataset.absolutePath(i));
            ++done;
        });
        if (progress && !progress(done, int(todo.size())))
            cancelled = true;
    }
    if (cancelled)
        return {};
    return out;
}

DataIssueReport findDataIssues(const Dataset& ds, const QVector<ImageStats>& stats, const FeatureNeighbours* neighbours,
    const ScoreSet* scores, const DataIssueOptions& o)
{
    DataIssueReport r;
    const int n = ds.size();
    QVector<int> fileOf(n, -1); // sample -> index into r.files
    for (int i = 0; i < n; ++i) {
        if (!ds.samples.at(i).readable())
            continue;
        FileDataIssues f;
        f.sample = i;
        f.file = ds.samples.at(i).relPath;
        f.score.fill(1.0f);
        fileOf[i] = int(r.files.size());
        r.files.append(f);
    }
    auto flag = [&](int sample, DataIssue t) {
        if (fileOf[sample] >= 0)
            r.files[fileOf[sample]].flags |= 1u << int(t);
    };
    auto setScore = [&](int sample, DataIssue t, float v) {
        if (fileOf[sample] >= 0)
            r.files[fileOf[sample]].score[size_t(t)] = v;
    };

    // --- Pixels: the CleanVision checks. ---
    r.usedPixels = stats.size() == n && n > 0;
    if (r.usedPixels) {
        std::vector<double> sides;
        for (int i = 0; i < n; ++i)
            if (stats[i].ok)
                sides.push_back(std::sqrt(double(stats[i].width) * stats[i].height));
        const double medianSide = quantile(sides, 0.5);
        // Blur against the set's own sharpness too: Tukey's lower fence on the log of relativeEdgeVariance. A set of
        // soft photos (flowers: 128 px JPEGs of 2 KB) moves the threshold down; blurryBelow is the most it can be.
        std::vector<double> logSharpness;
        for (int i = 0; i < n; ++i)
            if (stats[i].ok && stats[i].relativeEdgeVariance > 0)
                logSharpness.push_back(std::log(double(stats[i].relativeEdgeVariance)));
        r.blurryThreshold = o.blurryBelow;
        if (logSharpness.size() >= 8) {
            const double q1 = quantile(logSharpness, 0.25), q3 = quantile(logSharpness, 0.75);
            r.blurryThreshold = std::min(o.blurryBelow, std::exp(q1 - o.blurryFence * (q3 - q1)));
        }
        for (int i = 0; i < n; ++i) {
            const ImageStats& s = stats[i];
            if (!s.ok || fileOf[i] < 0)
                continue;
            setScore(i, DataIssue::Dark, clamp01(s.highlights / (2 * o.darkBelow)));
            if (s.highlights < o.darkBelow)
                flag(i, DataIssue::Dark);
            setScore(i, DataIssue::Light, clamp01((1.0 - s.shadows) / (2 * (1.0 - o.lightAbove))));
            if (s.shadows > o.lightAbove)
                flag(i, DataIssue::Light);
            setScore(i, DataIssue::LowInformation, clamp01(s.entropy / 8.0));
            if (s.entropy < o.lowInformationBelow)
                flag(i, DataIssue::LowInformation);
            setScore(i, DataIssue::Blurry, clamp01(s.relativeEdgeVariance / (4 * r.blurryThreshold)));
            if (s.relativeEdgeVariance < r.blurryThreshold)
                flag(i, DataIssue::Blurry);
            const double aspect =
                s.width > 0 && s.height > 0 ? std::min(double(s.width) / s.height, double(s.height) / s.width) : 1.0;
            setScore(i, DataIssue::OddAspectRatio, clamp01(aspect));
            if (aspect < o.oddAspectBelow)
                flag(i, DataIssue::OddAspectRatio);
            const double side = std::sqrt(double(s.width) * s.height);
            const double rel = medianSide > 0 && side > 0 ? std::min(side / medianSide, medianSide / side) : 1.0;
            setScore(i, DataIssue::OddSize, clamp01(rel));
            if (rel < 1.0 / o.oddSizeFactor || std::min(s.width, s.height) < o.tinyBelow)
                flag(i, DataIssue::OddSize);
            setScore(i, DataIssue::Grayscale, clamp01(s.colourfulness / (4 * o.grayscaleBelow)));
            if (s.colourfulness < o.grayscaleBelow)
                flag(i, DataIssue::Grayscale);
        }
    }

    // --- Duplicates: exact copies by hash, near copies by feature similarity, one union of both. ---
    UnionFind uf(n);
    std::vector<float> joinSim(size_t(n), 1.0f); // lowest similarity that joined each root (kept up to date below)
    // Exact: the same bytes, or the same decoded pixels in other bytes (re-saved, other compression or metadata).
    const auto pixelHashOf = [&](int i) -> quint64 { return r.usedPixels && stats[i].ok ? stats[i].pixelHash : 0; };
    const auto sameContent = [&](int a, int b) {
        const QByteArray& ha = ds.samples.at(a).contentHash;
        if (!ha.isEmpty() && ha == ds.samples.at(b).contentHash)
            return true;
        return pixelHashOf(a) != 0 && pixelHashOf(a) == pixelHashOf(b);
    };
    QHash<QByteArray, int> firstWithHash;
    QHash<quint64, int> firstWithPixels;
    for (int i = 0; i < n; ++i) {
        const Sample& s = ds.samples.at(i);
        if (!s.readable())
            continue;
        if (!s.contentHash.isEmpty()) {
            const auto it = firstWithHash.constFind(s.contentHash);
            if (it == firstWithHash.cend())
                firstWithHash.insert(s.contentHash, i);
            else
                uf.unite(*it, i);
        }
        if (const quint64 ph = pixelHashOf(i); ph != 0) {
            const auto it = firstWithPixels.constFind(ph);
            if (it == firstWithPixels.cend())
                firstWithPixels.insert(ph, i);
            else
                uf.unite(*it, i);
        }
    }
    std::vector<std::pair<int, int>> nearPairs;
    std::vector<float> nearSim;
    QSet<quint64> pairSeen;
    r.usedFeatures = neighbours && neighbours->rows() > 1 && neighbours->k > 0;
    if (r.usedFeatures) {
        const FeatureNeighbours& g = *neighbours;
        r.extractor = g.extractor;
        const int rows = g.rows(), k = g.k;
        for (int row = 0; row < rows; ++row) {
            const int a = g.samples[row];
            const float best = g.similarity[row * k];
            setScore(a, DataIssue::NearDuplicate, clamp01(1.0 - best));
            for (int j = 0; j < k; ++j) {
                const float sim = g.similarity[row * k + j];
                if (sim < o.nearDuplicateSimilarity)
                    break;
                // Neighbour lists are not symmetric: take the pair from whichever side lists it, once.
                const int b = g.samples[g.neighbours[row * k + j]];
                const quint64 key = (quint64(quint32(std::min(a, b))) << 32) | quint32(std::max(a, b));
                if (a != b && !pairSeen.contains(key)) {
                    pairSeen.insert(key);
                    nearPairs.emplace_back(std::min(a, b), std::max(a, b));
                    nearSim.push_back(sim);
                }
            }
        }
        for (size_t p = 0; p < nearPairs.size(); ++p)
            uf.unite(nearPairs[p].first, nearPairs[p].second);

        // Outliers: mean cosine distance to the nearest files, against the set's spread of that distance.
        const int ko = std::min(k, std::max(1, o.outlierNeighbours));
        std::vector<double> dist(static_cast<size_t>(rows));
        for (int row = 0; row < rows; ++row) {
            double sum = 0;
            for (int j = 0; j < ko; ++j)
                sum += 1.0 - g.similarity[row * k + j];
            dist[size_t(row)] = sum / ko;
        }
        const double q1 = quantile(dist, 0.25), median = quantile(dist, 0.5), q3 = quantile(dist, 0.75);
        const double fence = q3 + o.outlierFence * (q3 - q1);
        // Concept rarity: what the pretrained network calls a photo (its most likely ImageNet classes) and in how
        // many other files it sees the most common of them too. An owl among bears shares none of its five, while a
        // darkened or blurred bear, or one the network takes for a dog first, is still a bear among its five; by
        // distance alone the two look alike.
        const int kc = FeatureNeighbours::kConcepts;
        std::vector<int> support(size_t(rows), -1);
        if (g.concepts.size() == qsizetype(rows) * kc) {
            QHash<int, int> listedBy; // ImageNet class -> files that list it
            for (qsizetype i = 0; i < g.concepts.size(); ++i)
                ++listedBy[g.concepts[i]];
            for (int row = 0; row < rows; ++row)
                for (int j = 0; j < kc; ++j)
                    support[size_t(row)] = std::max(support[size_t(row)], listedBy.value(g.concepts[row * kc + j]) - 1);
        }
        const int minSupport = std::max(o.outlierConceptMin, int(std::ceil(o.outlierConceptShare * rows)));
        for (int row = 0; row < rows; ++row) {
            const int s = g.samples[row];
            const int sup = support[size_t(row)];
            const double far = clamp01(dist[size_t(row)] > 0 ? median / dist[size_t(row)] : 1.0);
            const double rare = sup < 0 ? 1.0 : 0.5 + 0.5 * std::min(1.0, double(sup) / minSupport);
            setScore(s, DataIssue::Outlier, clamp01(far * rare));
            if (dist[size_t(row)] > fence || (sup >= 0 && sup < minSupport))
                flag(s, DataIssue::Outlier);
        }

        // Classes that look alike: how often a member's nearest files belong to the other class.
        const int classes = ds.vocab.size();
        if (classes > 1) {
            QVector<double> cross(classes * classes, 0.0);
            QVector<double> votes(classes, 0.0);
            for (int row = 0; row < rows; ++row) {
                const int la = ds.samples.at(g.samples[row]).label;
                if (la < 0)
                    continue;
                for (int j = 0; j < ko; ++j) {
                    const int lb = ds.samples.at(g.samples[g.neighbours[row * k + j]]).label;
                    if (lb < 0)
                        continue;
                    cross[la * classes + lb] += 1;
                    votes[la] += 1;
                }
            }
            for (int a = 0; a < classes; ++a)
                for (int b = a + 1; b < classes; ++b) {
                    ClassOverlap c;
                    c.a = a;
                    c.b = b;
                    const double ab = votes[a] > 0 ? cross[a * classes + b] / votes[a] : 0;
                    const double ba = votes[b] > 0 ? cross[b * classes + a] / votes[b] : 0;
                    c.overlap = float((ab + ba) / 2);
                    c.flagged = c.overlap >= o.similarClassesOverlap;
                    r.similarClasses.append(c);
                }
            std::sort(r.similarClasses.begin(), r.similarClasses.end(),
                [](const ClassOverlap& x, const ClassOverlap& y) { return x.overlap > y.overlap; });
        }
    }

    // Gather the groups; each root's lowest joining similarity.
    QHash<int, QVector<int>> members;
    for (int i = 0; i < n; ++i)
        if (fileOf[i] >= 0)
            members[uf.find(i)].append(i);
    QHash<int, float> rootSim;
    for (size_t p = 0; p < nearPairs.size(); ++p) {
        const int root = uf.find(nearPairs[p].first);
        const auto it = rootSim.find(root);
        if (it == rootSim.end())
            rootSim.insert(root, nearSim[p]);
        else
            *it = std::min(*it, nearSim[p]);
    }
    QHash<int, qint64> mtimes;
    auto modified = [&](int i) -> qint64 {
        auto it = mtimes.constFind(i);
        if (it == mtimes.cend())
            it = mtimes.insert(i, QFileInfo(ds.absolutePath(i)).lastModified().toMSecsSinceEpoch());
        return *it;
    };
    auto pixels = [&](int i) -> qint64 {
        return r.usedPixels && stats[i].ok ? qint64(stats[i].width) * stats[i].height : 0;
    };
    for (auto it = members.begin(); it != members.end(); ++it) {
        QVector<int>& m = it.value();
        if (m.size() < 2)
            continue;
        std::sort(m.begin(), m.end(), [&](int a, int b) {
            const Sample& x = ds.samples.at(a);
            const Sample& y = ds.samples.at(b);
            if (splitRank(x.split) != splitRank(y.split))
                return splitRank(x.split) < splitRank(y.split);
            if (pixels(a) != pixels(b))
                return pixels(a) > pixels(b);
            if (x.bytes != y.bytes)
                return x.bytes > y.bytes; // the less compressed copy
            if (modified(a) != modified(b))
                return modified(a) < modified(b); // the first one saved; a copy is newer
            return x.relPath < y.relPath;
        });
        DuplicateSet set;
        set.samples = m;
        set.exact = std::all_of(m.cbegin(), m.cend(), [&](int i) { return sameContent(m.first(), i); });
        set.similarity = set.exact ? 1.0f : rootSim.value(it.key(), 1.0f);
        const CopySpread spread = copySpread(ds, m);
        set.acrossSplit = spread.acrossSplit;
        set.conflictingLabels = spread.conflictingLabels;
        r.groups.append(set);
    }
    std::sort(r.groups.begin(), r.groups.end(), [&](const DuplicateSet& a, const DuplicateSet& b) {
        if (a.similarity != b.similarity)
            return a.similarity > b.similarity;
        if (a.samples.size() != b.samples.size())
            return a.samples.size() > b.samples.size();
        return ds.samples.at(a.samples.first()).relPath < ds.samples.at(b.samples.first()).relPath;
    });
    QHash<quint64, float> pairSimilarity;
    for (size_t p = 0; p < nearPairs.size(); ++p)
        pairSimilarity.insert((quint64(quint32(nearPairs[p].first)) << 32) | quint32(nearPairs[p].second), nearSim[p]);
    for (int gi = 0; gi < r.groups.size(); ++gi) {
        const DuplicateSet& set = r.groups[gi];
        const bool anyTrain = ds.samples.at(set.samples.first()).split == Split::Train;
        for (int pos = 0; pos < set.samples.size(); ++pos) {
            const int s = set.samples[pos];
            FileDataIssues& f = r.files[fileOf[s]];
            f.group = gi;
            f.keep = pos == 0;
            // A file is an exact duplicate when another member has its bytes or its pixels, else a near one.
            const bool exactCopy = std::any_of(
                set.samples.cbegin(), set.samples.cend(), [&](int o2) { return o2 != s && sameContent(s, o2); });
            if (exactCopy) {
                f.flags |= 1u << int(DataIssue::ExactDuplicate);
                f.score[size_t(DataIssue::ExactDuplicate)] = 0;
            } else {
                f.flags |= 1u << int(DataIssue::NearDuplicate);
            }
            if (pos > 0) {
                const int kept = set.samples.first();
                if (sameContent(s, kept))
                    f.keptSimilarity = 1;
                else
                    f.keptSimilarity = pairSimilarity.value(
                        (quint64(quint32(std::min(s, kept))) << 32) | quint32(std::max(s, kept)), -1.0f);
            }
            if (anyTrain && ds.samples.at(s).split == Split::Valid) {
                f.flags |= 1u << int(DataIssue::Leakage);
                f.score[size_t(DataIssue::Leakage)] = exactCopy ? 0.0f : clamp01(1.0 - set.similarity);
            }
        }
    }

    // --- Classes ---
    const int classes = ds.vocab.size();
    r.classCounts = QVector<int>(classes, 0);
    for (const Sample& s : ds.samples)
        if (s.readable() && s.label >= 0 && s.label < classes)
            ++r.classCounts[s.label];
    const int labeled = std::accumulate(r.classCounts.cbegin(), r.classCounts.cend(), 0);
    r.underrepresented = QVector<bool>(classes, false);
    for (int c = 0; c < classes && labeled > 0; ++c)
        r.underrepresented[c] = double(r.classCounts[c]) < o.imbalanceShare * labeled / classes;

    // --- Leakage's effect on the validation error ---
    if (scores && !scores->records.isEmpty()) {
        QHash<QString, int> sampleOf;
        for (int i = 0; i < n; ++i)
            sampleOf.insert(ds.samples.at(i).relPath, i);
        int wrong = 0, wrongClean = 0, clean = 0;
        for (const ScoreRecord& rec : scores->records) {
            if (rec.split != Split::Valid || rec.given < 0 || rec.predicted < 0)
                continue;
            ++r.validScored;
            const bool err = rec.predicted != rec.given;
            wrong += err;
            const int s = sampleOf.value(rec.file, -1);
            const bool leaked = s >= 0 && fileOf[s] >= 0 && r.files[fileOf[s]].has(DataIssue::Leakage);
            if (leaked) {
                ++r.validLeakedScored;
            } else {
                ++clean;
                wrongClean += err;
            }
        }
        if (r.validScored > 0) {
            r.validError = double(wrong) / r.validScored;
            r.validErrorWithoutLeaked = clean > 0 ? double(wrongClean) / clean : -1;
        }
    }

    for (const FileDataIssues& f : r.files)
        for (int t = 0; t < kDataIssueCount; ++t)
            r.counts[size_t(t)] += (f.flags >> t) & 1u;
    return r;
}

DataIssueReport remapDataIssues(const DataIssueReport& report, const Dataset& ds)
{
    QHash<QString, int> index;
    for (int i = 0; i < ds.size(); ++i)
        if (ds.samples.at(i).readable())
            index.insert(ds.samples.at(i).relPath, i);
    DataIssueReport r = report;
    QHash<int, int> moved; // old sample -> new sample
    r.files.clear();
    r.counts.fill(0);
    for (FileDataIssues f : report.files) {
        const int now = index.value(f.file, -1);
        if (now < 0)
            continue;
        moved.insert(f.sample, now);
        f.sample = now;
        r.files.append(f);
    }
    std::sort(r.files.begin(), r.files.end(),
        [](const FileDataIssues& a, const FileDataIssues& b) { return a.sample < b.sample; });
    r.groups.clear();
    QHash<int, int> groupOf; // old group -> new group
    for (int gi = 0; gi < report.groups.size(); ++gi) {
        DuplicateSet g = report.groups.at(gi);
        QVector<int> members;
        for (int old : g.samples)
            if (moved.contains(old))
                members.append(moved.value(old));
        if (members.size() < 2 || members.first() != moved.value(g.samples.first(), -1))
            continue; // a group that lost its kept file or all but one member is no group to act on any more
        g.samples = members;
        groupOf.insert(gi, int(r.groups.size()));
        r.groups.append(g);
    }
    for (FileDataIssues& f : r.files) {
        if (f.group >= 0) {
            const int g = groupOf.value(f.group, -1);
            if (g < 0) {
                f.flags &= ~((1u << int(DataIssue::ExactDuplicate)) | (1u << int(DataIssue::NearDuplicate))
                    | (1u << int(DataIssue::Leakage)));
                f.keep = true;
                f.keptSimilarity = -1;
            }
            f.group = g;
        }
        for (int t = 0; t < kDataIssueCount; ++t)
            r.counts[size_t(t)] += (f.flags >> t) & 1u;
    }
    return r;
}

QJsonObject dataIssueSummaryJson(const DataIssueReport& r, const Dataset& ds)
{
    QJsonObject o;
    o[QStringLiteral("files")] = int(r.files.size());
    o[QStringLiteral("flagged_files")] = r.flaggedFiles();
    QJsonArray issues;
    for (int t = 0; t < kDataIssueCount; ++t) {
        const DataIssue type = dataIssueAt(t);
        // Exact copies and the leaks they make need no features; near copies and outliers do.
        const bool ran = (t <= int(DataIssue::Outlier))
            ? (type == DataIssue::ExactDuplicate || type == DataIssue::Leakage || r.usedFeatures)
            : r.usedPixels;
        issues.append(QJsonObject { { QStringLiteral("type"), dataIssueKey(type) },
            { QStringLiteral("title"), dataIssueTitle(type) }, { QStringLiteral("count"), r.counts[size_t(t)] },
            { QStringLiteral("checked"), ran } });
    }
    o[QStringLiteral("issues")] = issues;
    if (r.usedPixels)
        o[QStringLiteral("blurry_threshold")] = r.blurryThreshold;
    QJsonArray groups;
    for (const DuplicateSet& g : r.groups) {
        QJsonArray files;
        for (int s : g.samples)
            files.append(ds.samples.at(s).relPath);
        groups.append(QJsonObject { { QStringLiteral("files"), files }, { QStringLiteral("exact"), g.exact },
            { QStringLiteral("similarity"), double(g.similarity) }, { QStringLiteral("across_split"), g.acrossSplit },
            { QStringLiteral("conflicting_labels"), g.conflictingLabels } });
    }
    o[QStringLiteral("groups")] = groups;
    QJsonArray imbalance;
    for (int c = 0; c < r.classCounts.size(); ++c)
        imbalance.append(
            QJsonObject { { QStringLiteral("class"), ds.vocab.value(c) }, { QStringLiteral("count"), r.classCounts[c] },
                { QStringLiteral("underrepresented"), r.underrepresented[c] } });
    o[QStringLiteral("class_imbalance")] = imbalance;
    QJsonArray similar;
    for (const ClassOverlap& c : r.similarClasses)
        similar.append(
            QJsonObject { { QStringLiteral("a"), ds.vocab.value(c.a) }, { QStringLiteral("b"), ds.vocab.value(c.b) },
                { QStringLiteral("overlap"), double(c.overlap) }, { QStringLiteral("flagged"), c.flagged } });
    o[QStringLiteral("similar_classes")] = similar;
    if (r.validError >= 0)
        o[QStringLiteral("leakage")] = QJsonObject { { QStringLiteral("valid_scored"), r.validScored },
            { QStringLiteral("valid_leaked"), r.validLeakedScored }, { QStringLiteral("valid_error"), r.validError },
            { QStringLiteral("valid_error_without_leaked"), r.validErrorWithoutLeaked } };
    o[QStringLiteral("extractor")] = r.extractor;
    return o;
}

QJsonObject fileDataIssuesJson(const FileDataIssues& f, const Dataset& ds)
{
    const Sample& s = ds.samples.at(f.sample);
    QJsonObject o;
    o[QStringLiteral("file")] = s.relPath;
    o[QStringLiteral("split")] = splitName(s.split);
    o[QStringLiteral("label")] = s.label >= 0 ? ds.vocab.value(s.label) : QString();
    for (int t = 0; t < kDataIssueCount; ++t) {
        const QString key = dataIssueKey(dataIssueAt(t));
        o[QStringLiteral("is_") + key] = bool((f.flags >> t) & 1u);
        o[key + QStringLiteral("_score")] = double(f.score[size_t(t)]);
    }
    o[QStringLiteral("group")] = f.group;
    o[QStringLiteral("keep")] = f.keep;
    if (!f.keep)
        o[QStringLiteral("kept_similarity")] = double(f.keptSimilarity);
    return o;
}

} // namespace Winnow
