// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdio>

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/dataset/splitstore.h"
#include "core/engine/engine.h"
#include "core/engine/weightscatalogue.h"

namespace {

void printEpochHeader(QTextStream& out)
{
    out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
               .arg(QStringLiteral("epoch"), -6)
               .arg(QStringLiteral("stage"), -9)
               .arg(QStringLiteral("train_loss"), -11)
               .arg(QStringLiteral("valid_loss"), -11)
               .arg(QStringLiteral("error_rate"), -11)
               .arg(QStringLiteral("time"));
}

QString formatTime(double seconds)
{
    const int s = int(seconds + 0.5);
    return QStringLiteral("%1:%2").arg(s / 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

int Winnow::Cli::train(const QStringList& args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Fine-tune a pretrained CNN on DIR the fastai way (fine_tune: one "
                                               "frozen epoch, then EPOCHS unfrozen) and write RUN_DIR."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("DIR"),
        QStringLiteral("dataset folder (one subfolder per class, or "
                       "train/ + valid/)"));
    TrainConfig defaults;
    p.addOptions({
        { QStringLiteral("arch"), architectureNames().join(QStringLiteral(" | ")), QStringLiteral("A"), defaults.arch },
        { QStringLiteral("weights"),
            QStringLiteral("pretrained .safetensors (torchvision names); default <arch>-imagenet.safetensors from "
                           "$WINNOW_SHARED/weights or a shared/weights folder nearby, else a cached download; \"\" = "
                           "random initialisation"),
            QStringLiteral("FILE") },
        { QStringLiteral("epochs"), QStringLiteral("unfrozen epochs"), QStringLiteral("N"),
            QString::number(defaults.epochs) },
        { QStringLiteral("freeze-epochs"), QStringLiteral("frozen epochs first"), QStringLiteral("N"),
            QString::number(defaults.freezeEpochs) },
        { QStringLiteral("size"), QStringLiteral("image size in pixels"), QStringLiteral("S"),
            QString::number(defaults.size) },
        { QStringLiteral("bs"), QStringLiteral("batch size"), QStringLiteral("B"),
            QString::number(defaults.batchSize) },
        { QStringLiteral("lr"), QStringLiteral("base learning rate"), QStringLiteral("LR"),
            QString::number(defaults.baseLr) },
        { QStringLiteral("valid-pct"), QStringLiteral("validation fraction"), QStringLiteral("P"),
            QString::number(defaults.validPct) },
        { QStringLiteral("seed"), QStringLiteral("split and training seed"), QStringLiteral("S"),
            QString::number(defaults.seed) },
        { QStringLiteral("device"), QStringLiteral("auto | cpu | cuda"), QStringLiteral("D"), defaults.device },
        { QStringLiteral("threads"), QStringLiteral("CPU threads (0 = auto)"), QStringLiteral("N"),
            QStringLiteral("0") },
        { QStringLiteral("no-augment"), QStringLiteral("no RandomResizedCrop / aug_transforms") },
        { QStringLiteral("cv-folds"),
            QStringLiteral("cross-validated fine-tunes for honest train-image scores (0 = none: frozen-feature "
                           "K-fold heads instead)"),
            QStringLiteral("K"), QString::number(defaults.cvFolds) },
        { QStringLiteral("cv-size"),
            QStringLiteral("input side of the cross-validated fine-tunes (0 = auto: --size on CUDA, at most 128 on "
                           "the CPU)"),
            QStringLiteral("PX"), QString::number(defaults.cvSize) },
        { QStringLiteral("score"),
            QStringLiteral("scoring after training: honest | frozen | in-sample | fastai | none"), QStringLiteral("M"),
            QStringLiteral("honest") },
        { QStringLiteral("out"), QStringLiteral("run folder to write"), QStringLiteral("RUN_DIR") },
        { QStringLiteral("json"), QStringLiteral("one JSON object per epoch per line") },
    });
    if (const auto exitCode = parseArguments(p, QStringLiteral("train"), args))
        return *exitCode;
    QTextStream err(stderr);
    QTextStream out(stdout);
    if (p.positionalArguments().size() != 1) {
        err << "winnow train: give exactly one dataset folder (see --help)\n";
        return 2;
    }
    bool ok = true;
    auto intOpt = [&](const char* name) {
        bool good = false;
        const int v = p.value(QLatin1String(name)).toInt(&good);
        if (!good || v < 0) {
            err << "winnow train: --" << name << " needs a non-negative integer\n";
            ok = false;
        }
        return v;
    };
    TrainConfig cfg;
    cfg.arch = p.value(QStringLiteral("arch"));
    const bool weightsGiven = p.isSet(QStringLiteral("weights"));
    cfg.weights = weightsGiven ? p.value(QStringLiteral("weights")) : defaultPretrainedWeights(cfg.arch);
    cfg.epochs = intOpt("epochs");
    cfg.freezeEpochs = intOpt("freeze-epochs");
    cfg.size = intOpt("size");
    cfg.batchSize = intOpt("bs");
    cfg.threads = intOpt("threads");
    cfg.cvFolds = intOpt("cv-folds");
    cfg.cvSize = intOpt("cv-size");
    cfg.baseLr = p.value(QStringLiteral("lr")).toDouble();
    cfg.validPct = p.value(QStringLiteral("valid-pct")).toDouble();
    cfg.seed = p.value(QStringLiteral("seed")).toULongLong();
    cfg.device = p.value(QStringLiteral("device"));
    cfg.augment = !p.isSet(QStringLiteral("no-augment"));
    if (!ok)
        return 2;
    if (cfg.size < 32 || cfg.batchSize < 1 || cfg.epochs + cfg.freezeEpochs < 1) {
        err << "winnow train: need --size >= 32, --bs >= 1 and at least one epoch\n";
        return 2;
    }
    if (cfg.cvFolds > 8) {
        err << "winnow train: --cv-folds must be between 0 and 8\n";
        return 2;
    }
    if (cfg.validPct <= 0 || cfg.validPct >= 1) {
        err << "winnow train: --valid-pct must be between 0 and 1\n";
        return 2;
    }
    const QString scoreName = p.value(QStringLiteral("score"));
    std::optional<ScoreOptions::Method> method;
    if (scoreName != QLatin1String("none")) {
        method = parseScoreMethod(scoreName);
        if (!method) {
            err << "winnow train: unknown --score method '" << scoreName << "'\n";
            return 2;
        }
    }
    if (!cfg.weights.isEmpty() && !QFileInfo(cfg.weights).isFile()) {
        err << "winnow train: weights file not found: " << cfg.weights << '\n';
        return 1;
    }

    ScanOptions scanOptions;
    scanOptions.validPct = cfg.validPct;
    scanOptions.seed = cfg.seed;
    const auto scan = scanDataset(p.positionalArguments().constFirst(), scanOptions);
    if (!scan.ok()) {
        err << "winnow train: " << scan.error << '\n';
        return 1;
    }
    // Pin the split this run trains on, so that files added or moved later do not reshuffle it.
    if (QString why; !persistSplits(*scan.dataset, &why))
        err << "warning: " << why << '\n';
    const bool json = p.isSet(QStringLiteral("json"));
    if (!json) {
        const auto& ds = *scan.dataset;
        out << "dataset " << ds.root << ": " << ds.vocab.size() << " classes, " << ds.count(Split::Train) << " train / "
            << ds.count(Split::Valid) << " valid";
        if (const auto bad = ds.unreadable().size())
            out << ", " << bad << " unreadable files skipped";
        out << '\n';
        if (cfg.weights.isEmpty())
            out << (weightsGiven ? "training from random initialisation (--weights \"\")\n"
                                 : "warning: no pretrained weights found for this architecture: training from random "
                                   "initialisation (pass --weights FILE)\n");
        else if (!weightsGiven)
            out << "pretrained weights: " << QDir::toNativeSeparators(cfg.weights) << '\n';
        printEpochHeader(out);
        out.flush();
    }

    Engine engine;
    EngineCallbacks cb;
    cb.epoch = [&](const EpochStats& e) {
        if (json) {
            const QJsonObject o { { QStringLiteral("epoch"), e.epoch },
                { QStringLiteral("stage"), e.stage == 0 ? QStringLiteral("frozen") : QStringLiteral("unfrozen") },
                { QStringLiteral("train_loss"), e.trainLoss }, { QStringLiteral("valid_loss"), e.validLoss },
                { QStringLiteral("error_rate"), e.errorRate }, { QStringLiteral("accuracy"), e.accuracy },
                { QStringLiteral("seconds"), e.seconds } };
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        } else {
            out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                       .arg(e.epoch, -6)
                       .arg(e.stage == 0 ? QStringLiteral("frozen") : QStringLiteral("unfrozen"), -9)
                       .arg(e.trainLoss, -11, 'f', 6)
                       .arg(e.validLoss, -11, 'f', 6)
                       .arg(e.errorRate, -11, 'f', 6)
                       .arg(formatTime(e.seconds));
        }
        out.flush();
    };
    auto status = engine.train(*scan.dataset, cfg, cb);
    if (!status.ok()) {
        err << "winnow train: " << status.message << '\n';
        return 1;
    }
    warnUnreadable(err, QStringLiteral("train"), engine.runInfo().unreadableFiles, QStringLiteral("while training"));
    const QString runDir = p.value(QStringLiteral("out"));
    if (!runDir.isEmpty()) {
        status = engine.saveRun(runDir);
        if (!status.ok()) {
            err << "winnow train: " << status.message << '\n';
            return 1;
        }
        if (method) {
            ScoreOptions so;
            so.method = *method;
            ScoreSet scores;
            status = engine.score(*scan.dataset, so, &scores);
            warnUnreadable(err, QStringLiteral("train"), scores.unreadable, QStringLiteral("while scoring"));
            QString werr;
            if (!status.ok() || !writeScores(runDir, scores, &werr)) {
                err << "winnow train: scoring failed: " << (status.ok() ? werr : status.message) << '\n';
                return 1;
            }
            status = engine.saveRun(runDir); // records the score method
        }
        if (!json)
            out << "run written to " << QDir(runDir).absolutePath() << '\n';
    }
    return 0;
}
