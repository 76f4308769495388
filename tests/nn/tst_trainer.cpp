// SPDX-License-Identifier: GPL-3.0-or-later
// The fastai trainer on a tiny synthetic task: learning, cancellation, reproducibility, inference helpers, devices.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <torch/torch.h>

#include <QTest>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/nn/allocator.h"
#include "core/nn/device.h"
#include "core/nn/trainer.h"
#include "core/util/threads.h"

using namespace Winnow::nn;
namespace threads = Winnow::threads;

namespace {

// Three classes: a bright square in the red, green or blue channel at a random place, on noise. 32x32.
struct BlobData
{
    torch::Tensor images, labels;
};

BlobData makeBlobs(int n, uint64_t seed)
{
    std::mt19937 rng(static_cast<uint32_t>(seed));
    torch::manual_seed(seed);
    auto images = torch::randn({ n, 3, 32, 32 }) * 0.5;
    auto labels = torch::empty({ n }, torch::kLong);
    for (int i = 0; i < n; ++i) {
        const int cls = i % 3;
        const int y = static_cast<int>(rng() % 20), x = static_cast<int>(rng() % 20);
        images[i][cls].narrow(0, y, 12).narrow(1, x, 12) += 2.0;
        labels[i] = cls;
    }
    return { images, labels };
}

// Shuffled (seeded per epoch), drop_last batches for training; in-order, keep-last batches otherwise.
class TensorSource : public BatchSource
{
public:
    TensorSource(BlobData data, int64_t batchSize, bool train)
        : m_data(std::move(data))
        , m_bs(batchSize)
        , m_train(train)
    { }
    int64_t batchesPerEpoch() override
    {
        const int64_t n = m_data.images.size(0);
        return m_train ? n / m_bs : (n + m_bs - 1) / m_bs;
    }
    void startEpoch(int epoch) override
    {
        m_order.resize(static_cast<size_t>(m_data.images.size(0)));
        std::iota(m_order.begin(), m_order.end(), 0);
        if (m_train) {
            std::mt19937 rng(static_cast<uint32_t>(1000 + epoch));
            for (size_t i = m_order.size(); i > 1; --i)
                std::swap(m_order[i - 1], m_order[rng() % i]);
        }
        m_pos = 0;
    }
    bool next(torch::Tensor& images, torch::Tensor& labels) override
    {
        const int64_t n = static_cast<int64_t>(m_order.size());
        const int64_t remaining = n - m_pos;
        if (remaining <= 0 || (m_train && remaining < m_bs))
            return false;
        const int64_t take = std::min(m_bs, remaining);
        const auto idx = torch::tensor(std::vector<int64_t>(m_order.begin() + m_pos, m_order.begin() + m_pos + take));
        images = m_data.images.index_select(0, idx);
        labels = m_data.labels.index_select(0, idx);
        m_pos += take;
        return true;
    }
    int64_t size() const
    {
        return m_data.images.size(0);
    }

private:
    BlobData m_data;
    int64_t m_bs;
    bool m_train;
    std::vector<int64_t> m_order;
    int64_t m_pos = 0;
};

struct Run
{
    TrainReport report;
    std::vector<double> smooth;
    Classifier model { nullptr };
};

Run train(uint64_t seed, int epochs, std::function<bool(int)> stopAfter = {})
{
    TensorSource trainSrc(makeBlobs(144, 11), 16, true);
    TensorSource validSrc(makeBlobs(48, 12), 16, false);
    torch::manual_seed(seed);
    Run run;
    run.model = Classifier(Arch::ResNet18, 3);
    TrainerOptions options;
    options.seed = seed;
    Trainer trainer(run.model, options);
    FineTuneOptions ft;
    ft.epochs = epochs;
    ft.baseLr = 1e-2;
    TrainCallbacks cb;
    cb.onBatch = [&](Stage, int, int64_t, int64_t, double smooth) { run.smooth.push_back(smooth); };
    if (stopAfter)
        cb.shouldStop = [&]() { return stopAfter(static_cast<int>(run.smooth.size())); };
    run.report = trainer.fineTune(trainSrc, &validSrc, ft, cb);
    return run;
}

} // namespace

class TestTrainer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void learnsBlobs();
    void cancelMidEpoch();
    void reproducibleOnCpu();
    void predictAndFeatures();
    void devices();
};

void TestTrainer::initTestCase()
{
    setCpuThreads(2);
}

void TestTrainer::learnsBlobs()
{
    std::vector<EpochResult> seen;
    const Run run = train(5, 2);
    QCOMPARE(run.report.status, TrainStatus::Finished);
    QCOMPARE(run.report.epochs.size(), size_t(3));
    QCOMPARE(run.smooth.size(), size_t(3 * 9)); // 144 / 16 batches, 1 frozen + 2 unfrozen epochs
    const auto& e = run.report.epochs;
    QCOMPARE(e[0].stage, Stage::Frozen);
    QCOMPARE(e[1].stage, Stage::Unfrozen);
    QCOMPARE(e[1].epoch, 0);
    QCOMPARE(e[2].epoch, 1);
    QCOMPARE(e[2].globalEpoch, 2);
    for (const auto& r : e) {
        qInfo("stage %d epoch %d train %.4f valid %.4f error %.3f (%.2fs)", int(r.stage), r.epoch, r.trainLoss,
            r.validLoss, r.errorRate, r.seconds);
        QVERIFY(std::isfinite(r.trainLoss) && std::isfinite(r.validLoss));
        QCOMPARE(r.accuracy, 1.0 - r.errorRate);
        QVERIFY(r.seconds > 0);
    }
    QVERIFY2(e[2].trainLoss < e[0].trainLoss, "training loss did not fall");
    QVERIFY2(e[2].validLoss < std::log(3.0), "validation loss not below chance");
    QVERIFY2(e[2].accuracy > 0.7, qPrintable(QString::number(e[2].accuracy)));
    QVERIFY(!run.model->is_training());
}

