// SPDX-License-Identifier: GPL-3.0-or-later
// Explanation (predictor.h): sampling, drawing and JSON of a Grad-CAM map. Torch-free.
#include <algorithm>
#include <cmath>

#include <QJsonArray>

#include "core/engine/predictor.h"

namespace Winnow {

namespace {

/// Samples per grid cell and axis when integrating the interpolated map.
constexpr int kSamplesPerCell = 8;

} // namespace

float Explanation::heatAt(double x, double y) const
{
    if (!ok() || crop.width() <= 0 || crop.height() <= 0 || !crop.contains(QPointF(x, y)))
        return 0.f;
    // Cell centres sit at (i + 0.5) / n of the crop; beyond the outer centres the edge value holds.
    const double u = std::clamp((x - crop.x()) / crop.width() * gridWidth - 0.5, 0.0, double(gridWidth - 1));
    const double v = std::clamp((y - crop.y()) / crop.height() * gridHeight - 0.5, 0.0, double(gridHeight - 1));
    const int x0 = int(u), y0 = int(v);
    const int x1 = std::min(x0 + 1, gridWidth - 1), y1 = std::min(y0 + 1, gridHeight - 1);
    const double fx = u - x0, fy = v - y0;
    auto at = [this](int cx, int cy) { return double(heat[cy * gridWidth + cx]); };
    const double top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
    const double bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
    return float(top * (1 - fy) + bottom * fy);
}

namespace {

/// Calls f(x, y, heat) on a regular sample grid over the crop (normalised coordinates).
template <typename F> void sampleMap(const Explanation& e, F&& f)
{
    const int nx = e.gridWidth * kSamplesPerCell, ny = e.gridHeight * kSamplesPerCell;
    for (int j = 0; j < ny; ++j) {
        const double y = e.crop.y() + (j + 0.5) / ny * e.crop.height();
        for (int i = 0; i < nx; ++i) {
            const double x = e.crop.x() + (i + 0.5) / nx * e.crop.width();
            f(x, y, double(e.heatAt(x, y)));
        }
    }
}

} // namespace

double Explanation::heatShare(const QRectF& region) const
{
    if (!ok())
        return 0;
    double inside = 0, total = 0;
    sampleMap(*this, [&](double x, double y, double h) {
        total += h;
        if (region.contains(QPointF(x, y)))
            inside += h;
    });
    return total > 0 ? inside / total : 0;
}

QPointF Explanation::centroid() const
{
    if (!ok())
        return {};
    double sx = 0, sy = 0, total = 0;
    sampleMap(*this, [&](double x, double y, double h) {
        sx += x * h;
        sy += y * h;
        total += h;
    });
    return total > 0 ? QPointF(sx / total, sy / total) : crop.center();
}

QRgb Explanation::heatColour(float v)
{
    // A blue - cyan - green - yellow - red ramp ("jet"), the scale Grad-CAM figures use.
    v = std::clamp(v, 0.f, 1.f);
    auto ramp = [](float t) { return int(std::lround(255 * std::clamp(t, 0.f, 1.f))); };
    const int r = ramp(1.5f - std::abs(4 * v - 3));
    const int g = ramp(1.5f - std::abs(4 * v - 2));
    const int b = ramp(1.5f - std::abs(4 * v - 1));
    return qRgb(r, g, b);
}

QImage Explanation::overlay(const QImage& original, double opacity) const
{
    if (original.isNull() || !ok())
        return {};
    QImage out = original.convertToFormat(QImage::Format_RGB32);
    const int w = out.width(), h = out.height();
    opacity = std::clamp(opacity, 0.0, 1.0);
    for (int py = 0; py < h; ++py) {
        auto* line = reinterpret_cast<QRgb*>(out.scanLine(py));
        const double y = (py + 0.5) / h;
        for (int px = 0; px < w; ++px) {
            const double x = (px + 0.5) / w;
            const QRgb c = line[px];
            if (!crop.contains(QPointF(x, y))) { // the model never saw this part: dim it
                line[px] = qRgb(qRed(c) / 3, qGreen(c) / 3, qBlue(c) / 3);
                continue;
            }
            const float v = heatAt(x, y);
            const QRgb m = heatColour(v);
            // No evidence leaves the photo as it is; strong evidence shows its colour.
            const double a = opacity * v;
            line[px] = qRgb(int(qRed(c) * (1 - a) + qRed(m) * a), int(qGreen(c) * (1 - a) + qGreen(m) * a),
                int(qBlue(c) * (1 - a) + qBlue(m) * a));
        }
    }
    return out;
}

QJsonObject Explanation::toJson() const
{
    QJsonObject o;
    if (!file.isEmpty())
        o.insert(QStringLiteral("file"), file);
    if (!ok()) {
        o.insert(QStringLiteral("error"), error.isEmpty() ? QStringLiteral("no explanation") : error);
        return o;
    }
    auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
    o.insert(QStringLiteral("class"), label);
    o.insert(QStringLiteral("class_index"), classIndex);
    o.insert(QStringLiteral("probability"), double(probability));
    o.insert(QStringLiteral("predicted"), predictedLabel);
    o.insert(QStringLiteral("predicted_probability"), double(predictedProbability));
    o.insert(QStringLiteral("grid"), QJsonArray { gridWidth, gridHeight });
    o.insert(QStringLiteral("crop"),
        QJsonArray { round3(crop.x()), round3(crop.y()), round3(crop.width()), round3(crop.height()) });
    const QPointF c = centroid();
    o.insert(QStringLiteral("centroid"), QJsonArray { round3(c.x()), round3(c.y()) });
    QJsonArray values;
    for (float v : heat)
        values.append(round3(v));
    o.insert(QStringLiteral("heat"), values);
    return o;
}

} // namespace Winnow
