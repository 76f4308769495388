// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow retrain RUN_DIR`: the app's one-click retrain after a cleaning round, headless. Loads the run, rescans its
// dataset, refits the fine-tuned network's last layer (or, with --full, fine-tunes again), re-scores honestly and
// rewrites the run folder.
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/engine/engine.h"

int Winnow::Cli::retrain(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Retrain the model of RUN_DIR after its dataset changed (a cleaning round): refit the fine-tuned network's "
        "last layer on its cached features of the cleaned train split (about a second), or fine-tune again with "
        "--full; then re-score every image and rewrite RUN_DIR."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("a run folder (winnow train --out)"));
    p.addOptions({
        { QStringLiteral("full"), QStringLiteral("fine-tune the whole network again with the run's settings") },
        { QStringLiteral("dataset"), QStringLiteral("the dataset folder, if it moved since training"),
            QStringLiteral("DIR") },
        { QStringLiteral("json"), QStringLiteral("print the round as one JSON object") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("retrain"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    if (p.positionalArguments().size() != 1) {
        err << "winnow retrain: give exactly one run folder (see --help)\n";
        return 2;
    }
    const QString runDir = p.positionalArguments().constFirst();
    QString error;
    const auto info = readRunInfo(runDir, &error);
    if (!info) {
        err << "winnow retrain: " << error << '\n';
        return 1;
    }
    const QString root = p.isSet(QStringLiteral("dataset")) ? p.value(QStringLiteral("dataset")) : info->datasetRoot;
    ScanOptions so;
    so.validPct = info->config.validPct;
    so.seed = info->config.seed;
    const auto scan = scanDataset(root, so);
    if (!scan.ok()) {
        err << "winnow retrain: " << scan.error << '\n';
        return 1;
    }
    Engine engine;
    auto status = engine.loadRun(runDir);
    if (!status.ok()) {
        err << "winnow retrain: " << status.message << '\n';
        return 1;
    }
    const bool json = p.isSet(QStringLiteral("json"));
    EngineCallbacks cb;
    if (!json)
        cb.epoch = [&](const EpochStats& e) {
            out << QStringLiteral("epoch %1 (%2): train_loss %3, valid_loss %4, error_rate %5\n")
                       .arg(e.epoch)
                       .arg(e.stage == 0 ? QStringLiteral("frozen") : QStringLiteral("unfrozen"))
                       .arg(e.trainLoss, 0, 'f', 6)
                       .arg(e.validLoss, 0, 'f', 6)
                       .arg(e.errorRate, 0, 'f', 6);
            out.flush();
        };
    ScoreSet scores;
    RoundSummary round;
    status = p.isSet(QStringLiteral("full")) ? engine.fineTuneAgain(*scan.dataset, {}, &scores, &round, cb)
                                             : engine.retrainHead(*scan.dataset, {}, &scores, &round, cb);
    if (!status.ok()) {
        err << "winnow retrain: " << status.message << '\n';
        return 1;
    }
    if (p.isSet(QStringLiteral("full")))
        warnUnreadable(
            err, QStringLiteral("retrain"), engine.runInfo().unreadableFiles, QStringLiteral("while training"));
    warnUnreadable(err, QStringLiteral("retrain"), scores.unreadable, QStringLiteral("while scoring"));
    status = engine.saveRun(runDir);
    if (status.ok() && !writeScores(runDir, scores, &error))
        status = EngineStatus::failed(error);
    if (!status.ok()) {
        err << "winnow retrain: retrained, but the run folder could not be updated: " << status.message << '\n';
        return 1;
    }
    if (json) {
        QJsonObject o { { QStringLiteral("round"), round.round }, { QStringLiteral("kind"), round.kind },
            { QStringLiteral("error_rate"), round.errorRate }, { QStringLiteral("valid_loss"), round.validLoss },
            { QStringLiteral("files_changed"), round.filesChanged }, { QStringLiteral("seconds"), round.seconds },
            { QStringLiteral("compared"), round.compared }, { QStringLiteral("scored"), int(scores.records.size()) },
            { QStringLiteral("score_method"), engine.runInfo().scoreMethod } };
        if (round.compared > 0) {
            o.insert(QStringLiteral("previous_error_on_compared"), round.previousErrorOnCompared);
            o.insert(QStringLiteral("error_on_compared"), round.errorOnCompared);
        }
        out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
    } else {
        out << QStringLiteral("round %1 (%2): error_rate %3, valid_loss %4, %5 changed, %6 s\n")
                   .arg(round.round)
                   .arg(round.kind)
                   .arg(round.errorRate, 0, 'f', 4)
                   .arg(round.validLoss, 0, 'f', 4)
                   .arg(round.filesChanged == 1 ? QStringLiteral("1 file")
                                                : QStringLiteral("%1 files").arg(round.filesChanged))
                   .arg(round.seconds, 0, 'f', 2);
        if (round.compared > 0)
            out << QStringLiteral("on the %1 validation files both rounds held: error %2 -> %3\n")
                       .arg(round.compared)
                       .arg(round.previousErrorOnCompared, 0, 'f', 4)
                       .arg(round.errorOnCompared, 0, 'f', 4);
        out << "scores of " << scores.records.size() << " images written to " << QDir(runDir).absolutePath() << '\n';
    }
    return 0;
}