void TestTrainer::cancelMidEpoch()
{
    const Run run = train(5, 2, [](int batches) { return batches >= 3; });
    QCOMPARE(run.report.status, TrainStatus::Cancelled);
    QCOMPARE(run.smooth.size(), size_t(3)); // stopped before the 4th batch
    QVERIFY(run.report.epochs.empty());
    QVERIFY(!run.model->is_training());
    for (const auto& p : run.model->parameters())
        QVERIFY(!p.grad().defined());
    // Still usable.
    Classifier model = run.model;
    const auto probs = predict(model, makeBlobs(6, 3).images);
    QCOMPARE(probs.sizes().vec(), (std::vector<int64_t> { 6, 3 }));
    QVERIFY(torch::isfinite(probs).all().item<bool>());
}

void TestTrainer::reproducibleOnCpu()
{
    const Run a = train(9, 1);
    const Run b = train(9, 1);
    QCOMPARE(a.smooth, b.smooth);
    QCOMPARE(a.report.epochs.size(), b.report.epochs.size());
    for (size_t i = 0; i < a.report.epochs.size(); ++i) {
        QCOMPARE(a.report.epochs[i].trainLoss, b.report.epochs[i].trainLoss);
        QCOMPARE(a.report.epochs[i].validLoss, b.report.epochs[i].validLoss);
    }
    const Run c = train(10, 1);
    QVERIFY(a.smooth != c.smooth);
}

void TestTrainer::predictAndFeatures()
{
    torch::manual_seed(1);
    Classifier model(Arch::ResNet18, 3);
    TensorSource src(makeBlobs(20, 4), 8, false);
    PredictOptions opts;
    int batches = 0;
    opts.onBatch = [&](int64_t, int64_t n) {
        ++batches;
        QCOMPARE(n, int64_t(3));
    };
    const PredictResult r = predict(model, src, opts);
    QCOMPARE(batches, 3);
    QCOMPARE(r.probs.sizes().vec(), (std::vector<int64_t> { 20, 3 }));
    QVERIFY(torch::allclose(r.probs.sum(1), torch::ones({ 20 }), 1e-5, 1e-5));
    QVERIFY(r.labels.defined() && r.losses.defined());
    QVERIFY(!r.features.defined());
    const auto manual = -r.probs.gather(1, r.labels.unsqueeze(1)).squeeze(1).log();
    QVERIFY(torch::allclose(r.losses, manual, 1e-4, 1e-5));

    opts.withFeatures = true;
    const PredictResult rf = predict(model, src, opts);
    QCOMPARE(rf.features.sizes().vec(), (std::vector<int64_t> { 20, 1024 }));
    QVERIFY(torch::allclose(rf.probs, r.probs, 1e-5, 1e-6));
    const auto f = extractFeatures(model, src);
    QVERIFY(torch::allclose(f, rf.features, 1e-5, 1e-6));
    QVERIFY(torch::allclose(predict(model, makeBlobs(20, 4).images), r.probs, 1e-5, 1e-6));

    opts.shouldStop = []() { return true; };
    QVERIFY_THROWS_EXCEPTION(Cancelled, predict(model, src, opts));
}

void TestTrainer::devices()
{
    QCOMPARE(resolveDevice("cpu"), torch::Device(torch::kCPU));
    QCOMPARE(resolveDevice("CPU"), torch::Device(torch::kCPU));
    QCOMPARE(resolveDevice("auto").is_cuda(), torch::cuda::is_available());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, resolveDevice("gpu0"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, resolveDevice("cuda:x"));
    if (!torch::cuda::is_available())
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, resolveDevice("cuda"));
    QVERIFY(threads::physicalCores() >= 1);
    const int before = at::get_num_threads();
    const int n = setCpuThreads(0);
    QCOMPARE(n, threads::physicalCores()); // the thread policy (core/util/threads.h)
    QCOMPARE(at::get_num_threads(), n);
    QCOMPARE(setCpuThreads(1), 1);
    QCOMPARE(at::get_num_threads(), 1);
    setCpuThreads(before);
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer brings its own allocator: glibc's mallopt() tuning does not apply (it returns false).
    qInfo("AddressSanitizer build: the glibc allocator tuning is not checked");
#elif defined(__GLIBC__)
    // setCpuThreads tuned malloc for tensors (one arena, no mmap below 1 GiB) unless WINNOW_MALLOC=default.
    if (qEnvironmentVariable("WINNOW_MALLOC") != QLatin1String("default")) {
        QVERIFY(tuneAllocatorForTensors());
        const struct mallinfo2 info = mallinfo2();
        auto big = torch::empty({ 64, 1024, 1024 }, torch::kFloat); // 256 MiB: from the heap now, not an mmap
        QCOMPARE(mallinfo2().hblkhd, info.hblkhd);
        big.reset();
        releaseFreeMemory();
    }
#endif
    RunOptions cpu;
    QVERIFY(!autocastEnabled(cpu));
    cpu.amp = AmpMode::BF16;
    QVERIFY(!autocastEnabled(cpu)); // CPU stays float32
}

QTEST_APPLESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
