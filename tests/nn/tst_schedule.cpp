// SPDX-License-Identifier: GPL-3.0-or-later
// fastai fine_tune schedule (lr per group and momentum per batch) and fastai Adam's update, against formulas written
// out independently here.
#include <cmath>
#include <vector>

#include <torch/torch.h>

#include <QTest>

#include "core/nn/schedule.h"
#include "core/nn/trainer.h"

using namespace Winnow::nn;

namespace {

// Cosine annealing from a to b over p in [0,1], written as (1 - cos(pi p)) / 2 (fastai writes 1 + cos(pi (1-p))).
double anneal(double a, double b, double p)
{
    return a + (b - a) * (1.0 - std::cos(M_PI * p)) / 2.0;
}

// fastai one-cycle value at pct: warm-up from lo to hi until pctStart, then down to end.
double cycle(double pct, double pctStart, double lo, double hi, double end)
{
    return pct < pctStart ? anneal(lo, hi, pct / pctStart) : anneal(hi, end, (pct - pctStart) / (1.0 - pctStart));
}

bool near(double a, double b)
{
    return std::abs(a - b) <= 1e-12 + 1e-9 * std::abs(b);
}

} // namespace

class TestSchedule : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void slices();
    void fineTunePlanMatchesFastai();
    void fineTune4_data();
    void fineTune4();
    void anchors();
    void adamStepMatchesFastai();
    void adamClearStateAndFrozenParams();
};

void TestSchedule::slices()
{
    const auto m = evenMults(1e-5, 1e-3, 3);
    QCOMPARE(m.size(), size_t(3));
    QVERIFY(near(m[0], 1e-5) && near(m[1], 1e-4) && near(m[2], 1e-3));
    const auto s = sliceLrs(0.0, 2e-3, 3);
    QVERIFY(near(s[0], 2e-4) && near(s[1], 2e-4) && near(s[2], 2e-3));
    QCOMPARE(evenMults(1.0, 8.0, 1), std::vector<double> { 8.0 });
    const auto four = evenMults(1.0, 8.0, 4);
    QVERIFY(near(four[1], 2.0) && near(four[2], 4.0) && near(four[3], 8.0));
}

void TestSchedule::fineTunePlanMatchesFastai()
{
    const FineTunePlan plan = fineTunePlan(FineTuneOptions {}, 3);
    QCOMPARE(plan.frozenEpochs, 1);
    QCOMPARE(plan.epochs, 4);
    QVERIFY(near(plan.frozen.lrMax[0], 2e-4) && near(plan.frozen.lrMax[1], 2e-4) && near(plan.frozen.lrMax[2], 2e-3));
    QCOMPARE(plan.frozen.pctStart, 0.99);
    QCOMPARE(plan.frozen.div, 25.0);
    QCOMPARE(plan.frozen.divFinal, 1e5);
    QVERIFY(
        near(plan.unfrozen.lrMax[0], 1e-5) && near(plan.unfrozen.lrMax[1], 1e-4) && near(plan.unfrozen.lrMax[2], 1e-3));
    QCOMPARE(plan.unfrozen.pctStart, 0.3);
    QCOMPARE(plan.unfrozen.div, 5.0);
    QCOMPARE(plan.unfrozen.divFinal, 1e5);
}

void TestSchedule::fineTune4_data()
{
    QTest::addColumn<bool>("frozen");
    QTest::addColumn<int>("step");
    // bears: 384 train images / bs 64 = 6 batches per epoch; fine_tune(4) = 1 frozen epoch + 4 epochs.
    for (int step : { 0, 1, 2, 3, 5 })
        QTest::addRow("frozen-%d", step) << true << step;
    for (int step : { 0, 1, 4, 7, 8, 12, 17, 23 })
        QTest::addRow("unfrozen-%d", step) << false << step;
}

void TestSchedule::fineTune4()
{
    QFETCH(bool, frozen);
    QFETCH(int, step);
    constexpr int kBatches = 6;
    const FineTunePlan plan = fineTunePlan(FineTuneOptions {}, 3);
    const int epochs = frozen ? 1 : 4;
    const OneCycle& oc = frozen ? plan.frozen : plan.unfrozen;
    const double pct = pctTrain(step, epochs, kBatches);
    QVERIFY(near(pct, double(step) / (epochs * kBatches)));
    const Hyper h = oneCycleAt(oc, pct);

    const std::vector<double> lrMax =
        frozen ? std::vector<double> { 2e-4, 2e-4, 2e-3 } : std::vector<double> { 1e-5, 1e-4, 1e-3 };
    const double div = frozen ? 25.0 : 5.0;
    const double pctStart = frozen ? 0.99 : 0.3;
    QCOMPARE(h.lr.size(), size_t(3));
    for (int g = 0; g < 3; ++g) {
        const double expected = cycle(pct, pctStart, lrMax[g] / div, lrMax[g], lrMax[g] / 1e5);
        QVERIFY2(near(h.lr[g], expected),
            qPrintable(QStringLiteral("group %1: %2 vs %3").arg(g).arg(h.lr[g]).arg(expected)));
    }
    QVERIFY(near(h.mom, cycle(pct, pctStart, 0.95, 0.85, 0.95)));
}

