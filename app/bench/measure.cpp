// SPDX-License-Identifier: GPL-3.0-or-later
// winnow-bench: what it measures of Winnow itself: decode + resize of full-size photos, the Engine's fine-tune,
// scoring and retrain, and the grid model reset (app/bench/benchparts.h).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QTextStream>

#include "app/bench/benchparts.h"
#include "core/engine/engine.h"
#include "core/imaging/decode.h"
#include "core/imaging/loader.h"
#include "core/util/memory.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"

namespace Winnow::Bench {

// ---------------------------------------------------------------------------------------------------------------------
// Decode + resize of full-size photos

/// Writes `count` photo-sized JPEGs made from the dataset's images: upscaled, with a little grain so that they
/// compress (and decode) like camera photos rather than like smooth upscales.
QStringList makePhotos(const Dataset& ds, const QString& dir, const Options& o, QString* error)
{
    std::vector<int> jpegs;
    for (int i = 0; i < ds.size(); ++i) {
        const QString rel = ds.samples.at(i).relPath.toLower();
        if (ds.samples.at(i).readable()
            && (rel.endsWith(QLatin1String(".jpg")) || rel.endsWith(QLatin1String(".jpeg"))))
            jpegs.push_back(i);
    }
    if (jpegs.empty()) {
        *error = QStringLiteral("no readable JPEG in the dataset to make photos from");
        return {};
    }
    QDir().mkpath(dir);
    QStringList files;
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> grain(-6, 6);
    for (int k = 0; k < o.photos; ++k) {
        const int s = jpegs[size_t(k) * jpegs.size() / size_t(o.photos) % jpegs.size()];
        QImage src(ds.absolutePath(s));
        if (src.isNull())
            continue;
        QImage img = src.convertToFormat(QImage::Format_RGB888)
                         .scaled(o.photoWidth, o.photoHeight, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        for (int y = 0; y < img.height(); ++y) {
            uchar* line = img.scanLine(y);
            for (int x = 0; x < img.width() * 3; ++x)
                line[x] = uchar(std::clamp(int(line[x]) + grain(rng), 0, 255));
        }
        const QString path = QDir(dir).filePath(QStringLiteral("photo-%1.jpg").arg(k, 3, 10, QLatin1Char('0')));
        if (!img.save(path, "JPEG", 90)) {
            *error = QStringLiteral("cannot write %1").arg(path);
            return {};
        }
        files << path;
    }
    if (files.isEmpty())
        *error = QStringLiteral("could not make any photo");
    return files;
}

/// One thread, page cache warm: full decode, reduced-size decode, and the whole validation preprocessing
/// (decode at reduced size, squish to size + extra, centre crop, normalise to floats).
QJsonObject benchDecode(const QStringList& files, const Options& o)
{
    for (const QString& f : files) { // warm the page cache (the reference does the same)
        QFile file(f);
        if (file.open(QIODevice::ReadOnly))
            file.readAll();
    }
    const int n = int(files.size()) * o.decodeRounds;
    auto run = [&](auto&& fn) {
        QElapsedTimer t;
        t.start();
        for (int r = 0; r < o.decodeRounds; ++r)
            for (const QString& f : files)
                fn(f);
        return n / seconds(t);
    };
    bool ok = true;
    for (const QString& f : files) // warm-up pass (allocator, caches), untimed
        ok &= !preprocessForInference(f, o.decodeSize).empty();
    const double full = run([&](const QString& f) { ok &= decodeImage(f).ok(); });
    DecodeOptions reduced;
    reduced.minShortSide = o.decodeSize + validationExtra(o.decodeSize);
    int reduction = 1;
    const double fast = run([&](const QString& f) {
        const auto img = decodeImage(f, reduced);
        ok &= img.ok();
        reduction = img.reduction;
    });
    const double tensor = run([&](const QString& f) { ok &= !preprocessForInference(f, o.decodeSize).empty(); });
    const QImage first(files.constFirst());
    return QJsonObject { { QStringLiteral("photos"), int(files.size()) }, { QStringLiteral("width"), first.width() },
        { QStringLiteral("height"), first.height() }, { QStringLiteral("size"), o.decodeSize },
        { QStringLiteral("rounds"), o.decodeRounds }, { QStringLiteral("all_ok"), ok },
        { QStringLiteral("decode_full_img_per_s"), round3(full) },
        { QStringLiteral("decode_reduced_img_per_s"), round3(fast) }, { QStringLiteral("jpeg_reduction"), reduction },
        { QStringLiteral("decode_tensor_img_per_s"), round3(tensor) } };
}

// ---------------------------------------------------------------------------------------------------------------------
// Training, scoring and retraining through the Engine, as the app and the CLI use it

namespace {

struct EpochTiming
{
    EpochStats stats;
    double trainEnd = 0; ///< seconds since train() began, at the last training batch of the epoch
    double end = 0; ///< after validation
    int batches = 0;
};

QJsonObject scorePass(Engine& engine, const Dataset& ds, ScoreOptions::Method method, QString* error)
{
    ScoreOptions so;
    so.method = method;
    ScoreSet set;
    QElapsedTimer t;
    t.start();
    const auto st = engine.score(ds, so, &set);
    const double s = seconds(t);
    if (!st.ok()) {
        *error = st.message;
        return {};
    }
    return { { QStringLiteral("method"), scoreMethodName(method) },
        { QStringLiteral("items"), int(set.records.size()) }, { QStringLiteral("seconds"), round3(s) },
        { QStringLiteral("img_per_s"), round3(set.records.size() / std::max(1e-9, s)) } };
}

/// A cleaning round as the app applies it: a few files relabelled (moved to another class folder) and one deleted.
/// Done on a copy of the Dataset value, so the user's folder is never touched.
Dataset simulateClean(const Dataset& ds, int round)
{
    Dataset out = ds;
    const auto train = out.indices(Split::Train);
    const int c = int(out.vocab.size());
    for (int k = 0; k < 2 && !train.empty(); ++k) {
        Sample& s = out.samples[train[size_t(round * 11 + k * 5) % train.size()]];
        s.label = (s.label + 1) % c;
    }
    const auto left = out.indices(Split::Train);
    if (left.size() > 4)
        out.samples.removeAt(left[size_t(round * 13 + 3) % left.size()]);
    return out;
}

} // namespace

bool writeSplitFile(const Dataset& ds, const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream s(&f);
    for (const Sample& smp : ds.samples)
        if (smp.readable() && smp.split != Split::Unlabeled)
            s << smp.relPath << '\t' << smp.label << '\t' << splitName(smp.split) << '\n';
    return true;
}

TrainBench benchEngine(const Dataset& ds, const Options& o, const QString& tmp)
{
    TrainBench out;
    TrainConfig cfg;
    cfg.arch = o.arch;
    cfg.weights = o.weights;
    cfg.size = o.size;
    cfg.batchSize = o.bs;
    cfg.epochs = o.epochs;
    cfg.freezeEpochs = o.freezeEpochs;
    cfg.device = o.device;
    cfg.threads = o.threads;
    cfg.validPct = ds.options.validPct;
    cfg.seed = ds.options.seed;

    Engine engine;
    std::vector<EpochTiming> epochs;
    QElapsedTimer clock;
    EngineCallbacks cb;
    cb.progress = [&](const TrainProgress& p) {
        if (p.phase != QLatin1String("train"))
            return;
        if (int(epochs.size()) <= p.epoch)
            epochs.resize(size_t(p.epoch) + 1);
        epochs[size_t(p.epoch)].trainEnd = seconds(clock);
        epochs[size_t(p.epoch)].batches = p.batch;
    };
    cb.epoch = [&](const EpochStats& e) {
        if (int(epochs.size()) <= e.epoch)
            epochs.resize(size_t(e.epoch) + 1);
        epochs[size_t(e.epoch)].stats = e;
        epochs[size_t(e.epoch)].end = seconds(clock);
        note(QStringLiteral("  epoch %1 (%2): train_loss %3 valid_loss %4 error_rate %5, %6 s")
                 .arg(e.epoch)
                 .arg(e.stage ? QStringLiteral("unfrozen") : QStringLiteral("frozen"))
                 .arg(e.trainLoss, 0, 'f', 4)
                 .arg(e.validLoss, 0, 'f', 4)
                 .arg(e.errorRate, 0, 'f', 4)
                 .arg(e.seconds, 0, 'f', 1));
    };
    note(QStringLiteral("fine-tuning %1 at %2 px, bs %3, %4 threads (%5 frozen + %6 unfrozen epochs)")
             .arg(o.arch)
             .arg(o.size)
             .arg(o.bs)
             .arg(o.threads)
             .arg(o.freezeEpochs)
             .arg(o.epochs));
    Memory::resetPhasePeak();
    clock.start();
    auto st = engine.train(ds, cfg, cb);
    const double wall = seconds(clock);
    if (!st.ok()) {
        out.error = QStringLiteral("training failed: ") + st.message;
        return out;
    }
    const int bs = engine.runInfo().config.batchSize;
    int images = 0;
    QJsonArray rows;
    double prevEnd = 0;
    for (size_t i = 0; i < epochs.size(); ++i) {
        const auto& e = epochs[i];
        const double trainS = e.trainEnd - prevEnd;
        images += e.batches * bs;
        rows.append(QJsonObject { { QStringLiteral("epoch"), e.stats.epoch },
            { QStringLiteral("stage"), e.stats.stage ? QStringLiteral("unfrozen") : QStringLiteral("frozen") },
            { QStringLiteral("train_loss"), round3(e.stats.trainLoss) },
            { QStringLiteral("valid_loss"), round3(e.stats.validLoss) },
            { QStringLiteral("error_rate"), round3(e.stats.errorRate) }, { QStringLiteral("train_s"), round3(trainS) },
            { QStringLiteral("valid_s"), round3(e.end - e.trainEnd) },
            { QStringLiteral("seconds"), round3(e.end - prevEnd) },
            { QStringLiteral("train_img_per_s"), round3(e.batches * bs / std::max(1e-9, trainS)) } });
        prevEnd = e.end;
    }
    out.train = { { QStringLiteral("train_items"), ds.count(Split::Train) },
        { QStringLiteral("valid_items"), ds.count(Split::Valid) }, { QStringLiteral("classes"), int(ds.vocab.size()) },
        { QStringLiteral("epochs"), rows }, { QStringLiteral("images_trained"), images },
        { QStringLiteral("wall_s"), round3(wall) }, { QStringLiteral("img_per_s"), round3(images / wall) },
        { QStringLiteral("peak_rss_mb"), round3(Memory::phasePeakRssMb()) } };

    // Scoring. Honest (the default): K-fold heads on frozen-body features + the fine-tuned model on valid; its
    // second pass comes from the feature and pixel caches. In-sample: one forward pass of every image, the same work
    // as the reference, on a fresh engine (loadRun: empty pixel cache), then again from its pixel cache.
    const QString runDir = QDir(tmp).filePath(QStringLiteral("run"));
    if (st = engine.saveRun(runDir); !st.ok()) {
        out.error = QStringLiteral("saving the run failed: ") + st.message;
        return out;
    }
    Memory::resetPhasePeak();
    QJsonObject score;
    note(QStringLiteral("scoring (honest, then in-sample on a fresh engine)"));
    const QJsonObject honest1 = scorePass(engine, ds, ScoreOptions::Method::Honest, &out.error);
    const QJsonObject honest2 = scorePass(engine, ds, ScoreOptions::Method::Honest, &out.error);
    Engine fresh;
    if (st = fresh.loadRun(runDir); !st.ok())
        out.error = QStringLiteral("loading the run failed: ") + st.message;
    const QJsonObject insample1 = scorePass(fresh, ds, ScoreOptions::Method::InSample, &out.error);
    const QJsonObject insample2 = scorePass(fresh, ds, ScoreOptions::Method::InSample, &out.error);
    if (!out.error.isEmpty())
        return out;
    out.score = { { QStringLiteral("honest_first"), honest1 }, { QStringLiteral("honest_second"), honest2 },
        { QStringLiteral("in_sample_first"), insample1 }, { QStringLiteral("in_sample_second"), insample2 },
        { QStringLiteral("peak_rss_mb"), round3(Memory::phasePeakRssMb()) } };

    // Retrain after clean: features of unchanged files are cached, only a head is trained, then all is re-scored.
    note(QStringLiteral("retrain after clean (%1 rounds)").arg(o.retrainRounds));
    std::vector<double> times;
    QJsonArray rounds;
    for (int r = 0; r < o.retrainRounds; ++r) {
        const Dataset cleaned = simulateClean(ds, r);
        ScoreSet set;
        RoundSummary summary;
        QElapsedTimer t;
        t.start();
        st = engine.retrainHead(cleaned, ScoreOptions {}, &set, &summary);
        const double s = seconds(t);
        if (!st.ok()) {
            out.error = QStringLiteral("retrain failed: ") + st.message;
            return out;
        }
        times.push_back(s);
        rounds.append(QJsonObject { { QStringLiteral("seconds"), round3(s) },
            { QStringLiteral("error_rate"), round3(summary.errorRate) },
            { QStringLiteral("scored"), int(set.records.size()) } });
    }
    out.retrain = { { QStringLiteral("rounds"), rounds }, { QStringLiteral("median_s"), round3(median(times)) },
        { QStringLiteral("what"),
            QStringLiteral("2 files relabelled + 1 deleted, then retrainHead (honest re-score)") } };
    return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Grid model reset with many items

QJsonObject benchGrid(int items)
{
    Dataset ds;
    ds.root = QStringLiteral("/nonexistent/winnow-bench-grid");
    ds.vocab = { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };
    const int c = int(ds.vocab.size());
    ds.samples.reserve(items);
    for (int k = 0; k < c; ++k) {
        const int n = items / c + (k < items % c ? 1 : 0);
        for (int i = 0; i < n; ++i) {
            Sample s;
            s.relPath = ds.vocab.at(k) + QStringLiteral("/img-%1.jpg").arg(i, 7, 10, QLatin1Char('0'));
            s.label = k;
            s.split = (i % 5 == 0) ? Split::Valid : Split::Train;
            s.bytes = 20000;
            ds.samples.append(s);
        }
    }
    ScoreSet scores;
    scores.datasetRoot = ds.root;
    scores.vocab = ds.vocab;
    scores.records.reserve(items);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.01f, 1.0f);
    for (const Sample& s : ds.samples) {
        ScoreRecord r;
        r.file = s.relPath;
        r.split = s.split;
        r.given = s.label;
        float sum = 0;
        for (int k = 0; k < c; ++k) {
            r.probs.append(u(rng));
            sum += r.probs.constLast();
        }
        for (float& p : r.probs)
            p /= sum;
        completeScore(r);
        scores.records.append(r);
    }

    auto ms = [](const QElapsedTimer& t) { return round3(double(t.nsecsElapsed()) / 1e6); };
    ImageGridModel model;
    QElapsedTimer t;
    t.start();
    model.setDataset(ds);
    const double first = ms(t);
    t.restart();
    model.setScores(scores);
    const double setScores = ms(t);
    // After a clean the app rescans and resets the grid: same root, so the scores are kept and re-matched.
    Dataset again = ds;
    again.samples.removeAt(again.samples.size() / 2);
    t.restart();
    model.setDataset(again);
    const double rescored = ms(t);

    ImageGridProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
    t.restart();
    model.setDataset(ds);
    const double sorted = ms(t);
    const bool okRows = model.rowCount() == items && proxy.rowCount() == items;
    return { { QStringLiteral("items"), items }, { QStringLiteral("rows_ok"), okRows },
        { QStringLiteral("set_dataset_ms"), first }, { QStringLiteral("set_scores_ms"), setScores },
        { QStringLiteral("reset_with_scores_ms"), rescored },
        { QStringLiteral("reset_with_sorted_proxy_ms"), sorted } };
}

} // namespace Winnow::Bench
