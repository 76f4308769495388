// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow noisebench`: how well each scoring method finds label errors. Copies a folder-per-class dataset, moves a
// seeded share of its labeled files into a random other class, trains once, then for every scoring method ranks the
// labeled images by loss and measures how many of the known errors come first; also the precision and recall of the
// confident-learning flags (core/metrics/labelissues.h). Prints one JSON document.
#include <algorithm>
#include <cmath>
#include <random>

#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/engine.h"
#include "core/engine/weightscatalogue.h"
#include "core/metrics/labelissues.h"
#include "core/util/atomicfile.h"
#include "core/util/memory.h"

namespace {

using namespace Winnow;

struct Review
{
    QSet<QString> wrong; ///< the label is wrong: an error
    QSet<QString> excluded; ///< junk or ambiguous: left out of the ranking
    int unknownFiles = 0; ///< entries naming files the dataset does not have
};

/// Reads a review file: '#' comment lines, a header line starting with "file", then tab-separated
/// `file<TAB>verdict[<TAB>right_class<TAB>note]` with verdict wrong | junk | ambiguous.
std::optional<Review> readReview(const QString& path, const Dataset& ds, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *error =
            QStringLiteral("cannot read the review file %1: %2").arg(QDir::toNativeSeparators(path), f.errorString());
        return std::nullopt;
    }
    Review review;
    int lineNo = 0;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        ++lineNo;
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        const QStringList cols = line.split(QLatin1Char('\t'));
        if (cols.constFirst() == QLatin1String("file"))
            continue; // header
        if (cols.size() < 2) {
            *error =
                QStringLiteral("%1 line %2: expected file<TAB>verdict").arg(QDir::toNativeSeparators(path)).arg(lineNo);
            return std::nullopt;
        }
        const QString file = QDir::cleanPath(cols.at(0).trimmed());
        const QString verdict = cols.at(1).trimmed();
        if (ds.findSample(file) < 0) {
            ++review.unknownFiles;
            continue;
        }
        if (verdict == QLatin1String("wrong"))
            review.wrong.insert(file);
        else if (verdict == QLatin1String("junk") || verdict == QLatin1String("ambiguous"))
            review.excluded.insert(file);
        else {
            *error = QStringLiteral("%1 line %2: unknown verdict '%3' (wrong, junk or ambiguous)")
                         .arg(QDir::toNativeSeparators(path))
                         .arg(lineNo)
                         .arg(verdict);
            return std::nullopt;
        }
    }
    return review;
}

/// A free name for `fileName` in `dir`: the name itself, else "stem-2.ext", "stem-3.ext", ...
QString freeName(const QDir& dir, const QString& fileName)
{
    if (!dir.exists(fileName))
        return fileName;
    const QFileInfo fi(fileName);
    const QString suffix = fi.completeSuffix().isEmpty() ? QString() : QLatin1Char('.') + fi.completeSuffix();
    for (int k = 2;; ++k) {
        const QString candidate = fi.baseName() + QLatin1Char('-') + QString::number(k) + suffix;
        if (!dir.exists(candidate))
            return candidate;
    }
}

QJsonValue ratio(double num, double den, bool defined)
{
    return defined ? QJsonValue(num / den) : QJsonValue(QJsonValue::Null);
}

} // namespace

