// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow-bench`: the speed a user feels, as JSON (a development tool, built beside winnow and not installed).
// End-to-end fine-tuning (data loading included), model-only throughput (winnow_nn_bench on synthetic tensors), scoring
// (cold and from the caches), decode + resize of full-size photos, retrain-after-clean latency, grid model reset with
// 100k items and peak memory; with --reference, the same work done by tests/bench/reference.py (PyTorch + torchvision,
// the way a PyTorch/fastai user writes it) in the same run, and the ratios.
#include "app/bench/bench.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sys/resource.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>

#include "core/dataset/dataset.h"
#include "core/dataset/demogenerator.h"
#include "core/engine/engine.h"
#include "core/imaging/decode.h"
#include "core/imaging/loader.h"
#include "core/util/threads.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"

namespace {

using namespace Winnow;

struct Options
{
    QString dataset;
    QString arch = QStringLiteral("mobilenet_v2");
    QString weights;
    QString device = QStringLiteral("cpu");
    int size = 128;
    int bs = 32;
    int threads = 0;
    int epochs = 1;
    int freezeEpochs = 1;
    int steps = 10; ///< model-only timed steps
    int warmup = 2;
    int photos = 12; ///< full-size photos for the decode benchmark
    int photoWidth = 3000;
    int photoHeight = 2000;
    int decodeSize = 224;
    int decodeRounds = 2;
    int gridItems = 100000;
    int retrainRounds = 3;
    bool reference = false;
    QString python = QStringLiteral("/usr/bin/python3");
    QString referenceScript;
    int refWorkers = 0;
    bool quick = false;
    QString out;
};

QTextStream& errStream()
{
    static QTextStream s(stderr);
    return s;
}

void note(const QString& what)
{
    errStream() << "bench: " << what << Qt::endl;
}

double seconds(const QElapsedTimer& t)
{
    return double(t.nsecsElapsed()) / 1e9;
}

double round3(double v)
{
    return std::round(v * 1000.0) / 1000.0;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------------------------------------------------------------
// Peak memory: VmHWM, reset per phase through /proc/self/clear_refs (Linux >= 4.0); ru_maxrss for the whole run.

void resetPeak()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    if (f.open(QIODevice::WriteOnly))
        f.write("5");
}

double peakMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("VmHWM:"))
                return line.mid(6).trimmed().split(' ').constFirst().toDouble() / 1024.0;
    }
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

double processPeakMb()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

QString cpuModel()
{
    QFile f(QStringLiteral("/proc/cpuinfo"));
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    }
    return QSysInfo::currentCpuArchitecture();
}

double totalMemoryGb()
{
    QFile f(QStringLiteral("/proc/meminfo"));
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("MemTotal:"))
                return round3(line.mid(9).trimmed().split(' ').constFirst().toDouble() / 1024.0 / 1024.0);
    }
    return 0;
}

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
// Model-only throughput: winnow_nn_bench (the Qt-free nn layer's own benchmark), run as a child process

QString findNnBench()
{
    const QString env = qEnvironmentVariable("WINNOW_NN_BENCH");
    if (!env.isEmpty())
        return env;
    const QDir appDir(QCoreApplication::applicationDirPath());
    for (const QString& rel : { QStringLiteral("winnow_nn_bench"), QStringLiteral("../core/nn/winnow_nn_bench") }) {
        const QString p = QDir::cleanPath(appDir.filePath(rel));
        if (QFileInfo(p).isExecutable())
            return p;
    }
    return QStandardPaths::findExecutable(QStringLiteral("winnow_nn_bench"));
}

/// Runs a child, forwarding its stderr; returns the last JSON object line of its stdout.
QJsonObject runJsonChild(const QString& program, const QStringList& args, QString* error)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(program, args);
    if (!p.waitForStarted(30000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(program, p.errorString());
        return {};
    }
    p.waitForFinished(-1);
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *error = QStringLiteral("%1 failed (exit code %2)").arg(QFileInfo(program).fileName()).arg(p.exitCode());
        return {};
    }
    QJsonParseError pe {};
    const auto doc = QJsonDocument::fromJson(lines.constLast(), &pe);
    if (!doc.isObject()) {
        *error = QStringLiteral("%1 printed no JSON: %2").arg(QFileInfo(program).fileName(), pe.errorString());
        return {};
    }
    return doc.object();
}

