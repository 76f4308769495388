// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/models.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace Winnow::nn {

namespace {

namespace tnn = torch::nn;

tnn::Conv2d makeConv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1)
{
    return tnn::Conv2d(tnn::Conv2dOptions(in, out, k).stride(stride).padding((k - 1) / 2).groups(groups).bias(false));
}

tnn::BatchNorm2d makeBn(int64_t c)
{
    return tnn::BatchNorm2d(tnn::BatchNorm2dOptions(c));
}

// torchvision BasicBlock (resnet18/34).
class BasicBlockImpl : public tnn::Module
{
public:
    static constexpr int64_t kExpansion = 1;
    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride)
        : conv1(register_module("conv1", makeConv(in, planes, 3, stride)))
        , bn1(register_module("bn1", makeBn(planes)))
        , conv2(register_module("conv2", makeConv(planes, planes, 3)))
        , bn2(register_module("bn2", makeBn(planes)))
    {
        if (stride != 1 || in != planes * kExpansion)
            downsample =
                register_module("downsample", tnn::Sequential(makeConv(in, planes, 1, stride), makeBn(planes)));
    }
    torch::Tensor forward(const torch::Tensor& x)
    {
        auto out = torch::relu(bn1(conv1(x)));
        out = bn2(conv2(out));
        out += downsample ? downsample->forward(x) : x;
        return torch::relu(out);
    }
    tnn::Conv2d conv1;
    tnn::BatchNorm2d bn1;
    tnn::Conv2d conv2;
    tnn::BatchNorm2d bn2;
    tnn::Sequential downsample { nullptr };
};
TORCH_MODULE(BasicBlock);

// torchvision Bottleneck (resnet50, "v1.5": stride on the 3x3 conv).
class BottleneckImpl : public tnn::Module
{
public:
    static constexpr int64_t kExpansion = 4;
    BottleneckImpl(int64_t in, int64_t planes, int64_t stride)
        : conv1(register_module("conv1", makeConv(in, planes, 1)))
        , bn1(register_module("bn1", makeBn(planes)))
        , conv2(register_module("conv2", makeConv(planes, planes, 3, stride)))
        , bn2(register_module("bn2", makeBn(planes)))
        , conv3(register_module("conv3", makeConv(planes, planes * kExpansion, 1)))
        , bn3(register_module("bn3", makeBn(planes * kExpansion)))
    {
        if (stride != 1 || in != planes * kExpansion)
            downsample = register_module("downsample",
                tnn::Sequential(makeConv(in, planes * kExpansion, 1, stride), makeBn(planes * kExpansion)));
    }
    torch::Tensor forward(const torch::Tensor& x)
    {
        auto out = torch::relu(bn1(conv1(x)));
        out = torch::relu(bn2(conv2(out)));
        out = bn3(conv3(out));
        out += downsample ? downsample->forward(x) : x;
        return torch::relu(out);
    }
    tnn::Conv2d conv1;
    tnn::BatchNorm2d bn1;
    tnn::Conv2d conv2;
    tnn::BatchNorm2d bn2;
    tnn::Conv2d conv3;
    tnn::BatchNorm2d bn3;
    tnn::Sequential downsample { nullptr };
};
TORCH_MODULE(Bottleneck);

// A Sequential that can itself be stored in a Sequential (AnyModule needs a non-template forward).
class NestedSequentialImpl : public tnn::SequentialImpl
{
public:
    using SequentialImpl::SequentialImpl;
    torch::Tensor forward(torch::Tensor x)
    {
        return SequentialImpl::forward(std::move(x));
    }
};
TORCH_MODULE(NestedSequential);

// torchvision Conv2dNormActivation with ReLU6: Sequential(conv, bn, relu6) -> names "<i>.0", "<i>.1".
NestedSequential convBnRelu6(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1)
{
    return NestedSequential(makeConv(in, out, k, stride, groups), makeBn(out), tnn::ReLU6());
}

// torchvision InvertedResidual: member "conv" = Sequential([pw expand,] dw, pw-linear conv, bn).
class InvertedResidualImpl : public tnn::Module
{
public:
    InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expandRatio)
        : m_useResidual(stride == 1 && in == out)
    {
        const int64_t hidden = in * expandRatio;
        tnn::Sequential layers;
        if (expandRatio != 1)
            layers->push_back(convBnRelu6(in, hidden, 1));
        layers->push_back(convBnRelu6(hidden, hidden, 3, stride, hidden));
        layers->push_back(makeConv(hidden, out, 1));
        layers->push_back(makeBn(out));
        conv = register_module("conv", layers);
    }
    torch::Tensor forward(const torch::Tensor& x)
    {
        return m_useResidual ? x + conv->forward(x) : conv->forward(x);
    }
    tnn::Sequential conv { nullptr };

private:
    bool m_useResidual;
};
TORCH_MODULE(InvertedResidual);

