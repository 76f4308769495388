// SPDX-License-Identifier: GPL-3.0-or-later
// Architectures: torchvision state-dict names/shapes, forward shapes, fastai head, parameter groups, freezing.
#include <set>
#include <string>

#include <torch/torch.h>

#include <QDir>
#include <QTest>

#include "core/nn/models.h"
#include "core/nn/weights.h"
#include "tests/testutils.h"

using namespace Winnow::nn;

Q_DECLARE_METATYPE(Winnow::nn::Arch)

namespace {

QString shapeOf(const torch::Tensor& t)
{
    QStringList dims;
    for (int64_t d : t.sizes())
        dims << QString::number(d);
    return QLatin1Char('[') + dims.join(QLatin1String(", ")) + QLatin1Char(']');
}

int64_t countParams(const torch::nn::Module& m)
{
    int64_t n = 0;
    for (const auto& p : m.parameters())
        n += p.numel();
    return n;
}

std::set<const void*> ids(const std::vector<torch::Tensor>& ts)
{
    std::set<const void*> s;
    for (const auto& t : ts)
        s.insert(t.unsafeGetTensorImpl());
    return s;
}

} // namespace

class TestModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void archNames();
    void torchvisionStateDict_data();
    void torchvisionStateDict();
    void mobilenetMatchesSharedWeights();
    void forwardShapes_data();
    void forwardShapes();
    void headStructure();
    void classifierStateDictAndPretrainedBody();
    void parameterGroups_data();
    void parameterGroups();
    void freezeKeepsBatchNormTrainable();
    void tinyIsTiny();
};

void TestModels::archNames()
{
    for (Arch a : allArchs())
        QCOMPARE(parseArch(archName(a)), std::optional<Arch>(a));
    QCOMPARE(parseArch("MobileNetV2"), std::optional<Arch>(Arch::MobileNetV2));
    QCOMPARE(parseArch("ResNet-50"), std::optional<Arch>(Arch::ResNet50));
    QVERIFY(!parseArch("vgg16"));
    QVERIFY(!parseArch(""));
    QCOMPARE(archName(Arch::MobileNetV2), std::string("mobilenet_v2"));
    QCOMPARE(parseArch("tiny"), std::optional<Arch>(Arch::Tiny));
}

void TestModels::tinyIsTiny()
{
    // The test network: five 3x3 stride-2 convs (8, 16, 32, 64, 64 channels, no bias) and their BatchNorms.
    Body body(Arch::Tiny);
    int64_t params = 0;
    for (const auto& p : body->parameters())
        params += p.numel();
    QCOMPARE(params,
        int64_t(3 * 8 * 9 + 8 * 16 * 9 + 16 * 32 * 9 + 32 * 64 * 9 + 64 * 64 * 9 + 2 * (8 + 16 + 32 + 64 + 64)));
    const auto dict = body->named_parameters();
    QVERIFY(dict.contains("features.0.0.weight"));
    QVERIFY(dict.contains("features.4.1.bias"));
    QCOMPARE(shapeOf(dict["features.4.0.weight"]), QStringLiteral("[64, 64, 3, 3]"));
}

