// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/imaging/transforms.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/imaging/loader.h"
#include "core/util/mix.h"

namespace Winnow {

namespace {

double unit(Rng& rng)
{
    return double(rng() >> 11) * 0x1.0p-53;
}

/// Python's round(): ties to even (the default FE_TONEAREST mode).
int pyRound(double v)
{
    return int(std::nearbyint(v));
}

double logit(double x)
{
    x = std::clamp(x, 1e-7, 1.0 - 1e-7); // fastai's logit clamps first
    return -std::log(1.0 / x - 1.0);
}

} // namespace

quint64 mixSeed(quint64 a, quint64 b, quint64 c)
{
    return splitmix64(a ^ splitmix64(b ^ splitmix64(c)));
}

double uniform(Rng& rng, double lo, double hi)
{
    return lo + (hi - lo) * unit(rng);
}

int randInt(Rng& rng, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    const int span = hi - lo + 1;
    return lo + std::min(int(unit(rng) * span), span - 1);
}

int validationExtra(int size)
{
    // Same double arithmetic as Python's math.ceil(size * 0.14 / 8) * 8, so edge cases round the same way.
    return int(std::ceil(double(size) * 0.14 / 8.0)) * 8;
}

namespace {

// PIL's ImagingResample with the BILINEAR filter (Pillow libImaging/Resample.c), which is what fastai's item
// transforms call: a triangle filter widened by the downscale factor (antialiased), separable, horizontal pass first,
// 8-bit intermediate, fixed-point coefficients with 22 fractional bits. Reproduced bit for bit.
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coeffs
{
    int ksize = 0;
    std::vector<int> bounds; // (min, count) per output index
    std::vector<int> k; // ksize per output index
};

Coeffs precomputeCoeffs(int inSize, int outSize)
{
    Coeffs c;
    const double scale = double(inSize) / outSize;
    const double filterscale = std::max(scale, 1.0);
    const double support = 1.0 * filterscale;
    c.ksize = int(std::ceil(support)) * 2 + 1;
    c.bounds.resize(size_t(outSize) * 2);
    c.k.assign(size_t(outSize) * c.ksize, 0);
    std::vector<double> w(size_t(c.ksize));
    for (int xx = 0; xx < outSize; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = int(center - support + 0.5);
        xmin = std::max(xmin, 0);
        int xmax = int(center + support + 0.5);
        xmax = std::min(xmax, inSize) - xmin;
        double ww = 0;
        for (int x = 0; x < xmax; ++x) {
            const double t = std::abs((x + xmin - center + 0.5) * ss);
            w[size_t(x)] = t < 1.0 ? 1.0 - t : 0.0;
            ww += w[size_t(x)];
        }
        int* k = &c.k[size_t(xx) * c.ksize];
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? w[size_t(x)] / ww : w[size_t(x)];
            k[x] = v < 0 ? int(-0.5 + v * (1 << kPrecisionBits)) : int(0.5 + v * (1 << kPrecisionBits));
        }
        c.bounds[size_t(xx) * 2] = xmin;
        c.bounds[size_t(xx) * 2 + 1] = xmax;
    }
    return c;
}

inline uchar clip8(int in)
{
    if (in >= (1 << kPrecisionBits << 8))
        return 255;
    if (in <= 0)
        return 0;
    return uchar(in >> kPrecisionBits);
}

void resampleHorizontal(const cv::Mat& src, cv::Mat& dst, int outW, int rowFirst, int rows)
{
    const Coeffs c = precomputeCoeffs(src.cols, outW);
    dst.create(rows, outW, CV_8UC3);
    for (int y = 0; y < rows; ++y) {
        const uchar* __restrict in = src.ptr<uchar>(y + rowFirst);
        uchar* __restrict out = dst.ptr<uchar>(y);
        for (int xx = 0; xx < outW; ++xx) {
            const int xmin = c.bounds[size_t(xx) * 2];
            const int n = c.bounds[size_t(xx) * 2 + 1];
            const int* __restrict k = &c.k[size_t(xx) * c.ksize];
            int s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
            const uchar* __restrict p = in + xmin * 3;
            for (int x = 0; x < n; ++x, p += 3) {
                s0 += p[0] * k[x];
                s1 += p[1] * k[x];
                s2 += p[2] * k[x];
            }
            out[xx * 3] = clip8(s0);
            out[xx * 3 + 1] = clip8(s1);
            out[xx * 3 + 2] = clip8(s2);
        }
    }
}

void resampleVertical(const cv::Mat& src, cv::Mat& dst, const Coeffs& c, int outH, int rowShift)
{
    dst.create(outH, src.cols, CV_8UC3);
    const int w3 = src.cols * 3;
    std::vector<int> acc(static_cast<size_t>(w3));
    for (int yy = 0; yy < outH; ++yy) {
        const int ymin = c.bounds[size_t(yy) * 2] - rowShift;
        const int n = c.bounds[size_t(yy) * 2 + 1];
        const int* k = &c.k[size_t(yy) * c.ksize];
        std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
        int* __restrict a = acc.data(); // uchar pointers may alias anything: restrict lets this vectorise
        for (int y = 0; y < n; ++y) { // row-wise accumulation: same sums, cache-friendly order
            const uchar* __restrict in = src.ptr<uchar>(ymin + y);
            const int ky = k[y];
            for (int i = 0; i < w3; ++i)
                a[i] += in[i] * ky;
        }
        uchar* __restrict out = dst.ptr<uchar>(yy);
        for (int i = 0; i < w3; ++i)
            out[i] = clip8(a[i]);
    }
}

} // namespace

