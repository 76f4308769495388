// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/metrics/labelissues.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <QJsonArray>
#include <QStringList>

namespace Winnow {

namespace {

constexpr double kFuzzy = 1e-6; ///< cleanlab's FLOATING_POINT_COMPARISON
constexpr double kThresholdFloor = 2 * kFuzzy; ///< CONFIDENT_THRESHOLDS_LOWER_BOUND
constexpr double kAbsentClassThreshold = 2.0; ///< no probability reaches it
constexpr double kTiny = 1e-100;

bool isLabeled(const ScoreRecord& r, int n)
{
    return r.split != Split::Unlabeled && r.given >= 0 && r.given < n && r.probs.size() == n;
}

int argmax(const QVector<float>& p, int favoured = -1)
{
    int best = 0;
    double pBest = -1;
    for (int j = 0; j < p.size(); ++j) {
        const double v = double(p[j]) + (j == favoured ? kFuzzy : 0.0);
        if (v > pBest) { // first maximum wins, as numpy's argmax
            pBest = v;
            best = j;
        }
    }
    return best;
}

/// numpy's round (half to even) of every value, then +-1 on the cells with the largest (smallest) rounding error
/// until the integer sum equals the rounded float sum (cleanlab's round_preserving_sum).
QVector<int> roundPreservingSum(const QVector<double>& floats)
{
    const int n = int(floats.size());
    QVector<double> ints(n);
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        ints[i] = std::nearbyint(floats[i]);
        sum += floats[i];
    }
    const double target = std::nearbyint(sum);
    auto intSum = [&] { return std::nearbyint(std::accumulate(ints.begin(), ints.end(), 0.0)); };
    for (double current = intSum(); std::abs(current - target) > kFuzzy; current = intSum()) {
        const double diff = std::nearbyint(target - current);
        const int inc = diff < 0 ? -1 : 1;
        const int changes = std::min(int(std::abs(diff)), n);
        QVector<int> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(
            order.begin(), order.end(), [&](int a, int b) { return floats[a] - ints[a] < floats[b] - ints[b]; });
        if (inc > 0)
            std::reverse(order.begin(), order.end());
        for (int k = 0; k < changes; ++k)
            ints[order[k]] += inc;
    }
    QVector<int> out(n);
    for (int i = 0; i < n; ++i)
        out[i] = int(ints[i]);
    return out;
}

QVector<int> roundPreservingRowTotals(const QVector<double>& m, int n)
{
    QVector<int> out(qsizetype(n) * n);
    for (int i = 0; i < n; ++i) {
        const auto row = roundPreservingSum(m.mid(qsizetype(i) * n, n));
        std::copy(row.begin(), row.end(), out.begin() + qsizetype(i) * n);
    }
    return out;
}

/// cleanlab's _keep_at_least_n_per_class with frac_noise 1, on the prune-count matrix (the transposed calibrated
/// joint: columns are given classes): raise each diagonal to at least `minimum`, taking what was added evenly off
/// the column's non-zero cells, truncated to integers.
QVector<int> keepAtLeastPerClass(const QVector<int>& pcm, int n, int minimum)
{
    QVector<double> m(pcm.size());
    for (int col = 0; col < n; ++col) {
        const int diag = pcm[qsizetype(col) * n + col];
        const int raised = std::max(diag, minimum);
        const double added = raised - diag;
        int nonZero = 0;
        for (int row = 0; row < n; ++row)
            nonZero += pcm[qsizetype(row) * n + col] != 0 ? 1 : 0;
        const double perCell = added / std::max(nonZero - 1.0, 1.0);
        for (int row = 0; row < n; ++row) {
            const double v = pcm[qsizetype(row) * n + col] - perCell;
            m[qsizetype(row) * n + col] = row == col ? double(raised) : std::max(v, 0.0);
        }
    }
    QVector<int> out(m.size());
    for (qsizetype i = 0; i < m.size(); ++i)
        out[i] = int(m[i]); // astype(int) truncates
    return out;
}

} // namespace

ConfidentJoint computeConfidentJoint(const ScoreSet& set)
{
    ConfidentJoint cj;
    const int n = int(set.vocab.size());
    cj.classes = n;
    cj.guess.fill(-1, set.records.size());
    if (n == 0)
        return cj;

    // Thresholds: mean self-confidence per given class.
    QVector<double> sum(n, 0.0);
    QVector<int> labelCounts(n, 0);
    for (const auto& r : set.records) {
        if (!isLabeled(r, n))
            continue;
        sum[r.given] += r.probs[r.given];
        ++labelCounts[r.given];
        ++cj.labeled;
    }
    cj.thresholds.resize(n);
    for (int j = 0; j < n; ++j)
        cj.thresholds[j] =
            std::max(labelCounts[j] > 0 ? sum[j] / labelCounts[j] : kAbsentClassThreshold, kThresholdFloor);

    // The confident joint.
    cj.counts.fill(0, qsizetype(n) * n);
    for (qsizetype i = 0; i < set.records.size(); ++i) {
        const auto& r = set.records[i];
        if (!isLabeled(r, n))
            continue;
        int confident = 0;
        int only = -1;
        for (int j = 0; j < n; ++j) {
            if (double(r.probs[j]) >= cj.thresholds[j] - kFuzzy) {
                ++confident;
                only = j;
            }
        }
        if (confident == 0)
            continue;
        const int guess = confident == 1 ? only : argmax(r.probs);
        cj.guess[i] = guess;
        ++cj.counts[qsizetype(r.given) * n + guess];
    }
    for (int j = 0; j < n; ++j)
        cj.counts[qsizetype(j) * n + j] = std::max(cj.counts[qsizetype(j) * n + j], 1);

    // Calibration: rows to the given-label counts, the whole to the number of records.
    QVector<double> cal(qsizetype(n) * n, 0.0);
    double total = 0;
    for (int i = 0; i < n; ++i) {
        double rowSum = 0;
        for (int j = 0; j < n; ++j)
            rowSum += cj.counts[qsizetype(i) * n + j];
        for (int j = 0; j < n; ++j) {
            const double v = cj.counts[qsizetype(i) * n + j] / std::max(rowSum, kTiny) * labelCounts[i];
            cal[qsizetype(i) * n + j] = v;
            total += v;
        }
    }
    const double scale = cj.labeled / std::max(total, kTiny);
    for (double& v : cal)
        v *= scale;
    cj.calibrated = roundPreservingRowTotals(cal, n);
    return cj;
}

