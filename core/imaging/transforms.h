// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core: fastai's item transforms and aug_transforms on cv::Mat (8-bit RGB), plus normalisation.
// Numbers follow /work/shared/docs/reference-behaviour.md sections 1.2-1.3 (fastai augment.py).
#pragma once

#include <random>

#include <opencv2/core.hpp>

#include <QtGlobal>

namespace Winnow {

/// The per-item random generator. Seed it with mixSeed(seed, epoch, item) so draws never depend on thread timing.
using Rng = std::mt19937_64;
/// splitmix64-style mixing of three words into one seed.
quint64 mixSeed(quint64 a, quint64 b, quint64 c);
double uniform(Rng& rng, double lo, double hi); ///< U[lo, hi), portable (does not use std distributions)
int randInt(Rng& rng, int lo, int hi); ///< uniform in [lo, hi] inclusive (Python's random.randint)

enum class ResizeMethod : quint8 { Squish, Crop, Pad };
enum class PadMode : quint8 { Zeros, Reflection };

/// fastai crop_pad + resize: takes `region` of `src` (it may extend past the borders: that part is padded with zeros
/// or reflected, BORDER_REFLECT_101 like torchvision 'reflect') and resizes it to `to` with resizeTo().
cv::Mat cropPadResize(const cv::Mat& src, const cv::Rect& region, const cv::Size& to, PadMode pad = PadMode::Zeros);
/// Resizes a CV_8UC3 image exactly as PIL's `Image.resize(size, BILINEAR)` (what fastai uses): antialiased triangle
/// filter, bit-identical output. `dst` may be `src`.
void resizeTo(const cv::Mat& src, cv::Mat& dst, const cv::Size& to);

/// fastai Resize(size, method, pad_mode): Squish ignores aspect; Crop takes the largest region with the target aspect;
/// Pad the smallest region containing the image. `rng` null = validation (centred), else a random position.
cv::Mat resizeItem(const cv::Mat& src, const cv::Size& size, ResizeMethod method, PadMode pad = PadMode::Reflection,
    Rng* rng = nullptr);

struct RrcOptions
{
    double minScale = 0.5;
    double maxScale = 1.0;
    double ratioMin = 3.0 / 4.0;
    double ratioMax = 4.0 / 3.0;
    int attempts = 10;
};

/// The crop box of fastai's RandomResizedCrop (train) for a w x h image: up to 10 draws of area and log-ratio, then
/// the centre crop clamped to the ratio range.
cv::Rect randomResizedCropBox(int w, int h, Rng& rng, const RrcOptions& options = {});
/// Box + crop + bilinear resize to size x size.
cv::Mat randomResizedCrop(const cv::Mat& src, int size, Rng& rng, const RrcOptions& options = {});

/// fastai's validation path: squish the whole image to (size+xtra)^2, then centre crop size^2.
cv::Mat validationTransform(const cv::Mat& src, int size);
/// The centre crop box fastai takes out of an s x s image for output side `size` ((s - size) / 2 offsets).
cv::Rect centreCropBox(int w, int h, int cropW, int cropH);

/// aug_transforms() defaults (mult 1).
struct AugmentOptions
{
    bool doFlip = true; ///< Flip(p=0.5)
    double flipP = 0.5;
    double maxRotate = 10.0; ///< degrees
    double minZoom = 1.0;
    double maxZoom = 1.1;
    double maxWarp = 0.2;
    double pAffine = 0.75; ///< drawn independently for warp-x, warp-y, rotate, zoom (fastai's _draw_mask per tfm)
    double maxLighting = 0.2;
    double pLighting = 0.75; ///< drawn independently for brightness and contrast
};

/// One item's draw of aug_transforms. Neutral values = identity.
struct AugmentParams
{
    bool flip = false;
    double rotateDeg = 0; ///< positive = fastai's theta
    double zoomScale = 1; ///< s = 1 / U(minZoom, maxZoom) (coordinate scale)
    double zoomColPct = 0.5; ///< zoom centre, U(0, 1)
    double zoomRowPct = 0.5;
    double warpX = 0; ///< U(-maxWarp, maxWarp)
    double warpY = 0;
    double brightness = 0.5; ///< U(0.5(1-l), 0.5(1+l)), added as logit(brightness)
    double contrast = 1; ///< exp(U(log(1-l), -log(1-l))), multiplied in logit space

    bool hasGeometry() const;
    bool hasLighting() const;
};

AugmentParams drawAugment(Rng& rng, const AugmentOptions& options = {});

/// The 3x3 matrix mapping destination pixel coordinates to source pixel coordinates for the combined
/// flip @ rotate @ zoom affine followed by the perspective warp, in fastai's normalised [-1, 1] coordinates with
/// align_corners=True. Works for any size; fastai's aspect correction of the rotation is included.
cv::Matx33d augmentMatrix(const AugmentParams& params, const cv::Size& size);
/// Applies the geometry of `params` (bilinear, BORDER_REFLECT_101 = grid_sample reflection + align_corners). `dst`
/// may not alias `src`.
void applyGeometry(const cv::Mat& src, cv::Mat& dst, const AugmentParams& params);

/// The lighting function on a [0, 1] value: sigmoid((logit(x) + logit(brightness)) * contrast), with fastai's
/// clamp of x to [1e-7, 1 - 1e-7] inside logit.
float applyLighting(float x, const AugmentParams& params);

/// Writes a CV_8UC3 RGB image as ImageNet-normalised floats: NCHW planes (3*h*w) or NHWC (h*w*3). With `lighting`,
/// its brightness/contrast are applied on x / 255 first.
void normalizeToFloat(const cv::Mat& rgb8, float* dst, bool channelsLast, const AugmentParams* lighting = nullptr);

} // namespace Winnow
