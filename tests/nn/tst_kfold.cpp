// SPDX-License-Identifier: GPL-3.0-or-later
// Logistic heads on features: K-fold out-of-sample probabilities find flipped labels; head training and storage.
#include <chrono>
#include <set>

#include <torch/torch.h>

#include <QTest>

#include "core/nn/knngraph.h"
#include "core/nn/logistic.h"

using namespace Winnow::nn;

namespace {

struct Synthetic
{
    torch::Tensor features, clean, noisy;
    std::set<int64_t> flipped;
};

// Separable Gaussian clusters (C classes in F dims), with `flipFraction` of the labels moved to another class.
Synthetic makeData(int64_t n, int64_t f, int64_t c, double flipFraction, uint64_t seed)
{
    torch::manual_seed(seed);
    Synthetic s;
    const auto centres = torch::randn({ c, f }) * 1.5;
    s.clean = torch::arange(n, torch::kLong) % c;
    s.features = centres.index_select(0, s.clean) + torch::randn({ n, f });
    s.noisy = s.clean.clone();
    const auto perm = torch::randperm(n);
    const int64_t flips = static_cast<int64_t>(flipFraction * static_cast<double>(n));
    for (int64_t i = 0; i < flips; ++i) {
        const int64_t idx = perm[i].item<int64_t>();
        s.noisy[idx] = (s.clean[idx].item<int64_t>() + 1 + (i % (c - 1))) % c;
        s.flipped.insert(idx);
    }
    return s;
}

} // namespace

class TestKFold : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void flippedLabelsRankLowest_data();
    void flippedLabelsRankLowest();
    void deterministic();
    void givenFoldsAndWarmStarts();
    void stratifiedFoldsBalanced();
    void trainHeadFitsAndRoundTrips();
    void rejectsBadInput();
    void neighboursVoteWithoutThemselves();
    void nearestNeighboursFindTwins();
    void graphSearchAgreesWithExact();
    void speedAtBearsScale();
};

void TestKFold::flippedLabelsRankLowest_data()
{
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("k");
    QTest::newRow("3 classes, 5 folds") << 3 << 5;
    QTest::newRow("5 classes, 3 folds") << 5 << 3;
}

void TestKFold::flippedLabelsRankLowest()
{
    QFETCH(int, classes);
    QFETCH(int, k);
    const Synthetic s = makeData(300, 64, classes, 0.1, 21);
    const auto probs = kFoldLogisticProbs(s.features, s.noisy, classes, k, 7);
    QCOMPARE(probs.sizes().vec(), (std::vector<int64_t> { 300, classes }));
    QVERIFY(torch::allclose(probs.sum(1), torch::ones({ 300 }), 1e-4, 1e-5));
    const auto pGiven = probs.gather(1, s.noisy.unsqueeze(1)).squeeze(1);
    const auto lowest = std::get<1>(pGiven.topk(static_cast<int64_t>(s.flipped.size()), 0, /*largest=*/false));
    int hits = 0;
    for (int64_t i = 0; i < lowest.size(0); ++i)
        hits += s.flipped.count(lowest[i].item<int64_t>()) ? 1 : 0;
    qInfo("%d of %d flipped labels among the %d lowest p(given)", hits, int(s.flipped.size()), int(s.flipped.size()));
    QVERIFY2(hits >= static_cast<int>(0.8 * s.flipped.size()), qPrintable(QString::number(hits)));
    // Out-of-sample accuracy against the clean labels stays high.
    const double acc = probs.argmax(1).eq(s.clean).to(torch::kDouble).mean().item<double>();
    QVERIFY2(acc > 0.9, qPrintable(QString::number(acc)));
}