template <typename Block> tnn::Sequential makeLayer(int64_t& inplanes, int64_t planes, int blocks, int64_t stride)
{
    tnn::Sequential layer;
    layer->push_back(Block(inplanes, planes, stride));
    inplanes = planes * Block::Impl::kExpansion;
    for (int i = 1; i < blocks; ++i)
        layer->push_back(Block(inplanes, planes, 1));
    return layer;
}

// torchvision's random init for convs and BN (fc/classifier handled by the owner).
void torchvisionInit(tnn::Module& module)
{
    torch::NoGradGuard noGrad;
    for (auto& m : module.modules(/*include_self=*/false)) {
        if (auto* c = m->as<tnn::Conv2d>()) {
            tnn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
            if (c->bias.defined())
                tnn::init::zeros_(c->bias);
        } else if (auto* b = m->as<tnn::BatchNorm2d>()) {
            tnn::init::ones_(b->weight);
            tnn::init::zeros_(b->bias);
        }
    }
}

void appendParams(std::vector<torch::Tensor>& out, const tnn::Module& module)
{
    for (const auto& p : module.parameters())
        out.push_back(p);
}

} // namespace

bool isBatchNorm(const torch::nn::Module& module)
{
    return module.as<tnn::BatchNorm2d>() || module.as<tnn::BatchNorm1d>() || module.as<tnn::BatchNorm3d>();
}

torch::Tensor AdaptiveConcatPool2dImpl::forward(const torch::Tensor& x)
{
    return torch::cat(
        { std::get<0>(torch::adaptive_max_pool2d(x, { 1, 1 })), torch::adaptive_avg_pool2d(x, { 1, 1 }) }, 1);
}

