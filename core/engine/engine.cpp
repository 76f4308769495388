// SPDX-License-Identifier: GPL-3.0-or-later
// The one translation unit of the engine that sees LibTorch: it adapts datasets and the OpenCV loader to the
// Qt-free nn layer, and keeps model, caches and run state across rounds.
#include "core/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSet>
#include <QTextStream>
#include <QUuid>

#include "core/engine/featurecache.h"
#include "core/imaging/loader.h"
#include "core/metrics/dataissues.h"
#include "core/metrics/labelissues.h"
#include "core/nn/device.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/nn/weights.h"
#include "core/util/threads.h"

namespace Winnow {

namespace {

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

ItemList itemsFor(const Dataset& ds, std::initializer_list<Split> splits)
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
void ensureThreads(int requested)
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

QString tensorShape(const torch::Tensor& t)
{
    QStringList dims;
    for (auto s : t.sizes())
        dims << QString::number(s);
    return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
}

} // namespace

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

Engine::Engine()
    : d(std::make_unique<Private>())
{ }

Engine::~Engine() = default;

bool Engine::hasModel() const
{
    return d->hasModel;
}

const RunInfo& Engine::runInfo() const
{
    return d->info;
}

QString Engine::resolveDevice(const QString& requested, QString* error)
{
    try {
        return QString::fromStdString(nn::resolveDevice(requested.toStdString()).str());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return {};
    }
}

EngineStatus Engine::train(const Dataset& dataset, const TrainConfig& config, const EngineCallbacks& cb)
{
    QElapsedTimer clock;
    clock.start();
    const auto arch = nn::parseArch(config.arch.toStdString());
    if (!arch)
        return EngineStatus::failed(
            QStringLiteral("unknown architecture '%1' (use resnet18, resnet34, resnet50 or mobilenet_v2)")
                .arg(config.arch));
    if (dataset.vocab.size() < 2)
        return EngineStatus::failed(
            QStringLiteral("need at least two classes to train (found %1)").arg(dataset.vocab.size()));
    const auto train = itemsFor(dataset, { Split::Train });
    const auto valid = itemsFor(dataset, { Split::Valid });
    if (train.items.size() < 2)
        return EngineStatus::failed(QStringLiteral("need at least two readable training images"));

    // A new fine-tune of the same dataset continues its round history (round numbers only grow).
    const bool sameDataset = d->hasModel && d->info.datasetRoot == dataset.root;
    const QVector<RoundSummary> history = sameDataset ? d->info.rounds : QVector<RoundSummary> {};
    const int nextRound = sameDataset ? d->round + 1 : 0;
    if (!sameDataset)
        d->roundLabels.clear();
    d->hasModel = false;
    d->unreadable.clear();
    d->frozenC = 0;
    d->frozenHeads = {};
    d->quickHead.reset();
    d->cv.clear();
    d->main = {};
    d->round = nextRound;
    d->info = RunInfo {};
    d->info.config = config;
    d->info.datasetRoot = dataset.root;
    d->info.layout = dataset.layout;
    d->info.vocab = dataset.vocab;
    d->info.created = QDateTime::currentDateTimeUtc();
    for (int s : train.samples)
        d->info.trainFiles << dataset.samples.at(s).relPath;
    for (int s : valid.samples)
        d->info.validFiles << dataset.samples.at(s).relPath;
    if (auto st = d->prepareDevice(config.device); !st.ok())
        return st;
    ensureThreads(config.threads);

    torch::manual_seed(config.seed);
    nn::Classifier model(*arch, dataset.vocab.size());
    if (!config.weights.isEmpty()) {
        try {
            nn::loadPretrainedBody(*model->body, nn::readSafetensors(config.weights.toStdString()));
        } catch (const std::exception& e) {
            return EngineStatus::failed(QString::fromStdString(e.what()));
        }
    }

    auto trainOpts = d->loaderOptions(true);
    const int n = int(train.items.size());
    // fastai drops the last partial batch; with fewer items than a batch, use them all (BatchNorm needs >= 2).
    if (n < trainOpts.batchSize) {
        trainOpts.batchSize = n;
        d->info.config.batchSize = n;
    }
    trainOpts.dropLast = true;
    LoaderSource trainSrc(train.items, trainOpts, d->pixels, &d->unreadable, true);
    std::unique_ptr<LoaderSource> validSrc;
    if (!valid.items.empty())
        validSrc =
            std::make_unique<LoaderSource>(valid.items, d->loaderOptions(false), d->pixels, &d->unreadable, true);

    nn::FineTuneOptions fo;
    fo.epochs = config.epochs;
    fo.freezeEpochs = config.freezeEpochs;
    fo.baseLr = config.baseLr;
    const int totalEpochs = config.epochs + config.freezeEpochs;
    nn::TrainCallbacks tc;
    tc.shouldStop = cb.cancelled;
    tc.onBatch = [&](nn::Stage, int epoch, int64_t batch, int64_t nBatches, double loss) {
        if (cb.progress)
            cb.progress({ epoch, totalEpochs, int(batch + 1), int(nBatches), loss, QStringLiteral("train") });
    };
    tc.onEpoch = [&](const nn::EpochResult& r) {
        EpochStats e;
        e.epoch = r.globalEpoch;
        e.stage = r.stage == nn::Stage::Frozen ? 0 : 1;
        e.trainLoss = r.trainLoss;
        e.validLoss = r.validLoss;
        e.errorRate = r.errorRate;
        e.accuracy = r.accuracy;
        e.seconds = r.seconds;
        e.trainSamples = int(r.trainSamples);
        e.validSamples = int(r.validSamples);
        d->info.epochs.append(e);
        if (cb.epoch)
            cb.epoch(e);
    };
    nn::TrainerOptions to;
    to.run = d->run;
    to.seed = config.seed;
    try {
        nn::Trainer trainer(model, to);
        const auto report = trainer.fineTune(trainSrc, validSrc.get(), fo, tc);
        if (report.status == nn::TrainStatus::Cancelled)
            return EngineStatus::cancelledStatus();
        if (!report.epochs.empty() && report.epochs.back().trainSamples < 2)
            return EngineStatus::failed(QStringLiteral("training failed: fewer than two training images could be "
                                                       "read (%1 unreadable since the scan): rescan the dataset")
                                            .arg(d->unreadable.size()));
    } catch (const nn::Cancelled&) {
        return EngineStatus::cancelledStatus();
    } catch (const std::exception& e) {
        return EngineStatus::failed(QStringLiteral("training failed: %1").arg(QString::fromStdString(e.what())));
    }
    model->eval();
    d->setModel(model);
    std::vector<int> labeledSamples;
    std::vector<QByteArray> labeledKeys;
    for (int s : train.samples) {
        labeledSamples.push_back(s);
        labeledKeys.push_back(FeatureCache::fileKey(dataset.absolutePath(s)));
        d->main.trained.insert(labeledKeys.back());
    }
    d->validKeys.clear();
    for (int s : valid.samples) {
        labeledSamples.push_back(s);
        labeledKeys.push_back(FeatureCache::fileKey(dataset.absolutePath(s)));
        d->validKeys.insert(labeledKeys.back());
    }
    const int filesChanged = d->takeRoundLabels(dataset, labeledSamples, labeledKeys);
    d->hasModel = true;

    // Cross-validated fine-tunes: the same recipe once per fold, without that fold, so that every train image can be
    // scored by a fine-tuned network that never saw it. Folds follow the files' content (cvFoldOf).
    const int folds = config.cvFolds;
    if (d->info.config.cvSize <= 0)
        d->info.config.cvSize = d->run.device.is_cuda() ? config.size : std::min(config.size, 128);
    d->info.config.cvSize = std::min(d->info.config.cvSize, config.size);
    if (folds >= 2) {
        std::vector<std::vector<LoaderItem>> foldItems(folds);
        std::vector<std::vector<QByteArray>> foldKeys(folds);
        for (size_t i = 0; i < train.items.size(); ++i) {
            const QByteArray key = FeatureCache::fileKey(train.items[i].path);
            const int f = cvFoldOf(key, config.seed, folds);
            for (int k = 0; k < folds; ++k)
                if (k != f) {
                    foldItems[k].push_back(train.items[i]);
                    foldKeys[k].push_back(key);
                }
        }
        const bool enough = std::all_of(foldItems.begin(), foldItems.end(),
            [&](const auto& v) { return v.size() >= 2 && v.size() < train.items.size(); });
        for (int k = 0; enough && k < folds; ++k) {
            nn::Classifier cvModel(*arch, dataset.vocab.size());
            if (!config.weights.isEmpty()) {
                try {
                    nn::loadPretrainedBody(*cvModel->body, nn::readSafetensors(config.weights.toStdString()));
                } catch (const std::exception& e) {
                    return EngineStatus::failed(QString::fromStdString(e.what()));
                }
            }
            auto opts = d->loaderOptions(true, d->cvSide());
            opts.seed = config.seed + 1 + quint64(k);
            opts.batchSize = std::min<int>(d->info.config.batchSize, int(foldItems[k].size()));
            opts.dropLast = true;
            LoaderSource src(foldItems[k], opts, d->pixels, &d->unreadable, true);
            const QString phase = QStringLiteral("cross-validation %1/%2").arg(k + 1).arg(folds);
            nn::TrainCallbacks ctc;
            ctc.shouldStop = cb.cancelled;
            ctc.onBatch = [&](nn::Stage, int epoch, int64_t batch, int64_t nBatches, double loss) {
                if (cb.progress)
                    cb.progress({ epoch, totalEpochs, int(batch + 1), int(nBatches), loss, phase });
            };
            nn::TrainerOptions cto = to;
            cto.seed = config.seed + 1 + quint64(k);
            try {
                nn::Trainer trainer(cvModel, cto);
                const auto report = trainer.fineTune(src, nullptr, fo, ctc);
                if (report.status == nn::TrainStatus::Cancelled)
                    return EngineStatus::cancelledStatus();
                if (!report.epochs.empty() && report.epochs.back().trainSamples < 2)
                    return EngineStatus::failed(QStringLiteral(
                        "cross-validated training failed: fewer than two of its images could be read: rescan the "
                        "dataset"));
            } catch (const nn::Cancelled&) {
                return EngineStatus::cancelledStatus();
            } catch (const std::exception& e) {
                return EngineStatus::failed(
                    QStringLiteral("cross-validated training failed: %1").arg(QString::fromStdString(e.what())));
            }
            cvModel->eval();
            Private::Member m;
            m.net = cvModel;
            m.trained = QSet<QByteArray>(foldKeys[k].begin(), foldKeys[k].end());
            d->cv.push_back(std::move(m));
        }
    }
    d->info.cvModels = int(d->cv.size());
    d->info.unreadableFiles = d->unreadableRelative(dataset);
    d->info.runId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d->openMemberCaches();

    d->info.trainSeconds = clock.elapsed() / 1000.0;
    RoundSummary r;
    r.round = nextRound;
    r.kind = QStringLiteral("fine-tune");
    if (!d->info.epochs.isEmpty()) {
        r.errorRate = d->info.epochs.constLast().errorRate;
        r.validLoss = d->info.epochs.constLast().validLoss;
    }
    r.seconds = d->info.trainSeconds;
    r.filesChanged = filesChanged;
    d->info.rounds = history;
    d->info.rounds.append(r);
    return {};
}

namespace {

/// Experiment aid (Engine::setScoreDump, `winnow noisebench --dump-parts FILE`): per labeled file, the fine-tuned
/// networks' and the frozen heads' out-of-sample probabilities and the labels of its 30 nearest neighbours in
/// frozen-feature space (cosine, itself left out), so that mixes can be compared offline on one training run.
void dumpScoreParts(const QString& path, const Dataset& ds, const std::vector<int>& samples, const torch::Tensor& cvP,
    const torch::Tensor& frozenP, const torch::Tensor& feats)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return;
    torch::NoGradGuard noGrad;
    const auto near = nn::nearestNeighbours(feats, 30);
    const auto idx = near.indices.contiguous();
    const int64_t n = idx.size(0), k = idx.size(1);
    QTextStream out(&f);
    for (int64_t i = 0; i < n; ++i) {
        const Sample& s = ds.samples.at(samples[size_t(i)]);
        out << s.relPath << '\t' << s.label;
        for (const auto& t : { cvP, frozenP }) {
            out << '\t';
            for (int64_t c = 0; c < t.size(1); ++c)
                out << (c ? "," : "") << t[i][c].item<float>();
        }
        out << '\t';
        for (int64_t j = 0; j < k; ++j)
            out << (j ? "," : "") << ds.samples.at(samples[size_t(idx[i][j].item<int64_t>())]).label;
        out << '\n';
    }
}

} // namespace

