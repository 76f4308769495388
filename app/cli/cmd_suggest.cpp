// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/engine.h"

int Winnow::Cli::suggest(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List the unlabeled images of a run's dataset (in unlabeled/) with "
                                               "the model's suggested class, least confident first."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("a run folder written by 'winnow train'"));
    p.addOptions({
        { QStringLiteral("json"), QStringLiteral("one JSON object per line") },
        { QStringLiteral("dataset"), QStringLiteral("the dataset folder, if it moved since training"),
            QStringLiteral("DIR") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("suggest"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    if (p.positionalArguments().size() != 1) {
        err << "winnow suggest: give exactly one run folder (see --help)\n";
        return 2;
    }
    const QString runDir = p.positionalArguments().constFirst();
    Engine engine;
    auto status = engine.loadRun(runDir);
    if (!status.ok()) {
        err << "winnow suggest: " << status.message << '\n';
        return 1;
    }
    const auto& info = engine.runInfo();
    ScanOptions so;
    so.validPct = info.config.validPct;
    so.seed = info.config.seed;
    const auto scan =
        scanDataset(p.isSet(QStringLiteral("dataset")) ? p.value(QStringLiteral("dataset")) : info.datasetRoot, so);
    if (!scan.ok()) {
        err << "winnow suggest: " << scan.error << '\n';
        return 1;
    }
    // Score only the unlabeled files: a dataset copy holding just those keeps the labeled ones out of the work.
    Dataset unlabeled = *scan.dataset;
    unlabeled.samples.removeIf([](const Sample& s) { return s.split != Split::Unlabeled || !s.readable(); });
    if (unlabeled.samples.isEmpty()) {
        err << "winnow suggest: no unlabeled images (put them in " << scan.dataset->root << "/unlabeled/)\n";
        return 0;
    }
    ScoreSet scores;
    status = engine.score(unlabeled, {}, &scores);
    if (!status.ok()) {
        err << "winnow suggest: " << status.message << '\n';
        return 1;
    }
    auto records = scores.records;
    std::stable_sort(
        records.begin(), records.end(), [](const ScoreRecord& a, const ScoreRecord& b) { return a.margin < b.margin; });
    const bool json = p.isSet(QStringLiteral("json"));
    if (!json)
        out << QStringLiteral("%1 %2 %3  %4\n")
                   .arg(QStringLiteral("probability"), 11)
                   .arg(QStringLiteral("margin"), 7)
                   .arg(QStringLiteral("suggested"), -16)
                   .arg(QStringLiteral("file"));
    for (const auto& r : records) {
        const QString label = scores.vocab.value(r.predicted);
        if (json) {
            const QJsonObject o { { QStringLiteral("file"), r.file }, { QStringLiteral("suggested"), label },
                { QStringLiteral("probability"), r.pPredicted }, { QStringLiteral("margin"), r.margin } };
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        } else {
            out << QStringLiteral("%1 %2 %3  %4\n")
                       .arg(r.pPredicted, 11, 'f', 4)
                       .arg(r.margin, 7, 'f', 3)
                       .arg(label, -16)
                       .arg(r.file);
        }
    }
    return 0;
}