BodyImpl::BodyImpl(Arch arch)
    : m_arch(arch)
{
    if (arch == Arch::MobileNetV2) {
        features = tnn::Sequential();
        features->push_back(convBnRelu6(3, 32, 3, 2));
        struct Setting
        {
            int64_t t, c, n, s;
        };
        static constexpr Setting kSettings[] = { { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 },
            { 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 } };
        int64_t in = 32;
        for (const auto& st : kSettings) {
            for (int64_t i = 0; i < st.n; ++i) {
                features->push_back(InvertedResidual(in, st.c, i == 0 ? st.s : 1, st.t));
                in = st.c;
            }
        }
        features->push_back(convBnRelu6(in, 1280, 1));
        register_module("features", features);
    } else if (arch == Arch::Tiny) {
        // Output stride 32, like the others, so every input size gives the same feature-map size.
        features = tnn::Sequential();
        int64_t in = 3;
        for (const int64_t out : { 8, 16, 32, 64, 64 }) {
            features->push_back(convBnRelu6(in, out, 3, 2));
            in = out;
        }
        register_module("features", features);
    } else {
        conv1 = register_module("conv1", tnn::Conv2d(tnn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
        bn1 = register_module("bn1", makeBn(64));
        int64_t inplanes = 64;
        if (arch == Arch::ResNet50) {
            layer1 = makeLayer<Bottleneck>(inplanes, 64, 3, 1);
            layer2 = makeLayer<Bottleneck>(inplanes, 128, 4, 2);
            layer3 = makeLayer<Bottleneck>(inplanes, 256, 6, 2);
            layer4 = makeLayer<Bottleneck>(inplanes, 512, 3, 2);
        } else {
            const bool r34 = arch == Arch::ResNet34;
            layer1 = makeLayer<BasicBlock>(inplanes, 64, r34 ? 3 : 2, 1);
            layer2 = makeLayer<BasicBlock>(inplanes, 128, r34 ? 4 : 2, 2);
            layer3 = makeLayer<BasicBlock>(inplanes, 256, r34 ? 6 : 2, 2);
            layer4 = makeLayer<BasicBlock>(inplanes, 512, r34 ? 3 : 2, 2);
        }
        register_module("layer1", layer1);
        register_module("layer2", layer2);
        register_module("layer3", layer3);
        register_module("layer4", layer4);
    }
    torchvisionInit(*this);
}

torch::Tensor BodyImpl::forward(const torch::Tensor& x)
{
    if (features)
        return features->forward(x); // mobilenet_v2, tiny
    auto y = torch::relu(bn1(conv1(x)));
    y = torch::max_pool2d(y, 3, 2, 1);
    y = layer1->forward(y);
    y = layer2->forward(y);
    y = layer3->forward(y);
    return layer4->forward(y);
}

std::vector<std::vector<torch::Tensor>> BodyImpl::parameterGroups() const
{
    std::vector<std::vector<torch::Tensor>> groups(2);
    if (features) {
        // Split at output stride 16, like resnet's cut before layer3: mobilenet_v2's features[7] and tiny's
        // features[4] are the first stride-16 (or coarser) blocks.
        const size_t cut = m_arch == Arch::Tiny ? 4 : 7;
        for (size_t i = 0; i < features->size(); ++i)
            appendParams(groups[i < cut ? 0 : 1], *features->ptr(i));
    } else {
        appendParams(groups[0], *conv1);
        appendParams(groups[0], *bn1);
        appendParams(groups[0], *layer1);
        appendParams(groups[0], *layer2);
        appendParams(groups[1], *layer3);
        appendParams(groups[1], *layer4);
    }
    return groups;
}

ImageNetNetImpl::ImageNetNetImpl(Arch arch, int64_t numClasses)
    : BodyImpl(arch)
    , m_numClasses(numClasses)
{
    const int64_t c = archFeatureChannels(arch);
    if (arch == Arch::MobileNetV2) {
        auto linear = tnn::Linear(c, numClasses);
        {
            torch::NoGradGuard noGrad;
            tnn::init::normal_(linear->weight, 0.0, 0.01);
            tnn::init::zeros_(linear->bias);
        }
        classifier = register_module("classifier", tnn::Sequential(tnn::Dropout(0.2), linear));
    } else {
        fc = register_module("fc", tnn::Linear(c, numClasses));
    }
}

torch::Tensor ImageNetNetImpl::forward(const torch::Tensor& x)
{
    return logitsFromBody(BodyImpl::forward(x));
}

torch::Tensor ImageNetNetImpl::logitsFromBody(const torch::Tensor& featureMap)
{
    auto y = torch::adaptive_avg_pool2d(featureMap, { 1, 1 }).flatten(1);
    return m_arch == Arch::MobileNetV2 ? classifier->forward(y) : fc(y);
}

ClassifierImpl::ClassifierImpl(Arch arch, int64_t numClasses, HeadOptions options)
    : m_arch(arch)
    , m_numClasses(numClasses)
{
    if (numClasses < 1)
        throw std::invalid_argument("Classifier: numClasses must be >= 1");
    body = register_module("body", Body(arch));
    const int64_t nf = featureDim();
    auto bn1 = tnn::BatchNorm1d(nf);
    auto lin1 = tnn::Linear(tnn::LinearOptions(nf, options.hidden).bias(false));
    auto bn2 = tnn::BatchNorm1d(options.hidden);
    auto lin2 = tnn::Linear(tnn::LinearOptions(options.hidden, numClasses).bias(false));
    {
        torch::NoGradGuard noGrad;
        for (auto& b : { bn1, bn2 }) {
            b->weight.fill_(1.0);
            b->bias.fill_(1e-3);
        }
        tnn::init::kaiming_normal_(lin1->weight);
        tnn::init::kaiming_normal_(lin2->weight);
    }
    head = register_module("head",
        tnn::Sequential(AdaptiveConcatPool2d(), tnn::Flatten(), bn1, tnn::Dropout(options.dropout / 2), lin1,
            tnn::ReLU(), bn2, tnn::Dropout(options.dropout), lin2));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x)
{
    return head->forward(body->forward(x));
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x)
{
    auto it = head->begin();
    auto y = it->forward(body->forward(x));
    ++it;
    return it->forward(y);
}

torch::Tensor ClassifierImpl::headFromFeatures(const torch::Tensor& pooled)
{
    auto y = pooled;
    for (auto it = head->begin() + 2; it != head->end(); ++it)
        y = it->forward(y);
    return y;
}

torch::Tensor ClassifierImpl::penultimate(const torch::Tensor& pooled)
{
    auto y = pooled;
    const auto last = head->end() - 1;
    for (auto it = head->begin() + 2; it != last; ++it)
        y = it->forward(y);
    return y;
}

torch::Tensor ClassifierImpl::lastWeight() const
{
    return head->ptr(head->size() - 1)->as<torch::nn::LinearImpl>()->weight;
}

int64_t ClassifierImpl::headHidden() const
{
    return lastWeight().size(1);
}

std::vector<std::vector<torch::Tensor>> ClassifierImpl::parameterGroups() const
{
    auto groups = body->parameterGroups();
    groups.emplace_back();
    appendParams(groups.back(), *head);
    return groups;
}

std::vector<torch::Tensor> ClassifierImpl::noWeightDecayParameters() const
{
    std::vector<torch::Tensor> out;
    for (const auto& m : modules(/*include_self=*/false)) {
        const bool norm = isBatchNorm(*m);
        for (const auto& p : m->named_parameters(/*recurse=*/false)) {
            if (norm || p.key() == "bias")
                out.push_back(p.value());
        }
    }
    return out;
}

void ClassifierImpl::freezeTo(int n)
{
    auto groups = parameterGroups();
    const int count = static_cast<int>(groups.size());
    int frozen = n >= 0 ? n : count + n;
    frozen = std::clamp(frozen, 0, count);
    for (int g = 0; g < count; ++g) {
        for (auto& p : groups[g])
            p.set_requires_grad(g >= frozen);
    }
    // train_bn: BatchNorm parameters always train.
    for (const auto& m : modules(/*include_self=*/false)) {
        if (isBatchNorm(*m)) {
            for (auto& p : m->parameters(/*recurse=*/false))
                p.set_requires_grad(true);
        }
    }
    m_frozenGroups = frozen;
}

} // namespace Winnow::nn