EngineStatus Engine::score(
    const Dataset& dataset, const ScoreOptions& options, ScoreSet* out, const EngineCallbacks& cb)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model yet: train first"));
    if (dataset.vocab != d->info.vocab)
        return EngineStatus::failed(
            QStringLiteral("the dataset's classes (%1) differ from the model's (%2): retrain to score it")
                .arg(dataset.vocab.join(QStringLiteral(", ")), d->info.vocab.join(QStringLiteral(", "))));
    ensureThreads(d->info.config.threads);
    const int64_t C = d->info.vocab.size();
    const auto labeled = itemsFor(dataset, { Split::Train, Split::Valid });
    const auto unlabeled = itemsFor(dataset, { Split::Unlabeled });

    ScoreSet set;
    set.datasetRoot = dataset.root;
    set.vocab = d->info.vocab;
    set.round = d->round;
    set.records.reserve(int(labeled.samples.size() + unlabeled.samples.size()));
    d->unreadable.clear();
    // Files that could not be decoded in this pass (gone or damaged since the scan) get no record.
    auto finish = [&]() -> EngineStatus {
        if (!d->unreadable.isEmpty()) {
            set.unreadable = d->unreadableRelative(dataset);
            const QSet<QString> gone(set.unreadable.cbegin(), set.unreadable.cend());
            set.records.removeIf([&](const ScoreRecord& r) { return gone.contains(r.file); });
        }
        flagLabelIssues(set);
        *out = set;
        return {};
    };

    auto addRecords = [&](const std::vector<int>& samples, const torch::Tensor& probs, ScoreKind kind,
                          const std::vector<quint16>& sources) {
        auto acc = probs.contiguous();
        const float* p = acc.data_ptr<float>();
        for (size_t i = 0; i < samples.size(); ++i) {
            const Sample& s = dataset.samples.at(samples[i]);
            ScoreRecord r;
            r.file = s.relPath;
            r.split = s.split;
            r.given = s.split == Split::Unlabeled ? -1 : s.label;
            r.probs = QVector<float>(p + i * C, p + (i + 1) * C);
            r.kind = kind;
            r.source = sources.at(i);
            completeScore(r);
            set.records.append(r);
        }
    };
    auto same = [](size_t n, quint16 src) { return std::vector<quint16>(n, src); };
    // The heads and the neighbour vote fit on the files that decoded (rows of `samples` not in d->unreadable), so
    // that no blank image teaches them its label; fitted() puts their rows back in place (others: uniform, and
    // finish() drops those records).
    auto readableRows = [&](const std::vector<int>& samples) {
        std::vector<int64_t> rows;
        for (size_t i = 0; i < samples.size(); ++i)
            if (!d->unreadable.contains(dataset.absolutePath(samples[i])))
                rows.push_back(int64_t(i));
        return rows;
    };
    auto fitted = [&](const torch::Tensor& part, const std::vector<int64_t>& rows, size_t n) {
        if (rows.size() == n)
            return part;
        auto full = torch::full({ int64_t(n), C }, 1.0f / float(C));
        full.index_copy_(0, torch::tensor(rows, torch::kInt64), part);
        return full;
    };

    const bool crossValidated = options.method == ScoreOptions::Method::Honest && !d->cv.empty();
    if (crossValidated) {
        PhaseTimer timer("honest score");
        // Every file is scored by the fine-tuned networks that never trained on it (by content): train files by
        // the cross-validated fine-tunes that held their fold out, valid files by the model and all of them. A file
        // every network trained on (the same bytes in several folds) falls back to the frozen-feature K-fold heads.
        std::vector<int> all = labeled.samples;
        all.insert(all.end(), unlabeled.samples.begin(), unlabeled.samples.end());
        const size_t nLabeled = labeled.samples.size();
        std::vector<QByteArray> keys;
        keys.reserve(all.size());
        for (int s : all)
            keys.push_back(FeatureCache::fileKey(dataset.absolutePath(s)));
        std::vector<Private::Member*> members { &d->main };
        for (auto& m : d->cv)
            members.push_back(&m);
        // Each network runs only on the rows it may score (it never trained on them; unlabeled rows go to the model
        // alone when it may): the model skips the train split, each fine-tune the folds it learnt from.
        // prepareRetrain() fills in the rest, which only a retrain needs.
        std::vector<std::vector<int64_t>> rowsOf(members.size());
        std::vector<quint16> sources(all.size(), 0);
        std::vector<int64_t> orphans; // labeled rows that no fine-tuned network may score
        for (size_t i = 0; i < all.size(); ++i) {
            const QByteArray& key = keys[i];
            const bool unlabeledRow = i >= nLabeled;
            quint16 src = 0;
            for (size_t m = 0; !key.isEmpty() && m < members.size(); ++m) {
                // Unlabeled files: the model alone when it may (what the exported model predicts).
                if (members[m]->trained.contains(key) || (unlabeledRow && m > 0 && (src & SourceModel)))
                    continue;
                rowsOf[m].push_back(int64_t(i));
                src |= m == 0 ? quint16(SourceModel) : quint16(SourceCrossValBase << (m - 1));
            }
            if (src == 0 && unlabeledRow) {
                rowsOf[0].push_back(int64_t(i)); // an unlabeled file the model trained on once: say so
                src = SourceInSample;
            } else if (src == 0) {
                orphans.push_back(int64_t(i));
            }
            sources[i] = src;
        }
        // The mean of the networks each row may use.
        const int64_t n = int64_t(all.size());
        auto probs = torch::zeros({ n, C });
        auto used = torch::zeros({ n });
        for (size_t m = 0; m < members.size(); ++m) {
            if (rowsOf[m].empty())
                continue;
            std::vector<int> subset;
            subset.reserve(rowsOf[m].size());
            for (int64_t i : rowsOf[m])
                subset.push_back(all[size_t(i)]);
            torch::Tensor pen;
            const QString phase = m == 0 ? QStringLiteral("score") : QStringLiteral("score cv%1").arg(m - 1);
            if (auto st = d->cachedFeatures(
                    members[m]->net, true, members[m]->penultimate, dataset, subset, &pen, cb, phase, members[m]->size);
                !st.ok())
                return st;
            const auto rows = torch::tensor(rowsOf[m], torch::kInt64);
            probs.index_add_(0, rows, Private::probsFromPenultimate(members[m]->net, pen));
            used.index_add_(0, rows, torch::ones({ rows.size(0) }));
        }
        probs.div_(used.clamp_min(1).unsqueeze(1));
        timer.lap("fine-tuned networks");
        const double w = std::clamp(options.frozenWeight, 0.0, 1.0);
        const double u = options.neighbours > 0 ? std::clamp(options.neighbourWeight, 0.0, 1.0) : 0.0;
        if (nLabeled > 0 && (!orphans.empty() || w > 0 || u > 0)) {
            torch::Tensor feats;
            if (auto st = d->featuresFor(dataset, labeled.samples, &feats, cb); !st.ok())
                return st;
            const auto rows = readableRows(labeled.samples);
            if (rows.empty())
                return finish(); // every labeled file is unreadable now: nothing to fit on, nothing to show
            std::vector<int64_t> lab;
            std::vector<QByteArray> fitKeys;
            for (int64_t i : rows) {
                lab.push_back(dataset.samples.at(labeled.samples[size_t(i)]).label);
                fitKeys.push_back(keys[size_t(i)]);
            }
            const auto labels = torch::tensor(lab, torch::kInt64);
            const auto fitFeats =
                rows.size() == nLabeled ? feats : feats.index_select(0, torch::tensor(rows, torch::kInt64));
            torch::Tensor oos, near;
            try {
                if (!orphans.empty() || w > 0)
                    oos = fitted(
                        d->tunedFrozenKFold(fitFeats, labels, C, std::max(2, options.folds), fitKeys), rows, nLabeled);
                timer.lap("frozen heads");
                if (u > 0) {
                    std::vector<int> perClass(size_t(C), 0);
                    for (int64_t l : lab)
                        ++perClass[size_t(l)];
                    int smallest = std::numeric_limits<int>::max();
                    for (int n : perClass)
                        if (n > 0)
                            smallest = std::min(smallest, n);
                    const int k = std::clamp(smallest / 2, std::min(3, options.neighbours), options.neighbours);
                    near = fitted(
                        nn::neighbourLabelProbs(fitFeats, labels, C, k, 0.5, d->info.config.seed), rows, nLabeled);
                }
            } catch (const std::exception& e) {
                return EngineStatus::failed(
                    QStringLiteral("frozen-feature scoring failed: %1").arg(QString::fromStdString(e.what())));
            }
            timer.lap("neighbours");
            if (!d->scoreDump.isEmpty() && oos.defined())
                dumpScoreParts(
                    d->scoreDump, dataset, labeled.samples, probs.slice(0, 0, int64_t(nLabeled)), oos, feats);
            auto lp = probs.slice(0, 0, int64_t(nLabeled));
            for (int64_t i : orphans) {
                lp[i] = oos[i];
                sources[size_t(i)] = SourceFrozenKFold;
            }
            if (w > 0) {
                // Orphans already hold the heads' probabilities: mixing them in again changes nothing.
                lp.mul_(1 - w).add_(oos, w);
                for (size_t i = 0; i < nLabeled; ++i)
                    sources[i] |= SourceFrozenKFold;
            }
            if (u > 0) {
                lp.mul_(1 - u).add_(near, u);
                for (size_t i = 0; i < nLabeled; ++i)
                    sources[i] |= SourceNeighbours;
            }
        }
        timer.lap("combine");
        std::vector<quint16> unlabeledSources(sources.begin() + nLabeled, sources.end());
        sources.resize(nLabeled);
        addRecords(unlabeled.samples, probs.slice(0, int64_t(nLabeled)), ScoreKind::OutOfSample, unlabeledSources);
        addRecords(labeled.samples, probs.slice(0, 0, int64_t(nLabeled)), ScoreKind::OutOfSample, sources);
        d->info.scoreMethod = scoreMethodName(ScoreOptions::Method::Honest);
        return finish();
    }

    // Unlabeled images: the primary model never trained on them.
    if (!unlabeled.samples.empty()) {
        torch::Tensor probs;
        if (auto st = d->primaryProbs(dataset, unlabeled.samples, false, &probs, cb); !st.ok())
            return st;
        addRecords(unlabeled.samples, probs, ScoreKind::OutOfSample, same(unlabeled.samples.size(), SourceModel));
    }
    if (labeled.samples.empty()) {
        return finish();
    }

    // Files the model trained on are in-sample; anything else (valid, or new since training) is not.
    std::vector<int> trainSamples, validSamples;
    for (int s : labeled.samples)
        (d->main.trained.contains(FeatureCache::fileKey(dataset.absolutePath(s))) ? trainSamples : validSamples)
            .push_back(s);

    auto method = options.method;
    if (method == ScoreOptions::Method::Honest)
        method = ScoreOptions::Method::FrozenKFold; // no cross-validated fine-tunes in this run
    if (method == ScoreOptions::Method::FrozenKFold) {
        PhaseTimer timer("frozen k-fold score");
        torch::Tensor feats;
        if (auto st = d->featuresFor(dataset, labeled.samples, &feats, cb); !st.ok())
            return st;
        timer.lap("features");
        const auto rows = readableRows(labeled.samples);
        if (rows.empty())
            return finish();
        std::vector<int64_t> lab;
        for (int64_t i : rows)
            lab.push_back(dataset.samples.at(labeled.samples[size_t(i)]).label);
        const auto labels = torch::tensor(lab, torch::kInt64);
        if (cb.progress)
            cb.progress({ 0, 0, 0, 1, 0, QStringLiteral("k-fold") });
        torch::Tensor oos;
        try {
            const auto fitFeats = rows.size() == labeled.samples.size()
                ? feats
                : feats.index_select(0, torch::tensor(rows, torch::kInt64));
            oos = fitted(nn::kFoldLogisticProbs(fitFeats, labels, C, std::max(2, options.folds), d->info.config.seed,
                             {}, d->quickHead ? &*d->quickHead : nullptr),
                rows, labeled.samples.size());
        } catch (const std::exception& e) {
            return EngineStatus::failed(
                QStringLiteral("k-fold scoring failed: %1").arg(QString::fromStdString(e.what())));
        }
        timer.lap("k-fold heads");
        // Files the primary model did not train on: average its probabilities with the K-fold heads' (both honest).
        std::vector<quint16> sources(labeled.samples.size(), SourceFrozenKFold);
        std::vector<int64_t> validRows;
        std::vector<int> validIdx;
        const QSet<int> validSet(validSamples.begin(), validSamples.end());
        for (size_t i = 0; i < labeled.samples.size(); ++i)
            if (validSet.contains(labeled.samples[i])) {
                validRows.push_back(int64_t(i));
                validIdx.push_back(labeled.samples[i]);
                sources[i] |= SourceModel;
            }
        if (!validIdx.empty()) {
            torch::Tensor primary;
            if (auto st = d->primaryProbs(dataset, validIdx, false, &primary, cb); !st.ok())
                return st;
            const auto rows = torch::tensor(validRows, torch::kInt64);
            oos.index_copy_(0, rows, (oos.index_select(0, rows) + primary) / 2);
        }
        timer.lap("primary probabilities");
        addRecords(labeled.samples, oos, ScoreKind::OutOfSample, sources);
    } else {
        const bool faithful = method == ScoreOptions::Method::FastaiFaithful;
        torch::Tensor pt, pv;
        if (auto st = d->primaryProbs(dataset, trainSamples, faithful, &pt, cb); !st.ok())
            return st;
        if (auto st = d->primaryProbs(dataset, validSamples, false, &pv, cb); !st.ok())
            return st;
        addRecords(trainSamples, pt, ScoreKind::InSample, same(trainSamples.size(), SourceInSample));
        addRecords(validSamples, pv, ScoreKind::OutOfSample, same(validSamples.size(), SourceModel));
    }
    d->info.scoreMethod = scoreMethodName(method);
    return finish();
}

