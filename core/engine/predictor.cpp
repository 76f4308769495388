// SPDX-License-Identifier: GPL-3.0-or-later
// Inference with exported model files: validation of the file, the engine's preprocessing and forward pass.
#include "core/engine/predictor.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include <opencv2/core.hpp>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>
#include <QtEndian>

#include "core/engine/types.h"
#include "core/imaging/cvimage.h"
#include "core/imaging/loader.h"
#include "core/imaging/transforms.h"
#include "core/nn/device.h"
#include "core/nn/gradcam.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/nn/weights.h"

namespace Winnow {

namespace {

/// One ready batch as a BatchSource, so inference goes through the engine's own nn::predict / extractFeatures.
class TensorSource final : public nn::BatchSource
{
public:
    explicit TensorSource(torch::Tensor images)
        : m_images(std::move(images))
    { }
    int64_t batchesPerEpoch() override
    {
        return 1;
    }
    void startEpoch(int) override
    {
        m_done = false;
    }
    bool next(torch::Tensor& images, torch::Tensor& labels) override
    {
        if (m_done)
            return false;
        images = m_images;
        labels = torch::Tensor();
        m_done = true;
        return true;
    }

private:
    torch::Tensor m_images;
    bool m_done = false;
};

QString stripWhat(const std::string& what, const std::string& prefix)
{
    QString s = QString::fromStdString(what);
    const QString p = QString::fromStdString(prefix) + QStringLiteral(": ");
    if (s.startsWith(p))
        s = s.mid(p.size());
    return s;
}

/// torchvision's Resize(resize) (shorter side, the other truncated) + CenterCrop(crop), normalised NCHW floats.
/// `seen` (optional): the part of `rgb` the crop keeps, normalised.
std::vector<float> imagenetTensor(const cv::Mat& rgb, int resize, int crop, QString* error, QRectF* seen = nullptr)
{
    if (rgb.empty()) {
        if (error && error->isEmpty())
            *error = QStringLiteral("cannot decode image");
        return {};
    }
    const int w = rgb.cols, h = rgb.rows;
    int ow, oh;
    if (w <= h) {
        ow = resize;
        oh = int(qint64(resize) * h / w);
    } else {
        oh = resize;
        ow = int(qint64(resize) * w / h);
    }
    cv::Mat resized;
    resizeTo(rgb, resized, cv::Size(ow, oh));
    if (ow < crop || oh < crop) { // only for resize < crop: pad like torchvision's CenterCrop
        cv::Mat padded(std::max(oh, crop), std::max(ow, crop), CV_8UC3, cv::Scalar::all(0));
        resized.copyTo(padded(cv::Rect((padded.cols - ow) / 2, (padded.rows - oh) / 2, ow, oh)));
        resized = padded;
    }
    const cv::Rect box((resized.cols - crop) / 2, (resized.rows - crop) / 2, crop, crop);
    if (seen) // in the resized image's coordinates, which (before any padding) scale the original's
        *seen = QRectF(double(box.x - (resized.cols - ow) / 2) / ow, double(box.y - (resized.rows - oh) / 2) / oh,
            double(crop) / ow, double(crop) / oh);
    const cv::Mat cropped = resized(box).clone();
    std::vector<float> out(size_t(3) * crop * crop);
    normalizeToFloat(cropped, out.data(), false);
    return out;
}

} // namespace

QJsonObject Prediction::toJson(const QStringList& vocab) const
{
    QJsonObject o;
    if (!file.isEmpty())
        o.insert(QStringLiteral("file"), file);
    if (!ok()) {
        o.insert(QStringLiteral("error"), error.isEmpty() ? QStringLiteral("no prediction") : error);
        return o;
    }
    o.insert(QStringLiteral("label"), label);
    o.insert(QStringLiteral("index"), index);
    QJsonObject probs;
    for (int i = 0; i < probabilities.size() && i < vocab.size(); ++i)
        probs.insert(vocab.at(i), double(probabilities[i]));
    o.insert(QStringLiteral("probabilities"), probs);
    return o;
}

struct Predictor::Private
{
    enum class Kind { None, Fastai, LinearProbe, ImageNet };

    PredictorOptions options;
    Kind kind = Kind::None;
    ModelInfo info;
    QString source;
    int resize = 0; ///< imagenet: the shorter side before the crop
    bool renormalise = false; ///< the file's mean/std differ from the loader's ImageNet statistics

