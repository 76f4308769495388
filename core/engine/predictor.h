// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <memory>

#include <QByteArray>
#include <QImage>
#include <QJsonObject>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/engine/modelfile.h"

namespace Winnow {

/// The prediction for one image.
struct Prediction
{
    QString file; ///< the path as given (empty for in-memory bytes)
    int index = -1; ///< predicted class (argmax), -1 on error
    QString label; ///< vocab[index]
    QVector<float> probabilities; ///< one per class, vocab order, sum 1
    QString error; ///< why the image could not be predicted (unreadable, not an image); empty on success

    bool ok() const
    {
        return error.isEmpty() && index >= 0;
    }
    /// {file (when set), label, index, probabilities: {class: p}} or {file, error}. Same probability layout as the
    /// scores of `winnow score --json`.
    QJsonObject toJson(const QStringList& vocab) const;
};

/**
 * Why the model says what it says about one image: a Grad-CAM map (Selvaraju et al. 2017) over the last feature
 * map of the network, for one class. `heat` covers `crop`, the part of the original image the model saw (the
 * validation transform's centre crop), in normalised [0, 1] coordinates of the original image.
 */
struct Explanation
{
    QString file;
    int classIndex = -1; ///< the class explained
    QString label;
    float probability = 0; ///< the model's probability for that class
    int predictedIndex = -1; ///< the argmax of the same forward pass
    QString predictedLabel;
    float predictedProbability = 0;
    int gridWidth = 0, gridHeight = 0; ///< the feature map's size (7 x 7 at 224 px for every supported network)
    QVector<float> heat; ///< gridHeight x gridWidth values in [0, 1], row by row (1 = the strongest evidence)
    QRectF crop; ///< where the grid lies in the original image, normalised
    QString error; ///< why there is no explanation (unreadable image, bad class); empty on success

    bool ok() const
    {
        return error.isEmpty() && !heat.isEmpty();
    }
    /// The map bilinearly interpolated at a point of the original image (normalised coordinates); 0 outside crop.
    float heatAt(double x, double y) const;
    /// The share of the map's mass (sum of the interpolated heat over the image) inside `region` (normalised
    /// coordinates of the original image), 0..1; 0 for an all-zero map.
    double heatShare(const QRectF& region) const;
    /// The centre of mass of the map, in normalised coordinates of the original image.
    QPointF centroid() const;
    /// `original` with the map blended over it (a blue-to-red scale, `opacity` at full heat) and the part the model
    /// did not see dimmed; same size as `original`. A null image for a null original or a failed explanation.
    QImage overlay(const QImage& original, double opacity = 0.55) const;
    /// {file, class, probability, predicted, predicted_probability, grid: [w, h], crop: [x, y, w, h],
    ///  centroid: [x, y], heat: [...]} or {file, error}.
    QJsonObject toJson() const;
    /// The colour scale of overlay() (0 blue, 0.5 green-yellow, 1 red).
    static QRgb heatColour(float v);
};

struct PredictorOptions
{
    QString device = QStringLiteral("auto"); ///< auto | cpu | cuda | cuda:N (as the engine resolves it)
    int batchSize = 32; ///< images per forward pass in predictFiles()
};

/**
 * Inference with an exported model file (see modelfile.h), a run folder, or a plain pretrained ImageNet network.
 *
 * Preprocessing is exactly the training/scoring validation transform (preprocessForInference: decode, squish to
 * size + xtra, centre crop, normalise), and the forward pass is the engine's own (nn::predict / extractFeatures +
 * LogisticHead), so a model predicts here what the app computed for the same image.
 *
 * Thread-safety: load*() must not run concurrently with anything else on the same object. After a successful load,
 * the const predict functions may be called from any number of threads at once (decoding runs in parallel; the
 * forward pass is serialised by an internal mutex). LibTorch stays inside predictor.cpp.
 */
class Predictor
{
public:
    explicit Predictor(const PredictorOptions& options = {});
    ~Predictor();
    Predictor(const Predictor&) = delete;
    Predictor& operator=(const Predictor&) = delete;

    /**
     * Loads and validates a model file. Never throws; on failure returns false, leaves the predictor unloaded and
     * sets *error to a sentence naming the file and the fault: "not a Winnow model file (...)", "unsupported Winnow
     * model version 7 ...", "corrupt Winnow model file: missing tensor 'head.8.weight'", ...
     */
    bool load(const QString& modelFile, QString* error);
    /// Same from the file's bytes; `name` is used in messages.
    bool loadFromBytes(const QByteArray& bytes, const QString& name, QString* error);
    /// Loads a run folder's model directly (in memory, the same bytes `winnow export` would write).
    bool loadRun(const QString& runDir, QString* error, const ExportOptions& exportOptions = {});
    /**
     * A plain torchvision ImageNet network (no fine-tuning): `weights` = torchvision state dict (.safetensors),
     * `labelsFile` = one class name per line. Preprocessing is torchvision's reference: shorter side resized to
     * 256/224 x `size`, centre crop `size`, ImageNet mean/std. info().kind is "imagenet".
     */
    bool loadImageNet(
        const QString& arch, const QString& weights, const QString& labelsFile, QString* error, int size = 224);

    bool isLoaded() const;
    /// Valid after a successful load.
    const ModelInfo& info() const;
    QStringList vocab() const;
    int size() const;
    /// info().toJson() plus "device" and "source" (the file name).
    QJsonObject metadata() const;
    /// "cpu" or "cuda:N".
    QString device() const;

    /// Predicts one image file / one encoded image. Errors (unreadable file, not an image) come back in
    /// Prediction::error. Thread-safe.
    Prediction predict(const QString& path) const;
    Prediction predict(const QByteArray& encoded) const;
    /// Predicts many files in batches of PredictorOptions::batchSize, decoding in parallel; results in input order.
    /// `progress(done, total)` is called in the calling thread after each batch.
    QVector<Prediction> predictFiles(
        const QStringList& files, const std::function<void(int, int)>& progress = {}) const;

    /**
     * Grad-CAM for one image file and one class (`classIndex` -1: the predicted class). The same preprocessing and
     * network as predict(): probability equals predict()'s for that class. Costs one forward pass and the head's
     * backward (about a predict() on the CPU). Errors come back in Explanation::error. Thread-safe.
     */
    Explanation explain(const QString& path, int classIndex = -1) const;
    /// Same for one encoded image in memory.
    Explanation explain(const QByteArray& encoded, int classIndex = -1) const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Winnow
