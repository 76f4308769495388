// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's private state and the helpers its three translation units share (engine.cpp: training and runs;
// enginescore.cpp: scoring and feature neighbours; engineretrain.cpp: the quick retrain after cleaning). Sees LibTorch:
// include it only from those files.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTextStream>
#include <QUuid>

#include "core/engine/engine.h"
#include "core/engine/featurecache.h"
#include "core/imaging/loader.h"
#include "core/metrics/dataissues.h"
#include "core/metrics/labelissues.h"
#include "core/nn/device.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/nn/weights.h"
#include "core/util/atomicfile.h"
#include "core/util/threads.h"

namespace Winnow {

namespace EngineDetail {

/// WINNOW_PROFILE=1: phase timings on stderr (how long features, head fits and scoring take).
class PhaseTimer
{
public:
    explicit PhaseTimer(const char* what)
        : m_what(what)
        , m_on(qEnvironmentVariableIsSet("WINNOW_PROFILE"))
    {
        m_clock.start();
    }
    void lap(const char* phase)
    {
        if (m_on)
            std::fprintf(stderr, "[profile] %s: %s %.3f s\n", m_what, phase, m_clock.nsecsElapsed() / 1e9);
        m_clock.restart();
    }

private:
    const char* m_what;
    bool m_on;
    QElapsedTimer m_clock;
};

/// Feeds the nn trainer from the OpenCV BatchLoader. Tensors returned by next() alias the loader's batch buffer
/// (or, when rows were dropped, a copy) and stay valid until the following next() call.
///
/// A file that cannot be decoded any more (deleted, truncated or rewritten since the scan) is never learnt from:
/// with `dropUnreadable` (training and validation) its row leaves the batch, and a batch left with fewer than two
/// rows while training is skipped (BatchNorm needs two). Scoring sources keep the row (the output stays aligned with
/// the items) and the caller drops its record. Either way the file's path is added to `unreadable`.
class LoaderSource final : public nn::BatchSource
{
public:
    LoaderSource(std::vector<LoaderItem> items, const LoaderOptions& options, std::shared_ptr<PixelCache> cache,
        QSet<QString>* unreadable = nullptr, bool dropUnreadable = false)
        : m_loader(std::move(items), options, std::move(cache))
        , m_unreadable(unreadable)
        , m_drop(dropUnreadable)
        , m_training(options.train)
    { }