QJsonObject benchModel(const Options& o, int classes)
{
    const QString exe = findNnBench();
    if (exe.isEmpty())
        return { { QStringLiteral("error"),
            QStringLiteral("winnow_nn_bench not found (build it, or set WINNOW_NN_BENCH)") } };
    QString error;
    QJsonObject r = runJsonChild(exe,
        { QStringLiteral("--arch"), o.arch, QStringLiteral("--size"), QString::number(o.size), QStringLiteral("--bs"),
            QString::number(o.bs), QStringLiteral("--steps"), QString::number(o.steps), QStringLiteral("--warmup"),
            QString::number(o.warmup), QStringLiteral("--classes"), QString::number(std::max(2, classes)),
            QStringLiteral("--threads"), QString::number(o.threads), QStringLiteral("--device"), o.device },
        &error);
    if (!error.isEmpty())
        return { { QStringLiteral("error"), error } };
    return r;
}

// ---------------------------------------------------------------------------------------------------------------------
// Training, scoring and retraining through the Engine, as the app and the CLI use it

struct EpochTiming
{
    EpochStats stats;
    double trainEnd = 0; ///< seconds since train() began, at the last training batch of the epoch
    double end = 0; ///< after validation
    int batches = 0;
};

/// Writes the split winnow uses (relative path, label, split) so that the reference trains on the same files.
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

struct TrainBench
{
    QJsonObject train;
    QJsonObject score;
    QJsonObject retrain;
    QString error;
};

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
    resetPeak();
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
        { QStringLiteral("peak_rss_mb"), round3(peakMb()) } };

    // Scoring. Honest (the default): K-fold heads on frozen-body features + the fine-tuned model on valid; its
    // second pass comes from the feature and pixel caches. In-sample: one forward pass of every image, the same work
    // as the reference, on a fresh engine (loadRun: empty pixel cache), then again from its pixel cache.
    const QString runDir = QDir(tmp).filePath(QStringLiteral("run"));
    if (st = engine.saveRun(runDir); !st.ok()) {
        out.error = QStringLiteral("saving the run failed: ") + st.message;
        return out;
    }
    resetPeak();
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
        { QStringLiteral("peak_rss_mb"), round3(peakMb()) } };

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

// ---------------------------------------------------------------------------------------------------------------------
// The PyTorch reference

QString defaultReferenceScript()
{
    const QString env = qEnvironmentVariable("WINNOW_BENCH_REFERENCE");
    if (!env.isEmpty())
        return env;
    // The source tree this tool was built from (it is never installed).
    const QString inTree = QStringLiteral(WINNOW_SOURCE_DIR "/tests/bench/reference.py");
    return QFileInfo::exists(inTree) ? inTree : QString();
}

QJsonObject runReference(const Options& o, const QString& splitFile, const QString& photosDir, QString* error)
{
    const QString script = o.referenceScript.isEmpty() ? defaultReferenceScript() : o.referenceScript;
    if (script.isEmpty() || !QFileInfo::exists(script)) {
        *error = QStringLiteral("reference script not found (give --reference-script tests/bench/reference.py)");
        return {};
    }
    QStringList args { script, QStringLiteral("--dataset"), o.dataset, QStringLiteral("--split-file"), splitFile,
        QStringLiteral("--arch"), o.arch, QStringLiteral("--size"), QString::number(o.size), QStringLiteral("--bs"),
        QString::number(o.bs), QStringLiteral("--threads"), QString::number(o.threads), QStringLiteral("--workers"),
        QString::number(o.refWorkers), QStringLiteral("--epochs"), QString::number(o.epochs),
        QStringLiteral("--freeze-epochs"), QString::number(o.freezeEpochs), QStringLiteral("--steps"),
        QString::number(o.steps), QStringLiteral("--warmup"), QString::number(o.warmup),
        QStringLiteral("--decode-size"), QString::number(o.decodeSize), QStringLiteral("--decode-rounds"),
        QString::number(o.decodeRounds) };
    if (!photosDir.isEmpty())
        args << QStringLiteral("--photos") << photosDir;
    if (!o.weights.isEmpty())
        args << QStringLiteral("--weights") << o.weights;
    note(QStringLiteral("running the PyTorch reference: %1 %2").arg(o.python, args.join(QLatin1Char(' '))));
    return runJsonChild(o.python, args, error);
}