int Winnow::Cli::noisebench(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Label-noise benchmark. Copies DATASET (one folder per class) to a temporary folder, moves round(rate x "
        "labeled files) of it, chosen with the seed, into a random other class, trains once, and for every scoring "
        "method ranks the labeled images by loss: recall@N and recall@2N (N = number of errors), average precision, "
        "and the precision and recall of the confident-learning flags. Errors are the moved files plus the files a "
        "review file marks `wrong`; files it marks `junk` or `ambiguous` are left out of the ranking (and are never "
        "moved). Prints one JSON document; DATASET itself is never changed."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("DATASET"), QStringLiteral("folder-per-class dataset"));
    TrainConfig defaults;
    p.addOptions({
        { QStringLiteral("rate"), QStringLiteral("share of the labeled files to move, in [0, 1)"), QStringLiteral("R"),
            QStringLiteral("0.1") },
        { QStringLiteral("seed"), QStringLiteral("seed of the noise, the split and training"), QStringLiteral("S"),
            QStringLiteral("0") },
        { QStringLiteral("arch"), architectureNames().join(QStringLiteral(" | ")), QStringLiteral("A"), defaults.arch },
        { QStringLiteral("weights"),
            QStringLiteral("pretrained .safetensors; default <arch>-imagenet.safetensors from $WINNOW_SHARED/weights "
                           "or a shared/weights folder nearby, else a cached download; \"\" = random initialisation"),
            QStringLiteral("FILE") },
        { QStringLiteral("size"), QStringLiteral("image size in pixels"), QStringLiteral("S"),
            QString::number(defaults.size) },
        { QStringLiteral("cv-folds"), QStringLiteral("cross-validated fine-tunes (0 = none)"), QStringLiteral("K"),
            QString::number(defaults.cvFolds) },
        { QStringLiteral("cv-size"),
            QStringLiteral("input side of the cross-validated fine-tunes (0 = auto: --size on CUDA, at most 128 on "
                           "the CPU)"),
            QStringLiteral("PX"), QString::number(defaults.cvSize) },
        { QStringLiteral("epochs"), QStringLiteral("unfrozen epochs after the frozen one (0: only the frozen one)"),
            QStringLiteral("N"), QStringLiteral("1") },
        { QStringLiteral("bs"), QStringLiteral("batch size"), QStringLiteral("B"), QStringLiteral("32") },
        { QStringLiteral("device"), QStringLiteral("auto | cpu | cuda"), QStringLiteral("D"), defaults.device },
        { QStringLiteral("methods"),
            QStringLiteral("comma-separated scoring methods; ones this build does not know are skipped"),
            QStringLiteral("LIST"), QStringLiteral("honest,frozen,fastai") },
        { QStringLiteral("review"),
            QStringLiteral("review file (file<TAB>verdict...); default <DATASET>.review.tsv when it exists"),
            QStringLiteral("FILE") },
        { QStringLiteral("out"), QStringLiteral("also write the JSON here"), QStringLiteral("FILE") },
        { QStringLiteral("keep"), QStringLiteral("keep the noisy copy (its path is in the JSON)") },
        { QStringLiteral("dump-parts"),
            QStringLiteral("write the honest score's parts per labeled file (networks', frozen heads' probabilities, "
                           "30 nearest neighbours' labels) as TSV, for offline mixes"),
            QStringLiteral("FILE") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("noisebench"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    auto usage = [&](const QString& message) {
        err << "winnow noisebench: " << message << '\n';
        return 2;
    };
    if (p.positionalArguments().size() != 1)
        return usage(QStringLiteral("give exactly one dataset folder (see --help)"));

    bool okRate = false, okSeed = false, okSize = false, okEpochs = false, okBs = false;
    const double rate = p.value(QStringLiteral("rate")).toDouble(&okRate);
    const quint64 seed = p.value(QStringLiteral("seed")).toULongLong(&okSeed);
    TrainConfig cfg;
    cfg.arch = p.value(QStringLiteral("arch"));
    cfg.size = p.value(QStringLiteral("size")).toInt(&okSize);
    cfg.epochs = p.value(QStringLiteral("epochs")).toInt(&okEpochs);
    cfg.batchSize = p.value(QStringLiteral("bs")).toInt(&okBs);
    bool okFolds = false;
    cfg.cvFolds = p.value(QStringLiteral("cv-folds")).toInt(&okFolds);
    if (!okFolds || cfg.cvFolds < 0 || cfg.cvFolds > 8)
        return usage(QStringLiteral("--cv-folds must be between 0 and 8"));
    bool okCvSize = false;
    cfg.cvSize = p.value(QStringLiteral("cv-size")).toInt(&okCvSize);
    if (!okCvSize || cfg.cvSize < 0)
        return usage(QStringLiteral("--cv-size must be a non-negative integer"));
    cfg.device = p.value(QStringLiteral("device"));
    cfg.seed = seed;
    if (!okRate || rate < 0 || rate >= 1)
        return usage(QStringLiteral("--rate must be a number in [0, 1)"));
    if (!okSeed)
        return usage(QStringLiteral("--seed must be a non-negative integer"));
    if (!okSize || cfg.size < 32 || !okEpochs || cfg.epochs < 0 || !okBs || cfg.batchSize < 1)
        return usage(QStringLiteral("need --size >= 32, --epochs >= 0 and --bs >= 1"));
    cfg.weights =
        p.isSet(QStringLiteral("weights")) ? p.value(QStringLiteral("weights")) : defaultPretrainedWeights(cfg.arch);
    if (!p.isSet(QStringLiteral("weights")) && cfg.weights.isEmpty()) {
        err << "winnow noisebench: no pretrained weights found for " << cfg.arch
            << " (pass --weights FILE, or --weights \"\" to train from random initialisation)\n";
        return 1;
    }
    if (!cfg.weights.isEmpty() && !QFileInfo(cfg.weights).isFile()) {
        err << "winnow noisebench: weights file not found: " << QDir::toNativeSeparators(cfg.weights)
            << (p.isSet(QStringLiteral("weights")) ? ""
                                                   : " (pass --weights FILE, or --weights \"\" to train from random "
                                                     "initialisation)")
            << '\n';
        return 1;
    }
    QStringList methodNames;
    for (const QString& m : p.value(QStringLiteral("methods")).split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!methodNames.contains(m.trimmed()))
            methodNames << m.trimmed();
    if (methodNames.isEmpty())
        return usage(QStringLiteral("--methods is empty"));

    QElapsedTimer total;
    total.start();
    QJsonObject seconds;
    QElapsedTimer clock;

    // The source: a folder-per-class dataset, read only.
    const QString source = QDir(p.positionalArguments().constFirst()).absolutePath();
    ScanOptions fast;
    fast.verifyImages = false;
    clock.start();
    const auto sourceScan = scanDataset(source, fast);
    if (!sourceScan.ok()) {
        err << "winnow noisebench: " << sourceScan.error << '\n';
        return 1;
    }
    const Dataset& src = *sourceScan.dataset;
    if (src.layout != Layout::FolderPerClass) {
        err << "winnow noisebench: " << QDir::toNativeSeparators(source)
            << " has train/ and valid/ folders; the benchmark needs a folder-per-class dataset (one subfolder per "
               "class, the split drawn by seed)\n";
        return 1;
    }
    if (src.vocab.size() < 2) {
        err << "winnow noisebench: " << QDir::toNativeSeparators(source)
            << " has fewer than two classes: no file can be moved to another class\n";
        return 1;
    }

    Review review;
    QString reviewPath = p.value(QStringLiteral("review"));
    if (reviewPath.isEmpty() && QFileInfo::exists(source + QStringLiteral(".review.tsv")))
        reviewPath = source + QStringLiteral(".review.tsv");
    if (!reviewPath.isEmpty()) {
        QString error;
        auto r = readReview(reviewPath, src, &error);
        if (!r) {
            err << "winnow noisebench: " << error << '\n';
            return 1;
        }
        review = *r;
        if (review.unknownFiles > 0)
            err << "noisebench: " << review.unknownFiles << " review entries name files the dataset does not have "
                << "(ignored)\n";
    }

    // The copy: every image file the scan found, at the same relative path.
    QTemporaryDir tmp(QDir::temp().filePath(QStringLiteral("winnow-noisebench-XXXXXX")));
    if (!tmp.isValid()) {
        err << "winnow noisebench: cannot create a temporary folder: " << tmp.errorString() << '\n';
        return 1;
    }
    tmp.setAutoRemove(!p.isSet(QStringLiteral("keep")));
    const QString root = tmp.filePath(QFileInfo(source).fileName());
    const QDir rootDir(root);
    err << "noisebench: copying " << src.samples.size() << " files to " << QDir::toNativeSeparators(root) << '\n';
    err.flush();
    for (const Sample& s : src.samples) {
        const QString to = rootDir.filePath(s.relPath);
        if (!QDir().mkpath(QFileInfo(to).absolutePath()) || !QFile::copy(src.absolutePath(s), to)) {
            err << "winnow noisebench: cannot copy " << QDir::toNativeSeparators(src.absolutePath(s)) << " to "
                << QDir::toNativeSeparators(to) << '\n';
            return 1;
        }
    }
    seconds.insert(QStringLiteral("copy"), clock.restart() / 1000.0);

    // The noise: labeled, readable files that no review entry mentions, shuffled with the seed (our own Fisher-Yates
    // on mt19937_64, so the choice is the same with every standard library).
    std::mt19937_64 rng(seed);
    QVector<int> candidates;
    int labeled = 0;
    for (int i = 0; i < src.samples.size(); ++i) {
        const Sample& s = src.samples.at(i);
        if (s.label < 0 || s.split == Split::Unlabeled)
            continue;
        ++labeled;
        if (s.readable() && !review.wrong.contains(s.relPath) && !review.excluded.contains(s.relPath))
            candidates << i;
    }
    for (int i = int(candidates.size()) - 1; i > 0; --i)
        std::swap(candidates[i], candidates[int(rng() % quint64(i + 1))]);
    const int toMove = std::min(int(std::lround(rate * labeled)), int(candidates.size()));
    QHash<QString, QString> moved; // new relative path -> original class
    QJsonArray movedList;
    const int classes = int(src.vocab.size());
    for (int k = 0; k < toMove; ++k) {
        const Sample& s = src.samples.at(candidates.at(k));
        int target = int(rng() % quint64(classes - 1));
        if (target >= s.label)
            ++target;
        const QDir targetDir(rootDir.filePath(src.vocab.at(target)));
        const QString name = freeName(targetDir, QFileInfo(s.relPath).fileName());
        const QString from = rootDir.filePath(s.relPath);
        if (!QFile::rename(from, targetDir.filePath(name))) {
            err << "winnow noisebench: cannot move " << QDir::toNativeSeparators(from) << '\n';
            return 1;
        }
        const QString rel = src.vocab.at(target) + QLatin1Char('/') + name;
        moved.insert(rel, src.vocab.at(s.label));
        movedList.append(QJsonObject { { QStringLiteral("from"), s.relPath }, { QStringLiteral("to"), rel } });
    }
    seconds.insert(QStringLiteral("noise"), clock.restart() / 1000.0);

    ScanOptions scanOptions;
    scanOptions.seed = seed;
    const auto scan = scanDataset(root, scanOptions);
    if (!scan.ok()) {
        err << "winnow noisebench: " << scan.error << '\n';
        return 1;
    }
    const Dataset& ds = *scan.dataset;
    seconds.insert(QStringLiteral("scan"), clock.restart() / 1000.0);
    err << "noisebench: " << toMove << " of " << labeled << " labeled files moved; training " << cfg.arch << " at "
        << cfg.size << " px (" << (cfg.weights.isEmpty() ? QStringLiteral("random init") : cfg.weights) << ")\n";
    err.flush();

    // The ranked population (labeled, readable, not junk or ambiguous) and the errors in it.
    QSet<QString> errors;
    for (auto it = moved.cbegin(); it != moved.cend(); ++it)
        errors.insert(it.key());
    for (const QString& f : std::as_const(review.wrong))
        errors.insert(f);
    int rankedCount = 0;
    int errorsRanked = 0;
    for (const Sample& s : ds.samples) {
        if (s.label < 0 || s.split == Split::Unlabeled || !s.readable() || review.excluded.contains(s.relPath))
            continue;
        ++rankedCount;
        errorsRanked += errors.contains(s.relPath) ? 1 : 0;
    }

    // Train once (freezeEpochs stays 1); every method scores the same model.
    Engine engine;
    EngineCallbacks cb;
    cb.epoch = [&](const EpochStats& e) {
        err << "noisebench: epoch " << e.epoch << " valid_loss " << e.validLoss << " error_rate " << e.errorRate
            << '\n';
        err.flush();
    };
    engine.setScoreDump(p.value(QStringLiteral("dump-parts")));
    if (auto st = engine.train(ds, cfg, cb); !st.ok()) {
        err << "winnow noisebench: training failed: " << st.message << '\n';
        return 1;
    }
    seconds.insert(QStringLiteral("train"), clock.restart() / 1000.0);
    const auto& epochs = engine.runInfo().epochs;

    QJsonObject methods;
    QJsonArray skipped;
    QHash<QString, std::pair<QJsonValue, QJsonValue>> rankFigures; // method -> (recall@N, AP)
    for (const QString& name : std::as_const(methodNames)) {
        const auto method = parseScoreMethod(name);
        if (!method) {
            err << "noisebench: skipped method '" << name << "' (this build does not know it)\n";
            skipped.append(name);
            continue;
        }
        err << "noisebench: scoring with " << name << '\n';
        err.flush();
        ScoreOptions so;
        so.method = *method;
        ScoreSet set;
        clock.restart();
        if (auto st = engine.score(ds, so, &set); !st.ok()) {
            err << "winnow noisebench: scoring with " << name << " failed: " << st.message << '\n';
            return 1;
        }
        const double scoreSeconds = clock.restart() / 1000.0;
        flagLabelIssues(set); // Engine::score flagged already; timed again here for the report
        const double flagSeconds = clock.restart() / 1000.0;

        QVector<ScoreRecord> ranked;
        for (const ScoreRecord& r : std::as_const(set.records))
            if (r.given >= 0 && !review.excluded.contains(r.file))
                ranked << r;
        ranked = sortedByLoss(ranked);
        int n = 0;
        for (const ScoreRecord& r : std::as_const(ranked))
            n += errors.contains(r.file) ? 1 : 0;
        int hits = 0, atN = 0, at2N = 0, flagged = 0, flaggedErrors = 0;
        double apSum = 0;
        for (int k = 0; k < ranked.size(); ++k) {
            const bool isError = errors.contains(ranked[k].file);
            if (isError) {
                ++hits;
                apSum += double(hits) / (k + 1);
                if (k < n)
                    ++atN;
                if (k < 2 * n)
                    ++at2N;
            }
            if (ranked[k].issue) {
                ++flagged;
                flaggedErrors += isError ? 1 : 0;
            }
        }
        const QJsonValue recallN = ratio(atN, n, n > 0);
        const QJsonValue ap = ratio(apSum, n, n > 0);
        rankFigures.insert(name, { recallN, ap });
        methods.insert(name,
            QJsonObject { { QStringLiteral("score_method"), scoreMethodName(*method) },
                { QStringLiteral("recall_at_n"), recallN }, { QStringLiteral("recall_at_2n"), ratio(at2N, n, n > 0) },
                { QStringLiteral("errors_in_top_n"), atN }, { QStringLiteral("errors_in_top_2n"), at2N },
                { QStringLiteral("average_precision"), ap }, { QStringLiteral("flagged"), flagged },
                { QStringLiteral("flagged_errors"), flaggedErrors },
                { QStringLiteral("flag_precision"), ratio(flaggedErrors, flagged, flagged > 0) },
                { QStringLiteral("flag_recall"), ratio(flaggedErrors, n, n > 0) },
                { QStringLiteral("estimated_errors"), set.estimatedErrors },
                { QStringLiteral("seconds"),
                    QJsonObject {
                        { QStringLiteral("score"), scoreSeconds }, { QStringLiteral("flags"), flagSeconds } } } });
    }

    // Each method against "frozen" (today's K-fold heads on frozen features), when both ran.
    QJsonObject ratios;
    if (rankFigures.contains(QStringLiteral("frozen"))) {
        const auto base = rankFigures.value(QStringLiteral("frozen"));
        for (auto it = rankFigures.cbegin(); it != rankFigures.cend(); ++it) {
            if (it.key() == QLatin1String("frozen"))
                continue;
            auto div = [](const QJsonValue& a, const QJsonValue& b) {
                return (a.isDouble() && b.isDouble() && b.toDouble() > 0) ? QJsonValue(a.toDouble() / b.toDouble())
                                                                          : QJsonValue(QJsonValue::Null);
            };
            ratios.insert(it.key(),
                QJsonObject { { QStringLiteral("recall_at_n"), div(it->first, base.first) },
                    { QStringLiteral("average_precision"), div(it->second, base.second) } });
        }
    }

    QJsonArray methodArray;
    for (const QString& m : std::as_const(methodNames))
        methodArray.append(m);
    seconds.insert(QStringLiteral("total"), total.elapsed() / 1000.0);
    const QJsonObject doc {
        { QStringLiteral("benchmark"), QStringLiteral("winnow-noisebench") },
        { QStringLiteral("version"), 1 },
        { QStringLiteral("dataset"), source },
        { QStringLiteral("settings"),
            QJsonObject { { QStringLiteral("rate"), rate }, { QStringLiteral("seed"), QString::number(seed) },
                { QStringLiteral("arch"), cfg.arch },
                { QStringLiteral("weights"), cfg.weights.isEmpty() ? QJsonValue() : QJsonValue(cfg.weights) },
                { QStringLiteral("size"), cfg.size }, { QStringLiteral("epochs"), cfg.epochs },
                { QStringLiteral("cv_folds"), cfg.cvFolds },
                { QStringLiteral("cv_size"), engine.runInfo().config.cvSize },
                { QStringLiteral("freeze_epochs"), cfg.freezeEpochs }, { QStringLiteral("bs"), cfg.batchSize },
                { QStringLiteral("device"), engine.runInfo().device }, { QStringLiteral("methods"), methodArray },
                { QStringLiteral("review"), reviewPath.isEmpty() ? QJsonValue() : QJsonValue(reviewPath) },
                { QStringLiteral("copy"), p.isSet(QStringLiteral("keep")) ? QJsonValue(root) : QJsonValue() } } },
        { QStringLiteral("data"),
            QJsonObject { { QStringLiteral("images"), int(src.samples.size()) }, { QStringLiteral("labeled"), labeled },
                { QStringLiteral("classes"), QJsonArray::fromStringList(src.vocab) },
                { QStringLiteral("moved"), toMove }, { QStringLiteral("review_wrong"), int(review.wrong.size()) },
                { QStringLiteral("excluded"), int(review.excluded.size()) }, { QStringLiteral("ranked"), rankedCount },
                { QStringLiteral("errors"), errorsRanked }, { QStringLiteral("moved_files"), movedList } } },
        { QStringLiteral("train"),
            QJsonObject { { QStringLiteral("error_rate"),
                              epochs.isEmpty() ? QJsonValue() : QJsonValue(epochs.constLast().errorRate) },
                { QStringLiteral("valid_loss"),
                    epochs.isEmpty() ? QJsonValue() : QJsonValue(epochs.constLast().validLoss) } } },
        { QStringLiteral("methods"), methods },
        { QStringLiteral("skipped"), skipped },
        { QStringLiteral("ratios_to_frozen"), ratios },
        { QStringLiteral("seconds"), seconds },
        { QStringLiteral("peak_rss_mb"), Memory::processPeakRssMb() },
    };
    const QByteArray json = QJsonDocument(doc).toJson(QJsonDocument::Indented);
    out << json;
    out.flush();
    const QString outPath = p.value(QStringLiteral("out"));
    if (!outPath.isEmpty()) {
        QString error;
        if (!writeFileAtomically(outPath, json, &error)) {
            err << "winnow noisebench: " << error << '\n';
            return 1;
        }
    }
    return 0;
}
