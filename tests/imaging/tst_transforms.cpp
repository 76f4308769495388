// SPDX-License-Identifier: GPL-3.0-or-later
// fastai item transforms, aug_transforms and normalisation on cv::Mat (core/imaging/transforms.h).
#include <cmath>

#include <opencv2/imgproc.hpp>

#include <QTest>

#include "core/imaging/loader.h"
#include "core/imaging/transforms.h"

using namespace Winnow;

namespace {

/// R = column gradient, G = row gradient, B = 50: linear functions survive area/linear resampling.
cv::Mat gradient(int w, int h, double rPerCol, double gPerRow)
{
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            m.at<cv::Vec3b>(y, x) =
                cv::Vec3b(cv::saturate_cast<uchar>(x * rPerCol), cv::saturate_cast<uchar>(y * gPerRow), 50);
    return m;
}

cv::Mat noise(int w, int h, quint64 seed)
{
    cv::Mat m(h, w, CV_8UC3);
    cv::RNG rng(seed);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    return m;
}

double maxAbsDiff(const cv::Mat& a, const cv::Mat& b)
{
    double v = 0;
    cv::minMaxLoc(cv::abs(a - b) + cv::abs(b - a), nullptr, &v);
    return v;
}

cv::Point2d mapPoint(const cv::Matx33d& m, double x, double y)
{
    const cv::Vec3d p = m * cv::Vec3d(x, y, 1);
    return { p[0] / p[2], p[1] / p[2] };
}

} // namespace