void resizeTo(const cv::Mat& src, cv::Mat& dst, const cv::Size& to)
{
    CV_Assert(src.type() == CV_8UC3 && to.width > 0 && to.height > 0);
    if (src.size() == to) {
        src.copyTo(dst);
        return;
    }
    const bool horizontal = to.width != src.cols;
    const bool vertical = to.height != src.rows;
    const Coeffs vert = precomputeCoeffs(src.rows, to.height);
    if (horizontal && !vertical) {
        cv::Mat out;
        resampleHorizontal(src, out, to.width, 0, src.rows);
        dst = out;
        return;
    }
    // Only the source rows the vertical pass reads get the horizontal pass (as PIL does).
    const int first = vert.bounds[0];
    const int last = vert.bounds[size_t(to.height - 1) * 2] + vert.bounds[size_t(to.height - 1) * 2 + 1];
    cv::Mat mid;
    int shift = 0;
    const cv::Mat* vin = &src;
    if (horizontal) {
        resampleHorizontal(src, mid, to.width, first, last - first);
        vin = &mid;
        shift = first;
    }
    cv::Mat out;
    resampleVertical(*vin, out, vert, to.height, shift);
    dst = out;
}

cv::Mat cropPadResize(const cv::Mat& src, const cv::Rect& region, const cv::Size& to, PadMode pad)
{
    const cv::Rect full(0, 0, src.cols, src.rows);
    const cv::Rect inside = region & full;
    cv::Mat out;
    if (inside == region) {
        resizeTo(src(region), out, to);
        return out;
    }
    cv::Mat padded;
    if (inside.empty()) {
        padded = cv::Mat::zeros(std::max(region.height, 1), std::max(region.width, 1), src.type());
    } else {
        const int top = inside.y - region.y;
        const int left = inside.x - region.x;
        const int bottom = region.y + region.height - (inside.y + inside.height);
        const int right = region.x + region.width - (inside.x + inside.width);
        cv::copyMakeBorder(src(inside), padded, top, bottom, left, right,
            pad == PadMode::Reflection ? cv::BORDER_REFLECT_101 : cv::BORDER_CONSTANT, cv::Scalar::all(0));
    }
    resizeTo(padded, out, to);
    return out;
}

cv::Mat resizeItem(const cv::Mat& src, const cv::Size& size, ResizeMethod method, PadMode pad, Rng* rng)
{
    const int w = src.cols;
    const int h = src.rows;
    if (method == ResizeMethod::Squish)
        return cropPadResize(src, cv::Rect(0, 0, w, h), size, pad);
    const double rw = double(w) / size.width;
    const double rh = double(h) / size.height;
    // Crop: the smaller ratio (largest region of the target aspect inside); Pad: the larger one.
    const double m = method == ResizeMethod::Crop ? std::min(rw, rh) : std::max(rw, rh);
    const int cw = int(m * size.width);
    const int ch = int(m * size.height);
    const double px = rng ? unit(*rng) : 0.5;
    const double py = rng ? unit(*rng) : 0.5;
    const int left = int(px * (w - cw)); // int() truncates toward zero, as in Python
    const int top = int(py * (h - ch));
    return cropPadResize(src, cv::Rect(left, top, cw, ch), size, pad);
}