void TestModels::torchvisionStateDict_data()
{
    QTest::addColumn<Arch>("arch");
    QTest::addColumn<int>("entries"); // len(torchvision model.state_dict())
    QTest::addColumn<int>("batchNorms"); // = number of num_batches_tracked entries
    QTest::addColumn<qint64>("params"); // sum(p.numel() for p in model.parameters())
    QTest::addColumn<QStringList>("samples"); // "name=shape"
    QTest::newRow("resnet18") << Arch::ResNet18 << 122 << 20 << qint64(11689512)
                              << QStringList { QStringLiteral("conv1.weight=[64, 3, 7, 7]"),
                                     QStringLiteral("bn1.running_mean=[64]"),
                                     QStringLiteral("bn1.num_batches_tracked=[]"),
                                     QStringLiteral("layer1.0.conv1.weight=[64, 64, 3, 3]"),
                                     QStringLiteral("layer2.0.downsample.0.weight=[128, 64, 1, 1]"),
                                     QStringLiteral("layer2.0.downsample.1.running_var=[128]"),
                                     QStringLiteral("layer4.1.bn2.bias=[512]"), QStringLiteral("fc.weight=[1000, 512]"),
                                     QStringLiteral("fc.bias=[1000]") };
    QTest::newRow("resnet34") << Arch::ResNet34 << 218 << 36 << qint64(21797672)
                              << QStringList { QStringLiteral("layer3.5.conv2.weight=[256, 256, 3, 3]"),
                                     QStringLiteral("layer4.2.bn2.weight=[512]"),
                                     QStringLiteral("fc.weight=[1000, 512]") };
    QTest::newRow("resnet50") << Arch::ResNet50 << 320 << 53 << qint64(25557032)
                              << QStringList { QStringLiteral("layer1.0.conv1.weight=[64, 64, 1, 1]"),
                                     QStringLiteral("layer1.0.downsample.0.weight=[256, 64, 1, 1]"),
                                     QStringLiteral("layer2.0.conv2.weight=[128, 128, 3, 3]"),
                                     QStringLiteral("layer4.2.conv3.weight=[2048, 512, 1, 1]"),
                                     QStringLiteral("layer4.2.bn3.running_mean=[2048]"),
                                     QStringLiteral("fc.weight=[1000, 2048]") };
    QTest::newRow("mobilenet_v2") << Arch::MobileNetV2 << 314 << 52 << qint64(3504872)
                                  << QStringList { QStringLiteral("features.0.0.weight=[32, 3, 3, 3]"),
                                         QStringLiteral("features.0.1.running_mean=[32]"),
                                         QStringLiteral("features.1.conv.0.0.weight=[32, 1, 3, 3]"),
                                         QStringLiteral("features.1.conv.1.weight=[16, 32, 1, 1]"),
                                         QStringLiteral("features.1.conv.2.num_batches_tracked=[]"),
                                         QStringLiteral("features.2.conv.0.0.weight=[96, 16, 1, 1]"),
                                         QStringLiteral("features.2.conv.1.0.weight=[96, 1, 3, 3]"),
                                         QStringLiteral("features.2.conv.3.bias=[24]"),
                                         QStringLiteral("features.17.conv.2.weight=[320, 960, 1, 1]"),
                                         QStringLiteral("features.18.0.weight=[1280, 320, 1, 1]"),
                                         QStringLiteral("features.18.1.running_var=[1280]"),
                                         QStringLiteral("classifier.1.weight=[1000, 1280]"),
                                         QStringLiteral("classifier.1.bias=[1000]") };
}

void TestModels::torchvisionStateDict()
{
    QFETCH(Arch, arch);
    QFETCH(int, entries);
    QFETCH(int, batchNorms);
    QFETCH(qint64, params);
    QFETCH(QStringList, samples);
    ImageNetNet net(arch);
    const TensorMap sd = stateDict(*net);
    QCOMPARE(int(sd.size()), entries);
    int tracked = 0;
    for (const auto& [name, t] : sd) {
        if (name.size() > 20 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0) {
            ++tracked;
            QCOMPARE(t.scalar_type(), torch::kLong);
            QCOMPARE(t.dim(), int64_t(0));
        } else {
            QCOMPARE(t.scalar_type(), torch::kFloat);
        }
    }
    QCOMPARE(tracked, batchNorms);
    QCOMPARE(countParams(*net), params);
    for (const QString& s : samples) {
        const QString name = s.section(QLatin1Char('='), 0, 0);
        const auto it = sd.find(name.toStdString());
        QVERIFY2(it != sd.end(), qPrintable(name));
        QCOMPARE(shapeOf(it->second), s.section(QLatin1Char('='), 1));
    }
}

void TestModels::mobilenetMatchesSharedWeights()
{
    WINNOW_REQUIRE_SHARED(shared);
    const TensorMap file = readSafetensors(
        QDir(shared).filePath(QStringLiteral("weights/mobilenet_v2-imagenet.safetensors")).toStdString());
    ImageNetNet net(Arch::MobileNetV2);
    const TensorMap sd = stateDict(*net);
    QCOMPARE(file.size(), sd.size());
    for (const auto& [name, t] : file) {
        const auto it = sd.find(name);
        QVERIFY2(it != sd.end(), name.c_str());
        QCOMPARE(shapeOf(it->second), shapeOf(t));
        QCOMPARE(it->second.scalar_type(), t.scalar_type());
    }
    QCOMPARE(loadStateDict(*net, file).loaded, file.size());
}

void TestModels::forwardShapes_data()
{
    QTest::addColumn<Arch>("arch");
    for (Arch a : allArchs())
        QTest::newRow(archName(a).c_str()) << a;
}

void TestModels::forwardShapes()
{
    QFETCH(Arch, arch);
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({ 2, 3, 64, 64 });
    Body body(arch);
    body->eval();
    const auto fm = body->forward(x);
    QCOMPARE(shapeOf(fm), QStringLiteral("[2, %1, 2, 2]").arg(archFeatureChannels(arch)));

    ImageNetNet net(arch, 7);
    net->eval();
    QCOMPARE(shapeOf(net->forward(x)), QStringLiteral("[2, 7]"));

    Classifier model(arch, 3);
    model->eval();
    QCOMPARE(shapeOf(model->forward(x)), QStringLiteral("[2, 3]"));
    const auto f = model->features(x);
    QCOMPARE(shapeOf(f), QStringLiteral("[2, %1]").arg(2 * archFeatureChannels(arch)));
    QCOMPARE(model->featureDim(), 2 * archFeatureChannels(arch));
    QVERIFY(torch::allclose(model->headFromFeatures(f), model->forward(x), 1e-5, 1e-5));
}