    int64_t batchesPerEpoch() override
    {
        return m_loader.batchesPerEpoch();
    }
    void startEpoch(int epoch) override
    {
        m_loader.startEpoch(epoch);
    }
    bool next(torch::Tensor& images, torch::Tensor& labels) override
    {
        while (true) {
            if (!m_loader.next(m_batch))
                return false;
            const int64_t n = m_batch.n, h = m_batch.height, w = m_batch.width;
            if (m_batch.channelsLast)
                images =
                    torch::from_blob(m_batch.pixels.data(), { n, h, w, 3 }, torch::kFloat32).permute({ 0, 3, 1, 2 });
            else
                images = torch::from_blob(m_batch.pixels.data(), { n, 3, h, w }, torch::kFloat32);
            // Unlabeled items (label -1) carry no target: no loss is computed for them.
            const bool labeled =
                std::none_of(m_batch.labels.begin(), m_batch.labels.end(), [](qint64 l) { return l < 0; });
            labels = labeled ? torch::from_blob(m_batch.labels.data(), { n }, torch::kInt64) : torch::Tensor();
            std::vector<int64_t> keep;
            keep.reserve(size_t(n));
            for (int64_t i = 0; i < n; ++i) {
                if (!m_batch.failed.empty() && m_batch.failed[size_t(i)]) {
                    if (m_unreadable)
                        m_unreadable->insert(m_loader.items().at(size_t(m_batch.items[size_t(i)])).path);
                } else {
                    keep.push_back(i);
                }
            }
            if (!m_drop || int64_t(keep.size()) == n)
                return true;
            if (keep.empty() || (m_training && keep.size() < 2))
                continue;
            const auto index = torch::tensor(keep, torch::kInt64);
            images = images.index_select(0, index);
            if (labels.defined())
                labels = labels.index_select(0, index);
            return true;
        }
    }
    void cancel()
    {
        m_loader.cancel();
    }
    int size() const
    {
        return m_loader.size();
    }

private:
    BatchLoader m_loader;
    Batch m_batch;
    QSet<QString>* m_unreadable;
    bool m_drop;
    bool m_training;
};

struct ItemList
{
    std::vector<LoaderItem> items;
    std::vector<int> samples; ///< sample index per item
};

inline ItemList itemsFor(const Dataset& ds, std::initializer_list<Split> splits)
{
    ItemList list;
    for (int i = 0; i < ds.size(); ++i) {
        const Sample& s = ds.samples.at(i);
        if (!s.readable() || std::find(splits.begin(), splits.end(), s.split) == splits.end())
            continue;
        list.items.push_back({ ds.absolutePath(s), qint64(s.split == Split::Unlabeled ? -1 : s.label) });
        list.samples.push_back(i);
    }
    return list;
}

/// LibTorch's intra-op pool is process-wide: set it once (first use wins unless a later call asks explicitly). Its
/// size without a request is the thread policy's (core/util/threads.h).
inline void ensureThreads(int requested)
{
    static int current = 0;
    const int want = threads::computeThreads(requested);
    if (current == want)
        return;
    if (current != 0 && requested <= 0)
        return;
    nn::setCpuThreads(want);
    current = want;
}

inline QString tensorShape(const torch::Tensor& t)
{
    QStringList dims;
    for (auto s : t.sizes())
        dims << QString::number(s);
    return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
}

} // namespace EngineDetail

using namespace EngineDetail;

struct Engine::Private
{
    nn::Classifier model { nullptr };
    bool hasModel = false;
    RunInfo info;
    nn::RunOptions run;
    std::shared_ptr<PixelCache> pixels = std::make_shared<PixelCache>(qint64(768) << 20);

    // Honest scores: a frozen pretrained body (ImageNet weights) whose pooled features are cached per file content.
    nn::Classifier featureNet { nullptr };
    QString featureNetKey;
    FeatureCache features;

    // Runs written by Winnow before 0.2 kept a logistic head on frozen features ("quickhead.*"); still scored.
    std::optional<nn::LogisticHead> quickHead;
    int round = 0;

    /// A fine-tuned network with the content keys of every file it (body or head) ever trained on, and a cache of
    /// its penultimate features (the last layer's input), which stay valid across head retrains.
    struct Member
    {
        nn::Classifier net { nullptr };
        QSet<QByteArray> trained;
        FeatureCache penultimate;
        int size = 0; ///< input side it trained and scores at (0 = the run's size)
    };
    Member main; ///< main.net is `model`; kept in step by setModel()
    std::vector<Member> cv; ///< cross-validated fine-tunes; cv[k] never trained on fold k
    QSet<QByteArray> validKeys; ///< the previous round's validation files, for like-for-like round comparisons
    QString scoreDump; ///< Engine::setScoreDump
    QHash<QByteArray, QString> roundLabels; ///< content key -> class of the last round's labeled files
    /// Absolute paths the loaders could not decode during the current train() or score() call (LoaderSource).
    QSet<QString> unreadable;

    /// unreadable, as sorted paths relative to the dataset's root.
    QStringList unreadableRelative(const Dataset& ds) const
    {
        QStringList rel;
        const QDir root(ds.root);
        for (const QString& p : unreadable)
            rel << root.relativeFilePath(p);
        rel.sort();
        return rel;
    }

    /// Files whose content left or joined the labeled set, or whose class changed, since the last round; then
    /// remembers this round's labels.
    int takeRoundLabels(const Dataset& ds, const std::vector<int>& samples, const std::vector<QByteArray>& keys)
    {
        QHash<QByteArray, QString> now;
        for (size_t i = 0; i < samples.size(); ++i)
            if (!keys[i].isEmpty())
                now.insert(keys[i], ds.vocab.at(ds.samples.at(samples[i]).label));
        int changed = 0;
        for (auto it = now.cbegin(); it != now.cend(); ++it) {
            const auto old = roundLabels.constFind(it.key());
            changed += old == roundLabels.cend() || *old != it.value();
        }
        for (auto it = roundLabels.cbegin(); it != roundLabels.cend(); ++it)
            changed += !now.contains(it.key());
        const bool first = roundLabels.isEmpty();
        roundLabels = now;
        return first ? 0 : changed;
    }

