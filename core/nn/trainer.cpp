// SPDX-License-Identifier: GPL-3.0-or-later
// Schedule, device helpers, fastai's Adam, the Trainer and inference: one translation unit to keep builds fast.
#include "core/nn/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include "core/nn/allocator.h"
#include "core/util/threads.h"

namespace Winnow::nn {

// ---------------------------------------------------------------------------------------------------------------
// Schedule (fastai callback/schedule.py)

double schedCos(double start, double end, double pct)
{
    return start + (1.0 + std::cos(M_PI * (1.0 - pct))) * (end - start) / 2.0;
}

double combinedCos(double pct, double pctStart, double start, double middle, double end)
{
    // combine_scheds([pctStart, 1-pctStart], [cos(start, middle), cos(middle, end)]): the phase is the last
    // boundary <= pct (clamped to the last phase); position within it is linear.
    if (pct >= pctStart) {
        const double span = 1.0 - pctStart;
        return schedCos(middle, end, span > 0 ? (pct - pctStart) / span : 1.0);
    }
    return schedCos(start, middle, pctStart > 0 ? pct / pctStart : 1.0);
}

std::vector<double> evenMults(double start, double stop, int n)
{
    if (n <= 1)
        return { stop };
    const double step = std::pow(stop / start, 1.0 / (n - 1));
    std::vector<double> out;
    for (int i = 0; i < n; ++i)
        out.push_back(start * std::pow(step, i));
    return out;
}

std::vector<double> sliceLrs(double lo, double hi, int n)
{
    if (lo > 0)
        return evenMults(lo, hi, n);
    std::vector<double> out(std::max(n, 1) - 1, hi / 10.0);
    out.push_back(hi);
    return out;
}

Hyper oneCycleAt(const OneCycle& cycle, double pct)
{
    Hyper h;
    for (double lrMax : cycle.lrMax)
        h.lr.push_back(combinedCos(pct, cycle.pctStart, lrMax / cycle.div, lrMax, lrMax / cycle.divFinal));
    h.mom = combinedCos(pct, cycle.pctStart, cycle.momStart, cycle.momMid, cycle.momEnd);
    return h;
}

double pctTrain(int64_t step, int epochs, int64_t batchesPerEpoch)
{
    const double total = static_cast<double>(epochs) * static_cast<double>(batchesPerEpoch);
    return total > 0 ? static_cast<double>(step) / total : 0.0;
}

FineTunePlan fineTunePlan(const FineTuneOptions& o, int groups)
{
    FineTunePlan plan;
    plan.frozenEpochs = o.freezeEpochs;
    plan.frozen.lrMax = sliceLrs(0.0, o.baseLr, groups);
    plan.frozen.pctStart = 0.99;
    plan.frozen.div = 25.0;
    plan.frozen.divFinal = 1e5;
    const double base = o.baseLr / 2.0;
    plan.epochs = o.epochs;
    plan.unfrozen.lrMax = sliceLrs(base / o.lrMult, base, groups);
    plan.unfrozen.pctStart = o.pctStart;
    plan.unfrozen.div = o.div;
    plan.unfrozen.divFinal = 1e5;
    return plan;
}

// ---------------------------------------------------------------------------------------------------------------
// Devices

torch::Device resolveDevice(const std::string& spec)
{
    std::string s;
    for (char c : spec)
        s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (s.empty() || s == "auto")
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (s == "cpu")
        return torch::kCPU;
    if (s.rfind("cuda", 0) == 0) {
        int index = 0;
        if (s.size() > 4) {
            if (s[4] != ':' || s.size() == 5 || s.size() > 8
                || !std::all_of(s.begin() + 5, s.end(), [](char c) { return c >= '0' && c <= '9'; }))
                throw std::invalid_argument("unknown device '" + spec + "' (use auto, cpu, cuda or cuda:N)");
            index = std::stoi(s.substr(5));
        }
        if (!torch::cuda::is_available())
            throw std::invalid_argument(
                "device '" + spec + "' requested, but CUDA is not available (CPU-only LibTorch or no GPU)");
        if (index >= static_cast<int>(torch::cuda::device_count()))
            throw std::invalid_argument("device '" + spec + "' requested, but only "
                + std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw std::invalid_argument("unknown device '" + spec + "' (use auto, cpu, cuda or cuda:N)");
}

int setCpuThreads(int n)
{
    tuneAllocatorForTensors(); // normally done before main() already; this reference also links allocator.o in
    const int count = threads::computeThreads(n);
    at::set_num_threads(count);
    return count;
}

bool autocastEnabled(const RunOptions& options)
{
    if (!options.device.is_cuda() || options.amp == AmpMode::Off)
        return false;
    if (options.amp == AmpMode::BF16)
        return true;
    return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8(); // compute capability >= 8
}

AutocastGuard::AutocastGuard(bool enabled)
    : m_enabled(enabled)
{
    if (!m_enabled)
        return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    m_previous = at::autocast::is_autocast_enabled(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
    m_previous = at::autocast::is_enabled();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
    at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard()
{
    if (!m_enabled)
        return;
    if (at::autocast::decrement_nesting() == 0)
        at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, m_previous);
#else
    at::autocast::set_enabled(m_previous);
#endif
}

void moveModule(torch::nn::Module& module, const RunOptions& options)
{
    module.to(options.device);
    if (options.channelsLast && options.device.is_cuda()) {
        torch::NoGradGuard noGrad;
        for (auto& p : module.parameters())
            if (p.dim() == 4)
                p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
}

torch::Tensor toDevice(const torch::Tensor& images, const RunOptions& options)
{
    auto x = images.to(options.device, torch::kFloat, /*non_blocking=*/images.is_pinned());
    if (options.channelsLast && options.device.is_cuda() && x.dim() == 4)
        x = x.contiguous(at::MemoryFormat::ChannelsLast);
    return x;
}

// ---------------------------------------------------------------------------------------------------------------
// fastai Adam

BatchSource::~BatchSource() = default;

FastaiAdam::FastaiAdam(std::vector<std::vector<torch::Tensor>> groups, const std::vector<torch::Tensor>& noWeightDecay,
    double sqrMom, double eps, double wd)
    : m_lr(groups.size(), 1e-3)
    , m_sqrMom(sqrMom)
    , m_eps(eps)
    , m_wd(wd)
{
    std::set<const void*> noWd;
    for (const auto& p : noWeightDecay)
        noWd.insert(p.unsafeGetTensorImpl());
    for (auto& g : groups) {
        std::vector<ParamState> states;
        for (auto& p : g) {
            ParamState s;
            s.param = p;
            s.wd = noWd.count(p.unsafeGetTensorImpl()) == 0;
            states.push_back(std::move(s));
        }
        m_groups.push_back(std::move(states));
    }
}

void FastaiAdam::setHyper(const std::vector<double>& lr, double mom)
{
    if (lr.size() != m_groups.size())
        throw std::invalid_argument("FastaiAdam::setHyper: " + std::to_string(lr.size()) + " learning rates for "
            + std::to_string(m_groups.size()) + " parameter groups");
    m_lr = lr;
    m_mom = mom;
}

void FastaiAdam::step()
{
    torch::NoGradGuard noGrad;
    for (size_t g = 0; g < m_groups.size(); ++g) {
        const double lr = m_lr[g];
        for (auto& s : m_groups[g]) {
            const torch::Tensor grad = s.param.grad();
            if (!grad.defined())
                continue;
            if (s.wd && m_wd != 0.0)
                s.param.mul_(1.0 - lr * m_wd);
            if (!s.gradAvg.defined()) {
                s.gradAvg = torch::zeros_like(s.param);
                s.sqrAvg = torch::zeros_like(s.param);
            }
            s.gradAvg.mul_(m_mom).add_(grad, 1.0 - m_mom);
            s.sqrAvg.mul_(m_sqrMom).addcmul_(grad, grad, 1.0 - m_sqrMom);
            ++s.step;
            const double debias1 = 1.0 - std::pow(m_mom, static_cast<double>(s.step));
            const double debias2 = 1.0 - std::pow(m_sqrMom, static_cast<double>(s.step));
            s.param.addcdiv_(s.gradAvg, (s.sqrAvg / debias2).sqrt_().add_(m_eps), -lr / debias1);
        }
    }
}

void FastaiAdam::zeroGrad()
{
    for (auto& g : m_groups)
        for (auto& s : g)
            if (s.param.grad().defined())
                s.param.mutable_grad().reset();
}

void FastaiAdam::clearState()
{
    for (auto& g : m_groups)
        for (auto& s : g) {
            s.gradAvg.reset();
            s.sqrAvg.reset();
            s.step = 0;
        }
}

// ---------------------------------------------------------------------------------------------------------------
// Trainer

namespace {

using Clock = std::chrono::steady_clock;

struct ValidStats
{
    double loss = std::numeric_limits<double>::quiet_NaN();
    double errorRate = std::numeric_limits<double>::quiet_NaN();
    int64_t count = 0;
    bool cancelled = false;
};

ValidStats validate(
    Classifier& model, BatchSource* valid, int epoch, const RunOptions& run, const std::function<bool()>& shouldStop)
{
    ValidStats stats;
    if (!valid)
        return stats;
    model->eval();
    torch::NoGradGuard noGrad;
    AutocastGuard autocast(autocastEnabled(run));
    valid->startEpoch(epoch);
    double lossSum = 0;
    int64_t wrong = 0, count = 0;
    torch::Tensor images, labels;
    while (true) {
        if (shouldStop && shouldStop()) {
            stats.cancelled = true;
            return stats;
        }
        if (!valid->next(images, labels))
            break;
        if (!labels.defined())
            throw std::invalid_argument("validation batch without labels");
        const auto x = toDevice(images, run);
        const auto y = labels.to(run.device, torch::kLong);
        const auto logits = model->forward(x).to(torch::kFloat);
        lossSum += torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        wrong += logits.argmax(1).ne(y).sum().item<int64_t>();
        count += y.size(0);
    }
    stats.count = count;
    if (count > 0) {
        stats.loss = lossSum / static_cast<double>(count);
        stats.errorRate = static_cast<double>(wrong) / static_cast<double>(count);
    }
    return stats;
}

} // namespace

Trainer::Trainer(Classifier model, TrainerOptions options)
    : m_model(std::move(model))
    , m_options(options)
{
    moveModule(*m_model, m_options.run);
}

TrainReport Trainer::fineTune(
    BatchSource& train, BatchSource* valid, const FineTuneOptions& options, const TrainCallbacks& callbacks)
{
    torch::manual_seed(m_options.seed);
    const FineTunePlan plan = fineTunePlan(options, static_cast<int>(m_model->parameterGroups().size()));
    TrainReport report;
    if (plan.frozenEpochs > 0) {
        m_model->freeze();
        report = runCycle(train, valid, plan.frozenEpochs, plan.frozen, callbacks, Stage::Frozen, options, 0);
        if (report.status == TrainStatus::Cancelled)
            return report;
    }
    m_model->unfreeze();
    TrainReport second =
        runCycle(train, valid, plan.epochs, plan.unfrozen, callbacks, Stage::Unfrozen, options, plan.frozenEpochs);
    report.status = second.status;
    report.epochs.insert(report.epochs.end(), second.epochs.begin(), second.epochs.end());
    return report;
}

TrainReport Trainer::fitOneCycle(BatchSource& train, BatchSource* valid, int epochs, const OneCycle& cycle,
    const TrainCallbacks& callbacks, Stage stage, const FineTuneOptions& adam)
{
    torch::manual_seed(m_options.seed);
    return runCycle(train, valid, epochs, cycle, callbacks, stage, adam, 0);
}

TrainReport Trainer::runCycle(BatchSource& train, BatchSource* valid, int epochs, const OneCycle& cycle,
    const TrainCallbacks& callbacks, Stage stage, const FineTuneOptions& adam, int firstEpoch)
{
    TrainReport report;
    if (epochs <= 0)
        return report;
    const RunOptions& run = m_options.run;
    auto groups = m_model->parameterGroups();
    if (cycle.lrMax.size() != groups.size())
        throw std::invalid_argument("one-cycle schedule has " + std::to_string(cycle.lrMax.size())
            + " learning rates for " + std::to_string(groups.size()) + " parameter groups");
    // A fresh optimizer per fit: fastai clears the optimizer state at every freeze_to.
    FastaiAdam opt(std::move(groups), m_model->noWeightDecayParameters(), adam.sqrMom, adam.eps, adam.wd);
    const bool amp = autocastEnabled(run);
    constexpr double kBeta = 0.98; // AvgSmoothLoss
    double smoothVal = 0.0;
    int64_t smoothCount = 0;
    int64_t step = 0;
    const int64_t nBatches = std::max<int64_t>(1, train.batchesPerEpoch());

    auto cancel = [&]() {
        opt.zeroGrad();
        m_model->eval();
        report.status = TrainStatus::Cancelled;
        return report;
    };

    for (int e = 0; e < epochs; ++e) {
        const auto start = Clock::now();
        const int globalEpoch = firstEpoch + e;
        m_model->train();
        train.startEpoch(globalEpoch);
        torch::Tensor images, labels;
        int64_t batch = 0, seen = 0;
        while (true) {
            if (callbacks.shouldStop && callbacks.shouldStop())
                return cancel();
            if (!train.next(images, labels))
                break;
            if (!labels.defined())
                throw std::invalid_argument("training batch without labels");
            const Hyper h = oneCycleAt(cycle, pctTrain(step, epochs, nBatches));
            opt.setHyper(h.lr, h.mom);
            const auto x = toDevice(images, run);
            const auto y = labels.to(run.device, torch::kLong);
            seen += y.size(0);
            torch::Tensor loss;
            {
                AutocastGuard autocast(amp);
                loss = torch::nn::functional::cross_entropy(m_model->forward(x).to(torch::kFloat), y);
            }
            loss.backward();
            opt.step();
            opt.zeroGrad();
            const double l = loss.item<double>();
            ++smoothCount;
            smoothVal = kBeta * smoothVal + (1.0 - kBeta) * l;
            ++step;
            if (callbacks.onBatch)
                callbacks.onBatch(stage, globalEpoch, batch, nBatches,
                    smoothVal / (1.0 - std::pow(kBeta, static_cast<double>(smoothCount))));
            ++batch;
        }
        const ValidStats vs = validate(m_model, valid, globalEpoch, run, callbacks.shouldStop);
        if (vs.cancelled)
            return cancel();
        EpochResult r;
        r.stage = stage;
        r.epoch = e;
        r.globalEpoch = globalEpoch;
        r.trainLoss = smoothCount > 0 ? smoothVal / (1.0 - std::pow(kBeta, static_cast<double>(smoothCount)))
                                      : std::numeric_limits<double>::quiet_NaN();
        r.validLoss = vs.loss;
        r.errorRate = vs.errorRate;
        r.accuracy = 1.0 - vs.errorRate;
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        r.trainSamples = seen;
        r.validSamples = vs.count;
        report.epochs.push_back(r);
        if (callbacks.onEpoch)
            callbacks.onEpoch(r);
    }
    m_model->eval();
    return report;
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

PredictResult predict(Classifier& model, BatchSource& source, const PredictOptions& options)
{
    moveModule(*model, options.run);
    model->eval();
    // NoGradGuard rather than InferenceMode: results may feed autograd later (logistic heads on features).
    torch::NoGradGuard noGrad;
    AutocastGuard autocast(autocastEnabled(options.run));
    source.startEpoch(0);
    const int64_t nBatches = source.batchesPerEpoch();
    std::vector<torch::Tensor> probs, labels, losses, features;
    bool allLabeled = true;
    torch::Tensor images, y;
    for (int64_t batch = 0;; ++batch) {
        if (options.shouldStop && options.shouldStop())
            throw Cancelled();
        y = torch::Tensor();
        if (!source.next(images, y))
            break;
        const auto x = toDevice(images, options.run);
        torch::Tensor logits;
        if (options.withFeatures && options.penultimate) {
            const auto f = model->penultimate(model->features(x));
            features.push_back(f.to(torch::kCPU, torch::kFloat));
            logits = torch::nn::functional::linear(f, model->lastWeight().to(f.dtype()));
        } else if (options.withFeatures) {
            const auto f = model->features(x);
            features.push_back(f.to(torch::kCPU, torch::kFloat));
            logits = model->headFromFeatures(f);
        } else {
            logits = model->forward(x);
        }
        logits = logits.to(torch::kFloat);
        probs.push_back(torch::softmax(logits, 1).to(torch::kCPU));
        if (y.defined() && allLabeled) {
            const auto yd = y.to(logits.device(), torch::kLong);
            losses.push_back(torch::nn::functional::cross_entropy(
                logits, yd, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                                 .to(torch::kCPU));
            labels.push_back(y.to(torch::kCPU, torch::kLong));
        } else {
            allLabeled = false;
        }
        if (options.onBatch)
            options.onBatch(batch, nBatches);
    }
    PredictResult r;
    if (probs.empty())
        return r;
    r.probs = torch::cat(probs);
    if (allLabeled) {
        r.labels = torch::cat(labels);
        r.losses = torch::cat(losses);
    }
    if (options.withFeatures)
        r.features = torch::cat(features);
    return r;
}

torch::Tensor predict(Classifier& model, const torch::Tensor& images, const RunOptions& run)
{
    moveModule(*model, run);
    model->eval();
    torch::NoGradGuard noGrad;
    AutocastGuard autocast(autocastEnabled(run));
    return torch::softmax(model->forward(toDevice(images, run)).to(torch::kFloat), 1).to(torch::kCPU);
}

torch::Tensor predict(ImageNetNet& model, const torch::Tensor& images, const RunOptions& run)
{
    moveModule(*model, run);
    model->eval();
    torch::NoGradGuard noGrad;
    AutocastGuard autocast(autocastEnabled(run));
    return torch::softmax(model->forward(toDevice(images, run)).to(torch::kFloat), 1).to(torch::kCPU);
}

torch::Tensor extractFeatures(Classifier& model, BatchSource& source, const PredictOptions& options)
{
    moveModule(*model, options.run);
    model->eval();
    torch::NoGradGuard noGrad;
    AutocastGuard autocast(autocastEnabled(options.run));
    source.startEpoch(0);
    const int64_t nBatches = source.batchesPerEpoch();
    std::vector<torch::Tensor> features;
    torch::Tensor images, y;
    for (int64_t batch = 0;; ++batch) {
        if (options.shouldStop && options.shouldStop())
            throw Cancelled();
        if (!source.next(images, y))
            break;
        features.push_back(model->features(toDevice(images, options.run)).to(torch::kCPU, torch::kFloat));
        if (options.onBatch)
            options.onBatch(batch, nBatches);
    }
    return features.empty() ? torch::empty({ 0, model->featureDim() }) : torch::cat(features);
}

} // namespace Winnow::nn