void flagLabelIssues(ScoreSet& set)
{
    const int n = int(set.vocab.size());
    const ConfidentJoint cj = computeConfidentJoint(set);
    set.estimatedErrors = 0;
    set.issuePairs.fill(0, qsizetype(n) * n);
    for (auto& r : set.records) {
        r.issue = false;
        r.suggested = isLabeled(r, n) ? argmax(r.probs) : -1;
    }
    if (n == 0 || cj.labeled == 0)
        return;

    // The estimate: off-diagonal records of the uncalibrated joint whose prediction is not their given label.
    for (qsizetype i = 0; i < set.records.size(); ++i) {
        const auto& r = set.records[i];
        const int guess = cj.guess[i];
        if (guess < 0 || guess == r.given || argmax(r.probs, r.given) == r.given)
            continue;
        ++set.estimatedErrors;
        ++set.issuePairs[qsizetype(r.given) * n + guess];
    }

    // The flags: prune by noise rate.
    QVector<int> pcm(qsizetype(n) * n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            pcm[qsizetype(j) * n + i] = cj.calibrated[qsizetype(i) * n + j];
    pcm = keepAtLeastPerClass(pcm, n, 1);

    QVector<QVector<int>> byGiven(n);
    for (qsizetype i = 0; i < set.records.size(); ++i)
        if (isLabeled(set.records[i], n))
            byGiven[set.records[i].given].append(int(i));
    for (int k = 0; k < n; ++k) {
        const QVector<int>& members = byGiven[k];
        if (members.size() <= 1) // min_examples_per_class
            continue;
        for (int j = 0; j < n; ++j) {
            const int prune = std::min(int(pcm[qsizetype(j) * n + k]), int(members.size()));
            if (j == k || prune <= 0)
                continue;
            QVector<int> order = members;
            auto margin = [&](int idx) {
                const auto& p = set.records[idx].probs;
                return double(p[j]) - double(p[k]);
            };
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return margin(a) > margin(b); });
            for (int m = 0; m < prune; ++m)
                set.records[order[m]].issue = true;
        }
    }
    for (qsizetype i = 0; i < set.records.size(); ++i) {
        auto& r = set.records[i];
        if (!r.issue)
            continue;
        const int predicted = argmax(r.probs);
        if (predicted == r.given) {
            r.issue = false;
            continue;
        }
        const int guess = cj.guess[i];
        r.suggested = (guess >= 0 && guess != r.given) ? guess : predicted;
    }
}

int flaggedCount(const ScoreSet& set)
{
    return int(std::count_if(set.records.begin(), set.records.end(), [](const ScoreRecord& r) { return r.issue; }));
}

namespace {

struct Pair
{
    int given, truth, count;
};

QVector<Pair> sortedPairs(const ScoreSet& set)
{
    const int n = int(set.vocab.size());
    QVector<Pair> pairs;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            if (const int c = set.issuePairs.value(qsizetype(i) * n + j); c > 0 && i != j)
                pairs.append({ i, j, c });
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.count > b.count; });
    return pairs;
}

} // namespace

QJsonObject labelIssueSummaryJson(const ScoreSet& set)
{
    QJsonArray pairs;
    for (const Pair& p : sortedPairs(set))
        pairs.append(QJsonObject { { QStringLiteral("given"), set.vocab.at(p.given) },
            { QStringLiteral("true"), set.vocab.at(p.truth) }, { QStringLiteral("count"), p.count } });
    return QJsonObject { { QStringLiteral("estimated_label_errors"), set.estimatedErrors },
        { QStringLiteral("flagged"), flaggedCount(set) }, { QStringLiteral("pairs"), pairs },
        { QStringLiteral("method"),
            QStringLiteral("cleanlab confident learning: num_label_issues off_diagonal, flags prune_by_noise_rate") } };
}

QString labelIssueSummary(const ScoreSet& set, int maxPairs)
{
    if (set.estimatedErrors < 0)
        return {};
    const QString method = QStringLiteral("(cleanlab's confident learning)");
    if (set.estimatedErrors == 0)
        return QStringLiteral("no likely label errors %1").arg(method);
    const QVector<Pair> pairs = sortedPairs(set);
    QStringList parts;
    for (qsizetype k = 0; k < pairs.size() && k < maxPairs; ++k)
        parts << QStringLiteral("%1->%2 %3")
                     .arg(set.vocab.at(pairs[k].given), set.vocab.at(pairs[k].truth))
                     .arg(pairs[k].count);
    if (pairs.size() > maxPairs)
        parts << QStringLiteral("...");
    const QString head = set.estimatedErrors == 1
        ? QStringLiteral("about 1 likely label error %1").arg(method)
        : QStringLiteral("about %1 likely label errors %2").arg(set.estimatedErrors).arg(method);
    return parts.isEmpty() ? head : head + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
}

} // namespace Winnow
