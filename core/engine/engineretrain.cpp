// SPDX-License-Identifier: GPL-3.0-or-later
// The quick retrain after a cleaning round: warm-up (prepareRetrain), the last layer refitted on the new labels
// (retrainHead), and a full fine-tune again (fineTuneAgain).
#include "core/engine/engine_p.h"

namespace Winnow {

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

} // namespace Winnow