    // Modules are mutated by nn::predict (moveModule, eval): every use holds `forwardMutex`.
    mutable std::mutex forwardMutex;
    mutable nn::Classifier classifier { nullptr };
    mutable nn::ImageNetNet imagenet { nullptr };
    nn::LogisticHead probe;
    nn::RunOptions run;

    void reset()
    {
        kind = Kind::None;
        info = {};
        classifier = nullptr;
        imagenet = nullptr;
        probe = {};
        renormalise = false;
    }

    bool setDevice(QString* error)
    {
        try {
            run.device = nn::resolveDevice(options.device.toStdString());
        } catch (const std::exception& e) {
            if (error)
                *error = QString::fromStdString(e.what());
            return false;
        }
        run.amp = nn::AmpMode::Auto;
        run.channelsLast = run.device.is_cuda();
        return true;
    }

    /// The loader normalises with ImageNet statistics; a file may declare others.
    void applyNormalisation(std::vector<float>& pixels) const
    {
        if (!renormalise || pixels.empty())
            return;
        const size_t plane = pixels.size() / 3;
        for (size_t c = 0; c < 3; ++c) {
            const float a = kImageNetStd[c] / info.std[c];
            const float b = (kImageNetMean[c] - info.mean[c]) / info.std[c];
            float* p = pixels.data() + c * plane;
            for (size_t i = 0; i < plane; ++i)
                p[i] = p[i] * a + b;
        }
    }

    /// The fastai validation transform's crop: squish to s x s (s = size + validationExtra), centre crop size.
    QRectF fastaiCrop() const
    {
        const int s = info.size + validationExtra(info.size);
        const cv::Rect box = centreCropBox(s, s, info.size, info.size);
        return QRectF(double(box.x) / s, double(box.y) / s, double(box.width) / s, double(box.height) / s);
    }

    std::vector<float> preprocessFile(const QString& path, QString* error, QRectF* seen = nullptr) const
    {
        if (kind == Kind::ImageNet) {
            DecodedImage decoded;
            const cv::Mat m = decodeFileToMat(path, DecodeOptions {}, decoded);
            if (!decoded.message.isEmpty() && error)
                *error = decoded.message;
            return m.empty() ? std::vector<float> {} : imagenetTensor(m, resize, info.size, error, seen);
        }
        if (seen)
            *seen = fastaiCrop();
        auto pixels = preprocessForInference(path, info.size, error);
        applyNormalisation(pixels);
        return pixels;
    }

    std::vector<float> preprocessBytes(const QByteArray& encoded, QString* error, QRectF* seen = nullptr) const
    {
        if (kind == Kind::ImageNet) {
            DecodedImage decoded;
            const cv::Mat m = decodeToMat(encoded, DecodeOptions {}, decoded);
            if (!decoded.message.isEmpty() && error)
                *error = decoded.message;
            return m.empty() ? std::vector<float> {} : imagenetTensor(m, resize, info.size, error, seen);
        }
        if (seen)
            *seen = fastaiCrop();
        auto pixels = preprocessForInference(encoded, info.size, error);
        applyNormalisation(pixels);
        return pixels;
    }

    /// Probabilities [n, C] (CPU float) for n preprocessed images laid out back to back.
    torch::Tensor forward(const float* pixels, int64_t n) const
    {
        const int64_t s = info.size;
        const auto images = torch::from_blob(const_cast<float*>(pixels), { n, 3, s, s }, torch::kFloat32);
        std::lock_guard<std::mutex> lock(forwardMutex);
        nn::PredictOptions po;
        po.run = run;
        switch (kind) {
        case Kind::Fastai: {
            TensorSource src(images);
            return nn::predict(classifier, src, po).probs;
        }
        case Kind::LinearProbe: {
            TensorSource src(images);
            return probe.probs(nn::extractFeatures(classifier, src, po));
        }
        case Kind::ImageNet:
            return nn::predict(imagenet, images, run);
        case Kind::None:
            break;
        }
        throw std::logic_error("no model loaded");
    }

    void fill(Prediction& p, const float* probs) const
    {
        const int c = int(info.vocab.size());
        p.probabilities = QVector<float>(probs, probs + c);
        p.index = int(std::max_element(probs, probs + c) - probs);
        p.label = info.vocab.at(p.index);
    }