cv::Rect randomResizedCropBox(int w, int h, Rng& rng, const RrcOptions& o)
{
    const double logR0 = std::log(o.ratioMin);
    const double logR1 = std::log(o.ratioMax);
    for (int attempt = 0; attempt < o.attempts; ++attempt) {
        const double area = uniform(rng, o.minScale, o.maxScale) * w * h;
        const double ratio = std::exp(uniform(rng, logR0, logR1));
        const int nw = pyRound(std::sqrt(area * ratio));
        const int nh = pyRound(std::sqrt(area / ratio));
        if (nw <= w && nh <= h && nw > 0 && nh > 0) {
            const int top = randInt(rng, 0, h - nh);
            const int left = randInt(rng, 0, w - nw);
            return { left, top, nw, nh };
        }
    }
    int cw = w;
    int ch = h;
    const double r = double(w) / h;
    if (r < o.ratioMin)
        ch = int(w / o.ratioMin);
    else if (r > o.ratioMax)
        cw = int(h * o.ratioMax);
    return { (w - cw) / 2, (h - ch) / 2, cw, ch };
}

cv::Mat randomResizedCrop(const cv::Mat& src, int size, Rng& rng, const RrcOptions& options)
{
    const cv::Rect box = randomResizedCropBox(src.cols, src.rows, rng, options);
    return cropPadResize(src, box, { size, size });
}

cv::Rect centreCropBox(int w, int h, int cropW, int cropH)
{
    return { (w - cropW) / 2, (h - cropH) / 2, cropW, cropH };
}

cv::Mat validationTransform(const cv::Mat& src, int size)
{
    const int s = size + validationExtra(size);
    cv::Mat squished;
    resizeTo(src, squished, { s, s });
    return squished(centreCropBox(s, s, size, size)).clone();
}

bool AugmentParams::hasGeometry() const
{
    return flip || rotateDeg != 0 || zoomScale != 1 || warpX != 0 || warpY != 0;
}

bool AugmentParams::hasLighting() const
{
    return brightness != 0.5 || contrast != 1;
}

AugmentParams drawAugment(Rng& rng, const AugmentOptions& o)
{
    // fastai draws each RandTransform's mask independently (_draw_mask), so each op has its own coin.
    AugmentParams p;
    const auto coin = [&rng](double prob) { return unit(rng) < prob; };
    if (o.doFlip)
        p.flip = coin(o.flipP);
    if (o.maxWarp > 0) {
        const double wx = uniform(rng, -o.maxWarp, o.maxWarp);
        p.warpX = coin(o.pAffine) ? wx : 0.0;
        const double wy = uniform(rng, -o.maxWarp, o.maxWarp);
        p.warpY = coin(o.pAffine) ? wy : 0.0;
    }
    if (o.maxRotate > 0) {
        const double deg = uniform(rng, -o.maxRotate, o.maxRotate);
        p.rotateDeg = coin(o.pAffine) ? deg : 0.0;
    }
    if (o.minZoom < 1 || o.maxZoom > 1) {
        const double z = uniform(rng, o.minZoom, o.maxZoom);
        p.zoomScale = coin(o.pAffine) ? 1.0 / z : 1.0;
        p.zoomColPct = unit(rng);
        p.zoomRowPct = unit(rng);
    }
    if (o.maxLighting > 0) {
        const double b = uniform(rng, 0.5 * (1 - o.maxLighting), 0.5 * (1 + o.maxLighting));
        p.brightness = coin(o.pLighting) ? b : 0.5;
        const double c = std::exp(uniform(rng, std::log(1 - o.maxLighting), -std::log(1 - o.maxLighting)));
        p.contrast = coin(o.pLighting) ? c : 1.0;
    }
    return p;
}