void TestKFold::deterministic()
{
    const Synthetic s = makeData(120, 16, 3, 0.1, 3);
    const auto a = kFoldLogisticProbs(s.features, s.noisy, 3, 5, 11);
    const auto b = kFoldLogisticProbs(s.features, s.noisy, 3, 5, 11);
    QVERIFY(torch::equal(a, b));
    QVERIFY(torch::equal(stratifiedFolds(s.noisy, 5, 11), stratifiedFolds(s.noisy, 5, 11)));
    QVERIFY(!torch::equal(stratifiedFolds(s.noisy, 5, 11), stratifiedFolds(s.noisy, 5, 12)));
}

// Folds given by the caller are the ones used, and a warm start from the heads of a slightly different problem (a
// few labels changed, as after a cleaning round) lands where a cold start does.
void TestKFold::givenFoldsAndWarmStarts()
{
    const Synthetic s = makeData(200, 32, 3, 0.1, 5);
    const auto folds = torch::arange(200, torch::kLong) % 4;
    LogisticOptions lo;
    lo.c = 0.1;
    KFoldHeads heads;
    const auto first = kFoldLogisticProbs(s.features, s.noisy, 3, folds, lo, &heads);
    QVERIFY(heads.all.isValid());
    QCOMPARE(int(heads.folds.size()), 4);
    // Row i is scored by the head that left fold i % 4 out.
    for (int f = 0; f < 4; ++f) {
        QVERIFY(heads.folds[size_t(f)].isValid());
        const auto idx = folds.eq(f).nonzero().flatten();
        QVERIFY(torch::allclose(
            first.index_select(0, idx), heads.folds[size_t(f)].probs(s.features.index_select(0, idx)), 1e-5, 1e-6));
    }
    // Clean a few labels, then refit warm (from `heads`) and cold: the same scores to the fit's tolerance.
    auto cleaned = s.noisy.clone();
    int n = 0;
    for (int64_t i : s.flipped)
        if (n++ < 8)
            cleaned[i] = s.clean[i];
    KFoldHeads cold;
    const auto warm = kFoldLogisticProbs(s.features, cleaned, 3, folds, lo, &heads);
    const auto fresh = kFoldLogisticProbs(s.features, cleaned, 3, folds, lo, &cold);
    const double diff = (warm - fresh).abs().max().item<double>();
    qInfo("warm vs cold start: largest probability difference %.2e", diff);
    QVERIFY2(diff < 2e-3, qPrintable(QString::number(diff)));
    QVERIFY(!torch::allclose(warm, first, 1e-3, 1e-3)); // the cleaning did change the scores
    // Bad folds are refused.
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
        kFoldLogisticProbs(s.features, s.noisy, 3, torch::zeros({ 200 }, torch::kLong), lo, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
        kFoldLogisticProbs(s.features, s.noisy, 3, torch::zeros({ 199 }, torch::kLong), lo, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kFoldLogisticProbs(s.features, s.noisy, 3, folds - 1, lo, nullptr));
}

void TestKFold::stratifiedFoldsBalanced()
{
    const auto labels = torch::cat(
        { torch::zeros({ 23 }, torch::kLong), torch::ones({ 12 }, torch::kLong), torch::full({ 7 }, 2, torch::kLong) });
    const auto folds = stratifiedFolds(labels, 5, 1);
    QCOMPARE(folds.min().item<int64_t>(), int64_t(0));
    QCOMPARE(folds.max().item<int64_t>(), int64_t(4));
    for (int64_t c = 0; c < 3; ++c) {
        const auto counts = torch::bincount(folds.masked_select(labels.eq(c)), {}, 5);
        QVERIFY((counts.max() - counts.min()).item<int64_t>() <= 1);
    }
    const auto sizes = torch::bincount(folds, {}, 5);
    QVERIFY((sizes.max() - sizes.min()).item<int64_t>() <= 1);
}

void TestKFold::trainHeadFitsAndRoundTrips()
{
    const Synthetic s = makeData(200, 32, 4, 0.0, 5);
    // Shift/scale the features: standardisation must make that irrelevant.
    const auto x = s.features * 50.0 + 1000.0;
    const LogisticHead head = trainLogisticHead(x, s.clean, 4);
    QVERIFY(head.isValid());
    QCOMPARE(head.weight.sizes().vec(), (std::vector<int64_t> { 4, 32 }));
    const auto probs = head.probs(x);
    const double acc = probs.argmax(1).eq(s.clean).to(torch::kDouble).mean().item<double>();
    QVERIFY2(acc > 0.97, qPrintable(QString::number(acc)));
    const LogisticHead copy = LogisticHead::fromTensors(head.toTensors("head."), "head.");
    QVERIFY(torch::equal(copy.probs(x), probs));
    QVERIFY_THROWS_EXCEPTION(WeightsError, LogisticHead::fromTensors(head.toTensors(), "head."));
    // Works under NoGradGuard too (callers often hold one).
    torch::NoGradGuard noGrad;
    QVERIFY(trainLogisticHead(x, s.clean, 4).probs(x).argmax(1).eq(s.clean).to(torch::kDouble).mean().item<double>()
        > 0.97);
}

void TestKFold::rejectsBadInput()
{
    const auto x = torch::randn({ 10, 4 });
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kFoldLogisticProbs(x, torch::zeros({ 9 }, torch::kLong), 2));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kFoldLogisticProbs(x, torch::full({ 10 }, 3, torch::kLong), 2));
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, kFoldLogisticProbs(x.flatten(), torch::zeros({ 10 }, torch::kLong), 2));
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, kFoldLogisticProbs(x.narrow(0, 0, 1), torch::zeros({ 1 }, torch::kLong), 2));
}