    Prediction predictOne(std::vector<float> pixels, Prediction p, const QString& error) const
    {
        if (pixels.empty()) {
            p.error = error.isEmpty() ? QStringLiteral("cannot read image") : error;
            return p;
        }
        try {
            const auto probs = forward(pixels.data(), 1).contiguous();
            fill(p, probs.data_ptr<float>());
        } catch (const std::exception& e) {
            p.error = QStringLiteral("inference failed: %1").arg(QString::fromStdString(e.what()));
        }
        return p;
    }

    /// Grad-CAM through the same modules as forward(): the fastai head, the linear probe on concat-pooled features,
    /// or the ImageNet classifier.
    Explanation explainOne(std::vector<float> pixels, Explanation e, const QString& error, int cls) const
    {
        if (pixels.empty()) {
            e.error = error.isEmpty() ? QStringLiteral("cannot read image") : error;
            return e;
        }
        const int classes = int(info.vocab.size());
        if (cls >= classes || cls < -1) {
            e.error = QStringLiteral("class %1 is out of range (%2 classes)").arg(cls).arg(classes);
            return e;
        }
        const int64_t s = info.size;
        const auto image = torch::from_blob(pixels.data(), { 1, 3, s, s }, torch::kFloat32);
        try {
            std::lock_guard<std::mutex> lock(forwardMutex);
            nn::GradCamResult r;
            switch (kind) {
            case Kind::Fastai:
                nn::moveModule(*classifier, run);
                classifier->eval();
                r = nn::gradCam(
                    *classifier->body, [this](const torch::Tensor& a) { return classifier->head->forward(a); }, image,
                    cls, run);
                break;
            case Kind::LinearProbe: {
                nn::moveModule(*classifier, run);
                classifier->eval();
                nn::AdaptiveConcatPool2d pool;
                r = nn::gradCam(
                    *classifier->body,
                    [&](const torch::Tensor& a) {
                        // LogisticHead::logits without its NoGradGuard: the gradient must reach the feature map.
                        const auto x = pool->forward(a).flatten(1).to(torch::kCPU, torch::kFloat);
                        return torch::addmm(probe.bias, (x - probe.mean) / probe.std, probe.weight.t());
                    },
                    image, cls, run);
                break;
            }
            case Kind::ImageNet:
                nn::moveModule(*imagenet, run);
                imagenet->eval();
                r = nn::gradCam(
                    *imagenet, [this](const torch::Tensor& a) { return imagenet->logitsFromBody(a); }, image, cls, run);
                break;
            case Kind::None:
                e.error = QStringLiteral("no model loaded");
                return e;
            }
            const auto probs = r.probs.contiguous();
            const float* p = probs.data_ptr<float>();
            e.classIndex = int(r.classIndex);
            e.label = info.vocab.at(e.classIndex);
            e.probability = p[e.classIndex];
            e.predictedIndex = int(std::max_element(p, p + classes) - p);
            e.predictedLabel = info.vocab.at(e.predictedIndex);
            e.predictedProbability = p[e.predictedIndex];
            const auto map = r.map.contiguous();
            e.gridHeight = int(map.size(0));
            e.gridWidth = int(map.size(1));
            e.heat = QVector<float>(map.data_ptr<float>(), map.data_ptr<float>() + map.numel());
        } catch (const std::exception& ex) {
            e.error = QStringLiteral("explanation failed: %1").arg(QString::fromStdString(ex.what()));
            e.heat.clear();
        }
        return e;
    }