namespace {

/// A network's last layer rearranged for the classes `now` (rows by class name; a new class gets zeros).
torch::Tensor priorFor(nn::Classifier& net, const QStringList& before, const QStringList& now)
{
    const auto w = net->lastWeight().detach().to(torch::kCPU, torch::kFloat);
    auto out = torch::zeros({ int64_t(now.size()), w.size(1) });
    for (int i = 0; i < now.size(); ++i)
        if (const int j = int(before.indexOf(now.at(i))); j >= 0 && j < w.size(0))
            out[i].copy_(w[j]);
    return out;
}

} // namespace

void Engine::setScoreDump(const QString& path)
{
    d->scoreDump = path;
}

EngineStatus Engine::featureNeighbours(
    const Dataset& dataset, int k, FeatureNeighbours* out, const EngineCallbacks& cb, const TrainConfig* withoutRun)
{
    if (!out)
        return EngineStatus::failed(QStringLiteral("featureNeighbours: no output"));
    if (!d->hasModel) {
        if (!withoutRun || withoutRun->weights.isEmpty())
            return EngineStatus::failed(
                QStringLiteral("no model: train or load a run first, or give pretrained weights for the features"));
        d->info.config = *withoutRun;
        d->info.vocab = dataset.vocab;
        if (auto st = d->prepareDevice(withoutRun->device); !st.ok())
            return st;
        ensureThreads(withoutRun->threads);
    }
    std::vector<int> samples;
    for (int i = 0; i < dataset.size(); ++i)
        if (dataset.samples.at(i).readable())
            samples.push_back(i);
    *out = {};
    const auto& cfg = d->info.config;
    out->extractor = QStringLiteral("%1 (%2, %3 px)")
                         .arg(cfg.arch,
                             cfg.weights.isEmpty() ? QStringLiteral("the fine-tuned body")
                                                   : QFileInfo(cfg.weights).completeBaseName(),
                             QString::number(cfg.size));
    if (samples.size() < 2)
        return {};
    torch::Tensor feats;
    if (auto st = d->featuresFor(dataset, samples, &feats, cb); !st.ok())
        return st;
    torch::NoGradGuard noGrad;
    // Plain cosine of the pooled features: standardising the columns (as the label-agreement vote does) spreads the
    // copies of one photo apart in the many columns of little variance (tests/metrics/tst_dataissues.cpp).
    const auto near = nn::nearestNeighbours(feats, k, {}, 0, false);
    const auto idx = near.indices.contiguous();
    const auto sim = near.similarities.contiguous();
    out->k = int(idx.size(1));
    out->samples = QVector<int>(samples.begin(), samples.end());
    out->neighbours.resize(idx.numel());
    out->similarity.resize(sim.numel());
    const int64_t* ip = idx.data_ptr<int64_t>();
    std::copy(ip, ip + idx.numel(), out->neighbours.begin());
    const float* sp = sim.data_ptr<float>();
    std::copy(sp, sp + sim.numel(), out->similarity.begin());
    return {};
}