// Every row's nearest neighbour is its planted near-copy (never itself); skipped rows are not returned while others
// remain; similarities come most similar first.
void TestKFold::nearestNeighboursFindTwins()
{
    torch::manual_seed(9);
    const auto base = torch::randn({ 50, 24 });
    const auto feats = torch::cat({ base, base + 0.01 * torch::randn({ 50, 24 }) }); // row i and i + 50 are twins
    const auto near = nearestNeighbours(feats, 3);
    QCOMPARE(near.indices.sizes().vec(), (std::vector<int64_t> { 100, 3 }));
    for (int64_t i = 0; i < 100; ++i) {
        QCOMPARE(near.indices[i][0].item<int64_t>(), (i + 50) % 100);
        for (int64_t j = 0; j < 3; ++j)
            QVERIFY(near.indices[i][j].item<int64_t>() != i);
        QVERIFY(near.similarities[i][0].item<float>() > 0.99f);
        QVERIFY(near.similarities[i][0].item<float>() >= near.similarities[i][1].item<float>());
    }
    auto skip = torch::zeros({ 100 }, torch::kBool);
    skip.slice(0, 50).fill_(true); // the twins may not be returned
    const auto without = nearestNeighbours(feats, 3, skip);
    for (int64_t i = 0; i < 50; ++i)
        for (int64_t j = 0; j < 3; ++j)
            QVERIFY(without.indices[i][j].item<int64_t>() < 50);
    QCOMPARE(nearestNeighbours(feats.narrow(0, 0, 1), 5).indices.size(1), 0); // one row has no other

    // standardise = false: plain cosine of the rows as they are. A column shared by every row (a large offset) makes
    // all rows alike there; standardising removes it.
    const auto offset = torch::cat({ feats, torch::full({ 100, 1 }, 50.0) }, 1);
    const auto plain = nearestNeighbours(offset, 3, {}, 0, false);
    const auto standard = nearestNeighbours(offset, 3);
    const auto x = offset / offset.norm(2, 1, true);
    QVERIFY(std::abs(plain.similarities[0][0].item<float>()
                - (x[0] * x[plain.indices[0][0].item<int64_t>()]).sum().item<float>())
        < 1e-4f);
    QVERIFY(plain.similarities[0][2].item<float>() > 0.9f); // every row is close to every other through the offset
    QVERIFY(standard.similarities[0][2].item<float>() < 0.9f);
    QCOMPARE(plain.indices[0][0].item<int64_t>(), 50); // the twin is still the nearest
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, nearestNeighbours(feats.flatten(), 3));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, nearestNeighbours(feats, 3, torch::zeros({ 7 }, torch::kBool)));
}

