// SPDX-License-Identifier: GPL-3.0-or-later
// Grad-CAM (Selvaraju et al. 2017) on the last feature map of a body: where in the image a class's logit comes from.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/torch.h>

#include "core/nn/device.h"
#include "core/nn/models.h"

namespace Winnow::nn {

struct GradCamResult
{
    torch::Tensor map; ///< float [h, w] on the CPU, in [0, 1] (divided by its maximum; all 0 when nothing is positive)
    torch::Tensor probs; ///< float [C] on the CPU: softmax of the logits of the same forward pass
    int64_t classIndex = -1; ///< the class explained (the argmax when -1 was asked for)
    double peak = 0; ///< the map's maximum before normalisation (0: the class gets no positive evidence anywhere)
};

/**
 * Grad-CAM for one image: A = body(image) (the last feature map, [1, K, h, w]); logits = logitsFromMap(A);
 * alpha_k = the spatial mean of d logits[cls] / d A_k; map = relu(sum_k alpha_k A_k), divided by its maximum.
 * The body runs without autograd; only the (cheap) part after the feature map is differentiated, so the cost is
 * one forward pass plus the head's backward. `cls` = -1 explains the predicted class. Runs in float32 on
 * `run.device` (the caller moves the modules there and serialises their use), eval mode. @throws std::invalid_argument
 * for a bad shape or class index, or what LibTorch throws.
 */
GradCamResult gradCam(BodyImpl& body, const std::function<torch::Tensor(const torch::Tensor&)>& logitsFromMap,
    const torch::Tensor& image, int64_t cls, const RunOptions& run = {});

} // namespace Winnow::nn
