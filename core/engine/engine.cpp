// SPDX-License-Identifier: GPL-3.0-or-later
// The one translation unit of the engine that sees LibTorch: it adapts datasets and the OpenCV loader to the
// Qt-free nn layer, and keeps model, caches and run state across rounds.
#include "core/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSet>

#include "core/engine/featurecache.h"
#include "core/imaging/loader.h"
#include "core/nn/device.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/nn/weights.h"

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
/// and stay valid until the following next() call (the trainer is done with them by then).
class LoaderSource final : public nn::BatchSource
{
public:
    LoaderSource(std::vector<LoaderItem> items, const LoaderOptions& options, std::shared_ptr<PixelCache> cache)
        : m_loader(std::move(items), options, std::move(cache))
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
        if (!m_loader.next(m_batch))
            return false;
        const int64_t n = m_batch.n, h = m_batch.height, w = m_batch.width;
        if (m_batch.channelsLast)
            images = torch::from_blob(m_batch.pixels.data(), { n, h, w, 3 }, torch::kFloat32).permute({ 0, 3, 1, 2 });
        else
            images = torch::from_blob(m_batch.pixels.data(), { n, 3, h, w }, torch::kFloat32);
        // Unlabeled items (label -1) carry no target: no loss is computed for them.
        const bool labeled = std::none_of(m_batch.labels.begin(), m_batch.labels.end(), [](qint64 l) { return l < 0; });
        labels = labeled ? torch::from_blob(m_batch.labels.data(), { n }, torch::kInt64) : torch::Tensor();
        return true;
    }
    const Batch& lastBatch() const
    {
        return m_batch;
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

int autoThreads()
{
    return std::max(1, int(std::thread::hardware_concurrency()));
}

/// LibTorch's intra-op pool is process-wide: set it once (first use wins unless a later call asks explicitly).
void ensureThreads(int requested)
{
    static int current = 0;
    const int want = requested > 0 ? requested : autoThreads();
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

    // After retrainHead(): the head trained on cached features becomes the primary model for valid/unlabeled.
    std::optional<nn::LogisticHead> quickHead;
    int round = 0;

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

    LoaderOptions loaderOptions(bool train) const
    {
        LoaderOptions o;
        o.size = info.config.size;
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
        const QString key = cfg.arch + QLatin1Char('|') + cfg.weights + QLatin1Char('|') + QString::number(cfg.size);
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
        const int64_t dim = featureNet->featureDim();
        std::vector<QByteArray> keys(samples.size());
        std::vector<LoaderItem> missing;
        std::vector<size_t> missingPos;
        for (size_t i = 0; i < samples.size(); ++i) {
            const QString path = ds.absolutePath(ds.samples.at(samples[i]));
            keys[i] = FeatureCache::fileKey(path);
            if (keys[i].isEmpty() || !features.contains(keys[i])) {
                missing.push_back({ path, -1 });
                missingPos.push_back(i);
            }
        }
        if (!missing.empty()) {
            LoaderSource src(std::move(missing), loaderOptions(false), pixels);
            nn::PredictOptions po;
            po.run = run;
            po.withFeatures = true;
            po.shouldStop = cb.cancelled;
            const int64_t nb = src.batchesPerEpoch();
            po.onBatch = [&](int64_t b, int64_t n) {
                if (cb.progress)
                    cb.progress({ 0, 0, int(b + 1), int(n), 0, QStringLiteral("features") });
            };
            Q_UNUSED(nb);
            torch::Tensor f;
            try {
                f = nn::extractFeatures(featureNet, src, po).contiguous();
            } catch (const nn::Cancelled&) {
                return EngineStatus::cancelledStatus();
            }
            for (size_t j = 0; j < missingPos.size(); ++j) {
                const auto& key = keys[missingPos[j]];
                if (!key.isEmpty())
                    features.insert(key, f[int64_t(j)].data_ptr<float>(), dim);
            }
            features.flush();
            // Keys may be empty (unreadable file between scan and now): fill from the fresh tensor below.
            torch::Tensor all = torch::empty({ int64_t(samples.size()), dim });
            size_t m = 0;
            for (size_t i = 0; i < samples.size(); ++i) {
                if (m < missingPos.size() && missingPos[m] == i)
                    all[int64_t(i)].copy_(f[int64_t(m++)]);
                else
                    std::memcpy(all[int64_t(i)].data_ptr<float>(), features.find(keys[i]), sizeof(float) * dim);
            }
            *out = all;
            return {};
        }
        torch::Tensor all = torch::empty({ int64_t(samples.size()), dim });
        for (size_t i = 0; i < samples.size(); ++i)
            std::memcpy(all[int64_t(i)].data_ptr<float>(), features.find(keys[i]), sizeof(float) * dim);
        *out = all;
        return {};
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
        LoaderSource src(std::move(items), opts, pixels);
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

    d->hasModel = false;
    d->quickHead.reset();
    d->round = 0;
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
    LoaderSource trainSrc(train.items, trainOpts, d->pixels);
    std::unique_ptr<LoaderSource> validSrc;
    if (!valid.items.empty())
        validSrc = std::make_unique<LoaderSource>(valid.items, d->loaderOptions(false), d->pixels);

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
    } catch (const nn::Cancelled&) {
        return EngineStatus::cancelledStatus();
    } catch (const std::exception& e) {
        return EngineStatus::failed(QStringLiteral("training failed: %1").arg(QString::fromStdString(e.what())));
    }
    model->eval();
    d->model = model;
    d->hasModel = true;
    d->info.trainSeconds = clock.elapsed() / 1000.0;
    RoundSummary r;
    r.round = 0;
    r.kind = QStringLiteral("fine-tune");
    if (!d->info.epochs.isEmpty()) {
        r.errorRate = d->info.epochs.constLast().errorRate;
        r.validLoss = d->info.epochs.constLast().validLoss;
    }
    r.seconds = d->info.trainSeconds;
    d->info.rounds = { r };
    return {};
}

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

    auto addRecords = [&](const std::vector<int>& samples, const torch::Tensor& probs,
                          const std::vector<ScoreKind>& kinds) {
        auto acc = probs.contiguous();
        const float* p = acc.data_ptr<float>();
        for (size_t i = 0; i < samples.size(); ++i) {
            const Sample& s = dataset.samples.at(samples[i]);
            ScoreRecord r;
            r.file = s.relPath;
            r.split = s.split;
            r.given = s.split == Split::Unlabeled ? -1 : s.label;
            r.probs = QVector<float>(p + i * C, p + (i + 1) * C);
            r.kind = kinds[i];
            completeScore(r);
            set.records.append(r);
        }
    };

    // Unlabeled images: the primary model never trained on them.
    if (!unlabeled.samples.empty()) {
        torch::Tensor probs;
        if (auto st = d->primaryProbs(dataset, unlabeled.samples, false, &probs, cb); !st.ok())
            return st;
        addRecords(unlabeled.samples, probs, std::vector<ScoreKind>(unlabeled.samples.size(), ScoreKind::OutOfSample));
    }
    if (labeled.samples.empty()) {
        *out = set;
        return {};
    }

    // Files the model trained on are in-sample; anything else (valid, or new since training) is not.
    const QSet<QString> trainedOn(d->info.trainFiles.cbegin(), d->info.trainFiles.cend());
    std::vector<int> trainSamples, validSamples;
    for (int s : labeled.samples)
        (trainedOn.contains(dataset.samples.at(s).relPath) ? trainSamples : validSamples).push_back(s);

    if (options.method == ScoreOptions::Method::Honest) {
        PhaseTimer timer("honest score");
        torch::Tensor feats;
        if (auto st = d->featuresFor(dataset, labeled.samples, &feats, cb); !st.ok())
            return st;
        timer.lap("features");
        std::vector<int64_t> lab;
        for (int s : labeled.samples)
            lab.push_back(dataset.samples.at(s).label);
        const auto labels = torch::tensor(lab, torch::kInt64);
        if (cb.progress)
            cb.progress({ 0, 0, 0, 1, 0, QStringLiteral("k-fold") });
        torch::Tensor oos;
        try {
            oos = nn::kFoldLogisticProbs(feats, labels, C, std::max(2, options.folds), d->info.config.seed, {},
                d->quickHead ? &*d->quickHead : nullptr);
        } catch (const std::exception& e) {
            return EngineStatus::failed(
                QStringLiteral("k-fold scoring failed: %1").arg(QString::fromStdString(e.what())));
        }
        timer.lap("k-fold heads");
        // Files the primary model did not train on: average its probabilities with the K-fold heads' (both honest).
        std::vector<int64_t> validRows;
        std::vector<int> validIdx;
        for (size_t i = 0; i < labeled.samples.size(); ++i)
            if (!trainedOn.contains(dataset.samples.at(labeled.samples[i]).relPath)) {
                validRows.push_back(int64_t(i));
                validIdx.push_back(labeled.samples[i]);
            }
        if (!validIdx.empty()) {
            torch::Tensor primary;
            if (auto st = d->primaryProbs(dataset, validIdx, false, &primary, cb); !st.ok())
                return st;
            const auto rows = torch::tensor(validRows, torch::kInt64);
            oos.index_copy_(0, rows, (oos.index_select(0, rows) + primary) / 2);
        }
        timer.lap("primary probabilities");
        addRecords(labeled.samples, oos, std::vector<ScoreKind>(labeled.samples.size(), ScoreKind::OutOfSample));
    } else {
        const bool faithful = options.method == ScoreOptions::Method::FastaiFaithful;
        torch::Tensor pt, pv;
        if (auto st = d->primaryProbs(dataset, trainSamples, faithful, &pt, cb); !st.ok())
            return st;
        if (auto st = d->primaryProbs(dataset, validSamples, false, &pv, cb); !st.ok())
            return st;
        addRecords(trainSamples, pt, std::vector<ScoreKind>(trainSamples.size(), ScoreKind::InSample));
        addRecords(validSamples, pv, std::vector<ScoreKind>(validSamples.size(), ScoreKind::OutOfSample));
    }
    d->info.scoreMethod = scoreMethodName(options.method);
    *out = set;
    return {};
}