class TestTransforms : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validationExtra_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("extra");
        // Values from Python: math.ceil(s * 0.14 / 8) * 8 (400 hits a float edge: 56.00000000000001).
        QTest::newRow("64") << 64 << 16;
        QTest::newRow("128") << 128 << 24;
        QTest::newRow("192") << 192 << 32;
        QTest::newRow("224") << 224 << 32;
        QTest::newRow("256") << 256 << 40;
        QTest::newRow("400") << 400 << 64;
    }
    void validationExtra()
    {
        QFETCH(int, size);
        QFETCH(int, extra);
        QCOMPARE(Winnow::validationExtra(size), extra);
    }

    void resizeMatchesPilBilinear_data()
    {
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("h");
        QTest::addColumn<QList<int>>("expected");
        // Reference: Pillow 9.4 `im.resize((w, h), Image.BILINEAR)` of the 9x7 image built in the test body (what
        // fastai's Resize / RandomResizedCrop call). Our resampler must reproduce it bit for bit.
        QTest::newRow("down 4x3") << 4 << 3
                                  << QList<int> { 40, 62, 12, 115, 88, 51, 181, 118, 139, 70, 144, 147, 64, 161, 27,
                                         139, 143, 66, 185, 161, 140, 79, 110, 82, 88, 102, 42, 163, 89, 81, 160, 114,
                                         154, 66, 140, 91 };
        QTest::newRow("mixed 5x12") << 5 << 12
                                    << QList<int> { 21, 7, 4, 79, 28, 25, 148, 52, 82, 169, 76, 175, 37, 97, 150, 25,
                                           29, 7, 83, 50, 28, 152, 74, 85, 173, 98, 178, 41, 119, 153, 32, 64, 11, 90,
                                           85, 32, 159, 109, 89, 180, 133, 182, 48, 154, 157, 38, 98, 15, 96, 119, 36,
                                           165, 143, 93, 186, 167, 160, 54, 188, 101, 44, 132, 19, 102, 153, 40, 171,
                                           177, 97, 192, 195, 142, 60, 193, 55, 51, 167, 23, 109, 188, 44, 178, 212,
                                           101, 199, 202, 146, 67, 88, 59, 57, 196, 27, 115, 162, 48, 184, 172, 105,
                                           168, 162, 150, 68, 48, 63, 64, 220, 31, 122, 75, 52, 191, 57, 109, 100, 75,
                                           154, 64, 72, 67, 70, 143, 35, 128, 61, 56, 197, 59, 113, 90, 83, 158, 68,
                                           104, 71, 76, 48, 39, 134, 69, 60, 203, 93, 117, 96, 117, 162, 74, 138, 75,
                                           83, 83, 43, 141, 104, 64, 210, 128, 121, 103, 152, 166, 81, 173, 79, 87, 105,
                                           46, 145, 126, 67, 214, 150, 124, 107, 174, 169, 85, 195, 82 };
        QTest::newRow("up 10x8") << 10 << 8
                                 << QList<int> { 0, 0, 0, 31, 11, 4, 65, 23, 16, 98, 34, 36, 131, 46, 64, 165, 58, 100,
                                        198, 70, 144, 167, 81, 196, 9, 93, 218, 40, 104, 64, 9, 48, 6, 40, 59, 10, 74,
                                        71, 22, 107, 82, 42, 140, 94, 70, 174, 106, 106, 207, 118, 150, 176, 129, 202,
                                        18, 141, 224, 49, 152, 70, 19, 100, 12, 50, 111, 16, 84, 123, 28, 117, 134, 48,
                                        150, 146, 76, 184, 158, 112, 217, 170, 156, 186, 181, 164, 28, 193, 80, 59, 204,
                                        76, 28, 151, 18, 59, 162, 22, 93, 174, 34, 126, 185, 54, 159, 197, 82, 193, 209,
                                        118, 226, 221, 162, 195, 196, 150, 37, 100, 18, 68, 111, 82, 38, 203, 24, 69,
                                        214, 28, 103, 142, 40, 136, 125, 60, 169, 137, 88, 203, 149, 124, 196, 161, 168,
                                        121, 136, 156, 47, 40, 24, 78, 51, 88, 47, 174, 30, 78, 185, 34, 112, 65, 46,
                                        145, 32, 66, 178, 44, 94, 212, 56, 130, 155, 68, 174, 22, 79, 162, 56, 91, 30,
                                        87, 102, 94, 57, 50, 36, 88, 61, 40, 122, 73, 52, 155, 84, 72, 188, 96, 100,
                                        222, 108, 136, 165, 120, 180, 32, 131, 168, 66, 143, 36, 97, 154, 100, 66, 98,
                                        42, 97, 109, 46, 131, 121, 58, 164, 132, 78, 197, 144, 106, 231, 156, 142, 174,
                                        168, 186, 41, 179, 174, 75, 191, 42, 106, 202, 106 };
    }
    void resizeMatchesPilBilinear()
    {
        QFETCH(int, w);
        QFETCH(int, h);
        QFETCH(QList<int>, expected);
        cv::Mat src(7, 9, CV_8UC3);
        for (int y = 0; y < 7; ++y)
            for (int x = 0; x < 9; ++x)
                src.at<cv::Vec3b>(y, x) =
                    cv::Vec3b((x * 37 + y * 11) % 256, (x * 13 + y * 59) % 256, (x * x * 5 + y * 7) % 256);
        cv::Mat out;
        resizeTo(src, out, { w, h });
        QCOMPARE(out.cols, w);
        QCOMPARE(out.rows, h);
        QCOMPARE(int(expected.size()), w * h * 3);
        for (int i = 0; i < w * h * 3; ++i)
            QCOMPARE(int(out.data[i]), expected[i]);
    }

    void validationSquishesThenCentreCrops_data()
    {
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("size");
        QTest::newRow("wide 512x128 -> 224") << 512 << 128 << 224;
        QTest::newRow("tall 150x600 -> 128") << 150 << 600 << 128;
        QTest::newRow("square 300 -> 224") << 300 << 300 << 224;
    }
    void validationSquishesThenCentreCrops()
    {
        QFETCH(int, w);
        QFETCH(int, h);
        QFETCH(int, size);
        const double rPerCol = 200.0 / w;
        const double gPerRow = 200.0 / h;
        const cv::Mat src = gradient(w, h, rPerCol, gPerRow);
        const cv::Mat out = validationTransform(src, size);
        QCOMPARE(out.cols, size);
        QCOMPARE(out.rows, size);
        // Squish to s x s (each axis independently), crop offset xtra/2: output pixel u samples source
        // x = (u + off + 0.5) * w / s - 0.5 (pixel centres), so R(u) = rPerCol * x.
        const int s = size + Winnow::validationExtra(size);
        const int off = (s - size) / 2;
        double worst = 0;
        for (int v = 2; v < size - 2; v += 5) {
            for (int u = 2; u < size - 2; u += 5) {
                const double sx = (u + off + 0.5) * double(w) / s - 0.5;
                const double sy = (v + off + 0.5) * double(h) / s - 0.5;
                const cv::Vec3b px = out.at<cv::Vec3b>(v, u);
                worst = std::max(worst, std::abs(px[0] - rPerCol * sx));
                worst = std::max(worst, std::abs(px[1] - gPerRow * sy));
                QCOMPARE(int(px[2]), 50);
            }
        }
        QVERIFY2(worst <= 1.5, qPrintable(QString::number(worst)));
    }

    void rrcBoxBounds_data()
    {
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("h");
        QTest::newRow("275x183") << 275 << 183;
        QTest::newRow("square") << 128 << 128;
        QTest::newRow("tall") << 90 << 200;
        QTest::newRow("tiny") << 3 << 2;
    }
    void rrcBoxBounds()
    {
        QFETCH(int, w);
        QFETCH(int, h);
        Rng rng(mixSeed(1, 2, 3));
        double areaSum = 0;
        bool sawDifferentPositions = false;
        cv::Rect first;
        for (int i = 0; i < 3000; ++i) {
            const cv::Rect b = randomResizedCropBox(w, h, rng);
            QVERIFY(b.x >= 0 && b.y >= 0 && b.width > 0 && b.height > 0);
            QVERIFY(b.x + b.width <= w && b.y + b.height <= h);
            const double area = double(b.width) * b.height / (double(w) * h);
            areaSum += area;
            if (w >= 10) {
                // round() moves each side by <= 0.5 px
                const double slack = (0.5 * (b.width + b.height) + 0.25) / (double(w) * h);
                QVERIFY2(area >= 0.5 - slack - 1e-9, qPrintable(QString::number(area)));
                const double ratio = double(b.width) / b.height;
                QVERIFY(ratio >= 0.75 * (1 - 1.0 / b.height) - 1e-9);
                QVERIFY(ratio <= (4.0 / 3.0) * (1 + 1.0 / b.height) + 1e-9);
            }
            if (i == 0)
                first = b;
            else if (b != first)
                sawDifferentPositions = true;
        }
        QVERIFY(sawDifferentPositions);
        const double mean = areaSum / 3000;
        QVERIFY(mean > 0.5 && mean <= 1.0);
    }

    void rrcFallbackIsClampedCentreCrop()
    {
        // 1000x50: no draw with area >= 0.5 and ratio <= 4/3 fits, so all 10 attempts fail.
        Rng rng(7);
        const cv::Rect b = randomResizedCropBox(1000, 50, rng);
        QCOMPARE(b, cv::Rect((1000 - 66) / 2, 0, 66, 50)); // int(50 * 4/3) = 66
        const cv::Rect t = randomResizedCropBox(40, 1000, rng);
        QCOMPARE(t, cv::Rect(0, (1000 - 53) / 2, 40, 53)); // int(40 / 0.75) = 53
    }

    void rrcOutputSizeAndDeterminism()
    {
        const cv::Mat src = noise(275, 183, 5);
        Rng a(mixSeed(42, 0, 17));
        Rng b(mixSeed(42, 0, 17));
        const cv::Mat x = randomResizedCrop(src, 128, a);
        const cv::Mat y = randomResizedCrop(src, 128, b);
        QCOMPARE(x.cols, 128);
        QCOMPARE(x.rows, 128);
        QCOMPARE(maxAbsDiff(x, y), 0.0);
        Rng c(mixSeed(42, 1, 17));
        QVERIFY(maxAbsDiff(x, randomResizedCrop(src, 128, c)) > 0);
    }

    void resizeMethods()
    {
        const cv::Mat src = gradient(300, 200, 0.8, 1.0) + cv::Scalar(10, 10, 10);
        // Crop (valid): largest centred square, fastai's tl = int(0.5 * (w - cp)).
        const cv::Mat crop = resizeItem(src, { 100, 100 }, ResizeMethod::Crop, PadMode::Reflection);
        QCOMPARE(maxAbsDiff(crop, cropPadResize(src, cv::Rect(50, 0, 200, 200), { 100, 100 })), 0.0);
        // Squish: whole image.
        const cv::Mat squish = resizeItem(src, { 100, 100 }, ResizeMethod::Squish);
        QCOMPARE(maxAbsDiff(squish, cropPadResize(src, cv::Rect(0, 0, 300, 200), { 100, 100 })), 0.0);
        // Pad: 300x300 region from y = int(0.5 * -100) = -50: a band of 1/6 at the top and bottom is padding.
        const cv::Mat zeros = resizeItem(src, { 120, 120 }, ResizeMethod::Pad, PadMode::Zeros);
        QCOMPARE(zeros.cols, 120);
        QCOMPARE(zeros.at<cv::Vec3b>(5, 60), cv::Vec3b(0, 0, 0));
        QCOMPARE(zeros.at<cv::Vec3b>(114, 60), cv::Vec3b(0, 0, 0));
        QVERIFY(zeros.at<cv::Vec3b>(60, 60)[2] > 0);
        const cv::Mat refl = resizeItem(src, { 120, 120 }, ResizeMethod::Pad, PadMode::Reflection);
        // Reflection about the first row: output row 5 (source row -36.25) mirrors output row 34 (source row 36.25).
        QVERIFY(refl.at<cv::Vec3b>(5, 60)[2] > 0);
        QVERIFY(std::abs(int(refl.at<cv::Vec3b>(5, 60)[1]) - int(refl.at<cv::Vec3b>(34, 60)[1])) <= 2);
        // Random (train) crops stay inside and vary.
        Rng rng(3);
        const cv::Mat r1 = resizeItem(src, { 100, 100 }, ResizeMethod::Crop, PadMode::Reflection, &rng);
        const cv::Mat r2 = resizeItem(src, { 100, 100 }, ResizeMethod::Crop, PadMode::Reflection, &rng);
        QCOMPARE(r1.cols, 100);
        QVERIFY(maxAbsDiff(r1, r2) > 0);
    }

    void identityAugmentIsExact()
    {
        const cv::Mat src = noise(64, 64, 9);
        cv::Mat dst;
        applyGeometry(src, dst, AugmentParams {});
        QCOMPARE(maxAbsDiff(src, dst), 0.0);
    }

    void flipMirrors()
    {
        const cv::Mat src = gradient(64, 48, 3.0, 4.0);
        AugmentParams p;
        p.flip = true;
        cv::Mat dst;
        applyGeometry(src, dst, p);
        cv::Mat expected;
        cv::flip(src, expected, 1);
        QVERIFY(maxAbsDiff(dst, expected) <= 1);
    }

    void augmentMatrixGeometry()
    {
        const cv::Size sz(101, 101);
        // Rotation: fastai's theta = [[cos, sin], [-sin, cos]] on output coords. 90 degrees: (u, v) -> (v, -u),
        // so the top-right output pixel samples the top-left input pixel.
        AugmentParams rot;
        rot.rotateDeg = 90;
        const cv::Point2d r = mapPoint(augmentMatrix(rot, sz), 100, 0);
        QVERIFY(std::abs(r.x - 0) < 1e-9 && std::abs(r.y - 0) < 1e-9);
        // Zoom centred: the centre stays, corners sample inside.
        AugmentParams zoom;
        zoom.zoomScale = 1 / 1.1;
        const cv::Point2d c = mapPoint(augmentMatrix(zoom, sz), 50, 50);
        QVERIFY(std::abs(c.x - 50) < 1e-9 && std::abs(c.y - 50) < 1e-9);
        const cv::Point2d corner = mapPoint(augmentMatrix(zoom, sz), 0, 0);
        QVERIFY(std::abs(corner.x - 50 * (1 - 1 / 1.1)) < 1e-9);
        // Zoom at col_pct 1: the right edge stays fixed.
        zoom.zoomColPct = 1;
        QVERIFY(std::abs(mapPoint(augmentMatrix(zoom, sz), 100, 50).x - 100) < 1e-9);
        // Warp: the perspective maps fastai's target corners onto the image corners.
        AugmentParams warp;
        warp.warpX = 0.2;
        warp.warpY = -0.1;
        const cv::Matx33d m = augmentMatrix(warp, sz);
        const double x = warp.warpX;
        const double y = warp.warpY;
        const auto toPix = [](double u) { return (u + 1) * 50; };
        const cv::Point2d t0 = mapPoint(m, toPix(-1 - y), toPix(-1 - x));
        const cv::Point2d t3 = mapPoint(m, toPix(1 - y), toPix(1 - x));
        QVERIFY(std::abs(t0.x) < 1e-3 && std::abs(t0.y) < 1e-3);
        QVERIFY(std::abs(t3.x - 100) < 1e-3 && std::abs(t3.y - 100) < 1e-3);
    }

    void augmentDrawDistribution()
    {
        Rng rng(mixSeed(42, 0, 0));
        const int n = 20000;
        int flips = 0, rotated = 0, zoomed = 0, bright = 0, contrasted = 0, warpedX = 0;
        for (int i = 0; i < n; ++i) {
            const AugmentParams p = drawAugment(rng);
            flips += p.flip;
            rotated += p.rotateDeg != 0;
            zoomed += p.zoomScale != 1;
            bright += p.brightness != 0.5;
            contrasted += p.contrast != 1;
            warpedX += p.warpX != 0;
            QVERIFY(std::abs(p.rotateDeg) <= 10);
            QVERIFY(p.zoomScale >= 1 / 1.1 - 1e-12 && p.zoomScale <= 1);
            QVERIFY(p.zoomColPct >= 0 && p.zoomColPct < 1);
            QVERIFY(std::abs(p.warpX) <= 0.2 && std::abs(p.warpY) <= 0.2);
            QVERIFY(p.brightness >= 0.4 && p.brightness <= 0.6);
            QVERIFY(p.contrast >= 0.8 - 1e-12 && p.contrast <= 1.25 + 1e-12);
        }
        const auto near = [n](int count, double p) { return std::abs(double(count) / n - p) < 0.02; };
        QVERIFY(near(flips, 0.5));
        QVERIFY(near(rotated, 0.75));
        QVERIFY(near(zoomed, 0.75));
        QVERIFY(near(bright, 0.75));
        QVERIFY(near(contrasted, 0.75));
        QVERIFY(near(warpedX, 0.75));
    }

    void lightingFormula()
    {
        AugmentParams p;
        QVERIFY(std::abs(applyLighting(0.3f, p) - 0.3f) < 1e-6);
        p.brightness = 0.6; // logit(0.5) + logit(0.6) = logit(0.6)
        QVERIFY(std::abs(applyLighting(0.5f, p) - 0.6f) < 1e-6);
        p.brightness = 0.5;
        p.contrast = 2.0; // sigmoid(2 * logit(0.25)) = 1 / (1 + 9)
        QVERIFY(std::abs(applyLighting(0.25f, p) - 0.1f) < 1e-6);
        QVERIFY(std::abs(applyLighting(0.5f, p) - 0.5f) < 1e-6);
        // brightness then contrast: sigmoid((logit(x) + logit(b)) * c)
        p.brightness = 0.4;
        p.contrast = 1.2;
        const double x = 0.7;
        const double expect = 1 / (1 + std::exp(-(std::log(x / (1 - x)) + std::log(0.4 / 0.6)) * 1.2));
        QVERIFY(std::abs(applyLighting(float(x), p) - expect) < 1e-6);
        // Black and white stay finite (fastai clamps to [1e-7, 1 - 1e-7]).
        QVERIFY(std::isfinite(applyLighting(0.0f, p)) && std::isfinite(applyLighting(1.0f, p)));
    }

    void normalisation_data()
    {
        QTest::addColumn<bool>("channelsLast");
        QTest::newRow("NCHW") << false;
        QTest::newRow("NHWC") << true;
    }
    void normalisation()
    {
        QFETCH(bool, channelsLast);
        cv::Mat img(3, 4, CV_8UC3, cv::Scalar(0, 128, 255)); // R=0, G=128, B=255
        img.at<cv::Vec3b>(1, 2) = cv::Vec3b(10, 20, 30);
        std::vector<float> out(3 * 3 * 4, -99.0f);
        normalizeToFloat(img, out.data(), channelsLast);
        const float mean[3] = { 0.485f, 0.456f, 0.406f };
        const float sd[3] = { 0.229f, 0.224f, 0.225f };
        for (int y = 0; y < 3; ++y) {
            for (int x = 0; x < 4; ++x) {
                const cv::Vec3b px = img.at<cv::Vec3b>(y, x);
                for (int c = 0; c < 3; ++c) {
                    const float v = channelsLast ? out[size_t((y * 4 + x) * 3 + c)] : out[size_t(c * 12 + y * 4 + x)];
                    const float expect = (px[c] / 255.0f - mean[c]) / sd[c];
                    QVERIFY2(std::abs(v - expect) < 1e-5f, qPrintable(QStringLiteral("%1 vs %2").arg(v).arg(expect)));
                }
            }
        }
        QVERIFY(std::abs(out[0] - (-0.485f / 0.229f)) < 1e-5f); // R=0
        // With lighting the same value goes through sigmoid((logit(x) + logit(b)) * c) first.
        AugmentParams p;
        p.brightness = 0.55;
        p.contrast = 0.9;
        normalizeToFloat(img, out.data(), channelsLast, &p);
        const float g = applyLighting(128 / 255.0f, p);
        const float v = channelsLast ? out[1] : out[12];
        QVERIFY(std::abs(v - (g - mean[1]) / sd[1]) < 1e-5f);
    }
};

QTEST_APPLESS_MAIN(TestTransforms)
#include "tst_transforms.moc"