    EngineStatus prepareDevice(const QString& requested)
    {
        try {
            run.device = nn::resolveDevice(requested.toStdString());
        } catch (const std::exception& e) {
            return EngineStatus::failed(QString::fromStdString(e.what()));
        }
        run.amp = nn::AmpMode::Auto;
        run.channelsLast = run.device.is_cuda();
        info.device = QString::fromStdString(run.device.str());
        return {};
    }

    /// The side the cross-validated fine-tunes use (TrainConfig::cvSize; 0 = the model's).
    int cvSide() const
    {
        const int size = info.config.size;
        return info.config.cvSize > 0 ? std::min(info.config.cvSize, size) : size;
    }

    /// Loader settings of the run; `size` 0 = the run's input side.
    LoaderOptions loaderOptions(bool train, int size = 0) const
    {
        LoaderOptions o;
        o.size = size > 0 ? size : info.config.size;
        o.batchSize = info.config.batchSize;
        o.train = train;
        o.augment = info.config.augment;
        o.seed = info.config.seed;
        o.channelsLast = false;
        return o;
    }

    /// Builds (once per arch/weights/size) the frozen network whose features feed the K-fold heads.
    EngineStatus ensureFeatureNet()
    {
        const auto& cfg = info.config;
        // Without pretrained weights the "frozen" features are the fine-tuned body's: they belong to this run alone.
        const QString key = cfg.arch + QLatin1Char('|') + cfg.weights + QLatin1Char('|') + QString::number(cfg.size)
            + (cfg.weights.isEmpty() ? QLatin1Char('|') + info.runId : QString());
        if (featureNet && featureNetKey == key)
            return {};
        const auto arch = nn::parseArch(cfg.arch.toStdString());
        if (!arch)
            return EngineStatus::failed(QStringLiteral("unknown architecture '%1'").arg(cfg.arch));
        if (cfg.weights.isEmpty()) {
            // No pretrained weights: the fine-tuned body is the best feature extractor available (less honest).
            featureNet = model;
        } else {
            featureNet = nn::Classifier(*arch, std::max<int64_t>(2, info.vocab.size()));
            try {
                nn::loadPretrainedBody(*featureNet->body, nn::readSafetensors(cfg.weights.toStdString()));
            } catch (const std::exception& e) {
                return EngineStatus::failed(QString::fromStdString(e.what()));
            }
        }
        featureNet->eval();
        featureNetKey = key;
        QFileInfo wi(cfg.weights);
        features.open(key + QLatin1Char('|') + QString::number(wi.size()) + QLatin1Char('|')
            + QString::number(wi.lastModified().toMSecsSinceEpoch()));
        return {};
    }

    /// Pooled features of the given samples from the frozen network, from the cache where possible.
    EngineStatus featuresFor(
        const Dataset& ds, const std::vector<int>& samples, torch::Tensor* out, const EngineCallbacks& cb)
    {
        if (auto st = ensureFeatureNet(); !st.ok())
            return st;
        return cachedFeatures(featureNet, false, features, ds, samples, out, cb, QStringLiteral("features"));
    }