// Above the exact-search size the graph (hnswlib) gives the same answers, nearly: clustered data (a class, a photo's
// copy) as real features are, searched both ways on the same rows. A test that fails when the graph path finds the
// wrong rows, loses the twins, returns a row as its own neighbour or a skipped row.
void TestKFold::graphSearchAgreesWithExact()
{
    if (!haveGraphSearch())
        QSKIP("this build has no hnswlib");
    torch::manual_seed(11);
    const int64_t clusters = 40, perCluster = 60, dims = 160; // 2,400 rows, 160 > the graph's 128 projected dims
    const auto centres = torch::randn({ clusters, dims }) * 3;
    const auto low = torch::randn({ 16, dims }); // within-cluster spread on a few directions, as in real features
    auto feats = (centres.repeat_interleave(perCluster, 0) + torch::randn({ clusters * perCluster, 16 }).mm(low)
        + 0.1 * torch::randn({ clusters * perCluster, dims }));
    feats.slice(0, 0, 100).copy_(feats.slice(0, 100, 200) + 0.01 * torch::randn({ 100, dims })); // twins
    const int64_t n = feats.size(0);
    const int k = 10;
    const auto exact = nearestNeighbours(feats, k, {}, 0, false, n);
    const auto graph = nearestNeighbours(feats, k, {}, 0, false, 0);
    QCOMPARE(graph.indices.sizes().vec(), exact.indices.sizes().vec());
    const auto ex = exact.indices.contiguous(), gr = graph.indices.contiguous();
    const int64_t* ep = ex.data_ptr<int64_t>();
    const int64_t* gp = gr.data_ptr<int64_t>();
    int64_t shared = 0;
    for (int64_t i = 0; i < n; ++i) {
        const std::set<int64_t> truth(ep + i * k, ep + (i + 1) * k);
        for (int64_t j = 0; j < k; ++j) {
            QVERIFY(gp[i * k + j] >= 0 && gp[i * k + j] < n && gp[i * k + j] != i);
            shared += truth.count(gp[i * k + j]);
        }
    }
    const double recall = double(shared) / double(n * k);
    qInfo("graph recall@%d against exact search: %.4f", k, recall);
    QVERIFY2(recall > 0.95, qPrintable(QString::number(recall)));
    for (int64_t i = 0; i < 100; ++i) { // the twins are found, with their exact similarity
        QCOMPARE(gp[i * k], i + 100);
        QVERIFY(std::abs(graph.similarities[i][0].item<float>() - exact.similarities[i][0].item<float>()) < 1e-5f);
    }
    for (int64_t i = 0; i < n; ++i) // most similar first
        QVERIFY(graph.similarities[i][0].item<float>() >= graph.similarities[i][k - 1].item<float>());
    // Skipped rows never come back while others remain.
    auto skip = torch::zeros({ n }, torch::kBool);
    skip.slice(0, 100, 200).fill_(true);
    const auto without = nearestNeighbours(feats, k, skip, 0, false, 0).indices.contiguous();
    const int64_t* wp = without.data_ptr<int64_t>();
    for (int64_t i = 0; i < n * k; ++i)
        QVERIFY(wp[i] < 100 || wp[i] >= 200);
    // The same rows give the same graph.
    QVERIFY(torch::equal(graph.indices, nearestNeighbours(feats, k, {}, 0, false, 0).indices));
}

