// SPDX-License-Identifier: GPL-3.0-or-later
// winnow_nn_bench: model-only training and inference throughput on synthetic tensors, printed as JSON.
// Qt-free so it builds with -DWINNOW_BUILD_GUI=OFF against any LibTorch (CPU or CUDA).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <torch/torch.h>
#include <torch/version.h>

#include "core/nn/device.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"

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
};

[[noreturn]] void usage(const char* msg)
{
    std::fprintf(stderr,
        "winnow_nn_bench: %s\n"
        "usage: winnow_nn_bench [--arch resnet18|resnet34|resnet50|mobilenet_v2] [--size PX] [--bs N]\n"
        "                       [--steps N] [--warmup N] [--classes N] [--threads N] [--device auto|cpu|cuda]\n"
        "                       [--amp auto|off|bf16]\n",
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

int main(int argc, char** argv)
{
    const Args a = parse(argc, argv);
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
