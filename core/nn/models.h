// SPDX-License-Identifier: GPL-3.0-or-later
// torchvision architectures with torchvision's exact state-dict names, and fastai's body+head classifier.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "core/nn/arch.h"

namespace Winnow::nn {

/**
 * fastai's AdaptiveConcatPool2d(1): cat([adaptive_max_pool(x), adaptive_avg_pool(x)], dim 1) -> [N, 2C, 1, 1].
 * No parameters.
 */
class AdaptiveConcatPool2dImpl : public torch::nn::Module
{
public:
    torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(AdaptiveConcatPool2d);

/**
 * A torchvision network without pooling and classifier (fastai's body, i.e. `create_body(cut=-2)`).
 * Child modules carry torchvision's names: resnet: conv1, bn1, layer1..layer4 (relu and maxpool have no state);
 * mobilenet_v2: features (0..18); tiny (Winnow's test network, no torchvision twin): features (0..4). So a torchvision
 * state dict minus its "fc." / "classifier." keys loads directly.
 * Freshly constructed modules get torchvision's random init (kaiming_normal fan_out on convs, BN 1/0).
 */
class BodyImpl : public torch::nn::Module
{
public:
    explicit BodyImpl(Arch arch);

    /// Input [N,3,H,W] normalised RGB -> feature map [N, archFeatureChannels, H/32, W/32].
    torch::Tensor forward(const torch::Tensor& x);

    Arch arch() const
    {
        return m_arch;
    }
    int64_t outChannels() const
    {
        return archFeatureChannels(m_arch);
    }

    /**
     * fastai's two body parameter groups. resnet (`_resnet_split`): [conv1, bn1, relu, maxpool, layer1, layer2] and
     * [layer3, layer4]. mobilenet_v2 (fastai has no split for it; this mirrors resnet's cut at output stride 16):
     * features[0:7] and features[7:19]. tiny: features[0:4] and features[4].
     */
    std::vector<std::vector<torch::Tensor>> parameterGroups() const;

protected:
    Arch m_arch;
    // resnet
    torch::nn::Conv2d conv1 { nullptr };
    torch::nn::BatchNorm2d bn1 { nullptr };
    torch::nn::Sequential layer1 { nullptr }, layer2 { nullptr }, layer3 { nullptr }, layer4 { nullptr };
    // mobilenet_v2
    torch::nn::Sequential features { nullptr };
};
TORCH_MODULE(Body);

/**
 * The full torchvision ImageNet network, including its classifier ("fc" for resnet, "classifier" =
 * [Dropout(0.2), Linear] for mobilenet_v2), for plain pretrained prediction. State-dict names equal torchvision's.
 */
class ImageNetNetImpl : public BodyImpl
{
public:
    explicit ImageNetNetImpl(Arch arch, int64_t numClasses = 1000);

    /// Input [N,3,H,W] normalised RGB -> logits [N, numClasses].
    torch::Tensor forward(const torch::Tensor& x);
    /// The feature map before pooling (BodyImpl::forward).
    torch::Tensor forwardBody(const torch::Tensor& x)
    {
        return BodyImpl::forward(x);
    }
    /// The feature map [N, K, h, w] -> logits (average pool + classifier); forward(x) = logitsFromBody(forwardBody(x)).
    torch::Tensor logitsFromBody(const torch::Tensor& featureMap);
    int64_t numClasses() const
    {
        return m_numClasses;
    }

private:
    int64_t m_numClasses;
    torch::nn::Linear fc { nullptr }; // resnet
    torch::nn::Sequential classifier { nullptr }; // mobilenet_v2
};
TORCH_MODULE(ImageNetNet);

/// fastai `create_head` options (defaults = vision_learner's).
struct HeadOptions
{
    int64_t hidden = 512; ///< lin_ftrs=[512]
    double dropout = 0.5; ///< ps: the first dropout is ps/2, the last ps
};

/**
 * fastai's vision_learner model: `body` (a Body, torchvision names) + `head` (Sequential with fastai's indices):
 *   head.0 AdaptiveConcatPool2d, head.1 Flatten, head.2 BatchNorm1d(2C), head.3 Dropout(ps/2),
 *   head.4 Linear(2C, 512, bias=false), head.5 ReLU, head.6 BatchNorm1d(512), head.7 Dropout(ps),
 *   head.8 Linear(512, n, bias=false).
 * Head init as fastai: kaiming_normal_ on the linear weights, BatchNorm weight 1 / bias 1e-3.
 * State-dict names are "body.<torchvision name>" and "head.<index>.<name>".
 * Not thread-safe; use from one thread at a time.
 */
class ClassifierImpl : public torch::nn::Module
{
public:
    ClassifierImpl(Arch arch, int64_t numClasses, HeadOptions head = {});

    /// [N,3,H,W] -> logits [N, numClasses].
    torch::Tensor forward(const torch::Tensor& x);
    /// [N,3,H,W] -> pooled body features [N, featureDim()] (concat pool max||avg; head.0 + head.1).
    torch::Tensor features(const torch::Tensor& x);
    /// Pooled features [N, featureDim()] -> logits (head.2 onwards).
    torch::Tensor headFromFeatures(const torch::Tensor& pooled);
    /// Pooled features -> the input of the last Linear layer [N, headHidden()] (head.2 to head.7; in eval mode
    /// BatchNorm uses its running statistics and dropout is off, so logits = penultimate(x) * lastWeight()^T).
    torch::Tensor penultimate(const torch::Tensor& pooled);
    /// The last layer's weight [numClasses, headHidden()] (head.8, no bias).
    torch::Tensor lastWeight() const;
    int64_t headHidden() const;

    Arch arch() const
    {
        return m_arch;
    }
    int64_t numClasses() const
    {
        return m_numClasses;
    }
    /// 2 x archFeatureChannels(arch).
    int64_t featureDim() const
    {
        return 2 * archFeatureChannels(m_arch);
    }

    /// Three parameter groups: body group 0, body group 1 (see BodyImpl::parameterGroups), head.
    std::vector<std::vector<torch::Tensor>> parameterGroups() const;
    /// Parameters that get no weight decay (fastai wd_bn_bias=False): all BatchNorm parameters and all biases.
    std::vector<torch::Tensor> noWeightDecayParameters() const;

    /// fastai freeze_to(n): groups [0, n) stop training, except BatchNorm parameters (train_bn=True).
    void freezeTo(int n);
    /// freezeTo(-1 = last group): only the head and every BatchNorm trains.
    void freeze()
    {
        freezeTo(-1);
    }
    /// Everything trains.
    void unfreeze()
    {
        freezeTo(0);
    }
    bool isFrozen() const
    {
        return m_frozenGroups > 0;
    }

    Body body { nullptr };
    torch::nn::Sequential head { nullptr };

private:
    Arch m_arch;
    int64_t m_numClasses;
    int m_frozenGroups = 0;
};
TORCH_MODULE(Classifier);

/// True for BatchNorm1d/2d/3d modules (the params fastai's train_bn keeps trainable and wd_bn_bias exempts).
bool isBatchNorm(const torch::nn::Module& module);

} // namespace Winnow::nn
