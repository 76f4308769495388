// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow-bench`: the speed a user feels, as JSON (a development tool, built beside winnow and not installed).
// End-to-end fine-tuning (data loading included), model-only throughput (winnow_nn_bench on synthetic tensors), scoring
// (cold and from the caches), decode + resize of full-size photos, retrain-after-clean latency, grid model reset with
// 100k items and peak memory; with --reference, the same work done by tests/bench/reference.py (PyTorch + torchvision,
// the way a PyTorch/fastai user writes it) in the same run, and the ratios.
#include "app/bench/bench.h"

#include <algorithm>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>

#include "app/bench/benchparts.h"
#include "core/dataset/demogenerator.h"
#include "core/engine/engine.h"
#include "core/imaging/loader.h"
#include "core/util/memory.h"
#include "core/util/threads.h"

namespace Winnow::Bench {

int run(const QStringList& args)
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
        Memory::resetPhasePeak();
        QJsonObject g = benchGrid(o.gridItems);
        g.insert(QStringLiteral("peak_rss_mb"), round3(Memory::phasePeakRssMb()));
        winnow.insert(QStringLiteral("grid"), g);
    }
    winnow.insert(QStringLiteral("peak_rss_mb"), round3(Memory::processPeakRssMb()));
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

} // namespace Winnow::Bench