    bool loadTensors(const QByteArray& bytes, const QString& name, QString* error);
};

/// Validates the container, then the metadata, then every tensor; builds the module. Nothing is kept on failure.
bool Predictor::Private::loadTensors(const QByteArray& bytes, const QString& name, QString* error)
{
    const QString who = QDir::toNativeSeparators(name);
    auto fail = [&](const QString& msg) {
        if (error)
            *error = who + QStringLiteral(": ") + msg;
        return false;
    };
    auto notModel = [&](const QString& why) { return fail(QStringLiteral("not a Winnow model file (%1)").arg(why)); };
    auto corrupt = [&](const QString& why) { return fail(QStringLiteral("corrupt Winnow model file: ") + why); };

    // Peek at the container before trusting it: a foreign file gets "not a model", a damaged model "corrupt".
    if (bytes.size() < 8)
        return bytes.isEmpty() ? notModel(QStringLiteral("the file is empty"))
                               : notModel(QStringLiteral("only %1 bytes: not a safetensors file").arg(bytes.size()));
    const bool claimsWinnow = bytes.mid(8, 1 << 16).contains("\"winnow-model\"");
    const quint64 headerLen = qFromLittleEndian<quint64>(bytes.constData());
    if (headerLen < 2 || headerLen > quint64(bytes.size() - 8))
        return claimsWinnow ? corrupt(QStringLiteral("truncated (the header claims %1 bytes, the file has %2)")
                                          .arg(headerLen)
                                          .arg(bytes.size()))
                            : notModel(QStringLiteral("not a safetensors file"));
    // The container first, with the same parser that reads the tensors (fuzzed: tests/fuzz/fuzz_modelfile.cpp).
    nn::SafetensorsLayout layout;
    try {
        layout = nn::parseSafetensorsHeader(bytes.constData(), size_t(bytes.size()), "safetensors");
    } catch (const std::exception& e) {
        const QString why = stripWhat(e.what(), "safetensors");
        return claimsWinnow ? corrupt(why) : notModel(QStringLiteral("not a safetensors file: ") + why);
    }
    const nn::Metadata& metadata = layout.metadata;
    QString mdError;
    const auto parsed = parseModelMetadata(metadata, &mdError);
    if (!parsed)
        return fail(mdError);

    nn::SafetensorsFile file;
    try {
        file = nn::parseSafetensors(bytes.constData(), size_t(bytes.size()), "safetensors");
    } catch (const std::exception& e) {
        return corrupt(stripWhat(e.what(), "safetensors"));
    }
    for (const auto& [k, t] : file.tensors)
        if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
            return corrupt(QStringLiteral("tensor '%1' holds NaN or infinite values").arg(QString::fromStdString(k)));

    const auto arch = nn::parseArch(parsed->arch.toStdString());
    const int64_t classes = parsed->vocab.size();
    try {
        if (parsed->kind == QLatin1String("fastai")) {
            nn::HeadOptions ho;
            ho.hidden = parsed->headHidden;
            nn::Classifier model(*arch, classes, ho);
            nn::loadStateDict(*model, file.tensors, true);
            model->eval();
            classifier = model;
            kind = Kind::Fastai;
        } else {
            nn::TensorMap body, head;
            for (const auto& [k, t] : file.tensors) {
                if (k.rfind("body.", 0) == 0)
                    body.emplace(k.substr(5), t);
                else if (k.rfind("probe.", 0) == 0)
                    head.emplace(k, t);
                else
                    return corrupt(QStringLiteral("unexpected tensor '%1'").arg(QString::fromStdString(k)));
            }
            auto lh = nn::LogisticHead::fromTensors(head, "probe.");
            const int64_t dim = 2 * nn::archFeatureChannels(*arch);
            if (lh.weight.size(0) != classes || lh.weight.size(1) != dim)
                return corrupt(QStringLiteral("probe.weight is [%1, %2], expected [%3, %4] (%3 classes)")
                                   .arg(lh.weight.size(0))
                                   .arg(lh.weight.size(1))
                                   .arg(classes)
                                   .arg(dim));
            nn::Classifier model(*arch, classes);
            try {
                nn::loadStateDict(*model->body, body, true);
            } catch (const nn::WeightsError& e) {
                // Name the tensors as they appear in the file.
                QString msg = QString::fromStdString(e.what());
                msg.replace(QStringLiteral("'"), QStringLiteral("'body."));
                msg.replace(QStringLiteral("'body.body."), QStringLiteral("'body."));
                return corrupt(msg);
            }
            model->eval();
            classifier = model;
            probe = lh;
            kind = Kind::LinearProbe;
        }
    } catch (const std::exception& e) {
        reset();
        return corrupt(QString::fromStdString(e.what()));
    }
    info = *parsed;
    source = name;
    renormalise = false;
    for (size_t c = 0; c < 3; ++c)
        if (info.mean[c] != kImageNetMean[c] || info.std[c] != kImageNetStd[c])
            renormalise = true;
    return true;
}

Predictor::Predictor(const PredictorOptions& options)
    : d(std::make_unique<Private>())
{
    d->options = options;
    d->options.batchSize = std::max(1, options.batchSize);
}

Predictor::~Predictor() = default;

bool Predictor::load(const QString& modelFile, QString* error)
{
    d->reset();
    const QFileInfo fi(modelFile);
    auto fail = [&](const QString& msg) {
        if (error)
            *error = QDir::toNativeSeparators(modelFile) + QStringLiteral(": ") + msg;
        return false;
    };
    if (!fi.exists())
        return fail(QStringLiteral("no such file"));
    if (fi.isDir())
        return fail(QStringLiteral("is a folder (export a run folder with 'winnow export RUN_DIR --out FILE')"));
    if (fi.size() > kMaxModelFileBytes)
        return fail(
            QStringLiteral("not a Winnow model file (%1 MB is larger than any supported model)").arg(fi.size() >> 20));
    QFile f(modelFile);
    if (!f.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read: %1").arg(f.errorString()));
    const QByteArray bytes = f.readAll();
    if (bytes.size() != fi.size())
        return fail(QStringLiteral("read error"));
    return loadFromBytes(bytes, modelFile, error);
}

bool Predictor::loadFromBytes(const QByteArray& bytes, const QString& name, QString* error)
{
    d->reset();
    if (!d->setDevice(error))
        return false;
    return d->loadTensors(bytes, name, error);
}

bool Predictor::loadRun(const QString& runDir, QString* error, const ExportOptions& exportOptions)
{
    d->reset();
    const QByteArray bytes = buildModelFile(runDir, exportOptions, error);
    if (bytes.isEmpty())
        return false;
    return loadFromBytes(bytes, runDir, error);
}

bool Predictor::loadImageNet(
    const QString& archName, const QString& weights, const QString& labelsFile, QString* error, int size)
{
    d->reset();
    auto fail = [&](const QString& msg) {
        d->reset();
        if (error)
            *error = msg;
        return false;
    };
    const auto arch = nn::parseArch(archName.toStdString());
    if (!arch)
        return fail(QStringLiteral("unknown architecture '%1' (use %2)")
                        .arg(archName, architectureNames().join(QStringLiteral(", "))));
    if (size < 16 || size > 2048)
        return fail(QStringLiteral("size %1 is out of range (16..2048)").arg(size));
    QFile lf(labelsFile);
    if (!lf.open(QIODevice::ReadOnly | QIODevice::Text))
        return fail(
            QStringLiteral("%1: cannot read labels: %2").arg(QDir::toNativeSeparators(labelsFile), lf.errorString()));
    QStringList labels;
    for (const QByteArray& line : lf.readAll().split('\n')) {
        const QString l = QString::fromUtf8(line).trimmed();
        if (!l.isEmpty())
            labels << l;
    }
    if (labels.size() < 2)
        return fail(QStringLiteral("%1: %2 labels (one class name per line expected)")
                        .arg(QDir::toNativeSeparators(labelsFile))
                        .arg(labels.size()));
    if (!d->setDevice(error))
        return false;
    try {
        nn::ImageNetNet net(*arch, labels.size());
        auto tensors = nn::readSafetensors(weights.toStdString());
        try {
            nn::loadStateDict(*net, tensors, true);
        } catch (const nn::WeightsError& e) {
            return fail(QStringLiteral("%1: %2 (do the labels (%3 lines) match the weights?)")
                            .arg(QDir::toNativeSeparators(weights), QString::fromStdString(e.what()))
                            .arg(labels.size()));
        }
        net->eval();
        d->imagenet = net;
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
    d->kind = Private::Kind::ImageNet;
    d->info = {};
    d->info.arch = QString::fromStdString(nn::archName(*arch));
    d->info.kind = QStringLiteral("imagenet");
    d->info.vocab = labels;
    d->info.size = size;
    d->resize = int(std::lround(size * 256.0 / 224.0));
    d->info.transform = QStringLiteral("resize_short:%1,center_crop:%2").arg(d->resize).arg(size);
    for (size_t c = 0; c < 3; ++c) {
        d->info.mean[c] = kImageNetMean[c];
        d->info.std[c] = kImageNetStd[c];
    }
    d->source = weights;
    return true;
}

bool Predictor::isLoaded() const
{
    return d->kind != Private::Kind::None;
}

const ModelInfo& Predictor::info() const
{
    return d->info;
}

QStringList Predictor::vocab() const
{
    return d->info.vocab;
}

int Predictor::size() const
{
    return d->info.size;
}

QString Predictor::device() const
{
    return QString::fromStdString(d->run.device.str());
}

QJsonObject Predictor::metadata() const
{
    QJsonObject o = d->info.toJson();
    if (d->kind == Private::Kind::ImageNet)
        o.insert(QStringLiteral("format"), QStringLiteral("torchvision-safetensors"));
    o.insert(QStringLiteral("source"), QFileInfo(d->source).fileName());
    o.insert(QStringLiteral("device"), device());
    return o;
}

Prediction Predictor::predict(const QString& path) const
{
    Prediction p;
    p.file = path;
    if (!isLoaded()) {
        p.error = QStringLiteral("no model loaded");
        return p;
    }
    QString error;
    auto pixels = d->preprocessFile(path, &error);
    return d->predictOne(std::move(pixels), p, error);
}

Prediction Predictor::predict(const QByteArray& encoded) const
{
    Prediction p;
    if (!isLoaded()) {
        p.error = QStringLiteral("no model loaded");
        return p;
    }
    if (encoded.isEmpty()) {
        p.error = QStringLiteral("empty image");
        return p;
    }
    QString error;
    auto pixels = d->preprocessBytes(encoded, &error);
    return d->predictOne(std::move(pixels), p, error);
}

QVector<Prediction> Predictor::predictFiles(
    const QStringList& files, const std::function<void(int, int)>& progress) const
{
    QVector<Prediction> out(files.size());
    for (int i = 0; i < files.size(); ++i)
        out[i].file = files.at(i);
    if (!isLoaded()) {
        for (auto& p : out)
            p.error = QStringLiteral("no model loaded");
        return out;
    }
    struct Item
    {
        std::vector<float> pixels;
        QString error;
    };
    const int bs = d->options.batchSize;
    const size_t floats = size_t(3) * d->info.size * d->info.size;
    std::vector<float> batch;
    // Decoding on a pool of its own: the Predict page runs this as a task of the global pool, and blockingMapped only
    // waits, so on a saturated (or one-thread) global pool it would wait for ever for work queued behind itself.
    QThreadPool pool;
    pool.setMaxThreadCount(QThread::idealThreadCount());
    for (int start = 0; start < files.size(); start += bs) {
        const QStringList chunk = files.mid(start, bs);
        const QList<Item> items = QtConcurrent::blockingMapped(&pool, chunk, [this](const QString& path) {
            Item it;
            it.pixels = d->preprocessFile(path, &it.error);
            return it;
        });
        batch.clear();
        std::vector<int> rows;
        for (int i = 0; i < items.size(); ++i) {
            if (items[i].pixels.size() != floats) {
                out[start + i].error = items[i].error.isEmpty() ? QStringLiteral("cannot read image") : items[i].error;
                continue;
            }
            batch.insert(batch.end(), items[i].pixels.begin(), items[i].pixels.end());
            rows.push_back(start + i);
        }
        if (!rows.empty()) {
            try {
                const auto probs = d->forward(batch.data(), int64_t(rows.size())).contiguous();
                const float* p = probs.data_ptr<float>();
                for (size_t r = 0; r < rows.size(); ++r)
                    d->fill(out[rows[r]], p + r * d->info.vocab.size());
            } catch (const std::exception& e) {
                for (int r : rows)
                    out[r].error = QStringLiteral("inference failed: %1").arg(QString::fromStdString(e.what()));
            }
        }
        if (progress)
            progress(std::min(int(files.size()), start + bs), int(files.size()));
    }
    return out;
}

Explanation Predictor::explain(const QString& path, int classIndex) const
{
    Explanation e;
    e.file = path;
    if (!isLoaded()) {
        e.error = QStringLiteral("no model loaded");
        return e;
    }
    QString error;
    auto pixels = d->preprocessFile(path, &error, &e.crop);
    return d->explainOne(std::move(pixels), e, error, classIndex);
}

Explanation Predictor::explain(const QByteArray& encoded, int classIndex) const
{
    Explanation e;
    if (!isLoaded()) {
        e.error = QStringLiteral("no model loaded");
        return e;
    }
    if (encoded.isEmpty()) {
        e.error = QStringLiteral("empty image");
        return e;
    }
    QString error;
    auto pixels = d->preprocessBytes(encoded, &error, &e.crop);
    return d->explainOne(std::move(pixels), e, error, classIndex);
}

} // namespace Winnow