void TestModels::headStructure()
{
    Classifier model(Arch::ResNet18, 5);
    QCOMPARE(model->head->size(), size_t(9));
    const TensorMap sd = stateDict(*model->head);
    // BatchNorm1d(1024), Linear(1024,512,no bias), BatchNorm1d(512), Linear(512,5,no bias).
    QCOMPARE(shapeOf(sd.at("2.weight")), QStringLiteral("[1024]"));
    QCOMPARE(shapeOf(sd.at("4.weight")), QStringLiteral("[512, 1024]"));
    QCOMPARE(shapeOf(sd.at("6.running_mean")), QStringLiteral("[512]"));
    QCOMPARE(shapeOf(sd.at("8.weight")), QStringLiteral("[5, 512]"));
    QVERIFY(!sd.count("4.bias"));
    QVERIFY(!sd.count("8.bias"));
    QCOMPARE(sd.size(), size_t(2 * 5 + 2)); // two BN (5 entries each) + two weights
    // fastai init: BN weight 1, bias 1e-3; kaiming_normal_ (fan_in, gain sqrt(2)) on linear weights.
    QVERIFY(torch::all(sd.at("2.weight") == 1).item<bool>());
    QVERIFY(torch::allclose(sd.at("6.bias"), torch::full({ 512 }, 1e-3)));
    const double stdExpected = std::sqrt(2.0 / 1024.0);
    const double stdActual = sd.at("4.weight").std().item<double>();
    QVERIFY2(std::abs(stdActual - stdExpected) < 0.05 * stdExpected, qPrintable(QString::number(stdActual)));
    // Dropouts p = 0.25 and 0.5, ReLU between the linears.
    QCOMPARE(model->head[3]->as<torch::nn::Dropout>()->options.p(), 0.25);
    QCOMPARE(model->head[7]->as<torch::nn::Dropout>()->options.p(), 0.5);
    QVERIFY(model->head[5]->as<torch::nn::ReLU>() != nullptr);
    QVERIFY(model->head[0]->as<AdaptiveConcatPool2d>() != nullptr);
    // Concat pool is max first, then average.
    const auto x = torch::arange(8, torch::kFloat).reshape({ 1, 2, 2, 2 });
    QVERIFY(torch::equal(AdaptiveConcatPool2d()->forward(x).flatten(), torch::tensor({ 3.f, 7.f, 1.5f, 5.5f })));
}

void TestModels::classifierStateDictAndPretrainedBody()
{
    torch::manual_seed(3);
    ImageNetNet net(Arch::ResNet18);
    const TensorMap tv = stateDict(*net);
    Classifier model(Arch::ResNet18, 3);
    const TensorMap sd = stateDict(*model);
    QVERIFY(sd.count("body.conv1.weight"));
    QVERIFY(sd.count("body.layer4.1.bn2.num_batches_tracked"));
    QVERIFY(sd.count("head.8.weight"));
    QCOMPARE(sd.size(), tv.size() - 2 + 12); // torchvision minus fc, plus the head
    const LoadReport report = loadPretrainedBody(*model->body, tv);
    QCOMPARE(report.loaded, tv.size() - 2);
    QVERIFY(torch::equal(model->body->named_parameters()["layer3.0.conv1.weight"], tv.at("layer3.0.conv1.weight")));
    // Fine-tuned round trip: the whole Classifier by name.
    Classifier copy(Arch::ResNet18, 3);
    loadStateDict(*copy, stateDict(*model));
    QVERIFY(torch::equal(copy->head->named_parameters()["8.weight"], model->head->named_parameters()["8.weight"]));
    // A torchvision dict does not fit a resnet34 body.
    Classifier other(Arch::ResNet34, 3);
    QVERIFY_THROWS_EXCEPTION(WeightsError, loadPretrainedBody(*other->body, tv));

    // timm's torchvision-compatible files have no num_batches_tracked: they load, with the counters at 0.
    TensorMap timm;
    for (const auto& [name, t] : tv)
        if (name.find("num_batches_tracked") == std::string::npos)
            timm.emplace(name, t);
    QVERIFY(timm.size() < tv.size());
    Classifier fromTimm(Arch::ResNet18, 3);
    loadPretrainedBody(*fromTimm->body, timm);
    QVERIFY(torch::equal(fromTimm->body->named_parameters()["layer3.0.conv1.weight"], tv.at("layer3.0.conv1.weight")));
    QCOMPARE(fromTimm->body->named_buffers()["layer1.0.bn1.num_batches_tracked"].item<int64_t>(), 0);
    // ...but a missing weight still fails.
    timm.erase("layer2.0.bn1.running_var");
    QVERIFY_THROWS_EXCEPTION(WeightsError, loadPretrainedBody(*fromTimm->body, timm));
}

