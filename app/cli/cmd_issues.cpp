// SPDX-License-Identifier: GPL-3.0-or-later
// winnow issues RUN_DIR | --dataset DIR: duplicates, leakage, outliers and unusable photos, one row per image.
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/engine.h"
#include "core/engine/weightscatalogue.h"
#include "core/metrics/dataissues.h"

int Winnow::Cli::issues(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Find the bad data that is not a wrong label: exact and near duplicates, validation files with a copy in "
        "train (leakage, and the validation error without them), outliers, and photos too dark, overexposed, "
        "blurry, nearly blank, grayscale, or of an odd size or shape. Near duplicates, leakage and outliers compare "
        "the files' frozen pretrained features (the run's network, or the default pretrained weights with "
        "--dataset). Prints a summary, the duplicate groups and the flagged files; --json prints one object per "
        "file (cleanlab's columns is_<issue> and <issue>_score, plus group and keep) and the summary to stderr; "
        "--csv the same columns."));
    p.addHelpOption();
    p.addPositionalArgument(
        QStringLiteral("RUN_DIR"), QStringLiteral("a run folder written by 'winnow train' (or use --dataset)"));
    p.addOptions({
        { QStringLiteral("dataset"), QStringLiteral("check this folder (without RUN_DIR: with pretrained features)"),
            QStringLiteral("DIR") },
        { QStringLiteral("json"), QStringLiteral("one JSON object per file; the summary to stderr") },
        { QStringLiteral("csv"), QStringLiteral("CSV with a header row; the summary to stderr") },
        { QStringLiteral("all"), QStringLiteral("list every file, not only the flagged ones") },
        { QStringLiteral("no-features"), QStringLiteral("pixels and exact copies only (no network, fast)") },
        { QStringLiteral("weights"), QStringLiteral("pretrained weights for --dataset without a run"),
            QStringLiteral("FILE") },
        { QStringLiteral("size"), QStringLiteral("input side for --dataset without a run"), QStringLiteral("PX"),
            QStringLiteral("224") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("issues"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    const bool json = p.isSet(QStringLiteral("json")), csv = p.isSet(QStringLiteral("csv"));
    if (json && csv) {
        err << "winnow issues: choose one of --json and --csv\n";
        return 2;
    }
    const QStringList pos = p.positionalArguments();
    if (pos.size() > 1 || (pos.isEmpty() && !p.isSet(QStringLiteral("dataset")))) {
        err << "winnow issues: give one run folder, or --dataset DIR (see --help)\n";
        return 2;
    }
    QString error;
    std::optional<RunInfo> info;
    if (!pos.isEmpty()) {
        info = readRunInfo(pos.constFirst(), &error);
        if (!info) {
            err << "winnow issues: " << error << '\n';
            return 1;
        }
    }
    const QString root = p.isSet(QStringLiteral("dataset")) ? p.value(QStringLiteral("dataset")) : info->datasetRoot;
    ScanOptions scanOptions;
    if (info) {
        scanOptions.validPct = info->config.validPct;
        scanOptions.seed = info->config.seed;
    }
    QElapsedTimer clock;
    clock.start();
    const auto scan = scanDataset(root, scanOptions);
    if (!scan.ok()) {
        err << "winnow issues: " << scan.error << '\n';
        return 1;
    }
    // Seconds per phase, for the summary: what the detectors cost once the features are cached is "detectors".
    QJsonObject phases;
    qint64 lastLap = 0;
    const auto lap = [&](const char* phase) {
        const qint64 now = clock.elapsed();
        phases[QLatin1String(phase)] = double(now - lastLap) / 1000.0;
        lastLap = now;
    };
    lap("scan");
    const Dataset& ds = *scan.dataset;
    const bool quiet = json || csv;
    if (!quiet)
        err << "Measuring " << ds.size() << " files...\n";
    const QVector<ImageStats> stats = measureDatasetImages(ds);
    lap("pixels");

    std::optional<FeatureNeighbours> graph;
    std::optional<ScoreSet> scores;
    if (info && !p.isSet(QStringLiteral("dataset")))
        scores = readScores(pos.constFirst(), &error);
    if (!p.isSet(QStringLiteral("no-features"))) {
        Engine engine;
        TrainConfig fallback;
        if (info) {
            if (auto st = engine.loadRun(pos.constFirst()); !st.ok()) {
                err << "winnow issues: " << st.message << '\n';
                return 1;
            }
        } else {
            fallback.weights = p.isSet(QStringLiteral("weights")) ? p.value(QStringLiteral("weights"))
                                                                  : defaultPretrainedWeights(fallback.arch);
            fallback.size = p.value(QStringLiteral("size")).toInt();
            if (fallback.weights.isEmpty() || !QFileInfo::exists(fallback.weights)) {
                err << "winnow issues: no pretrained weights found; give --weights FILE, or --no-features\n";
                return 1;
            }
            if (fallback.size < 32 || fallback.size > 1024) {
                err << "winnow issues: --size must be between 32 and 1024\n";
                return 2;
            }
        }
        FeatureNeighbours g;
        EngineCallbacks cb;
        if (!quiet)
            cb.progress = [&](const TrainProgress& pr) {
                if (pr.batch == pr.batchesPerEpoch)
                    err << "Features: " << pr.batch << " of " << pr.batchesPerEpoch << " batches\n";
            };
        if (auto st = engine.featureNeighbours(ds, 10, &g, cb, info ? nullptr : &fallback); !st.ok()) {
            err << "winnow issues: " << st.message << '\n';
            return 1;
        }
        graph = g;
    }
    lap("features");
    const DataIssueReport report = findDataIssues(ds, stats, graph ? &*graph : nullptr, scores ? &*scores : nullptr);
    lap("detectors");
    QJsonObject summary = dataIssueSummaryJson(report, ds);
    summary[QStringLiteral("seconds")] = clock.elapsed() / 1000.0;
    summary[QStringLiteral("phase_seconds")] = phases;
    const bool all = p.isSet(QStringLiteral("all"));

    if (json) {
        for (const FileDataIssues& f : report.files)
            if (all || f.flags)
                out << QJsonDocument(fileDataIssuesJson(f, ds)).toJson(QJsonDocument::Compact) << '\n';
        out.flush();
        err << QJsonDocument(summary).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }
    if (csv) {
        out << "file,split,label";
        for (int t = 0; t < kDataIssueCount; ++t) {
            const QString key = dataIssueKey(dataIssueAt(t));
            out << ",is_" << key << ',' << key << "_score";
        }
        out << ",group,keep\n";
        for (const FileDataIssues& f : report.files) {
            if (!all && !f.flags)
                continue;
            const Sample& s = ds.samples.at(f.sample);
            out << csvField(s.relPath) << ',' << splitName(s.split) << ','
                << csvField(s.label >= 0 ? ds.vocab.at(s.label) : QString());
            for (int t = 0; t < kDataIssueCount; ++t)
                out << ',' << (((f.flags >> t) & 1u) ? "true" : "false") << ',' << f.score[size_t(t)];
            out << ',' << f.group << ',' << (f.keep ? "true" : "false") << '\n';
        }
        out.flush();
        err << QJsonDocument(summary).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }

    out << ds.size() << " files, " << report.flaggedFiles() << " with an issue";
    if (report.usedFeatures)
        out << " (features: " << report.extractor << ")";
    out << QStringLiteral("\n%1 s: scan %2, pixels %3, features and neighbours %4, detectors %5\n\n")
               .arg(clock.elapsed() / 1000.0, 0, 'f', 1)
               .arg(phases.value(QStringLiteral("scan")).toDouble(), 0, 'f', 1)
               .arg(phases.value(QStringLiteral("pixels")).toDouble(), 0, 'f', 1)
               .arg(phases.value(QStringLiteral("features")).toDouble(), 0, 'f', 1)
               .arg(phases.value(QStringLiteral("detectors")).toDouble(), 0, 'f', 3);
    for (int t = 0; t < kDataIssueCount; ++t) {
        const DataIssue type = dataIssueAt(t);
        const bool needsFeatures = type == DataIssue::NearDuplicate || type == DataIssue::Outlier;
        const bool needsPixels = t > int(DataIssue::Outlier);
        out << QStringLiteral("  %1 %2  %3\n")
                   .arg(dataIssueTitle(type), -20)
                   .arg((needsFeatures && !report.usedFeatures) || (needsPixels && !report.usedPixels)
                           ? QStringLiteral("-")
                           : QString::number(report.counts[size_t(t)]),
                       5)
                   .arg(dataIssueExplanation(type));
    }
    if (report.usedPixels && report.blurryThreshold < DataIssueOptions().blurryBelow)
        out << QStringLiteral("\nThis set's photos are soft all through: blurry means a sharpness under %1, its own "
                              "lower fence (%2 elsewhere).\n")
                   .arg(report.blurryThreshold, 0, 'f', 3)
                   .arg(DataIssueOptions().blurryBelow);
    for (int c = 0; c < report.classCounts.size(); ++c)
        if (report.underrepresented[c])
            out << "\nClass \"" << ds.vocab.at(c) << "\" has only " << report.classCounts[c]
                << " images: too few beside the others (class imbalance).\n";
    for (const ClassOverlap& c : report.similarClasses)
        if (c.flagged)
            out << "\nClasses \"" << ds.vocab.at(c.a) << "\" and \"" << ds.vocab.at(c.b)
                << "\" look alike: " << qRound(c.overlap * 100)
                << "% of their photos' nearest neighbours are in the other class.\n";
    if (report.validError >= 0 && report.validLeakedScored > 0) {
        out << QStringLiteral("\nValidation error %1% on %2 files; ")
                   .arg(report.validError * 100, 0, 'f', 1)
                   .arg(report.validScored);
        if (report.validErrorWithoutLeaked >= 0)
            out << QStringLiteral("%1% without the %2 with a copy in train.\n")
                       .arg(report.validErrorWithoutLeaked * 100, 0, 'f', 1)
                       .arg(report.validLeakedScored);
        else
            out << "every one of them has a copy in train.\n";
    }
    if (!report.groups.isEmpty()) {
        out << "\nDuplicate groups (the first is the one to keep):\n";
        for (const DuplicateSet& g : report.groups) {
            out << (g.exact ? QStringLiteral("  exact    ")
                            : QStringLiteral("  %1 ").arg(double(g.similarity), -8, 'f', 3));
            QStringList files;
            for (int s : g.samples)
                files << ds.samples.at(s).relPath + QLatin1Char(' ') + QLatin1Char('(')
                        + splitName(ds.samples.at(s).split) + QLatin1Char(')');
            out << files.join(QStringLiteral("  =  ")) << (g.conflictingLabels ? "  [different labels]" : "") << '\n';
        }
    }
    bool header = false;
    for (const FileDataIssues& f : report.files) {
        const quint32 shown = f.flags
            & ~((1u << int(DataIssue::ExactDuplicate)) | (1u << int(DataIssue::NearDuplicate))
                | (1u << int(DataIssue::Leakage)));
        if (!shown && !all)
            continue;
        if (!header) {
            out << "\nFlagged files:\n";
            header = true;
        }
        QStringList kinds;
        for (int t = 0; t < kDataIssueCount; ++t)
            if ((f.flags >> t) & 1u)
                kinds << dataIssueKey(dataIssueAt(t));
        out << "  " << ds.samples.at(f.sample).relPath << "  " << kinds.join(QStringLiteral(", ")) << '\n';
    }
    return 0;
}
