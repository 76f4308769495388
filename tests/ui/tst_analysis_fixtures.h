// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic datasets (small PNGs in a QTemporaryDir, train/ + valid/ + unlabeled/ layout, written with
// tests/syntheticdataset.h) and synthetic ScoreSets with known (given, predicted, probability) for the analysis view
// tests.
#pragma once

#include <cmath>

#include <QColor>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/engine/types.h"
#include "tests/syntheticdataset.h"

namespace AnalysisTest {

using namespace Winnow;

/// Writes a 12x12 PNG of one colour derived from `seed`, for a test that names its files one by one (whole datasets:
/// WinnowTest::writeDataset).
inline bool writePng(const QString& path, int seed)
{
    return WinnowTest::writeImage(
        path, { .size = QSize(12, 12), .colour = QColor::fromHsv((seed * 37) % 360, 200, 200), .format = "PNG" });
}

/// Scans `root`; fails the test (returns an empty Dataset) on error.
inline Dataset scan(const QString& root)
{
    ScanOptions opt;
    opt.verifyImages = false;
    ScanResult r = scanDataset(root, opt);
    if (!r.ok())
        qWarning("scan failed: %s", qPrintable(r.error));
    return r.ok() ? *r.dataset : Dataset {};
}

/// A record whose predicted class has probability `pPred`; the rest is spread evenly (or `pSecond` goes to
/// `second` when given), so top-1 minus top-2 is known.
inline ScoreRecord record(const QString& file, Split split, int given, int predicted, double pPred, int n,
    int second = -1, double pSecond = -1)
{
    ScoreRecord r;
    r.file = file;
    r.split = split;
    r.given = given;
    r.predicted = predicted;
    r.probs = QVector<float>(n, 0.0f);
    double rest = 1.0 - pPred;
    if (second >= 0 && second != predicted) {
        r.probs[second] = float(pSecond);
        rest -= pSecond;
    }
    int others = 0;
    for (int i = 0; i < n; ++i)
        if (i != predicted && i != second)
            ++others;
    for (int i = 0; i < n; ++i)
        if (i != predicted && i != second)
            r.probs[i] = float(others > 0 ? rest / others : 0.0);
    r.probs[predicted] = float(pPred);
    r.pPredicted = pPred;
    if (given >= 0) {
        r.pGiven = r.probs.at(given);
        r.loss = -std::log(std::max(1e-7, r.pGiven));
        double best = 0;
        for (int i = 0; i < n; ++i)
            if (i != given)
                best = std::max(best, double(r.probs.at(i)));
        r.margin = r.pGiven - best;
    }
    r.kind = split == Split::Valid ? ScoreKind::OutOfSample : ScoreKind::InSample;
    return r;
}

} // namespace AnalysisTest
