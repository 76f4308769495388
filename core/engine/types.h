// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/dataset/dataset.h"

namespace Winnow {

/// Everything that defines a training run. Plain value type; no torch in sight.
struct TrainConfig
{
    QString arch = QStringLiteral("mobilenet_v2"); ///< resnet18 | resnet34 | resnet50 | mobilenet_v2
    QString weights; ///< pretrained .safetensors (torchvision names); empty = random init
    int size = 224; ///< square input side in pixels (fastai's default; tests and the benchmark use 128)
    int batchSize = 32;
    int epochs = 1; ///< unfrozen epochs of fine_tune (plus freezeEpochs frozen)
    int freezeEpochs = 1;
    double baseLr = 2e-3;
    double validPct = 0.2;
    quint64 seed = 42;
    QString device = QStringLiteral("auto"); ///< auto | cpu | cuda
    int threads = 0; ///< torch intra-op threads; 0 = choose from the core count
    bool augment = true; ///< RandomResizedCrop + aug_transforms on the train split
    /// Cross-validated fine-tunes for honest scores of the train split: the train files are dealt into this many
    /// folds by content, and one more model is fine-tuned (same recipe) without each fold to score it. 0 or 1: none
    /// (train images are then scored by K-fold heads on frozen pretrained features).
    int cvFolds = 2;
    /// Input side of the cross-validated fine-tunes (never above `size`). 0 = automatic: `size` on CUDA, at most 128
    /// on the CPU, where two fine-tunes at 224 px would double the time to the first ranking. A trained run records
    /// the side it used.
    int cvSize = 0;
};

/// Every architecture the engine trains, by name (core/nn/arch.h): resnet18, resnet34, resnet50, mobilenet_v2, tiny.
QStringList architectureNames();
/// Those with published ImageNet weights, the ones to offer a user: all but `tiny` (the test network).
QStringList pretrainedArchitectureNames();

/// One row of the epoch table (fastai's columns). `stage` 0 = frozen, 1 = unfrozen.
struct EpochStats
{
    int epoch = 0; ///< 0-based over the whole fine_tune
    int stage = 0;
    double trainLoss = 0; ///< fastai's smoothed average (AvgSmoothLoss beta 0.98, debiased)
    double validLoss = 0;
    double errorRate = 0;
    double accuracy = 0;
    double seconds = 0;
    int trainSamples = 0; ///< images trained on in this epoch (files unreadable since the scan are left out)
    int validSamples = 0; ///< images the valid metrics of this epoch average over
};

/// Training progress, throttled by the worker to about 10 per second.
struct TrainProgress
{
    int epoch = 0;
    int totalEpochs = 0;
    int batch = 0;
    int batchesPerEpoch = 0;
    double smoothLoss = 0;
    QString phase; ///< "train", "valid", "score", "features", ...
};

/// Which model produced an image's score.
enum class ScoreKind : quint8 {
    OutOfSample, ///< the scoring model never trained on this image (valid split, or a K-fold head that held it out)
    InSample ///< the model trained on this image (fastai's cleaner ranking)
};

/// The score of one readable image.
struct ScoreRecord
{
    QString file; ///< relative to the dataset root
    Split split = Split::Train;
    int given = -1; ///< label index (vocab); -1 for unlabeled
    int predicted = -1;
    QVector<float> probs; ///< per class
    double loss = 0; ///< cross-entropy against `given`
    double pPredicted = 0;
    double pGiven = 0;
    double margin = 0; ///< p(given) - max p(other)
    double entropy = 0;
    ScoreKind kind = ScoreKind::OutOfSample;
    /// Which models produced `probs` (ScoreSource bits; scoreSourceName): the fine-tuned model and/or the
    /// cross-validated fine-tunes that never trained on the file, the frozen-feature K-fold heads, or a model that
    /// trained on it.
    quint16 source = 0;
    bool issue = false; ///< flagged as a likely label error (core/metrics/labelissues.h); labeled records only
    int suggested = -1; ///< the likely right class: the confident class when flagged, else `predicted`; -1 unlabeled
};

/// ScoreRecord::source bits.
enum ScoreSource : quint16 {
    SourceModel = 1, ///< the fine-tuned model (with its newest head)
    SourceFrozenKFold = 2, ///< K-fold logistic heads on frozen pretrained features
    SourceInSample = 4, ///< a model that trained on the file (in-sample / fastai ranking)
    SourceNeighbours = 8, ///< the labels of the file's nearest neighbours in frozen-feature space (never its own)
    SourceCrossValBase = 256 ///< bit 8 + k: cross-validated fine-tune k (which held the file's fold out)
};

/// All scores of one scoring pass, with what is needed to interpret them.
struct ScoreSet
{
    QString datasetRoot;
    QStringList vocab;
    QVector<ScoreRecord> records; ///< one per readable image (labeled and unlabeled), any order
    int round = 0; ///< cleaning round that produced it (0 = first training)
    QString runDir; ///< where it is stored, if saved
    bool isEmpty() const
    {
        return records.isEmpty();
    }
    int estimatedErrors = -1; ///< likely label errors (cleanlab's num_label_issues); -1 = not estimated
    QVector<int> issuePairs; ///< vocab.size()^2, row-major [given * n + true]: estimatedErrors per class pair
    /// Files of the dataset that could not be decoded when this pass ran (deleted or damaged since the scan),
    /// relative paths: they have no record (a score from blank pixels would rank as nonsense).
    QStringList unreadable;
};

/// How to score. The default is honest (out-of-sample) scores for every labeled image.
struct ScoreOptions
{
    enum class Method : quint8 {
        Honest, ///< default: every file by fine-tuned models that never trained on it (cross-validated fine-tunes
                ///< for the train split; the model and the fine-tunes for the rest); FrozenKFold without them
        InSample, ///< every image from the fine-tuned model, validation transforms (deterministic)
        FastaiFaithful, ///< fastai's cleaner: train images with train-time augmentation (non-deterministic)
        FrozenKFold ///< cleanlab's recipe: K-fold heads on frozen pretrained features (valid: averaged with the model)
    };
    Method method = Method::Honest;
    int folds = 5; ///< K of the frozen-feature K-fold heads
    /// Honest method: weight of the frozen-feature K-fold heads' probabilities in the labeled files' scores (the
    /// fine-tuned networks get 1 - weight); 0 = fine-tuned networks alone.
    double frozenWeight = 0.75;
    /// Honest method: weight of the label agreement of each labeled file's nearest neighbours in frozen-feature
    /// space (nn::neighbourLabelProbs; the file's own label never votes), mixed in last; 0 = off.
    double neighbourWeight = 0.5;
    /// How many neighbours vote (at most; never more than half the smallest class, so that a small class is not
    /// outvoted by its neighbours for want of members).
    int neighbours = 10;
};

/// Result of one round (training or quick retrain), for the round history.
struct RoundSummary
{
    int round = 0;
    QString kind; ///< "fine-tune" or "head retrain"
    double errorRate = 0;
    double validLoss = 0;
    int filesChanged = 0; ///< files moved/deleted/labelled since the previous round
    double seconds = 0;
    /// The previous round's model and this one on the same validation files (matched by content, so a relabelled
    /// file counts once, with its current label; deleted and new files are left out): how many, and both error
    /// rates. compared 0 = not computed (first round, or no common files).
    int compared = 0;
    double previousErrorOnCompared = 0;
    double errorOnCompared = 0;
};

} // namespace Winnow

Q_DECLARE_METATYPE(Winnow::ScoreSet)
Q_DECLARE_METATYPE(Winnow::RoundSummary)
Q_DECLARE_METATYPE(Winnow::TrainConfig)
Q_DECLARE_METATYPE(Winnow::EpochStats)
Q_DECLARE_METATYPE(Winnow::TrainProgress)
Q_DECLARE_METATYPE(Winnow::ScoreRecord)