EngineStatus Engine::retrainHead(const Dataset& dataset, const ScoreOptions& options, ScoreSet* out,
    RoundSummary* summary, const EngineCallbacks& cb)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model yet: train first"));
    QElapsedTimer clock;
    clock.start();
    ensureThreads(d->info.config.threads);
    const auto train = itemsFor(dataset, { Split::Train });
    const auto valid = itemsFor(dataset, { Split::Valid });
    if (train.samples.size() < 2)
        return EngineStatus::failed(QStringLiteral("need at least two readable training images"));
    if (dataset.vocab != d->info.vocab) {
        // A class was added or removed: the fine-tuned head no longer fits, the quick head does.
        d->info.vocab = dataset.vocab;
    }
    const int64_t C = dataset.vocab.size();

    std::vector<int> all = train.samples;
    all.insert(all.end(), valid.samples.begin(), valid.samples.end());
    PhaseTimer timer("retrain head");
    torch::Tensor feats;
    if (auto st = d->featuresFor(dataset, all, &feats, cb); !st.ok())
        return st;
    timer.lap("features");
    const int64_t nt = int64_t(train.samples.size());
    std::vector<int64_t> lab;
    for (int s : all)
        lab.push_back(dataset.samples.at(s).label);
    const auto labels = torch::tensor(lab, torch::kInt64);
    nn::LogisticHead head;
    try {
        head = nn::trainLogisticHead(feats.slice(0, 0, nt), labels.slice(0, 0, nt), C);
    } catch (const std::exception& e) {
        return EngineStatus::failed(QStringLiteral("head training failed: %1").arg(QString::fromStdString(e.what())));
    }
    timer.lap("head fit");
    RoundSummary r;
    r.round = ++d->round;
    r.kind = QStringLiteral("head retrain");
    if (!valid.samples.empty()) {
        const auto probs = head.probs(feats.slice(0, nt));
        const auto vl = labels.slice(0, nt);
        const auto pGiven = probs.gather(1, vl.unsqueeze(1)).squeeze(1).clamp_min(1e-12);
        r.validLoss = (-pGiven.log()).mean().item<double>();
        r.errorRate = (probs.argmax(1) != vl).to(torch::kFloat64).mean().item<double>();
    }
    d->quickHead = head;
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

