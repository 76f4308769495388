// SPDX-License-Identifier: GPL-3.0-or-later
// Export of a run folder to the single-file model format. The format's metadata is core/engine/modelinfo.cpp.
#include "core/engine/modelfile.h"

#include <cmath>

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include "core/engine/run.h"
#include "core/imaging/loader.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/weights.h"
#include "core/util/atomicfile.h"

namespace Winnow {

namespace {

QJsonObject provenanceFor(const RunInfo& run, const QString& runDir, const QString& kind)
{
    QJsonObject p { { QStringLiteral("exported"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate) },
        { QStringLiteral("winnow_version"), QStringLiteral(WINNOW_VERSION) },
        { QStringLiteral("run"), QFileInfo(runDir).fileName() },
        { QStringLiteral("dataset"), QFileInfo(run.datasetRoot).fileName() },
        { QStringLiteral("run_created"), run.created.toString(Qt::ISODate) },
        { QStringLiteral("train_images"), run.trainFiles.size() },
        { QStringLiteral("valid_images"), run.validFiles.size() },
        { QStringLiteral("pretrained_weights"), QFileInfo(run.config.weights).fileName() },
        { QStringLiteral("epochs"), run.config.epochs }, { QStringLiteral("freeze_epochs"), run.config.freezeEpochs } };
    if (!run.rounds.isEmpty()) {
        const auto& r = run.rounds.constLast();
        p.insert(QStringLiteral("round"), r.round);
        p.insert(QStringLiteral("round_kind"), r.kind);
        if (std::isfinite(r.errorRate))
            p.insert(QStringLiteral("error_rate"), r.errorRate);
        if (std::isfinite(r.validLoss))
            p.insert(QStringLiteral("valid_loss"), r.validLoss);
    }
    p.insert(QStringLiteral("model"), kind);
    return p;
}

} // namespace

QByteArray buildModelFile(const QString& runDir, const ExportOptions& options, QString* error, ModelInfo* infoOut)
{
    auto fail = [&](const QString& msg) {
        if (error)
            *error = msg;
        return QByteArray();
    };
    QString runError;
    const auto run = readRunInfo(runDir, &runError);
    if (!run)
        return fail(runError);
    const auto arch = nn::parseArch(run->config.arch.toStdString());
    if (!arch)
        return fail(QStringLiteral("run uses unknown architecture '%1'").arg(run->config.arch));
    if (run->vocab.size() < 2)
        return fail(QStringLiteral("run has %1 classes; a model needs at least 2").arg(run->vocab.size()));

    ModelInfo info;
    info.arch = QString::fromStdString(nn::archName(*arch));
    info.vocab = run->vocab;
    info.size = run->config.size;
    info.transform = fastaiTransformName(info.size);
    for (size_t c = 0; c < 3; ++c) {
        info.mean[c] = kImageNetMean[c];
        info.std[c] = kImageNetStd[c];
    }
    const int64_t classes = run->vocab.size();
    const QString weightsPath = QDir(runDir).filePath(QLatin1String(kModelFile));
    nn::TensorMap out;
    try {
        nn::TensorMap tensors = nn::readSafetensors(weightsPath.toStdString());
        const nn::TensorMap quick = nn::takePrefixed(tensors, "quickhead.");
        if (!quick.empty()) {
            // The engine predicts with the retrained head on features of the frozen (pretrained) body.
            info.kind = QStringLiteral("linear-probe");
            const auto head = nn::LogisticHead::fromTensors(quick, "quickhead.");
            nn::Body body(*arch);
            const QString pretrained = options.weights.isEmpty() ? run->config.weights : options.weights;
            if (pretrained.isEmpty()) {
                // No pretrained weights: the engine's features came from the fine-tuned body.
                nn::TensorMap bodyTensors;
                for (const auto& [k, v] : tensors)
                    if (k.rfind("body.", 0) == 0)
                        bodyTensors.emplace(k.substr(5), v);
                nn::loadStateDict(*body, bodyTensors, true);
            } else {
                if (!QFileInfo::exists(pretrained))
                    return fail(QStringLiteral("the run's head was retrained on features of the pretrained weights "
                                               "%1, which are missing; pass their new location (--weights)")
                                    .arg(QDir::toNativeSeparators(pretrained)));
                nn::loadPretrainedBody(*body, nn::readSafetensors(pretrained.toStdString()));
            }
            const int64_t dim = 2 * nn::archFeatureChannels(*arch);
            if (head.weight.dim() != 2 || head.weight.size(0) != classes || head.weight.size(1) != dim)
                return fail(QStringLiteral("the run's retrained head does not fit %1 classes x %2 features")
                                .arg(classes)
                                .arg(dim));
            for (const auto& [k, v] : nn::stateDict(*body))
                out.emplace("body." + k, v);
            for (const auto& [k, v] : head.toTensors("probe."))
                out.emplace(k, v.to(torch::kFloat32).contiguous());
        } else {
            info.kind = QStringLiteral("fastai");
            nn::Classifier model(*arch, classes);
            nn::loadStateDict(*model, tensors, true); // validates names and shapes against the run's vocab
            out = nn::stateDict(*model);
            info.headHidden = int(out.at("head.4.weight").size(0));
        }
    } catch (const std::exception& e) {
        return fail(QStringLiteral("cannot export %1: %2")
                        .arg(QDir::toNativeSeparators(runDir), QString::fromStdString(e.what())));
    }
    info.provenance = provenanceFor(*run, runDir, info.kind);
    std::string bytes;
    try {
        bytes = nn::serializeSafetensors(out, modelMetadata(info));
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
    if (infoOut)
        *infoOut = info;
    return QByteArray(bytes.data(), qsizetype(bytes.size()));
}

bool exportModel(
    const QString& runDir, const QString& outFile, const ExportOptions& options, QString* error, ModelInfo* info)
{
    const QByteArray bytes = buildModelFile(runDir, options, error, info);
    if (bytes.isEmpty())
        return false;
    const QFileInfo fi(outFile);
    if (fi.isDir()) {
        if (error)
            *error = QStringLiteral("%1 is a folder; give a file name").arg(QDir::toNativeSeparators(outFile));
        return false;
    }
    if (!fi.absoluteDir().exists() && !QDir().mkpath(fi.absolutePath())) {
        if (error)
            *error = QStringLiteral("cannot create folder %1").arg(QDir::toNativeSeparators(fi.absolutePath()));
        return false;
    }
    return writeFileAtomically(outFile, bytes, error);
}

} // namespace Winnow