double num(const QJsonObject& o, const QStringList& path)
{
    QJsonValue v = o;
    for (const QString& k : path)
        v = v.toObject().value(k);
    return v.toDouble(0);
}

QJsonObject ratio(double ours, double theirs)
{
    if (ours <= 0 || theirs <= 0)
        return {};
    return { { QStringLiteral("winnow"), round3(ours) }, { QStringLiteral("pytorch"), round3(theirs) },
        { QStringLiteral("ratio"), round3(ours / theirs) } };
}

QJsonObject target(const QString& what, double value, double goal, bool atLeast, const QString& unit)
{
    QJsonObject t { { QStringLiteral("what"), what },
        { QStringLiteral("target"),
            QString((atLeast ? QStringLiteral(">= ") : QStringLiteral("<= ")) + QString::number(goal) + unit) } };
    if (value <= 0) {
        t.insert(QStringLiteral("value"), QJsonValue::Null);
        t.insert(QStringLiteral("met"), QJsonValue::Null);
        return t;
    }
    t.insert(QStringLiteral("value"), round3(value));
    t.insert(QStringLiteral("met"), atLeast ? value >= goal : value <= goal);
    return t;
}

} // namespace

int Winnow::Bench::run(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Measure what a user feels and print JSON: end-to-end fine-tuning (data loading included), model-only "
        "throughput, scoring, decode of full-size photos, retrain-after-clean latency, grid reset and peak memory. "
        "With --reference, tests/bench/reference.py does the same work with PyTorch + torchvision in the same run and "
        "the output holds the ratios. Without --dataset a small demo dataset is generated."));
    p.addHelpOption();
    const Options d;
    p.addOptions({
        { QStringLiteral("dataset"), QStringLiteral("dataset folder (default: a generated demo dataset)"),
            QStringLiteral("DIR") },
        { QStringLiteral("arch"), architectureNames().join(QStringLiteral(" | ")), QStringLiteral("A"), d.arch },
        { QStringLiteral("size"), QStringLiteral("training image size"), QStringLiteral("S"), QString::number(d.size) },
        { QStringLiteral("bs"), QStringLiteral("batch size"), QStringLiteral("B"), QString::number(d.bs) },
        { QStringLiteral("threads"), QStringLiteral("torch threads on both sides (0 = the core count)"),
            QStringLiteral("N"), QStringLiteral("0") },
        { QStringLiteral("weights"), QStringLiteral("pretrained .safetensors (both sides)"), QStringLiteral("FILE") },
        { QStringLiteral("epochs"), QStringLiteral("unfrozen epochs (after one frozen epoch)"), QStringLiteral("N"),
            QString::number(d.epochs) },
        { QStringLiteral("device"), QStringLiteral("cpu | cuda | auto (the reference is CPU only)"),
            QStringLiteral("D"), d.device },
        { QStringLiteral("reference"), QStringLiteral("also run the PyTorch reference and print ratios") },
        { QStringLiteral("python"), QStringLiteral("interpreter with torch + torchvision"), QStringLiteral("EXE"),
            d.python },
        { QStringLiteral("reference-script"), QStringLiteral("path of tests/bench/reference.py"),
            QStringLiteral("FILE") },
        { QStringLiteral("ref-workers"),
            QStringLiteral("DataLoader num_workers of the reference (default: the core count, fastai's default)"),
            QStringLiteral("N") },
        { QStringLiteral("photos"), QStringLiteral("full-size photos for the decode benchmark (0 = skip)"),
            QStringLiteral("N"), QString::number(d.photos) },
        { QStringLiteral("grid-items"), QStringLiteral("items for the grid reset benchmark (0 = skip)"),
            QStringLiteral("N"), QString::number(d.gridItems) },
        { QStringLiteral("quick"), QStringLiteral("fewer steps, photos and rounds (a smoke run)") },
        { QStringLiteral("out"), QStringLiteral("also write the JSON to FILE"), QStringLiteral("FILE") },
    });
    QTextStream err(stderr);
    if (!p.parse(QStringList(QStringLiteral("winnow-bench")) + args)) {
        err << "winnow-bench: " << p.errorText() << '\n';
        return 2;
    }
    if (p.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << p.helpText();
        return 0;
    }
    if (!p.positionalArguments().isEmpty()) {
        err << "winnow-bench: no positional arguments (use --dataset DIR)\n";
        return 2;
    }
    Options o;
    bool ok = true;
    auto intOpt = [&](const char* name, int min) {
        bool good = false;
        const int v = p.value(QLatin1String(name)).toInt(&good);
        if (!good || v < min) {
            err << "winnow-bench: --" << name << " needs an integer >= " << min << '\n';
            ok = false;
        }
        return v;
    };
    o.quick = p.isSet(QStringLiteral("quick"));
    o.dataset = p.value(QStringLiteral("dataset"));
    o.arch = p.value(QStringLiteral("arch"));
    o.weights = p.value(QStringLiteral("weights"));
    o.device = p.value(QStringLiteral("device"));
    o.size = intOpt("size", 32);
    o.bs = intOpt("bs", 2);
    o.threads = intOpt("threads", 0);
    o.epochs = intOpt("epochs", 1);
    o.photos = intOpt("photos", 0);
    o.gridItems = intOpt("grid-items", 0);
    o.reference = p.isSet(QStringLiteral("reference"));
    o.python = p.value(QStringLiteral("python"));
    o.referenceScript = p.value(QStringLiteral("reference-script"));
    o.out = p.value(QStringLiteral("out"));
    if (!ok)
        return 2;
    if (o.threads == 0)
        o.threads = threads::computeThreads(0); // what the app uses (core/util/threads.h)
    o.refWorkers = p.isSet(QStringLiteral("ref-workers")) ? intOpt("ref-workers", 0)
                                                          : std::clamp(QThread::idealThreadCount(), 1, 16);
    if (!ok)
        return 2;
    if (o.quick) {
        o.steps = 3;
        o.warmup = 1;
        o.photos = std::min(o.photos, 3);
        o.decodeRounds = 1;
        o.retrainRounds = 1;
        if (!p.isSet(QStringLiteral("size")) && o.dataset.isEmpty())
            o.size = 64;
        if (!p.isSet(QStringLiteral("bs")) && o.dataset.isEmpty())
            o.bs = 16;
    }
    if (!o.weights.isEmpty() && !QFileInfo(o.weights).isFile()) {
        err << "winnow-bench: weights file not found: " << o.weights << '\n';
        return 1;
    }

    QTemporaryDir tmp;
    if (!tmp.isValid()) {
        err << "winnow-bench: cannot create a temporary folder: " << tmp.errorString() << '\n';
        return 1;
    }
    // A private feature cache: the first scoring pass is really cold, and the user's cache is left alone.
    qputenv("WINNOW_CACHE_DIR", QDir(tmp.path()).filePath(QStringLiteral("cache")).toLocal8Bit());

    QJsonObject result;
    QElapsedTimer total;
    total.start();
    if (o.dataset.isEmpty()) {
        DemoOptions demo;
        if (o.quick) {
            demo.imagesPerClass = 12;
            demo.imageSize = 96;
            demo.unlabeledImages = 2;
        }
        const auto r = writeDemoDataset(QDir(tmp.path()).filePath(QStringLiteral("demo")), demo);
        if (!r.ok()) {
            err << "winnow-bench: cannot generate the demo dataset: " << r.error << '\n';
            return 1;
        }
        o.dataset = r.root;
        note(QStringLiteral("no --dataset: generated a demo dataset (%1 images) in %2").arg(r.images).arg(r.root));
    }

    QElapsedTimer t;
    t.start();
    const auto scan = scanDataset(o.dataset);
    const double scanS = seconds(t);
    if (!scan.ok()) {
        err << "winnow-bench: " << scan.error << '\n';
        return 1;
    }
    const Dataset& ds = *scan.dataset;
    if (ds.vocab.size() < 2 || ds.count(Split::Train) < 2) {
        err << "winnow-bench: the dataset needs at least two classes and two readable training images\n";
        return 1;
    }
    const QString splitFile = QDir(tmp.path()).filePath(QStringLiteral("split.tsv"));
    if (!writeSplitFile(ds, splitFile)) {
        err << "winnow-bench: cannot write " << splitFile << '\n';
        return 1;
    }

    result.insert(QStringLiteral("machine"),
        QJsonObject { { QStringLiteral("cpu"), cpuModel() },
            { QStringLiteral("logical_cores"), QThread::idealThreadCount() },
            { QStringLiteral("memory_gb"), totalMemoryGb() }, { QStringLiteral("os"), QSysInfo::prettyProductName() },
            { QStringLiteral("kernel"), QSysInfo::kernelVersion() } });
    result.insert(QStringLiteral("config"),
        QJsonObject { { QStringLiteral("dataset"), QDir(o.dataset).absolutePath() }, { QStringLiteral("arch"), o.arch },
            { QStringLiteral("size"), o.size }, { QStringLiteral("bs"), o.bs },
            { QStringLiteral("threads"), o.threads }, { QStringLiteral("loader_threads"), defaultLoaderThreads() },
            { QStringLiteral("reference_workers"), o.reference ? QJsonValue(o.refWorkers) : QJsonValue() },
            { QStringLiteral("freeze_epochs"), o.freezeEpochs }, { QStringLiteral("epochs"), o.epochs },
            { QStringLiteral("weights"), o.weights.isEmpty() ? QJsonValue() : QJsonValue(o.weights) },
            { QStringLiteral("device"), o.device }, { QStringLiteral("quick"), o.quick },
            { QStringLiteral("winnow"), QStringLiteral(WINNOW_VERSION) } });
    result.insert(QStringLiteral("scan"),
        QJsonObject { { QStringLiteral("files"), ds.size() }, { QStringLiteral("train"), ds.count(Split::Train) },
            { QStringLiteral("valid"), ds.count(Split::Valid) },
            { QStringLiteral("unreadable"), int(ds.unreadable().size()) },
            { QStringLiteral("seconds"), round3(scanS) } });

    QJsonObject winnow;
    QString photosDir;
    if (o.photos > 0) {
        note(QStringLiteral("decode: writing %1 photos of %2x%3").arg(o.photos).arg(o.photoWidth).arg(o.photoHeight));
        photosDir = QDir(tmp.path()).filePath(QStringLiteral("photos"));
        QString error;
        const QStringList files = makePhotos(ds, photosDir, o, &error);
        if (files.isEmpty()) {
            winnow.insert(QStringLiteral("decode"), QJsonObject { { QStringLiteral("error"), error } });
            photosDir.clear();
        } else {
            winnow.insert(QStringLiteral("decode"), benchDecode(files, o));
        }
    }

    note(QStringLiteral("model-only throughput (winnow_nn_bench)"));
    winnow.insert(QStringLiteral("model"), benchModel(o, int(ds.vocab.size())));

    const TrainBench tb = benchEngine(ds, o, tmp.path());
    if (!tb.error.isEmpty()) {
        err << "winnow-bench: " << tb.error << '\n';
        return 1;
    }
    winnow.insert(QStringLiteral("train"), tb.train);
    winnow.insert(QStringLiteral("score"), tb.score);
    winnow.insert(QStringLiteral("retrain_after_clean"), tb.retrain);

    if (o.gridItems > 0) {
        note(QStringLiteral("grid model reset with %1 items").arg(o.gridItems));
        resetPeak();
        QJsonObject g = benchGrid(o.gridItems);
        g.insert(QStringLiteral("peak_rss_mb"), round3(peakMb()));
        winnow.insert(QStringLiteral("grid"), g);
    }
    winnow.insert(QStringLiteral("peak_rss_mb"), round3(processPeakMb()));
    winnow.insert(QStringLiteral("seconds"), round3(seconds(total)));
    result.insert(QStringLiteral("winnow"), winnow);

    QJsonObject ref;
    if (o.reference) {
        QString error;
        ref = runReference(o, splitFile, photosDir, &error);
        if (!error.isEmpty()) {
            err << "winnow-bench: the reference failed: " << error << '\n';
            result.insert(QStringLiteral("pytorch"), QJsonObject { { QStringLiteral("error"), error } });
        } else {
            result.insert(QStringLiteral("pytorch"), ref);
        }
    }

    // Ratios (winnow / PyTorch, higher is better) and the targets of the issue.
    const double e2e = num(winnow, { QStringLiteral("train"), QStringLiteral("img_per_s") });
    const double e2eRef = num(ref, { QStringLiteral("train"), QStringLiteral("img_per_s") });
    const double score1 =
        num(winnow, { QStringLiteral("score"), QStringLiteral("in_sample_first"), QStringLiteral("img_per_s") });
    const QJsonArray refPasses =
        ref.value(QStringLiteral("score")).toObject().value(QStringLiteral("passes")).toArray();
    const double scoreRef1 =
        refPasses.size() > 0 ? refPasses.at(0).toObject().value(QStringLiteral("img_per_s")).toDouble() : 0;
    const double scoreRef2 =
        refPasses.size() > 1 ? refPasses.at(1).toObject().value(QStringLiteral("img_per_s")).toDouble() : 0;
    const double scoreRefBest = std::max(scoreRef1, scoreRef2);
    const double honest2 =
        num(winnow, { QStringLiteral("score"), QStringLiteral("honest_second"), QStringLiteral("img_per_s") });
    const double insample2 =
        num(winnow, { QStringLiteral("score"), QStringLiteral("in_sample_second"), QStringLiteral("img_per_s") });
    const double decode = num(winnow, { QStringLiteral("decode"), QStringLiteral("decode_tensor_img_per_s") });
    const double decodeRef = num(ref, { QStringLiteral("decode"), QStringLiteral("decode_tensor_img_per_s") });
    const double retrain = num(winnow, { QStringLiteral("retrain_after_clean"), QStringLiteral("median_s") });
    const double grid = num(winnow, { QStringLiteral("grid"), QStringLiteral("reset_with_scores_ms") });
    if (o.reference) {
        QJsonObject ratios;
        auto put = [&](const char* key, double a, double b) {
            const auto r = ratio(a, b);
            if (!r.isEmpty())
                ratios.insert(QLatin1String(key), r);
        };
        put("train_end_to_end", e2e, e2eRef);
        put("model_train", num(winnow, { QStringLiteral("model"), QStringLiteral("train_img_per_s") }),
            num(ref, { QStringLiteral("model"), QStringLiteral("train_img_per_s") }));
        put("model_infer", num(winnow, { QStringLiteral("model"), QStringLiteral("infer_img_per_s") }),
            num(ref, { QStringLiteral("model"), QStringLiteral("infer_img_per_s") }));
        put("score_first", score1, scoreRef1);
        put("score_second_from_cache", honest2, scoreRefBest);
        put("score_in_sample_second", insample2, scoreRefBest);
        put("decode_tensor", decode, decodeRef);
        put("decode_vs_pil_decode_only", decode,
            num(ref, { QStringLiteral("decode"), QStringLiteral("decode_img_per_s") }));
        result.insert(QStringLiteral("ratios"), ratios);
    }
    auto r = [](double a, double b) { return (a > 0 && b > 0) ? a / b : 0.0; };
    result.insert(QStringLiteral("targets"),
        QJsonArray {
            target(
                QStringLiteral("end-to-end CPU training vs PyTorch"), r(e2e, e2eRef), 1.3, true, QStringLiteral("x")),
            target(QStringLiteral("scoring vs PyTorch (in-sample, cold caches)"), r(score1, scoreRef1), 1.2, true,
                QStringLiteral("x")),
            target(QStringLiteral("second scoring pass from the cache vs PyTorch (honest)"), r(honest2, scoreRefBest),
                5, true, QStringLiteral("x")),
            target(QStringLiteral("decode of full-size photos to 224 px vs PIL loader"), r(decode, decodeRef), 3, true,
                QStringLiteral("x")),
            target(QStringLiteral("retrain after clean (median)"), retrain, 1, false, QStringLiteral(" s")),
            target(QStringLiteral("grid reset with %1 items").arg(o.gridItems), grid, 50, false, QStringLiteral(" ms")),
        });
    result.insert(QStringLiteral("seconds"), round3(seconds(total)));

    const QByteArray json = QJsonDocument(result).toJson(QJsonDocument::Indented);
    QTextStream(stdout) << json;
    if (!o.out.isEmpty()) {
        QFile f(o.out);
        if (!f.open(QIODevice::WriteOnly) || f.write(json) != json.size()) {
            err << "winnow-bench: cannot write " << o.out << '\n';
            return 1;
        }
    }
    return 0;
}