void TestKFold::speedAtBearsScale()
{
    // bears-small: 480 images x 2560 mobilenet_v2 concat-pool features, 3 classes.
    const Synthetic s = makeData(480, 2560, 3, 0.1, 8);
    const auto t0 = std::chrono::steady_clock::now();
    const auto probs = kFoldLogisticProbs(s.features, s.noisy, 3, 5, 1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("5-fold logistic scoring of 480 x 2560 features: %.2f s", seconds);
    QCOMPARE(probs.size(0), int64_t(480));
    QVERIFY2(seconds < 15.0, qPrintable(QString::number(seconds)));
}

/// Nearest-neighbour label agreement: flipped labels get little support from their neighbours, a row's own label
/// never votes, unlabeled rows never vote, and the rows above the projection threshold still work.
void TestKFold::neighboursVoteWithoutThemselves()
{
    const Synthetic d = makeData(600, 32, 3, 0.1, 11);
    const auto p = Winnow::nn::neighbourLabelProbs(d.features, d.noisy, 3, 10);
    QCOMPARE(p.size(0), 600);
    QCOMPARE(p.size(1), 3);
    QVERIFY(torch::allclose(p.sum(1), torch::ones({ 600 }), 1e-5, 1e-5));
    // Rank by p(given label): the flipped rows come first.
    const auto pGiven = p.gather(1, d.noisy.unsqueeze(1)).squeeze(1);
    const auto order = std::get<1>(pGiven.sort(0, false));
    int64_t hits = 0;
    const int64_t flips = int64_t(d.flipped.size());
    for (int64_t i = 0; i < flips; ++i)
        hits += d.flipped.count(order[i].item<int64_t>()) ? 1 : 0;
    QVERIFY2(double(hits) / double(flips) >= 0.9, qPrintable(QString::number(double(hits) / double(flips))));

    // Two far-apart pairs: each row's only neighbour is its partner, so its own label does not count at all.
    auto f = torch::tensor({ 1.0f, 0.0f, 0.99f, 0.05f, -1.0f, 0.0f, -0.99f, -0.05f }).view({ 4, 2 });
    auto lab = torch::tensor({ 0, 1, 1, 1 }, torch::kInt64);
    const auto q = Winnow::nn::neighbourLabelProbs(f, lab, 2, 1, 0.0);
    QCOMPARE(q[0][1].item<float>(), 1.0f); // row 0 says 0, its partner says 1
    QCOMPARE(q[1][0].item<float>(), 1.0f); // and the other way round
    QCOMPARE(q[2][1].item<float>(), 1.0f);
    // An unlabeled partner does not vote: the row falls back to the nearest labeled one.
    lab = torch::tensor({ 0, -1, 1, 1 }, torch::kInt64);
    const auto u = Winnow::nn::neighbourLabelProbs(f, lab, 2, 1, 0.0);
    QCOMPARE(u[0][0].item<float>() + u[0][1].item<float>(), 1.0f);
    QCOMPARE(u[0][1].item<float>(), 1.0f); // its nearest labeled neighbour is row 2 or 3, both class 1

    // More rows than one search block (2,048): pairs of near-identical rows with different labels. With k = 1 each
    // row's only vote is its partner's, in every block (a row that voted for itself would keep its own label).
    {
        torch::manual_seed(5);
        const int64_t pairs = 1100;
        auto centres = torch::randn({ pairs, 16 });
        auto x = centres.repeat_interleave(2, 0) + 1e-3 * torch::randn({ 2 * pairs, 16 });
        auto y = (torch::arange(2 * pairs, torch::kInt64) % 2);
        const auto r = Winnow::nn::neighbourLabelProbs(x, y, 2, 1, 0.0);
        const auto partner = 1 - y;
        QCOMPARE(r.gather(1, partner.unsqueeze(1)).min().item<float>(), 1.0f);
    }

    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Winnow::nn::neighbourLabelProbs(f, lab.slice(0, 0, 3), 2));
    QVERIFY_THROWS_EXCEPTION(
        std::invalid_argument, Winnow::nn::neighbourLabelProbs(f, torch::tensor({ 0, 5, 1, 1 }, torch::kInt64), 2));
}

QTEST_APPLESS_MAIN(TestKFold)
#include "tst_kfold.moc"