EngineStatus Engine::saveRun(const QString& dir)
{
    if (!d->hasModel)
        return EngineStatus::failed(QStringLiteral("no trained model to save"));
    QString error;
    if (!writeRunInfo(dir, d->info, &error))
        return EngineStatus::failed(error);
    try {
        auto tensors = nn::stateDict(*d->model);
        if (d->quickHead)
            for (auto& [k, v] : d->quickHead->toTensors("quickhead."))
                tensors[k] = v;
        nn::writeSafetensors(QDir(dir).filePath(QLatin1String(kModelFile)).toStdString(), tensors,
            { { "format", "winnow-model" }, { "arch", d->info.config.arch.toStdString() } });
    } catch (const std::exception& e) {
        return EngineStatus::failed(QString::fromStdString(e.what()));
    }
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
    d->info = *info;
    if (auto st = d->prepareDevice(
            info->config.device == QLatin1String("cuda") ? QStringLiteral("auto") : info->config.device);
        !st.ok())
        return st;
    ensureThreads(info->config.threads);
    nn::Classifier model(*arch, info->vocab.size());
    try {
        auto tensors = nn::readSafetensors(QDir(dir).filePath(QLatin1String(kModelFile)).toStdString());
        const nn::TensorMap quick = nn::takePrefixed(tensors, "quickhead.");
        nn::loadStateDict(*model, tensors, true);
        d->quickHead.reset();
        if (!quick.empty())
            d->quickHead = nn::LogisticHead::fromTensors(quick, "quickhead.");
    } catch (const std::exception& e) {
        return EngineStatus::failed(QString::fromStdString(e.what()));
    }
    model->eval();
    d->model = model;
    d->hasModel = true;
    d->round = info->rounds.isEmpty() ? 0 : info->rounds.constLast().round;
    Q_UNUSED(tensorShape);
    return {};
}

} // namespace Winnow
