// SPDX-License-Identifier: GPL-3.0-or-later
// A run folder as the engine writes it, with random (seeded) MobileNetV2 weights: model tests without training.
#pragma once

#include <optional>

#include <torch/torch.h>

#include <QDateTime>
#include <QDir>
#include <QStringList>

#include "core/engine/run.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/weights.h"

struct GeneratedRun
{
    Winnow::nn::Classifier model { nullptr };
    std::optional<Winnow::nn::LogisticHead> head;
};

/// Writes model.safetensors and run.json into `dir`; `quick` adds a retrained (linear-probe) head.
inline GeneratedRun makeGeneratedRun(const QString& dir, const QStringList& vocab, int size, bool quick, uint64_t seed)
{
    using namespace Winnow;
    GeneratedRun run;
    torch::manual_seed(seed);
    run.model = nn::Classifier(nn::Arch::MobileNetV2, vocab.size());
    {
        torch::NoGradGuard g;
        // Keep the logits moderate so probabilities are not all 0/1 (a sharper comparison).
        for (auto& p : run.model->head->named_parameters())
            if (p.key() == "8.weight")
                p.value().mul_(0.05);
    }
    run.model->eval();
    auto tensors = nn::stateDict(*run.model);
    if (quick) {
        const int64_t f = run.model->featureDim();
        nn::LogisticHead h;
        h.mean = torch::rand({ f });
        h.std = torch::rand({ f }) + 0.5;
        h.weight = torch::randn({ int64_t(vocab.size()), f }) * 0.05;
        h.bias = torch::randn({ int64_t(vocab.size()) });
        for (const auto& [k, v] : h.toTensors("quickhead."))
            tensors[k] = v;
        run.head = h;
    }
    QDir().mkpath(dir);
    nn::writeSafetensors(QDir(dir).filePath(QLatin1String(kModelFile)).toStdString(), tensors,
        { { "format", "winnow-model" }, { "arch", "mobilenet_v2" } });
    RunInfo info;
    info.datasetRoot = QStringLiteral("/data/bears");
    info.config.arch = QStringLiteral("mobilenet_v2");
    info.config.size = size;
    info.vocab = vocab;
    info.created = QDateTime::currentDateTimeUtc();
    QString error;
    if (!writeRunInfo(dir, info, &error))
        qFatal("cannot write run: %s", qPrintable(error));
    return run;
}