EngineStatus Engine::prepareRetrain(const Dataset& dataset, const EngineCallbacks& cb)
{
    if (!d->hasModel || d->quickHead)
        return {};
    ensureThreads(d->info.config.threads);
    const auto train = itemsFor(dataset, { Split::Train });
    const auto valid = itemsFor(dataset, { Split::Valid });
    std::vector<int> all = train.samples;
    all.insert(all.end(), valid.samples.begin(), valid.samples.end());
    torch::Tensor pen;
    if (auto st = d->cachedFeatures(d->main.net, true, d->main.penultimate, dataset, all, &pen, cb,
            QStringLiteral("prepare retrain"), d->main.size);
        !st.ok())
        return st;
    for (size_t k = 0; k < d->cv.size(); ++k) {
        auto& m = d->cv[k];
        std::vector<int> rows;
        for (int s : train.samples)
            if (m.trained.contains(FeatureCache::fileKey(dataset.absolutePath(s))))
                rows.push_back(s);
        if (rows.empty())
            continue;
        if (auto st = d->cachedFeatures(m.net, true, m.penultimate, dataset, rows, &pen, cb,
                QStringLiteral("prepare retrain cv%1").arg(k), m.size);
            !st.ok())
            return st;
    }
    return {};
}

EngineStatus Engine::retrainHead(const Dataset& dataset, const ScoreOptions& options, ScoreSet* out,
    RoundSummary* summary, const EngineCallbacks& cb)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model yet: train first"));
    if (d->quickHead)
        return EngineStatus::failed(QStringLiteral(
            "this run was made by an older Winnow (its head sits on frozen features): fine-tune again to retrain it"));
    QElapsedTimer clock;
    clock.start();
    ensureThreads(d->info.config.threads);
    auto train = itemsFor(dataset, { Split::Train });
    auto valid = itemsFor(dataset, { Split::Valid });
    if (train.samples.size() < 2)
        return EngineStatus::failed(QStringLiteral("need at least two readable training images"));
    if (dataset.vocab.size() < 2)
        return EngineStatus::failed(
            QStringLiteral("need at least two classes to train (found %1)").arg(dataset.vocab.size()));
    const QStringList oldVocab = d->info.vocab;
    const int64_t C = dataset.vocab.size();
    d->unreadable.clear();

    std::vector<int> all = train.samples;
    all.insert(all.end(), valid.samples.begin(), valid.samples.end());
    int64_t nt = int64_t(train.samples.size());
    std::vector<QByteArray> keys;
    keys.reserve(all.size());
    for (int s : all)
        keys.push_back(FeatureCache::fileKey(dataset.absolutePath(s)));
    std::vector<int64_t> lab;
    for (int s : all)
        lab.push_back(dataset.samples.at(s).label);
    auto labels = torch::tensor(lab, torch::kInt64);

    PhaseTimer timer("retrain head");
    // The model: its last layer refitted on its own penultimate features of the (cleaned) train split. The body and
    // the rest of the head keep what fine-tuning learned.
    torch::Tensor pen;
    if (auto st = d->cachedFeatures(
            d->main.net, true, d->main.penultimate, dataset, all, &pen, cb, QStringLiteral("features"));
        !st.ok())
        return st;
    timer.lap("features");
    if (!d->unreadable.isEmpty()) {
        // Files that cannot be decoded now (gone or damaged since the scan) take no part in the round: no head
        // learns from their blank pixels and the valid metrics average over the readable files.
        std::vector<int64_t> keep;
        std::vector<int> keptTrain, keptValid;
        std::vector<QByteArray> keptKeys;
        std::vector<int64_t> keptLab;
        for (size_t i = 0; i < all.size(); ++i) {
            if (d->unreadable.contains(dataset.absolutePath(all[i])))
                continue;
            keep.push_back(int64_t(i));
            (int64_t(i) < nt ? keptTrain : keptValid).push_back(all[i]);
            keptKeys.push_back(keys[i]);
            keptLab.push_back(lab[i]);
        }
        if (keptTrain.size() < 2)
            return EngineStatus::failed(QStringLiteral("need at least two readable training images"));
        pen = pen.index_select(0, torch::tensor(keep, torch::kInt64));
        train.samples = keptTrain;
        valid.samples = keptValid;
        all = keptTrain;
        all.insert(all.end(), keptValid.begin(), keptValid.end());
        keys = std::move(keptKeys);
        lab = std::move(keptLab);
        labels = torch::tensor(lab, torch::kInt64);
        nt = int64_t(train.samples.size());
    }
    nn::LogisticOptions lo;
    lo.fitIntercept = false;
    // Pulled firmly towards the fine-tuned layer: on one unchanged noisy bears-small copy (128 px) c = 1 ... 0.001 all
    // kept the fine-tune's error, on another the refit with c = 0.01 lost 6.7 points; the strongest pull is the safe
    // one.
    lo.c = 0.001;
    // Nothing changed since the last round (same labeled files by content, same labels and classes): the layers stay
    // as fine-tuning (or the last round) left them, so a retrain without cleaning never makes the model worse.
    const bool hadRound = !d->roundLabels.isEmpty();
    const int filesChanged = d->takeRoundLabels(dataset, all, keys);
    const bool unchanged = hadRound && filesChanged == 0 && oldVocab == dataset.vocab;
    torch::Tensor newWeight;
    if (unchanged) {
        newWeight = d->main.net->lastWeight().detach().to(torch::kCPU, torch::kFloat).clone();
    } else {
        try {
            nn::LogisticOptions mainOptions = lo;
            mainOptions.prior = priorFor(d->main.net, oldVocab, dataset.vocab);
            newWeight =
                nn::trainLogisticHead(pen.slice(0, 0, nt), labels.slice(0, 0, nt), C, mainOptions).foldedWeight();
        } catch (const std::exception& e) {
            return EngineStatus::failed(
                QStringLiteral("head training failed: %1").arg(QString::fromStdString(e.what())));
        }
    }
    timer.lap("head fit");

    RoundSummary r;
    r.round = ++d->round;
    r.kind = QStringLiteral("head retrain");
    r.filesChanged = filesChanged;
    if (!valid.samples.empty()) {
        const auto vpen = pen.slice(0, nt);
        const auto vl = labels.slice(0, nt);
        const auto probs = torch::softmax(torch::mm(vpen, newWeight.t()), 1);
        const auto pGiven = probs.gather(1, vl.unsqueeze(1)).squeeze(1).clamp_min(1e-12);
        r.validLoss = (-pGiven.log()).mean().item<double>();
        const auto wrong = probs.argmax(1) != vl;
        r.errorRate = wrong.to(torch::kFloat64).mean().item<double>();
        // Like for like: the previous head and this one on the validation files both rounds held (by content), with
        // today's labels, so a relabelled file does not make a round look better or worse by itself.
        const auto oldLogits = torch::mm(vpen, d->main.net->lastWeight().to(torch::kCPU, torch::kFloat).t());
        const auto oldPred = oldLogits.argmax(1);
        int compared = 0, oldWrong = 0, newWrong = 0;
        const auto* op = oldPred.data_ptr<int64_t>();
        const auto* np = wrong.data_ptr<bool>();
        for (int64_t i = 0; i < int64_t(valid.samples.size()); ++i) {
            if (!d->validKeys.contains(keys[size_t(nt + i)]))
                continue;
            ++compared;
            const QString given = dataset.vocab.at(int(lab[size_t(nt + i)]));
            oldWrong += oldVocab.value(int(op[i])) != given;
            newWrong += np[i];
        }
        r.compared = compared;
        if (compared > 0) {
            r.previousErrorOnCompared = double(oldWrong) / compared;
            r.errorOnCompared = double(newWrong) / compared;
        }
    }
    try {
        Private::setLastLayer(d->main.net, newWeight);
        d->setModel(d->main.net);
        // The cross-validated fine-tunes: each refits its last layer on the train files of the folds it learnt
        // from, so it still never sees the fold it scores.
        for (size_t k = 0; !unchanged && k < d->cv.size(); ++k) {
            auto& m = d->cv[k];
            std::vector<int> rows;
            std::vector<int64_t> rowLabels;
            for (int64_t i = 0; i < nt; ++i)
                if (cvFoldOf(keys[size_t(i)], d->info.config.seed, int(d->cv.size())) != int(k)) {
                    rows.push_back(train.samples[size_t(i)]);
                    rowLabels.push_back(lab[size_t(i)]);
                }
            if (rows.size() < 2)
                continue;
            torch::Tensor kpen;
            if (auto st = d->cachedFeatures(m.net, true, m.penultimate, dataset, rows, &kpen, cb,
                    QStringLiteral("features cv%1").arg(k), m.size);
                !st.ok())
                return st;
            nn::LogisticOptions cvOptions = lo;
            cvOptions.prior = priorFor(m.net, oldVocab, dataset.vocab);
            const auto kh = nn::trainLogisticHead(kpen, torch::tensor(rowLabels, torch::kInt64), C, cvOptions);
            Private::setLastLayer(m.net, kh.foldedWeight());
            for (int s : rows)
                m.trained.insert(FeatureCache::fileKey(dataset.absolutePath(s)));
        }
    } catch (const std::exception& e) {
        return EngineStatus::failed(QStringLiteral("head training failed: %1").arg(QString::fromStdString(e.what())));
    }
    timer.lap("cv heads");
    for (int64_t i = 0; i < nt; ++i)
        d->main.trained.insert(keys[size_t(i)]);
    d->validKeys.clear();
    for (size_t i = size_t(nt); i < keys.size(); ++i)
        d->validKeys.insert(keys[i]);
    d->info.vocab = dataset.vocab;
    d->info.trainFiles.clear();
    d->info.validFiles.clear();
    for (int s : train.samples)
        d->info.trainFiles << dataset.samples.at(s).relPath;
    for (int s : valid.samples)
        d->info.validFiles << dataset.samples.at(s).relPath;

    ScoreSet set;
    if (auto st = score(dataset, options, &set, cb); !st.ok())
        return st;
    r.seconds = clock.elapsed() / 1000.0;
    d->info.rounds.append(r);
    if (summary)
        *summary = r;
    if (out)
        *out = set;
    return {};
}