void TestSchedule::anchors()
{
    const FineTunePlan plan = fineTunePlan(FineTuneOptions {}, 3);
    Hyper h = oneCycleAt(plan.unfrozen, 0.0);
    QVERIFY(near(h.lr[2], 1e-3 / 5) && near(h.mom, 0.95));
    h = oneCycleAt(plan.unfrozen, 0.3);
    QVERIFY(near(h.lr[2], 1e-3) && near(h.lr[0], 1e-5) && near(h.mom, 0.85));
    h = oneCycleAt(plan.unfrozen, 1.0);
    QVERIFY(near(h.lr[2], 1e-3 / 1e5) && near(h.mom, 0.95));
    h = oneCycleAt(plan.frozen, 0.0);
    QVERIFY(near(h.lr[0], 2e-4 / 25) && near(h.lr[2], 2e-3 / 25));
    // Monotone warm-up then decay.
    double prev = 0;
    for (int i = 0; i <= 30; ++i) {
        const double lr = oneCycleAt(plan.unfrozen, i / 100.0).lr[2];
        QVERIFY(lr >= prev);
        prev = lr;
    }
    for (int i = 30; i <= 100; ++i) {
        const double lr = oneCycleAt(plan.unfrozen, i / 100.0).lr[2];
        QVERIFY(lr <= prev);
        prev = lr;
    }
}

void TestSchedule::adamStepMatchesFastai()
{
    auto p = torch::tensor({ 1.0, -2.0, 0.5 }, torch::kDouble).requires_grad_();
    auto q = torch::tensor({ 3.0 }, torch::kDouble).requires_grad_(); // no weight decay (a "BN" param)
    FastaiAdam opt({ { p }, { q } }, { q }, 0.99, 1e-5, 0.01);
    const std::vector<double> g1 = { 0.5, 0.1, -0.3 }, g2 = { -0.2, 0.4, 0.1 };
    const std::vector<double> lrs = { 0.1, 0.05 };
    const std::vector<double> moms = { 0.9, 0.8 };

    // Reference: fastai Adam written out element by element.
    std::vector<double> ref = { 1.0, -2.0, 0.5 }, avg(3, 0), sqr(3, 0);
    double refQ = 3.0, avgQ = 0, sqrQ = 0;
    for (int s = 0; s < 2; ++s) {
        const auto& g = s == 0 ? g1 : g2;
        p.mutable_grad() = torch::tensor(g, torch::kDouble);
        q.mutable_grad() = torch::tensor({ 1.0 }, torch::kDouble);
        opt.setHyper({ lrs[s], lrs[s] }, moms[s]);
        opt.step();
        const double mom = moms[s], lr = lrs[s];
        const double d1 = 1 - std::pow(mom, s + 1), d2 = 1 - std::pow(0.99, s + 1);
        for (int i = 0; i < 3; ++i) {
            ref[i] *= 1 - lr * 0.01;
            avg[i] = mom * avg[i] + (1 - mom) * g[i];
            sqr[i] = 0.99 * sqr[i] + 0.01 * g[i] * g[i];
            ref[i] -= lr / d1 * avg[i] / (std::sqrt(sqr[i] / d2) + 1e-5);
        }
        avgQ = mom * avgQ + (1 - mom) * 1.0;
        sqrQ = 0.99 * sqrQ + 0.01;
        refQ -= lr / d1 * avgQ / (std::sqrt(sqrQ / d2) + 1e-5);
        opt.zeroGrad();
        QVERIFY(!p.grad().defined());
    }
    for (int i = 0; i < 3; ++i)
        QVERIFY2(near(p[i].item<double>(), ref[i]), qPrintable(QString::number(p[i].item<double>() - ref[i])));
    QVERIFY(near(q.item<double>(), refQ));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, opt.setHyper({ 0.1 }, 0.9));
}

void TestSchedule::adamClearStateAndFrozenParams()
{
    auto p = torch::tensor({ 1.0 }, torch::kDouble).requires_grad_();
    auto frozen = torch::tensor({ 5.0 }, torch::kDouble); // no grad: skipped entirely (not even decayed)
    FastaiAdam opt({ { p, frozen } }, {}, 0.99, 1e-5, 0.01);
    opt.setHyper({ 0.1 }, 0.9);
    p.mutable_grad() = torch::tensor({ 2.0 }, torch::kDouble);
    opt.step();
    QCOMPARE(frozen.item<double>(), 5.0);
    // The first step after clearState is a fresh Adam step again: |update| = lr * g/(|g|+eps) ~= lr.
    opt.clearState();
    const double before = p.item<double>();
    p.mutable_grad() = torch::tensor({ 2.0 }, torch::kDouble);
    opt.step();
    const double expected = before * (1 - 0.1 * 0.01) - 0.1 * 2.0 / (2.0 + 1e-5);
    QVERIFY(near(p.item<double>(), expected));
}

QTEST_APPLESS_MAIN(TestSchedule)
#include "tst_schedule.moc"
