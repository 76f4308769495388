// SPDX-License-Identifier: GPL-3.0-or-later
// Scoring: honest out-of-sample scores of every file (Engine::score) and the frozen-feature neighbours the data-issue
// checks use (Engine::featureNeighbours).
#include <mutex>

#include "core/engine/engine_p.h"

namespace Winnow {

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

/// The `k` most likely ImageNet classes of each row of concat-pooled features [N, 2C] (max || avg), under the
/// pretrained classifier that `weights` carries (torchvision's `classifier.1` of MobileNetV2, `fc` of the ResNets) on
/// the average-pooled half: what that network would call each photo. Empty when the file holds no such classifier
/// for these features (random initialisation, another layout).
torch::Tensor imagenetTopK(const QString& weights, const torch::Tensor& feats, int64_t k)
{
    // The classifier of the last weights file read, kept: every check after a training would read it again.
    struct Classifier
    {
        QString key; ///< path, size and modification time of the file
        torch::Tensor weight, bias; ///< undefined when the file holds none
    };
    static std::mutex mutex;
    static auto* last = new Classifier; // never freed: no torch tensor is destroyed after LibTorch at exit
    const QFileInfo fi(weights);
    const QString key = QStringLiteral("%1|%2|%3")
                            .arg(fi.absoluteFilePath(), QString::number(fi.size()),
                                QString::number(fi.lastModified().toMSecsSinceEpoch()));
    torch::Tensor weight, bias;
    {
        std::lock_guard lock(mutex);
        if (last->key != key) {
            *last = Classifier { key, {}, {} };
            try {
                const nn::TensorMap t = nn::readSafetensors(weights.toStdString());
                for (const auto& [w, b] :
                    { std::pair { "classifier.1.weight", "classifier.1.bias" }, { "fc.weight", "fc.bias" } }) {
                    const auto wi = t.find(w), bi = t.find(b);
                    if (wi != t.end() && bi != t.end()) {
                        last->weight = wi->second.to(torch::kFloat32);
                        last->bias = bi->second.to(torch::kFloat32);
                        break;
                    }
                }
            } catch (const std::exception&) { }
        }
        weight = last->weight;
        bias = last->bias;
    }
    const int64_t c = feats.size(1) / 2;
    if (!weight.defined() || weight.dim() != 2 || weight.size(1) != c || bias.numel() != weight.size(0)
        || weight.size(0) < k)
        return {};
    torch::NoGradGuard noGrad;
    const auto avg = feats.slice(1, c, 2 * c).to(torch::kFloat32).cpu();
    return std::get<1>(torch::addmm(bias, avg, weight.t()).topk(k, 1)).contiguous();
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
    if (!cfg.weights.isEmpty()) {
        // The pretrained classifier's own names for each photo: the outlier check's concept rarity.
        const auto concepts = imagenetTopK(cfg.weights, feats, FeatureNeighbours::kConcepts);
        if (concepts.defined()) {
            const int64_t* cp = concepts.data_ptr<int64_t>();
            out->concepts = QVector<qint16>(cp, cp + concepts.numel());
        }
    }
    return {};
}

} // namespace Winnow
