// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/imaging/imagestats.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/imaging/cvimage.h"

namespace Winnow {

namespace {

/// 64-bit FNV-1a over the full size and every row of the pixels; never 0.
quint64 pixelHash(const cv::Mat& rgb, int fullWidth, int fullHeight)
{
    quint64 h = 14695981039346656037ull;
    const auto eat = [&h](const quint8* p, size_t bytes) {
        for (size_t i = 0; i < bytes; ++i) {
            h ^= p[i];
            h *= 1099511628211ull;
        }
    };
    const std::array<qint32, 4> size { fullWidth, fullHeight, rgb.cols, rgb.rows };
    eat(reinterpret_cast<const quint8*>(size.data()), sizeof(size));
    for (int y = 0; y < rgb.rows; ++y)
        eat(rgb.ptr<quint8>(y), size_t(rgb.cols) * 3);
    return h == 0 ? 1 : h;
}

ImageStats measureMat(const cv::Mat& rgb, int fullWidth, int fullHeight)
{
    ImageStats s;
    if (rgb.empty() || rgb.type() != CV_8UC3)
        return s;
    s.width = fullWidth > 0 ? fullWidth : rgb.cols;
    s.height = fullHeight > 0 ? fullHeight : rgb.rows;

    // Mean colour, colourfulness and the grey histogram in one pass over the pixels.
    std::array<double, 3> sum { 0, 0, 0 };
    std::array<qint64, 256> histogram {};
    std::array<qint64, 256> brightest {}; // of max(R, G, B): a saturated red is bright, though its luma is low
    double spread = 0;
    for (int y = 0; y < rgb.rows; ++y) {
        const quint8* p = rgb.ptr<quint8>(y);
        for (int x = 0; x < rgb.cols; ++x, p += 3) {
            const int r = p[0], g = p[1], b = p[2];
            sum[0] += r;
            sum[1] += g;
            sum[2] += b;
            const int top = std::max({ r, g, b });
            spread += top - std::min({ r, g, b });
            ++brightest[size_t(top)];
            // ITU-R 601 luma, as OpenCV's and PIL's RGB -> L conversions.
            ++histogram[size_t((299 * r + 587 * g + 114 * b + 500) / 1000)];
        }
    }
    const double n = double(rgb.total());
    const double r = sum[0] / n, g = sum[1] / n, b = sum[2] / n;
    s.brightness = float(std::sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255.0);
    s.colourfulness = float(spread / n / 255.0);
    double entropy = 0;
    for (qint64 c : histogram)
        if (c > 0) {
            const double p = double(c) / n;
            entropy -= p * std::log2(p);
        }
    s.entropy = float(entropy);
    auto percentile = [&](const std::array<qint64, 256>& h, double q) {
        const double target = q * n;
        double seen = 0;
        for (int level = 0; level < 256; ++level) {
            seen += double(h[size_t(level)]);
            if (seen >= target)
                return float(level / 255.0);
        }
        return 1.0f;
    };
    s.highlights = percentile(brightest, 0.99);
    s.shadows = percentile(histogram, 0.01);

    cv::Mat grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    const int longer = std::max(grey.cols, grey.rows);
    if (longer > ImageStats::kSharpnessSide) {
        const double f = double(ImageStats::kSharpnessSide) / longer;
        cv::Mat small;
        cv::resize(grey, small,
            cv::Size(std::max(1, int(std::lround(grey.cols * f))), std::max(1, int(std::lround(grey.rows * f)))), 0, 0,
            cv::INTER_AREA);
        grey = small;
    }
    const cv::Mat kernel = (cv::Mat_<float>(3, 3) << -1, -1, -1, -1, 8, -1, -1, -1, -1);
    cv::Mat edges;
    cv::filter2D(grey, edges, CV_32F, kernel, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
    cv::Scalar mean, stddev;
    cv::meanStdDev(edges, mean, stddev);
    s.edgeVariance = float(stddev[0] * stddev[0]);
    cv::Scalar greyMean, greyStd;
    cv::meanStdDev(grey, greyMean, greyStd);
    // A flat image has no edges to be sharp or blurred: its trouble is the missing information, not focus.
    s.relativeEdgeVariance = greyStd[0] < 2 ? 1.0f : float(s.edgeVariance / (greyStd[0] * greyStd[0]));
    s.pixelHash = pixelHash(rgb, s.width, s.height);
    s.ok = true;
    return s;
}

} // namespace

ImageStats measureImageFile(const QString& path)
{
    DecodeOptions options;
    options.minShortSide = ImageStats::kSharpnessSide;
    DecodedImage info;
    const cv::Mat rgb = decodeFileToMat(path, options, info);
    if (info.error != Unreadable::None || rgb.empty())
        return {};
    return measureMat(rgb, info.sourceWidth, info.sourceHeight);
}

} // namespace Winnow
