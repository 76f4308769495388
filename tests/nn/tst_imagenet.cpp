// SPDX-License-Identifier: GPL-3.0-or-later
// Real weights end to end: torchvision MobileNetV2 ImageNet weights from ../shared reproduce the reference top-1.
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <QDir>
#include <QFile>
#include <QTest>

#include "core/nn/models.h"
#include "core/nn/trainer.h"
#include "core/nn/weights.h"
#include "tests/testutils.h"

using namespace Winnow::nn;

namespace {

// torchvision eval transform: Resize(256) on the shorter side (bilinear), CenterCrop(224), ToTensor, Normalize.
torch::Tensor preprocess(const QString& path)
{
    cv::Mat bgr = cv::imread(path.toStdString(), cv::IMREAD_COLOR);
    if (bgr.empty())
        return {};
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    const int w = rgb.cols, h = rgb.rows;
    const int nw = w <= h ? 256 : static_cast<int>(256.0 * w / h);
    const int nh = w <= h ? static_cast<int>(256.0 * h / w) : 256;
    cv::Mat resized;
    // PIL's bilinear resize antialiases when shrinking; INTER_AREA is OpenCV's closest match.
    cv::resize(rgb, resized, cv::Size(nw, nh), 0, 0, (nw < w) ? cv::INTER_AREA : cv::INTER_LINEAR);
    const int top = static_cast<int>(std::round((nh - 224) / 2.0));
    const int left = static_cast<int>(std::round((nw - 224) / 2.0));
    cv::Mat crop = resized(cv::Rect(left, top, 224, 224)).clone();
    auto t = torch::from_blob(crop.data, { 224, 224, 3 }, torch::kUInt8).permute({ 2, 0, 1 }).to(torch::kFloat) / 255.0;
    const auto mean = torch::tensor({ 0.485f, 0.456f, 0.406f }).view({ 3, 1, 1 });
    const auto std = torch::tensor({ 0.229f, 0.224f, 0.225f }).view({ 3, 1, 1 });
    return ((t - mean) / std).unsqueeze(0).contiguous();
}

} // namespace

class TestImageNet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void reproducesReferenceTop1_data();
    void reproducesReferenceTop1();
    void classifierBodyLoadsPretrained();

private:
    ImageNetNet m_net { nullptr };
    QStringList m_classes;
};

void TestImageNet::initTestCase()
{
    WINNOW_REQUIRE_SHARED(shared);
    m_net = ImageNetNet(Arch::MobileNetV2);
    const auto weights = readSafetensors(
        QDir(shared).filePath(QStringLiteral("weights/mobilenet_v2-imagenet.safetensors")).toStdString());
    QCOMPARE(loadStateDict(*m_net, weights, /*strict=*/true).loaded, size_t(314));
    QFile classes(QDir(shared).filePath(QStringLiteral("weights/imagenet-classes.txt")));
    QVERIFY(classes.open(QIODevice::ReadOnly | QIODevice::Text));
    m_classes = QString::fromUtf8(classes.readAll()).split(QLatin1Char('\n'));
    QVERIFY(m_classes.size() >= 1000);
}

void TestImageNet::reproducesReferenceTop1_data()
{
    QTest::addColumn<QString>("image");
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("prob");
    const QString shared = WinnowTest::sharedDir();
    if (shared.isEmpty()) {
        QTest::newRow("no-shared") << QString() << -1 << QString() << 0.0;
        return;
    }
    QFile tsv(QDir(shared).filePath(QStringLiteral("images/expected-top1.tsv")));
    if (!tsv.open(QIODevice::ReadOnly | QIODevice::Text))
        QFAIL("cannot read images/expected-top1.tsv");
    int rows = 0;
    for (const QString& line : QString::fromUtf8(tsv.readAll()).split(QLatin1Char('\n'))) {
        if (line.startsWith(QLatin1Char('#')) || line.trimmed().isEmpty())
            continue;
        const QStringList f = line.split(QLatin1Char('\t'));
        if (f.size() < 4)
            QFAIL(qPrintable(QStringLiteral("bad row: ") + line));
        QTest::newRow(qPrintable(f[0])) << QDir(shared).filePath(QStringLiteral("images/") + f[0]) << f[1].toInt()
                                        << f[2] << f[3].toDouble();
        ++rows;
    }
    QVERIFY(rows >= 6);
}

void TestImageNet::reproducesReferenceTop1()
{
    QFETCH(QString, image);
    QFETCH(int, index);
    QFETCH(QString, name);
    QFETCH(double, prob);
    if (index < 0)
        QSKIP("../shared not found");
    const auto x = preprocess(image);
    QVERIFY2(x.defined(), qPrintable(image));
    const auto probs = predict(m_net, x);
    QCOMPARE(probs.sizes().vec(), (std::vector<int64_t> { 1, 1000 }));
    const int top = static_cast<int>(probs.argmax(1).item<int64_t>());
    const double p = probs[0][top].item<double>();
    qInfo("%s: top-1 %d (%s) p=%.4f, reference %d p=%.4f", qPrintable(QFileInfo(image).fileName()), top,
        qPrintable(m_classes.value(top)), p, index, prob);
    QCOMPARE(top, index);
    QVERIFY2(std::abs(p - prob) <= 0.05, qPrintable(QStringLiteral("p=%1 vs %2").arg(p).arg(prob)));
    QCOMPARE(m_classes.value(index).trimmed(), name.trimmed());
}

void TestImageNet::classifierBodyLoadsPretrained()
{
    WINNOW_REQUIRE_SHARED(shared);
    const auto weights = readSafetensors(
        QDir(shared).filePath(QStringLiteral("weights/mobilenet_v2-imagenet.safetensors")).toStdString());
    Classifier model(Arch::MobileNetV2, 3);
    QCOMPARE(loadPretrainedBody(*model->body, weights).loaded, size_t(312));
    // The body computes exactly what the full network's feature extractor computes.
    const auto x = preprocess(QDir(shared).filePath(QStringLiteral("images/parrot.jpg")));
    torch::NoGradGuard noGrad;
    model->eval();
    m_net->eval();
    QVERIFY(torch::allclose(model->body->forward(x), m_net->forwardBody(x), 1e-5, 1e-5));
}

QTEST_MAIN(TestImageNet)
#include "tst_imagenet.moc"
