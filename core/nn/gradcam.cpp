// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/gradcam.h"

#include <stdexcept>
#include <string>

namespace Winnow::nn {

GradCamResult gradCam(BodyImpl& body, const std::function<torch::Tensor(const torch::Tensor&)>& logitsFromMap,
    const torch::Tensor& image, int64_t cls, const RunOptions& run)
{
    if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3)
        throw std::invalid_argument("gradCam: expected one image [1, 3, H, W]");
    RunOptions fp32 = run; // no autocast: the gradients of a bf16 head would be coarse, and the head is cheap
    fp32.amp = AmpMode::Off;
    body.eval();
    torch::Tensor map;
    {
        torch::NoGradGuard noGrad;
        map = body.forward(toDevice(image.to(torch::kFloat), fp32)).to(torch::kFloat).contiguous();
    }
    torch::AutoGradMode withGrad(true);
    const auto a = map.detach().requires_grad_(true);
    const auto logits = logitsFromMap(a);
    if (logits.dim() != 2 || logits.size(0) != 1)
        throw std::invalid_argument("gradCam: logitsFromMap must return [1, C]");
    const int64_t classes = logits.size(1);
    GradCamResult out;
    out.probs = torch::softmax(logits.detach().to(torch::kFloat), 1)[0].to(torch::kCPU);
    if (cls < 0)
        cls = out.probs.argmax().item<int64_t>();
    if (cls >= classes)
        throw std::invalid_argument(
            "gradCam: class " + std::to_string(cls) + " out of range (" + std::to_string(classes) + " classes)");
    out.classIndex = cls;
    const auto grads = torch::autograd::grad({ logits[0][cls] }, { a })[0];
    torch::NoGradGuard noGrad;
    const auto alpha = grads.mean({ 2, 3 }, true); // [1, K, 1, 1]
    const auto cam = torch::relu((alpha * a.detach()).sum(1))[0].to(torch::kCPU); // [h, w]
    out.peak = cam.max().item<double>();
    out.map = out.peak > 0 ? cam / out.peak : torch::zeros_like(cam);
    return out;
}

} // namespace Winnow::nn