    /// Features of `samples` from `net` (pooled, or with `penultimate` the last layer's input), from `cache` where
    /// possible; missing rows are computed in one inference pass and added to the cache.
    EngineStatus cachedFeatures(nn::Classifier& net, bool penultimate, FeatureCache& cache, const Dataset& ds,
        const std::vector<int>& samples, torch::Tensor* out, const EngineCallbacks& cb, const QString& phase,
        int size = 0)
    {
        const int64_t dim = penultimate ? net->headHidden() : net->featureDim();
        std::vector<QByteArray> keys(samples.size());
        std::vector<LoaderItem> missing;
        std::vector<size_t> missingPos;
        for (size_t i = 0; i < samples.size(); ++i) {
            const QString path = ds.absolutePath(ds.samples.at(samples[i]));
            keys[i] = FeatureCache::fileKey(path);
            if (keys[i].isEmpty() || !cache.contains(keys[i]) || cache.dim() != dim) {
                missing.push_back({ path, -1 });
                missingPos.push_back(i);
            }
        }
        torch::Tensor fresh;
        if (!missing.empty()) {
            LoaderSource src(std::move(missing), loaderOptions(false, size), pixels, &unreadable);
            nn::PredictOptions po;
            po.run = run;
            po.withFeatures = true;
            po.penultimate = penultimate;
            po.shouldStop = cb.cancelled;
            po.onBatch = [&](int64_t b, int64_t n) {
                if (cb.progress)
                    cb.progress({ 0, 0, int(b + 1), int(n), 0, phase });
            };
            try {
                fresh =
                    (penultimate ? nn::predict(net, src, po).features : nn::extractFeatures(net, src, po)).contiguous();
            } catch (const nn::Cancelled&) {
                return EngineStatus::cancelledStatus();
            }
            for (size_t j = 0; j < missingPos.size(); ++j) {
                const auto& key = keys[missingPos[j]];
                // Blank pixels of a file that failed to decode are never cached as its features.
                if (!key.isEmpty() && !unreadable.contains(ds.absolutePath(ds.samples.at(samples[missingPos[j]]))))
                    cache.insert(key, fresh[int64_t(j)].data_ptr<float>(), int(dim));
            }
            cache.flush();
        }
        // Keys may be empty (unreadable file between scan and now): those rows come from the fresh tensor.
        torch::Tensor all = torch::empty({ int64_t(samples.size()), dim });
        size_t m = 0;
        for (size_t i = 0; i < samples.size(); ++i) {
            if (m < missingPos.size() && missingPos[m] == i)
                all[int64_t(i)].copy_(fresh[int64_t(m++)]);
            else
                std::memcpy(all[int64_t(i)].data_ptr<float>(), cache.find(keys[i]), sizeof(float) * dim);
        }
        *out = all;
        return {};
    }

    double frozenC = 0; ///< regularisation of the frozen-feature K-fold heads, chosen once per fine-tune
    nn::KFoldHeads frozenHeads; ///< the last frozen-feature K-fold heads: each refit after a cleaning starts there

    /// K-fold heads on frozen features with the L2 strength that gives the lowest out-of-fold log loss (chosen on
    /// the first call after a fine-tune, then kept so later rounds stay fast). Unregularised heads on a few hundred
    /// images of 2,560 features are overconfident, and an overconfident score ranks label errors badly. Folds follow
    /// the files' content (`keys`), so a relabel or a delete moves no other file to another fold, and each refit
    /// starts from its fold's previous head (a few labels changed): a retrain after cleaning stays fast.
    torch::Tensor tunedFrozenKFold(const torch::Tensor& feats, const torch::Tensor& labels, int64_t C, int folds,
        const std::vector<QByteArray>& keys)
    {
        folds = std::clamp<int>(folds, 2, std::max<int>(2, int(feats.size(0))));
        std::vector<int64_t> foldOf(size_t(feats.size(0)));
        // Another seed than the cross-validated fine-tunes' folds (cvFoldOf with the run's seed).
        const quint64 seed = info.config.seed ^ 0x6B66726F7A656E00ull;
        for (size_t i = 0; i < foldOf.size(); ++i)
            foldOf[i] =
                i < keys.size() && !keys[i].isEmpty() ? cvFoldOf(keys[i], seed, folds) : int64_t(i % size_t(folds));
        const auto foldTensor = torch::tensor(foldOf, torch::kInt64);
        nn::LogisticOptions lo;
        if (frozenC > 0) {
            lo.c = frozenC;
            return nn::kFoldLogisticProbs(feats, labels, C, foldTensor, lo, &frozenHeads);
        }
        double bestLoss = std::numeric_limits<double>::infinity();
        torch::Tensor best;
        nn::KFoldHeads heads; // carried from one strength to the next: a warm start
        for (double c : { 0.003, 0.01, 0.03, 0.1, 1.0 }) {
            lo.c = c;
            auto oos = nn::kFoldLogisticProbs(feats, labels, C, foldTensor, lo, &heads);
            const double loss = -oos.gather(1, labels.unsqueeze(1)).clamp_min(1e-7).log().mean().item<double>();
            if (qEnvironmentVariableIsSet("WINNOW_PROFILE"))
                std::fprintf(stderr, "[profile] frozen k-fold C=%g: out-of-fold log loss %.4f\n", c, loss);
            if (loss < bestLoss) {
                bestLoss = loss;
                best = oos;
                frozenC = c;
                frozenHeads = heads;
            }
        }
        info.frozenC = frozenC;
        return best;
    }

