// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's training (fastai's fine_tune and the cross-validated fine-tunes) and its runs on disk (save, load).
// It adapts datasets and the OpenCV loader to the Qt-free nn layer; the state it keeps across rounds is Engine::Private
// (engine_p.h).
#include "core/engine/engine_p.h"

namespace Winnow {

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
        return EngineStatus::failed(QStringLiteral("unknown architecture '%1' (use %2)")
                                        .arg(config.arch, architectureNames().join(QStringLiteral(", "))));
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
    if (!writeFileAtomically(QDir(dir).filePath(QLatin1String(kTrainedFile)), trained, &error))
        return EngineStatus::failed(error);
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
