// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCommandLineParser>
#include <QJsonDocument>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/engine.h"
#include "core/metrics/labelissues.h"

int Winnow::Cli::score(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Print a score for every image of a run, highest loss first. Uses the scores stored in RUN_DIR, or computes "
        "them with --method. Each labeled image also gets `issue` (flagged as a likely label error by cleanlab's "
        "confident learning) and `suggested` (the likely right class). The estimated number of label errors ends "
        "the table; with --json it is written to stderr as one JSON object {\"estimated_label_errors\": N, "
        "\"flagged\": M, \"pairs\": [{\"given\", \"true\", \"count\"}], \"method\"}, with --csv to stderr as a line."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("a run folder written by 'winnow train'"));
    p.addOptions({
        { QStringLiteral("json"), QStringLiteral("one JSON object per line") },
        { QStringLiteral("csv"), QStringLiteral("CSV with a header row") },
        { QStringLiteral("method"),
            QStringLiteral("honest (out-of-sample, default) | frozen | in-sample | fastai; recomputes the scores"),
            QStringLiteral("M") },
        { QStringLiteral("folds"), QStringLiteral("K for the frozen-feature K-fold heads"), QStringLiteral("K"),
            QStringLiteral("5") },
        { QStringLiteral("dataset"), QStringLiteral("score this folder instead of the run's dataset"),
            QStringLiteral("DIR") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("score"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    if (p.positionalArguments().size() != 1) {
        err << "winnow score: give exactly one run folder (see --help)\n";
        return 2;
    }
    if (p.isSet(QStringLiteral("json")) && p.isSet(QStringLiteral("csv"))) {
        err << "winnow score: choose one of --json and --csv\n";
        return 2;
    }
    const QString runDir = p.positionalArguments().constFirst();
    QString error;
    const auto info = readRunInfo(runDir, &error);
    if (!info) {
        err << "winnow score: " << error << '\n';
        return 1;
    }

    std::optional<ScoreSet> scores;
    const bool recompute = p.isSet(QStringLiteral("method")) || p.isSet(QStringLiteral("dataset"));
    if (!recompute)
        scores = readScores(runDir, &error);
    if (!scores) {
        ScoreOptions so;
        const QString methodName = p.value(QStringLiteral("method"));
        if (!methodName.isEmpty()) {
            const auto m = parseScoreMethod(methodName);
            if (!m) {
                err << "winnow score: unknown --method '" << methodName << "'\n";
                return 2;
            }
            so.method = *m;
        }
        so.folds = p.value(QStringLiteral("folds")).toInt();
        if (so.folds < 2) {
            err << "winnow score: --folds must be at least 2\n";
            return 2;
        }
        const QString root =
            p.isSet(QStringLiteral("dataset")) ? p.value(QStringLiteral("dataset")) : info->datasetRoot;
        ScanOptions scanOptions;
        scanOptions.validPct = info->config.validPct;
        scanOptions.seed = info->config.seed;
        const auto scan = scanDataset(root, scanOptions);
        if (!scan.ok()) {
            err << "winnow score: " << scan.error << '\n';
            return 1;
        }
        Engine engine;
        auto status = engine.loadRun(runDir);
        if (status.ok()) {
            ScoreSet computed;
            status = engine.score(*scan.dataset, so, &computed);
            if (status.ok()) {
                warnUnreadable(err, QStringLiteral("score"), computed.unreadable, QStringLiteral("while scoring"));
                scores = computed;
            }
        }
        if (!status.ok()) {
            err << "winnow score: " << status.message << '\n';
            return 1;
        }
    }

    const auto records = sortedByLoss(scores->records);
    const auto& vocab = scores->vocab;
    auto name = [&](int i) { return (i >= 0 && i < vocab.size()) ? vocab.at(i) : QString(); };
    // The estimate is about the whole set, not a record: with --json / --csv it goes to stderr, so that stdout stays
    // one record per line (JSON) or row (CSV).
    const QString summary = labelIssueSummary(*scores);
    if (p.isSet(QStringLiteral("json"))) {
        for (const auto& r : records)
            out << QJsonDocument(scoreToJson(r, vocab)).toJson(QJsonDocument::Compact) << '\n';
        out.flush();
        err << QJsonDocument(labelIssueSummaryJson(*scores)).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }
    if (p.isSet(QStringLiteral("csv"))) {
        out << "file,split,given,predicted,loss,p_predicted,p_given,margin,entropy,score";
        for (const auto& c : vocab)
            out << ",p_" << csvField(c);
        out << ",issue,suggested\n";
        for (const auto& r : records) {
            out << csvField(r.file) << ',' << splitName(r.split) << ',' << csvField(name(r.given)) << ','
                << csvField(name(r.predicted)) << ',' << r.loss << ',' << r.pPredicted << ',' << r.pGiven << ','
                << r.margin << ',' << r.entropy << ',' << scoreKindName(r.kind);
            for (float pr : r.probs)
                out << ',' << pr;
            out << ',' << (r.issue ? "true" : "false") << ',' << csvField(name(r.suggested)) << '\n';
        }
        out.flush();
        err << summary << '\n';
        return 0;
    }
    out << QStringLiteral("%1  %2 %3 %4 %5 %6 %7 %8  %9 %10\n")
               .arg(QStringLiteral("loss"), 8)
               .arg(QStringLiteral("p_pred"), 7)
               .arg(QStringLiteral("p_given"), 7)
               .arg(QStringLiteral("margin"), 7)
               .arg(QStringLiteral("entropy"), 7)
               .arg(QStringLiteral("split"), -9)
               .arg(QStringLiteral("given -> predicted"), -28)
               .arg(QStringLiteral("score"), -13)
               .arg(QStringLiteral("issue -> suggested"), -24)
               .arg(QStringLiteral("file"));
    for (const auto& r : records) {
        out << QStringLiteral("%1  %2 %3 %4 %5 %6 %7 %8  %9 %10\n")
                   .arg(r.loss, 8, 'f', 4)
                   .arg(r.pPredicted, 7, 'f', 4)
                   .arg(r.pGiven, 7, 'f', 4)
                   .arg(r.margin, 7, 'f', 3)
                   .arg(r.entropy, 7, 'f', 3)
                   .arg(splitName(r.split), -9)
                   .arg(name(r.given) + QStringLiteral(" -> ") + name(r.predicted), -28)
                   .arg(scoreKindName(r.kind), -13)
                   .arg(r.issue ? QStringLiteral("ISSUE -> ") + name(r.suggested) : QString(), -24)
                   .arg(r.file);
    }
    out << summary << '\n';
    return 0;
}
