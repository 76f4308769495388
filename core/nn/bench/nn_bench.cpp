// SPDX-License-Identifier: GPL-3.0-or-later
// winnow_nn_bench: model-only training and inference throughput on synthetic tensors, printed as JSON.
// Qt-free so it builds with -DWINNOW_BUILD_GUI=OFF against any LibTorch (CPU or CUDA).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <torch/torch.h>
#include <torch/version.h>

#include "core/nn/allocator.h"
#include "core/nn/device.h"
#include "core/nn/knngraph.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/util/memory.h"

namespace {

using namespace Winnow::nn;

struct Args
{
    std::string arch = "mobilenet_v2";
    int size = 128;
    int bs = 32;
    int steps = 10;
    int warmup = 2;
    int classes = 10;
    int threads = 0;
    std::string device = "auto";
    std::string amp = "auto";
    int64_t knn = 0; ///< --knn N: the nearest-neighbour benchmark on N synthetic rows instead of the networks
    int64_t knnDims = 1280;
    int knnK = 10;
};

[[noreturn]] void usage(const char* msg)
{
    std::fprintf(stderr,
        "winnow_nn_bench: %s\n"
        "usage: winnow_nn_bench [--arch resnet18|resnet34|resnet50|mobilenet_v2] [--size PX] [--bs N]\n"
        "                       [--steps N] [--warmup N] [--classes N] [--threads N] [--device auto|cpu|cuda]\n"
        "                       [--amp auto|off|bf16]\n"
        "       winnow_nn_bench --knn ROWS [--dims F] [--k K] [--threads N]\n",
        msg);
    std::exit(2);
}

Args parse(int argc, char** argv)
{
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string key = argv[i];
        if (key == "-h" || key == "--help")
            usage("model-only throughput benchmark");
        if (i + 1 >= argc)
            usage(("missing value for " + key).c_str());
        const std::string v = argv[++i];
        auto toInt = [&](int min) {
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (!end || *end || n < min || n > 1000000)
                usage(("bad value for " + key + ": " + v).c_str());
            return static_cast<int>(n);
        };
        if (key == "--arch")
            a.arch = v;
        else if (key == "--size")
            a.size = toInt(32);
        else if (key == "--bs")
            a.bs = toInt(1);
        else if (key == "--steps")
            a.steps = toInt(1);
        else if (key == "--warmup")
            a.warmup = toInt(0);
        else if (key == "--classes")
            a.classes = toInt(2);
        else if (key == "--threads")
            a.threads = toInt(0);
        else if (key == "--device")
            a.device = v;
        else if (key == "--knn")
            a.knn = std::stoll(v);
        else if (key == "--dims")
            a.knnDims = std::stoll(v);
        else if (key == "--k")
            a.knnK = std::stoi(v);
        else if (key == "--amp")
            a.amp = v;
        else
            usage(("unknown option " + key).c_str());
    }
    return a;
}

void sync(const torch::Device& d)
{
    if (d.is_cuda())
        torch::cuda::synchronize(d.index());
}

} // namespace

/// --knn: nearestNeighbours() on `rows` synthetic features shaped like a real set's (100 classes, each spread over a
/// few directions, plus noise), through the graph, and exact search on 2,048 of the rows against all of them (the
/// time of one exact block, scaled to every row, and the graph's recall@k on those rows).
int knnBench(const Args& a)
{
    const int threads = setCpuThreads(a.threads);
    using Clock = std::chrono::steady_clock;
    const int64_t n = a.knn, f = a.knnDims, k = a.knnK;
    torch::manual_seed(0);
    torch::Tensor x;
    {
        torch::NoGradGuard noGrad;
        const int64_t classes = 100, spread = 32;
        const auto centres = torch::randn({ classes, f }) * 2;
        const auto directions = torch::randn({ spread, f }) / std::sqrt(double(spread));
        const auto cls = torch::randint(classes, { n }, torch::kLong);
        x = centres.index_select(0, cls) + torch::randn({ n, spread }).mm(directions) * 3
            + 0.3 * torch::randn({ n, f });
        x = torch::relu(x); // pooled activations are non-negative
    }
    releaseFreeMemory(); // the generator's temporaries: else the heap may keep them, and the search reuse them
    Winnow::Memory::resetPhasePeak();
    const double baseMb = Winnow::Memory::phasePeakRssMb();
    auto t0 = Clock::now();
    const auto graph = nearestNeighbours(x, int(k), {}, 0, false);
    const double graphSec = std::chrono::duration<double>(Clock::now() - t0).count();
    const double graphPeakMb = Winnow::Memory::phasePeakRssMb();

    torch::NoGradGuard noGrad;
    const int64_t probe = std::min<int64_t>(2048, n);
    t0 = Clock::now();
    const auto unit = x / x.norm(2, 1, true).clamp_min(1e-12);
    auto sim = torch::mm(unit.slice(0, 0, probe), unit.t());
    sim.diagonal(0).fill_(-4);
    const auto exact = std::get<1>(sim.topk(k, 1)).contiguous();
    const double exactBlockSec = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto g = graph.indices.slice(0, 0, probe).contiguous();
    int64_t shared = 0;
    const int64_t* ep = exact.data_ptr<int64_t>();
    const int64_t* gp = g.data_ptr<int64_t>();
    for (int64_t i = 0; i < probe; ++i)
        for (int64_t j = 0; j < k; ++j)
            shared += std::count(ep + i * k, ep + (i + 1) * k, gp[i * k + j]);
    std::printf("{\"knn_rows\":%lld,\"dims\":%lld,\"k\":%lld,\"threads\":%d,\"graph_search\":%s,\"search_s\":%.3f,"
                "\"rss_before_mb\":%.0f,\"search_peak_rss_mb\":%.0f,\"features_mb\":%.0f,\"exact_s_estimated\":%.1f,"
                "\"recall_at_k\":%.4f,\"recall_rows\":%lld}\n",
        static_cast<long long>(n), static_cast<long long>(f), static_cast<long long>(k), threads,
        haveGraphSearch() && n > kExactSearchUpTo ? "true" : "false", graphSec, baseMb, graphPeakMb,
        double(n * f * 4) / 1048576.0, exactBlockSec * double(n) / double(probe), double(shared) / double(probe * k),
        static_cast<long long>(probe));
    return 0;
}

