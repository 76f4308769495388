// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace Winnow {

/**
 * The exported model file ("winnow export RUN_DIR --out MODEL_FILE"): one safetensors file, so loading it runs no
 * code (no pickle), holding everything inference needs.
 *
 * Tensors (F32, plus I64 num_batches_tracked buffers):
 *   kind "fastai":        body.* and head.* = the fine-tuned nn::Classifier state dict (torchvision names under body.,
 *                         fastai's head indices under head.)
 *   kind "linear-probe":  body.* = the frozen feature body (pretrained weights, as the engine's head retrain used) and
 *                         probe.mean / probe.std / probe.weight / probe.bias = the nn::LogisticHead on its pooled
 *                         features (AdaptiveConcatPool: max || avg)
 * "__metadata__" (all strings, as safetensors requires):
 *   format "winnow-model", version "1", arch, kind, vocab (JSON array), size, mean and std (JSON arrays of 3 numbers,
 *   on RGB / 255), transform ("squish:<size + xtra>,center_crop:<size>", fastai's validation transform),
 *   head_hidden (fastai kind: the head's hidden width), provenance (JSON object: run, dataset, metrics; informative).
 *
 * Readers validate everything and never trust the file: see Predictor::load().
 */
inline constexpr char kModelFormatName[] = "winnow-model";
inline constexpr int kModelFormatVersion = 1;
/// Suggested file suffix (any name works).
inline constexpr char kModelFileSuffix[] = "winnow";
/// A model file larger than this is refused before reading (the largest supported model, resnet50, is ~100 MB).
inline constexpr qint64 kMaxModelFileBytes = qint64(1) << 30;

/// What a model file says about itself (its metadata, validated).
struct ModelInfo
{
    int version = kModelFormatVersion;
    QString arch; ///< resnet18 | resnet34 | resnet50 | mobilenet_v2
    QString kind; ///< "fastai" | "linear-probe" (files); "imagenet" for a plain pretrained network (not exported)
    QStringList vocab; ///< class names; output index i = vocab[i]
    int size = 0; ///< square input side
    std::array<float, 3> mean {};
    std::array<float, 3> std {};
    QString transform; ///< e.g. "squish:80,center_crop:64"
    int headHidden = 0; ///< fastai kind only
    QJsonObject provenance;

    /// The metadata as one JSON object (what GET /model returns).
    QJsonObject toJson() const;
};

/// The canonical transform string for fastai's validation path at `size` (squish to size + xtra, centre crop size).
QString fastaiTransformName(int size);

/**
 * Validates a safetensors "__metadata__" map as Winnow model metadata. Returns nullopt and sets *error (a sentence
 * for the user: "not a Winnow model file (...)", "unsupported Winnow model version 7 ...", "corrupt Winnow model
 * file: ...") on any problem. Torch-free: the map is the plain std::map of nn::Metadata.
 */
std::optional<ModelInfo> parseModelMetadata(const std::map<std::string, std::string>& metadata, QString* error);
/// The inverse of parseModelMetadata.
std::map<std::string, std::string> modelMetadata(const ModelInfo& info);

/// Options of an export.
struct ExportOptions
{
    /// The pretrained weights a head-retrained run's features came from; empty = the run's config.weights.
    QString weights;
};

/**
 * Builds the model file's bytes from a run folder (run.json + model.safetensors, see core/engine/run.h). The kind is
 * "linear-probe" when the run holds a retrained head (quickhead.* tensors: that head is what the engine predicts
 * with after a head-retrain round), else "fastai". Returns an empty array and sets *error on failure.
 * Not thread-affine; may take a second (reads and writes ~15-100 MB).
 */
QByteArray buildModelFile(
    const QString& runDir, const ExportOptions& options, QString* error, ModelInfo* info = nullptr);

/// buildModelFile() written atomically to `outFile` (QSaveFile: an existing file is replaced only on success).
bool exportModel(const QString& runDir, const QString& outFile, const ExportOptions& options, QString* error,
    ModelInfo* info = nullptr);

} // namespace Winnow