EngineStatus Engine::fineTuneAgain(const Dataset& dataset, const ScoreOptions& options, ScoreSet* out,
    RoundSummary* summary, const EngineCallbacks& cb)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model yet: train first"));
    QElapsedTimer clock;
    clock.start();
    const TrainConfig config = d->info.config;
    if (auto st = train(dataset, config, cb); !st.ok())
        return st;
    ScoreSet set;
    if (auto st = score(dataset, options, &set, cb); !st.ok())
        return st;
    d->info.rounds.last().seconds = clock.elapsed() / 1000.0;
    if (summary)
        *summary = d->info.rounds.constLast();
    if (out)
        *out = set;
    return {};
}

double Engine::estimatedFineTuneSeconds(const Dataset& dataset) const
{
    if (!d->hasModel || d->info.trainSeconds <= 0 || d->info.trainFiles.isEmpty())
        return 0;
    return d->info.trainSeconds * double(dataset.count(Split::Train)) / double(d->info.trainFiles.size());
}

bool Engine::onGpu() const
{
    return d->hasModel && d->run.device.is_cuda();
}

EngineStatus Engine::saveRun(const QString& dir)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model to save"));
    QString error;
    if (!writeRunInfo(dir, d->info, &error))
        return EngineStatus::failed(error);
    const nn::Metadata meta { { "format", "winnow-model" }, { "arch", d->info.config.arch.toStdString() } };
    try {
        auto tensors = nn::stateDict(*d->model);
        if (d->quickHead)
            for (auto& [k, v] : d->quickHead->toTensors("quickhead."))
                tensors[k] = v;
        nn::writeSafetensors(QDir(dir).filePath(QLatin1String(kModelFile)).toStdString(), tensors, meta);
        for (size_t k = 0; k < d->cv.size(); ++k)
            nn::writeSafetensors(QDir(dir).filePath(QStringLiteral("cv%1.safetensors").arg(k)).toStdString(),
                nn::stateDict(*d->cv[k].net), meta);
    } catch (const std::exception& e) {
        return EngineStatus::failed(QString::fromStdString(e.what()));
    }
    // What every network trained on, by content: the honest scorer's ground truth.
    QByteArray trained;
    auto dump = [&](const QByteArray& name, const QSet<QByteArray>& keys) {
        QList<QByteArray> sorted(keys.cbegin(), keys.cend());
        std::sort(sorted.begin(), sorted.end());
        for (const auto& k : sorted)
            if (!k.isEmpty())
                trained += name + '\t' + k.toHex() + '\n';
    };
    dump("model", d->main.trained);
    for (size_t k = 0; k < d->cv.size(); ++k)
        dump("cv" + QByteArray::number(qulonglong(k)), d->cv[k].trained);
    QList<QByteArray> labeledKeys(d->roundLabels.keyBegin(), d->roundLabels.keyEnd());
    std::sort(labeledKeys.begin(), labeledKeys.end());
    for (const auto& k : labeledKeys)
        trained += "label\t" + k.toHex() + '\t' + d->roundLabels.value(k).toUtf8() + '\n';
    QSaveFile f(QDir(dir).filePath(QLatin1String(kTrainedFile)));
    if (!f.open(QIODevice::WriteOnly) || f.write(trained) != trained.size() || !f.commit())
        return EngineStatus::failed(
            QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(f.fileName()), f.errorString()));
    return {};
}