void TestModels::parameterGroups_data()
{
    QTest::addColumn<Arch>("arch");
    QTest::addColumn<QString>("firstOfGroup1");
    QTest::addColumn<QString>("lastOfGroup0");
    QTest::newRow("resnet18") << Arch::ResNet18 << QStringLiteral("body.layer3.0.conv1.weight")
                              << QStringLiteral("body.layer2.1.bn2.bias");
    QTest::newRow("resnet50") << Arch::ResNet50 << QStringLiteral("body.layer3.0.conv1.weight")
                              << QStringLiteral("body.layer2.3.bn3.bias");
    QTest::newRow("mobilenet_v2") << Arch::MobileNetV2 << QStringLiteral("body.features.7.conv.0.0.weight")
                                  << QStringLiteral("body.features.6.conv.3.bias");
    QTest::newRow("tiny") << Arch::Tiny << QStringLiteral("body.features.4.0.weight")
                          << QStringLiteral("body.features.3.1.bias");
}

void TestModels::parameterGroups()
{
    QFETCH(Arch, arch);
    QFETCH(QString, firstOfGroup1);
    QFETCH(QString, lastOfGroup0);
    Classifier model(arch, 4);
    const auto groups = model->parameterGroups();
    QCOMPARE(groups.size(), size_t(3));
    const auto named = model->named_parameters();
    QCOMPARE(groups[0].back().unsafeGetTensorImpl(), named[lastOfGroup0.toStdString()].unsafeGetTensorImpl());
    QCOMPARE(groups[1].front().unsafeGetTensorImpl(), named[firstOfGroup1.toStdString()].unsafeGetTensorImpl());
    // Disjoint and complete; the head group is exactly the head's parameters.
    std::set<const void*> all;
    size_t total = 0;
    for (const auto& g : groups) {
        QVERIFY(!g.empty());
        total += g.size();
        const auto s = ids(g);
        all.insert(s.begin(), s.end());
    }
    QCOMPARE(total, named.size());
    QCOMPARE(all.size(), named.size());
    QCOMPARE(ids(groups[2]), ids(model->head->parameters()));
    // No weight decay on BatchNorm params (no biases elsewhere in these models).
    const auto noWd = ids(model->noWeightDecayParameters());
    size_t bnParams = 0;
    for (const auto& m : model->modules(false))
        if (isBatchNorm(*m))
            bnParams += m->parameters(false).size();
    QCOMPARE(noWd.size(), bnParams);
    QVERIFY(!noWd.count(named["head.4.weight"].unsafeGetTensorImpl()));
    QVERIFY(noWd.count(named["head.2.bias"].unsafeGetTensorImpl()));
}

void TestModels::freezeKeepsBatchNormTrainable()
{
    Classifier model(Arch::ResNet18, 3);
    const auto named = model->named_parameters();
    QVERIFY(!model->isFrozen());
    model->freeze();
    QVERIFY(model->isFrozen());
    QVERIFY(!named["body.conv1.weight"].requires_grad());
    QVERIFY(!named["body.layer4.1.conv2.weight"].requires_grad());
    QVERIFY(named["body.bn1.weight"].requires_grad());
    QVERIFY(named["body.layer3.0.downsample.1.bias"].requires_grad());
    QVERIFY(named["head.4.weight"].requires_grad());
    QVERIFY(named["head.8.weight"].requires_grad());

    // A training step leaves frozen weights without gradients, and BN/head with them.
    model->train();
    model->forward(torch::randn({ 4, 3, 32, 32 })).sum().backward();
    QVERIFY(!named["body.layer1.0.conv1.weight"].grad().defined());
    QVERIFY(named["body.layer1.0.bn1.weight"].grad().defined());
    QVERIFY(named["head.8.weight"].grad().defined());

    model->freezeTo(1); // only group 0 frozen
    QVERIFY(!named["body.layer2.0.conv1.weight"].requires_grad());
    QVERIFY(named["body.layer3.0.conv1.weight"].requires_grad());
    model->unfreeze();
    QVERIFY(!model->isFrozen());
    for (const auto& p : model->parameters())
        QVERIFY(p.requires_grad());
}

QTEST_APPLESS_MAIN(TestModels)
#include "tst_models.moc"