    /// Opens the penultimate-feature caches of the model and the cross-validated fine-tunes for this run.
    void openMemberCaches()
    {
        if (info.runId.isEmpty())
            info.runId = QUuid::createUuid().toString(QUuid::WithoutBraces);
        const QString base = QStringLiteral("penultimate|") + info.runId + QLatin1Char('|');
        main.penultimate.open(base + QString::number(info.config.size) + QStringLiteral("|model"));
        for (size_t k = 0; k < cv.size(); ++k) {
            cv[k].size = cvSide();
            cv[k].penultimate.open(base + QString::number(cv[k].size) + QStringLiteral("|cv%1").arg(k));
        }
    }

    void setModel(nn::Classifier net)
    {
        if (featureNet && model && featureNet.ptr() == model.ptr())
            featureNet = net;
        model = net;
        main.net = net;
    }

    /// Replaces a network's last layer (head.8) by `weight` [C, hidden]; rebuilds it when C changed.
    static void setLastLayer(nn::Classifier& net, const torch::Tensor& weight)
    {
        torch::NoGradGuard noGrad;
        if (net->numClasses() == weight.size(0)) {
            auto w = net->lastWeight();
            w.copy_(weight.to(w.device(), w.dtype()));
            return;
        }
        nn::Classifier fresh(net->arch(), weight.size(0), nn::HeadOptions { net->headHidden() });
        auto tensors = nn::stateDict(*net);
        for (auto& [k, v] : tensors)
            v = v.to(torch::kCPU);
        tensors["head.8.weight"] = weight.to(torch::kCPU, torch::kFloat).contiguous();
        nn::loadStateDict(*fresh, tensors, true);
        fresh->eval();
        net = fresh;
    }

    static torch::Tensor probsFromPenultimate(nn::Classifier& net, const torch::Tensor& pen)
    {
        torch::NoGradGuard noGrad;
        return torch::softmax(torch::mm(pen, net->lastWeight().to(torch::kCPU, torch::kFloat).t()), 1);
    }

    /// Probabilities of the primary model (fine-tuned network, or the quick head) for the given samples.
    EngineStatus primaryProbs(const Dataset& ds, const std::vector<int>& samples, bool trainTransforms,
        torch::Tensor* out, const EngineCallbacks& cb)
    {
        if (samples.empty()) {
            *out = torch::empty({ 0, int64_t(info.vocab.size()) });
            return {};
        }
        if (quickHead) {
            torch::Tensor f;
            if (auto st = featuresFor(ds, samples, &f, cb); !st.ok())
                return st;
            *out = quickHead->probs(f);
            return {};
        }
        std::vector<LoaderItem> items;
        for (int s : samples)
            items.push_back({ ds.absolutePath(ds.samples.at(s)), -1 });
        auto opts = loaderOptions(trainTransforms);
        if (trainTransforms) {
            opts.shuffle = false;
            opts.dropLast = false;
        }
        LoaderSource src(std::move(items), opts, pixels, &unreadable);
        nn::PredictOptions po;
        po.run = run;
        po.shouldStop = cb.cancelled;
        po.onBatch = [&](int64_t b, int64_t n) {
            if (cb.progress)
                cb.progress({ 0, 0, int(b + 1), int(n), 0, QStringLiteral("score") });
        };
        try {
            *out = nn::predict(model, src, po).probs;
        } catch (const nn::Cancelled&) {
            return EngineStatus::cancelledStatus();
        }
        return {};
    }
};

} // namespace Winnow