EngineStatus Engine::loadRun(const QString& dir)
{
    QString error;
    auto info = readRunInfo(dir, &error);
    if (!info)
        return EngineStatus::failed(error);
    const auto arch = nn::parseArch(info->config.arch.toStdString());
    if (!arch)
        return EngineStatus::failed(QStringLiteral("run uses unknown architecture '%1'").arg(info->config.arch));
    if (auto st = d->prepareDevice(
            info->config.device == QLatin1String("cuda") ? QStringLiteral("auto") : info->config.device);
        !st.ok())
        return st;
    ensureThreads(info->config.threads);
    auto loadNet = [&](const QString& file, nn::Classifier* net, nn::TensorMap* quick) -> EngineStatus {
        nn::Classifier m(*arch, info->vocab.size());
        try {
            auto tensors = nn::readSafetensors(QDir(dir).filePath(file).toStdString());
            if (quick)
                *quick = nn::takePrefixed(tensors, "quickhead.");
            nn::loadStateDict(*m, tensors, true);
        } catch (const std::exception& e) {
            return EngineStatus::failed(QStringLiteral("%1: %2").arg(file, QString::fromStdString(e.what())));
        }
        m->eval();
        *net = m;
        return {};
    };
    nn::Classifier model { nullptr };
    nn::TensorMap quick;
    if (auto st = loadNet(QLatin1String(kModelFile), &model, &quick); !st.ok())
        return st;
    std::vector<Private::Member> cv;
    for (int k = 0; k < info->cvModels; ++k) {
        Private::Member m;
        if (auto st = loadNet(QStringLiteral("cv%1.safetensors").arg(k), &m.net, nullptr); !st.ok())
            return st;
        cv.push_back(std::move(m));
    }
    // trained.tsv: which files (by content) each network trained on. Runs without it (older Winnow) trained the
    // model on their recorded train files and have no cross-validated fine-tunes.
    Private::Member mainMember;
    QHash<QByteArray, QString> roundLabels;
    QFile tf(QDir(dir).filePath(QLatin1String(kTrainedFile)));
    if (tf.open(QIODevice::ReadOnly)) {
        int lineNo = 0;
        while (!tf.atEnd()) {
            const QByteArray line = tf.readLine().trimmed();
            ++lineNo;
            if (line.isEmpty())
                continue;
            const auto parts = line.split('\t');
            if (parts.size() == 3 && parts[0] == "label" && parts[1].size() == 32) {
                roundLabels.insert(QByteArray::fromHex(parts[1]), QString::fromUtf8(parts[2]));
                continue;
            }
            const QByteArray key = parts.size() == 2 ? QByteArray::fromHex(parts[1]) : QByteArray();
            Private::Member* target = nullptr;
            if (parts.size() == 2 && parts[0] == "model")
                target = &mainMember;
            else if (parts.size() == 2 && parts[0].startsWith("cv")) {
                bool ok = false;
                const int k = parts[0].mid(2).toInt(&ok);
                if (ok && k >= 0 && k < int(cv.size()))
                    target = &cv[size_t(k)];
            }
            if (!target || key.size() != 16)
                return EngineStatus::failed(
                    QStringLiteral("%1 line %2 is malformed").arg(QDir::toNativeSeparators(tf.fileName())).arg(lineNo));
            target->trained.insert(key);
        }
    } else {
        if (!cv.empty())
            return EngineStatus::failed(
                QStringLiteral("the run has cross-validated models but no %1").arg(QLatin1String(kTrainedFile)));
        for (const auto& rel : info->trainFiles)
            mainMember.trained.insert(FeatureCache::fileKey(QDir(info->datasetRoot).filePath(rel)));
    }
    d->quickHead.reset();
    if (!quick.empty()) {
        try {
            d->quickHead = nn::LogisticHead::fromTensors(quick, "quickhead.");
        } catch (const std::exception& e) {
            return EngineStatus::failed(QString::fromStdString(e.what()));
        }
    }
    d->info = *info;
    d->main = std::move(mainMember);
    d->cv = std::move(cv);
    d->roundLabels = roundLabels;
    d->frozenC = info->frozenC;
    d->frozenHeads = {};
    d->info.device = QString::fromStdString(d->run.device.str());
    d->setModel(model);
    d->validKeys.clear();
    for (const auto& rel : info->validFiles)
        d->validKeys.insert(FeatureCache::fileKey(QDir(info->datasetRoot).filePath(rel)));
    d->openMemberCaches();
    d->hasModel = true;
    d->round = info->rounds.isEmpty() ? 0 : info->rounds.constLast().round;
    Q_UNUSED(tensorShape);
    return {};
}

} // namespace Winnow