int main(int argc, char** argv)
{
    const Args a = parse(argc, argv);
    if (a.knn > 0)
        return knnBench(a);
    const auto arch = parseArch(a.arch);
    if (!arch)
        usage(("unknown arch " + a.arch).c_str());
    RunOptions run;
    try {
        run.device = resolveDevice(a.device);
    } catch (const std::exception& e) {
        usage(e.what());
    }
    if (a.amp == "auto")
        run.amp = AmpMode::Auto;
    else if (a.amp == "off")
        run.amp = AmpMode::Off;
    else if (a.amp == "bf16")
        run.amp = AmpMode::BF16;
    else
        usage(("bad --amp " + a.amp).c_str());
    const int threads = setCpuThreads(a.threads);
    const bool amp = autocastEnabled(run);

    torch::manual_seed(0);
    Classifier model(*arch, a.classes);
    moveModule(*model, run);
    auto x = toDevice(torch::randn({ a.bs, 3, a.size, a.size }), run);
    auto y = torch::randint(a.classes, { a.bs }, torch::kLong).to(run.device);

    // Training: forward + backward + fastai Adam, unfrozen, as in fine_tune's second stage.
    model->unfreeze();
    model->train();
    FastaiAdam opt(model->parameterGroups(), model->noWeightDecayParameters());
    opt.setHyper({ 1e-5, 1e-4, 1e-3 }, 0.9);
    auto trainStep = [&]() {
        torch::Tensor loss;
        {
            AutocastGuard guard(amp);
            loss = torch::nn::functional::cross_entropy(model->forward(x).to(torch::kFloat), y);
        }
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item<double>();
    };
    using Clock = std::chrono::steady_clock;
    for (int i = 0; i < a.warmup; ++i)
        trainStep();
    sync(run.device);
    auto t0 = Clock::now();
    for (int i = 0; i < a.steps; ++i)
        trainStep();
    sync(run.device);
    const double trainSec = std::chrono::duration<double>(Clock::now() - t0).count();

    // Inference: eval mode, no grad, softmax.
    model->eval();
    auto inferStep = [&]() {
        torch::NoGradGuard noGrad;
        AutocastGuard guard(amp);
        return torch::softmax(model->forward(x).to(torch::kFloat), 1);
    };
    for (int i = 0; i < a.warmup; ++i)
        inferStep();
    sync(run.device);
    t0 = Clock::now();
    for (int i = 0; i < a.steps; ++i)
        inferStep();
    sync(run.device);
    const double inferSec = std::chrono::duration<double>(Clock::now() - t0).count();

    const double images = static_cast<double>(a.steps) * a.bs;
    std::printf("{\"arch\":\"%s\",\"size\":%d,\"bs\":%d,\"steps\":%d,\"device\":\"%s\",\"amp\":%s,\"threads\":%d,"
                "\"torch\":\"%s\",\"train_img_per_s\":%.2f,\"infer_img_per_s\":%.2f,\"train_s\":%.3f,"
                "\"infer_s\":%.3f}\n",
        archName(*arch).c_str(), a.size, a.bs, a.steps, run.device.str().c_str(), amp ? "true" : "false", threads,
        TORCH_VERSION, images / trainSec, images / inferSec, trainSec, inferSec);
    return 0;
}
