// SPDX-License-Identifier: GPL-3.0-or-later
// fastai's one-cycle / fine_tune hyper-parameter schedule as pure functions (no torch), so it can be tested alone.
#pragma once

#include <cstdint>
#include <vector>

namespace Winnow::nn {

/// fastai sched_cos: start + (1 + cos(pi * (1 - pct))) * (end - start) / 2.
double schedCos(double start, double end, double pct);
/// fastai combined_cos(pctStart, start, middle, end) evaluated at pct in [0, 1].
double combinedCos(double pct, double pctStart, double start, double middle, double end);
/// fastai even_mults(start, stop, n): geometric steps from start to stop (n == 1: {stop}).
std::vector<double> evenMults(double start, double stop, int n);
/// fastai set_hyper('lr', slice(lo, hi)) over n groups: lo > 0 -> evenMults(lo, hi, n); lo == 0 (slice(hi)) ->
/// [hi/10] * (n-1) + [hi].
std::vector<double> sliceLrs(double lo, double hi, int n);

/// One fit_one_cycle call.
struct OneCycle
{
    std::vector<double> lrMax; ///< per parameter group
    double div = 25.0;
    double divFinal = 1e5;
    double pctStart = 0.25;
    double momStart = 0.95, momMid = 0.85, momEnd = 0.95; ///< moms=(0.95, 0.85, 0.95); Adam's beta1
};

/// Hyper-parameters for one batch.
struct Hyper
{
    std::vector<double> lr; ///< per group
    double mom = 0.9;
};

/// The one-cycle values at pct_train = pct: lr = combined_cos(pct, lrMax/div, lrMax, lrMax/divFinal),
/// mom = combined_cos(pct, momStart, momMid, momEnd).
Hyper oneCycleAt(const OneCycle& cycle, double pct);
/// fastai's pct_train before batch `step` (0-based over the whole fit) of a fit of `epochs` x `batchesPerEpoch`:
/// step / (epochs * batchesPerEpoch).
double pctTrain(int64_t step, int epochs, int64_t batchesPerEpoch);

/// fastai fine_tune() arguments (and the optimizer's, vision_learner defaults).
struct FineTuneOptions
{
    int epochs = 4;
    double baseLr = 2e-3;
    int freezeEpochs = 1;
    double lrMult = 100.0;
    double pctStart = 0.3;
    double div = 5.0;
    // Adam (fastai): mom comes from the schedule
    double sqrMom = 0.99;
    double eps = 1e-5;
    double wd = 0.01; ///< decoupled; none on BatchNorm parameters and biases
};

/// The two fit_one_cycle calls of fine_tune.
struct FineTunePlan
{
    int frozenEpochs = 0;
    OneCycle frozen; ///< slice(baseLr) -> [b/10, .., b/10, b], pctStart 0.99, div 25, divFinal 1e5
    int epochs = 0;
    OneCycle unfrozen; ///< slice(baseLr/2/lrMult, baseLr/2) -> evenMults, pctStart, div, divFinal 1e5
};
/// fine_tune's plan for `groups` parameter groups (3 for Classifier).
FineTunePlan fineTunePlan(const FineTuneOptions& options, int groups = 3);

} // namespace Winnow::nn
