// SPDX-License-Identifier: GPL-3.0-or-later
// The exported model file: export/load round trip (both kinds), predictions equal to a direct forward pass,
// and rejection of corrupt and foreign files with clear errors. Runs on generated runs (random weights): no ../shared.
#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <thread>

#include <torch/torch.h>

#include <QBuffer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include "core/engine/modelfile.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"
#include "core/imaging/loader.h"
#include "core/nn/logistic.h"
#include "core/nn/models.h"
#include "core/nn/weights.h"
#include "tests/engine/generatedrun.h"
#include "tests/syntheticdataset.h"

using namespace Winnow;

namespace {

constexpr int kSize = 64;
const QStringList kVocab { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };

GeneratedRun makeRun(const QString& dir, bool quick, uint64_t seed)
{
    return makeGeneratedRun(dir, kVocab, kSize, quick, seed);
}

/// Probabilities the generated model gives for an image, through preprocessForInference and a plain forward.
std::vector<float> reference(GeneratedRun run, const QString& image) // by value: the holders share the modules
{
    auto px = preprocessForInference(image, kSize);
    const auto x = torch::from_blob(px.data(), { 1, 3, kSize, kSize }, torch::kFloat32);
    torch::NoGradGuard g;
    torch::Tensor probs = run.head ? run.head->probs(run.model->features(x)) : torch::softmax(run.model->forward(x), 1);
    probs = probs.contiguous();
    return std::vector<float>(probs.data_ptr<float>(), probs.data_ptr<float>() + kVocab.size());
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// Rewrites the JSON header of a safetensors image (tensor data untouched).
QByteArray editHeader(const QByteArray& file, const std::function<void(QJsonObject&)>& edit)
{
    const quint64 n = qFromLittleEndian<quint64>(file.constData());
    QJsonObject header = QJsonDocument::fromJson(file.mid(8, qsizetype(n))).object();
    edit(header);
    QByteArray h = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (h.size() % 8)
        h.append(' ');
    QByteArray len(8, '\0');
    qToLittleEndian<quint64>(quint64(h.size()), len.data());
    return len + h + file.mid(8 + qsizetype(n));
}

QByteArray editMetadata(const QByteArray& file, const std::function<void(QJsonObject&)>& edit)
{
    return editHeader(file, [&](QJsonObject& h) {
        QJsonObject md = h.value(QStringLiteral("__metadata__")).toObject();
        edit(md);
        h.insert(QStringLiteral("__metadata__"), md);
    });
}

QByteArray pngBytes()
{
    QImage img(16, 16, QImage::Format_RGB888);
    img.fill(Qt::red);
    QByteArray out;
    QBuffer buf(&out);
    buf.open(QIODevice::WriteOnly);
    img.save(&buf, "PNG");
    return out;
}

} // namespace

class TestModelFile : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QStringList m_images;
    GeneratedRun m_fastai, m_probe;
    QString m_fastaiFile, m_probeFile;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Images of different sizes, aspect ratios and formats.
        const QList<QSize> sizes { { 120, 80 }, { 64, 64 }, { 50, 140 }, { 300, 200 } };
        for (int i = 0; i < sizes.size(); ++i) {
            const WinnowTest::ImageSpec picture {
                .size = sizes[i], .noise = 40, .stripes = 60, .stripeAngle = 45 * i, .seed = quint32(i)
            };
            const QString path = m_dir.filePath(QStringLiteral("img%1.%2").arg(i).arg(i % 2 ? "png" : "jpg"));
            QString error;
            QVERIFY2(WinnowTest::writeImage(path, picture, &error), qPrintable(error));
            m_images << path;
        }
        m_fastai = makeRun(m_dir.filePath(QStringLiteral("run-fastai")), false, 1);
        m_probe = makeRun(m_dir.filePath(QStringLiteral("run-probe")), true, 2);
        m_fastaiFile = m_dir.filePath(QStringLiteral("fastai.winnow"));
        m_probeFile = m_dir.filePath(QStringLiteral("probe.winnow"));
        QString error;
        QVERIFY2(
            exportModel(m_dir.filePath(QStringLiteral("run-fastai")), m_fastaiFile, {}, &error), qPrintable(error));
        QVERIFY2(exportModel(m_dir.filePath(QStringLiteral("run-probe")), m_probeFile, {}, &error), qPrintable(error));
    }

    void roundTrip_data()
    {
        QTest::addColumn<bool>("probe");
        QTest::newRow("fastai") << false;
        QTest::newRow("linear-probe") << true;
    }

    void roundTrip()
    {
        QFETCH(bool, probe);
        const GeneratedRun& run = probe ? m_probe : m_fastai;
        Predictor predictor(PredictorOptions { QStringLiteral("cpu"), 3 });
        QString error;
        QVERIFY2(predictor.load(probe ? m_probeFile : m_fastaiFile, &error), qPrintable(error));
        QVERIFY(predictor.isLoaded());
        const ModelInfo& info = predictor.info();
        QCOMPARE(info.kind, probe ? QStringLiteral("linear-probe") : QStringLiteral("fastai"));
        QCOMPARE(info.arch, QStringLiteral("mobilenet_v2"));
        QCOMPARE(info.vocab, kVocab);
        QCOMPARE(info.size, kSize);
        QCOMPARE(info.version, kModelFormatVersion);
        QCOMPARE(
            info.transform, QStringLiteral("squish:%1,center_crop:%2").arg(kSize + validationExtra(kSize)).arg(kSize));
        for (int c = 0; c < 3; ++c) {
            QCOMPARE(info.mean[size_t(c)], kImageNetMean[c]);
            QCOMPARE(info.std[size_t(c)], kImageNetStd[c]);
        }
        QCOMPARE(info.provenance.value(QStringLiteral("dataset")).toString(), QStringLiteral("bears"));
        const QJsonObject md = predictor.metadata();
        QCOMPARE(md.value(QStringLiteral("vocab")).toArray().size(), kVocab.size());
        QCOMPARE(md.value(QStringLiteral("format")).toString(), QStringLiteral("winnow-model"));

        // Single, batched and in-memory predictions all equal the direct forward pass.
        const auto batch = predictor.predictFiles(m_images);
        QCOMPARE(batch.size(), m_images.size());
        for (int i = 0; i < m_images.size(); ++i) {
            const auto ref = reference(run, m_images[i]);
            const auto single = predictor.predict(m_images[i]);
            const auto bytes = predictor.predict(readAll(m_images[i]));
            for (const Prediction* p : { &single, &batch[i], &bytes }) {
                QVERIFY2(p->ok(), qPrintable(p->error));
                QCOMPARE(p->probabilities.size(), kVocab.size());
                const int argmax = int(std::max_element(ref.begin(), ref.end()) - ref.begin());
                QCOMPARE(p->index, argmax);
                QCOMPARE(p->label, kVocab.at(argmax));
                for (int c = 0; c < kVocab.size(); ++c)
                    QVERIFY2(std::abs(p->probabilities[c] - ref[size_t(c)]) < 1e-5,
                        qPrintable(QStringLiteral("%1 class %2: %3 vs %4")
                                       .arg(m_images[i])
                                       .arg(c)
                                       .arg(p->probabilities[c])
                                       .arg(ref[size_t(c)])));
            }
        }
        // JSON shape used by the CLI and the server.
        const QJsonObject j = batch[0].toJson(kVocab);
        QCOMPARE(j.value(QStringLiteral("label")).toString(), batch[0].label);
        QCOMPARE(j.value(QStringLiteral("index")).toInt(), batch[0].index);
        QCOMPARE(j.value(QStringLiteral("probabilities")).toObject().size(), kVocab.size());
        QCOMPARE(j.value(QStringLiteral("file")).toString(), m_images[0]);
    }

    void explainMatchesPredict_data()
    {
        roundTrip_data();
    }

    /// Grad-CAM runs through the same preprocessing and modules as predict(): every class's probability equals
    /// predict()'s, the map is normalised, and a file and its bytes give the same map.
    void explainMatchesPredict()
    {
        QFETCH(bool, probe);
        Predictor predictor(PredictorOptions { QStringLiteral("cpu"), 3 });
        QString error;
        QVERIFY2(predictor.load(probe ? m_probeFile : m_fastaiFile, &error), qPrintable(error));
        for (const QString& image : std::as_const(m_images)) {
            const Prediction p = predictor.predict(image);
            QVERIFY2(p.ok(), qPrintable(p.error));
            for (int c = -1; c < kVocab.size(); ++c) {
                const Explanation e = predictor.explain(image, c);
                QVERIFY2(e.ok(), qPrintable(e.error));
                QCOMPARE(e.classIndex, c < 0 ? p.index : c);
                QCOMPARE(e.label, kVocab.at(e.classIndex));
                QCOMPARE(e.predictedIndex, p.index);
                QVERIFY2(std::abs(e.probability - p.probabilities[e.classIndex]) < 1e-5,
                    qPrintable(QStringLiteral("%1 class %2: %3 vs %4")
                                   .arg(image)
                                   .arg(e.classIndex)
                                   .arg(e.probability)
                                   .arg(p.probabilities[e.classIndex])));
                QCOMPARE(e.heat.size(), e.gridWidth * e.gridHeight);
                QCOMPARE(e.gridWidth, (kSize + 31) / 32);
                const float top = *std::max_element(e.heat.begin(), e.heat.end());
                QVERIFY(top == 1.f || top == 0.f);
                QVERIFY(*std::min_element(e.heat.begin(), e.heat.end()) >= 0.f);
                // The fastai validation crop: squish to size + xtra, centre crop size.
                const double s = kSize + validationExtra(kSize);
                QVERIFY(std::abs(e.crop.width() - kSize / s) < 1e-9);
                QVERIFY(std::abs(e.crop.x() - (s - kSize) / 2 / s) < 1e-9);
            }
            const Explanation fromBytes = predictor.explain(readAll(image));
            QCOMPARE(fromBytes.heat, predictor.explain(image).heat);
        }
        QVERIFY(!predictor.explain(m_images[0], int(kVocab.size())).ok());
        QVERIFY(!predictor.explain(m_dir.filePath(QStringLiteral("no-such.png"))).ok());
    }

    void loadRunEqualsFile()
    {
        Predictor fromRun(PredictorOptions { QStringLiteral("cpu"), 8 });
        Predictor fromFile(PredictorOptions { QStringLiteral("cpu"), 8 });
        QString error;
        QVERIFY2(fromRun.loadRun(m_dir.filePath(QStringLiteral("run-probe")), &error), qPrintable(error));
        QVERIFY2(fromFile.load(m_probeFile, &error), qPrintable(error));
        const auto a = fromRun.predictFiles(m_images);
        const auto b = fromFile.predictFiles(m_images);
        for (int i = 0; i < a.size(); ++i)
            QCOMPARE(a[i].probabilities, b[i].probabilities);
    }

    void badImages()
    {
        Predictor predictor(PredictorOptions { QStringLiteral("cpu"), 4 });
        QString error;
        QVERIFY(predictor.load(m_fastaiFile, &error));
        const QString text = m_dir.filePath(QStringLiteral("notes.jpg"));
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not a jpeg at all");
        f.close();
        const auto results =
            predictor.predictFiles({ m_images[0], text, m_dir.filePath(QStringLiteral("missing.png")), m_images[1] });
        QVERIFY(results[0].ok());
        QVERIFY(!results[1].ok());
        QVERIFY(!results[1].error.isEmpty());
        QVERIFY(!results[2].ok());
        QVERIFY(results[3].ok());
        QCOMPARE(results[3].probabilities, predictor.predict(m_images[1]).probabilities);
        QVERIFY(!predictor.predict(QByteArray("garbage bytes")).ok());
        QVERIFY(!predictor.predict(QByteArray()).ok());
        QVERIFY(results[1].toJson(kVocab).contains(QStringLiteral("error")));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const QByteArray good = readAll(m_fastaiFile);
        QVERIFY(good.size() > 1000);
        const auto md = [&](const std::function<void(QJsonObject&)>& f) { return editMetadata(good, f); };
        const QString notModel = QStringLiteral("not a Winnow model file");
        const QString corrupt = QStringLiteral("corrupt Winnow model file");

        QTest::newRow("empty") << QByteArray() << notModel;
        QTest::newRow("text") << QByteArray("hello, this is a text file and no model\n") << notModel;
        QTest::newRow("png") << pngBytes() << notModel;
        QTest::newRow("json") << QByteArray(R"({"weights": [1, 2, 3], "name": "x"})") << notModel;
        QByteArray plain = QByteArray::fromStdString(nn::serializeSafetensors({ { "w", torch::ones({ 4 }) } }));
        QTest::newRow("plain safetensors") << plain << QStringLiteral("without Winnow metadata");
        QTest::newRow("run weights") << md([](QJsonObject& m) { m.remove(QStringLiteral("version")); })
                                     << QStringLiteral("winnow export RUN_DIR");
        QTest::newRow("foreign format") << md([](QJsonObject& m) {
            m[QStringLiteral("format")] = QStringLiteral("pt");
        }) << QStringLiteral("not a Winnow model file (format \"pt\")");
        QTest::newRow("version 7") << md([](QJsonObject& m) { m[QStringLiteral("version")] = QStringLiteral("7"); })
                                   << QStringLiteral("unsupported Winnow model version 7");
        QTest::newRow("version text") << md([](QJsonObject& m) {
            m[QStringLiteral("version")] = QStringLiteral("one");
        }) << corrupt;
        QTest::newRow("truncated data") << good.left(good.size() / 2) << corrupt;
        QTest::newRow("truncated header") << good.left(200) << QStringLiteral("corrupt Winnow model file: truncated");
        QByteArray damaged = good;
        const qsizetype at = damaged.indexOf("\"dtype\"");
        QVERIFY(at > 0);
        damaged[at + 7] = '#';
        QTest::newRow("damaged header") << damaged << QStringLiteral("corrupt Winnow model file: corrupt header");
        QTest::newRow("missing tensor") << editHeader(good, [](QJsonObject& h) {
            h.remove(QStringLiteral("head.8.weight"));
        }) << QStringLiteral("head.8.weight");
        QTest::newRow("vocab/head mismatch")
            << md([](QJsonObject& m) { m[QStringLiteral("vocab")] = QStringLiteral(R"(["a","b","c","d"])"); })
            << QStringLiteral("head.8.weight");
        QTest::newRow("unknown arch") << md([](QJsonObject& m) { m[QStringLiteral("arch")] = QStringLiteral("vgg99"); })
                                      << QStringLiteral("unknown architecture \"vgg99\"");
        QTest::newRow("unknown kind") << md([](QJsonObject& m) { m[QStringLiteral("kind")] = QStringLiteral("svm"); })
                                      << QStringLiteral("unknown model kind");
        QTest::newRow("bad vocab") << md([](QJsonObject& m) { m[QStringLiteral("vocab")] = QStringLiteral("[1,"); })
                                   << QStringLiteral("class list");
        QTest::newRow("duplicate class") << md([](QJsonObject& m) {
            m[QStringLiteral("vocab")] = QStringLiteral(R"(["a","b","a"])");
        }) << QStringLiteral("appears twice");
        QTest::newRow("bad size") << md([](QJsonObject& m) { m[QStringLiteral("size")] = QStringLiteral("0"); })
                                  << QStringLiteral("input size");
        QTest::newRow("bad std") << md([](QJsonObject& m) { m[QStringLiteral("std")] = QStringLiteral("[0.2,0,0.2]"); })
                                 << QStringLiteral("std");
        QTest::newRow("other transform") << md([](QJsonObject& m) {
            m[QStringLiteral("transform")] = QStringLiteral("pad:64");
        }) << QStringLiteral("unsupported inference transform");
        QTest::newRow("missing metadata")
            << md([](QJsonObject& m) { m.remove(QStringLiteral("vocab")); }) << QStringLiteral("no class list");
        // A NaN weight inside the data section.
        QByteArray nan = good;
        {
            const quint64 n = qFromLittleEndian<quint64>(good.constData());
            const auto h = QJsonDocument::fromJson(good.mid(8, qsizetype(n))).object();
            const auto offsets =
                h.value(QStringLiteral("head.8.weight")).toObject().value(QStringLiteral("data_offsets")).toArray();
            const float qnan = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(nan.data() + 8 + n + offsets.at(0).toInteger(), &qnan, sizeof qnan);
        }
        QTest::newRow("nan weight") << nan << QStringLiteral("NaN");
    }

    void rejects()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        Predictor predictor(PredictorOptions { QStringLiteral("cpu"), 1 });
        QString error;
        const QString path = m_dir.filePath(
            QStringLiteral("bad-%1.winnow").arg(QTest::currentDataTag()).replace(' ', '-').replace('/', '-'));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
        f.close();
        QVERIFY(!predictor.load(path, &error));
        QVERIFY(!predictor.isLoaded());
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY2(error.contains(QDir::toNativeSeparators(path)), qPrintable(error)); // names the file
        QVERIFY(!predictor.predict(m_images[0]).ok());
        // The same object still loads a good file afterwards.
        QVERIFY2(predictor.load(m_fastaiFile, &error), qPrintable(error));
        QVERIFY(predictor.predict(m_images[0]).ok());
    }

    void rejectsPaths()
    {
        Predictor predictor;
        QString error;
        QVERIFY(!predictor.load(m_dir.filePath(QStringLiteral("nope.winnow")), &error));
        QVERIFY2(error.contains(QStringLiteral("no such file")), qPrintable(error));
        QVERIFY(!predictor.load(m_dir.path(), &error));
        QVERIFY2(error.contains(QStringLiteral("folder")), qPrintable(error));
    }

    void exportErrors()
    {
        QString error;
        const QString out = m_dir.filePath(QStringLiteral("keep.winnow"));
        QFile::copy(m_fastaiFile, out);
        const QByteArray before = readAll(out);
        // Not a run folder: clear error, existing output untouched.
        QVERIFY(!exportModel(m_dir.filePath(QStringLiteral("no-run")), out, {}, &error));
        QVERIFY(!error.isEmpty());
        QCOMPARE(readAll(out), before);
        // A run whose weights are damaged.
        const QString broken = m_dir.filePath(QStringLiteral("run-broken"));
        makeRun(broken, false, 3);
        QFile w(QDir(broken).filePath(QLatin1String(kModelFile)));
        QVERIFY(w.resize(w.size() / 3));
        QVERIFY(!exportModel(broken, out, {}, &error));
        QVERIFY2(error.contains(QStringLiteral("cannot export")), qPrintable(error));
        QCOMPARE(readAll(out), before);
        // A head-retrained run whose pretrained weights moved away.
        const QString moved = m_dir.filePath(QStringLiteral("run-moved"));
        makeRun(moved, true, 4);
        auto info = readRunInfo(moved, &error);
        QVERIFY(info);
        info->config.weights = m_dir.filePath(QStringLiteral("gone.safetensors"));
        QVERIFY(writeRunInfo(moved, *info, &error));
        QVERIFY(!exportModel(moved, out, {}, &error));
        QVERIFY2(error.contains(QStringLiteral("--weights")), qPrintable(error));
        // Output path is a folder.
        QVERIFY(!exportModel(m_dir.filePath(QStringLiteral("run-fastai")), m_dir.path(), {}, &error));
        QVERIFY2(error.contains(QStringLiteral("folder")), qPrintable(error));
    }

    void threadSafe()
    {
        Predictor predictor(PredictorOptions { QStringLiteral("cpu"), 2 });
        QString error;
        QVERIFY(predictor.load(m_probeFile, &error));
        const auto expected = predictor.predictFiles(m_images);
        std::vector<std::thread> threads;
        std::atomic<int> mismatches { 0 };
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int k = 0; k < 3; ++k) {
                    const int i = (t + k) % m_images.size();
                    const auto p = predictor.predict(readAll(m_images[i]));
                    for (int c = 0; c < kVocab.size(); ++c)
                        if (!p.ok() || std::abs(p.probabilities[c] - expected[i].probabilities[c]) > 1e-5)
                            ++mismatches;
                }
            });
        for (auto& th : threads)
            th.join();
        QCOMPARE(mismatches.load(), 0);
    }
};

QTEST_APPLESS_MAIN(TestModelFile)
#include "tst_modelfile.moc"