cv::Matx33d augmentMatrix(const AugmentParams& p, const cv::Size& size)
{
    const double w = size.width;
    const double h = size.height;
    // Affine part, in fastai's order: I @ flip @ rotate @ zoom (aff_fs composed by setup_aug_tfms).
    const cv::Matx33d flip(p.flip ? -1 : 1, 0, 0, 0, 1, 0, 0, 0, 1);
    const double t = p.rotateDeg * CV_PI / 180.0;
    const cv::Matx33d rot(std::cos(t), std::sin(t), 0, -std::sin(t), std::cos(t), 0, 0, 0, 1);
    const double s = p.zoomScale;
    const cv::Matx33d zoom(s, 0, (1 - s) * (2 * p.zoomColPct - 1), 0, s, (1 - s) * (2 * p.zoomRowPct - 1), 0, 0, 1);
    cv::Matx33d aff = flip * rot * zoom;
    aff(0, 1) *= h / w; // _prepare_mat's aspect correction
    aff(1, 0) *= w / h;

    // Perspective warp (_WarpCoord): H maps the target corners back onto the original corners.
    const double x = p.warpX;
    const double y = p.warpY;
    const cv::Point2f orig[4] = { { -1, -1 }, { -1, 1 }, { 1, -1 }, { 1, 1 } };
    const cv::Point2f targ[4] = { { float(-1 - y), float(-1 - x) }, { float(-1 + y), float(1 + x) },
        { float(1 + y), float(-1 + x) }, { float(1 - y), float(1 - x) } };
    cv::Matx33d warp = cv::Matx33d::eye();
    if (x != 0 || y != 0)
        warp = cv::Matx33d(cv::getPerspectiveTransform(targ, orig));

    // Pixel <-> normalised coordinates with align_corners=True: u = 2 x / (W - 1) - 1.
    const double sx = w > 1 ? 2.0 / (w - 1) : 1.0;
    const double sy = h > 1 ? 2.0 / (h - 1) : 1.0;
    const cv::Matx33d toNorm(sx, 0, -1, 0, sy, -1, 0, 0, 1);
    const cv::Matx33d toPix(1 / sx, 0, 1 / sx, 0, 1 / sy, 1 / sy, 0, 0, 1);
    return toPix * warp * aff * toNorm;
}

void applyGeometry(const cv::Mat& src, cv::Mat& dst, const AugmentParams& params)
{
    const cv::Matx33d m = augmentMatrix(params, src.size());
    cv::warpPerspective(src, dst, m, src.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REFLECT_101);
}

float applyLighting(float x, const AugmentParams& p)
{
    const double l = (logit(x) + logit(p.brightness)) * p.contrast;
    return float(1.0 / (1.0 + std::exp(-l)));
}

void normalizeToFloat(const cv::Mat& rgb8, float* dst, bool channelsLast, const AugmentParams* lighting)
{
    CV_Assert(rgb8.type() == CV_8UC3);
    std::array<std::array<float, 256>, 3> lut;
    const bool light = lighting && lighting->hasLighting();
    for (int v = 0; v < 256; ++v) {
        const float x = light ? applyLighting(float(v) / 255.0f, *lighting) : float(v) / 255.0f;
        for (int c = 0; c < 3; ++c)
            lut[c][v] = (x - kImageNetMean[c]) / kImageNetStd[c];
    }
    const int w = rgb8.cols;
    const int h = rgb8.rows;
    const size_t plane = size_t(w) * h;
    for (int y = 0; y < h; ++y) {
        const uchar* s = rgb8.ptr<uchar>(y);
        if (channelsLast) {
            float* d = dst + size_t(y) * w * 3;
            for (int x = 0; x < w; ++x, s += 3, d += 3) {
                d[0] = lut[0][s[0]];
                d[1] = lut[1][s[1]];
                d[2] = lut[2][s[2]];
            }
        } else {
            float* r = dst + size_t(y) * w;
            float* g = r + plane;
            float* b = g + plane;
            for (int x = 0; x < w; ++x, s += 3) {
                r[x] = lut[0][s[0]];
                g[x] = lut[1][s[1]];
                b[x] = lut[2][s[2]];
            }
        }
    }
}

} // namespace Winnow
