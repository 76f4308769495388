// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic images and datasets for the tests, written with QtGui only: one image generator (a colour, optional
// stripes, seeded noise) and one writer of class folders (folder-per-class or train/ + valid/, unlabeled/, planted
// mislabeled files). Everything is deterministic: the same spec writes the same pixels. Every member of the specs has
// a default (even `{}`), so designated initializers name only what a test changes:
//
//     const auto written = WinnowTest::writeDataset({ .root = dir.path(), .classes = { "cat", "dog" } });
//     QVERIFY2(written.ok(), qPrintable(written.error));
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include <QByteArray>
#include <QColor>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QList>
#include <QSet>
#include <QSize>
#include <QString>
#include <QStringList>

namespace WinnowTest {

/// One generated picture. Each channel of each pixel is (colour + stripe + noise) * brightness, clamped to 0..255:
/// noise is drawn uniformly from 0..noise by a std::mt19937 seeded with `seed` (red, green, blue, pixel by pixel,
/// row by row); the stripes are a sine of amplitude `stripes` across the image at `stripeAngle` degrees, with a
/// period of a quarter of the shorter side and a phase from the seed. With noise 0, stripes 0 and brightness 1 the
/// image is `colour` everywhere (a plain fill).
struct ImageSpec
{
    QSize size { 32, 32 };
    QColor colour {}; ///< invalid: seedColour(seed)
    int noise = 0; ///< 0..255
    int stripes = 0; ///< amplitude, 0: none
    int stripeAngle = 0; ///< degrees
    double brightness = 1.0; ///< gain after colour, stripes and noise: 0.1 gives a dark photo
    quint32 seed = 0;
    QByteArray format {}; ///< "PNG", "JPEG" (or "JPG"); empty: from the file name's suffix
    int quality = -1; ///< QImage::save's quality, -1: Qt's default
};

/// A saturated mid-bright colour from a seed (its hue steps by 47 degrees).
inline QColor seedColour(quint32 seed)
{
    return QColor::fromHsv(int((seed * 47u) % 360u), 160, 170);
}

/// The colour of class `index` in writeDataset: far apart for the first eight (red, green, blue, yellow, magenta,
/// cyan, orange, purple) so that a tiny CNN tells the classes apart within an epoch, golden-angle hues after.
inline QColor classColour(int index)
{
    static const QColor kPalette[] = { QColor(200, 40, 40), QColor(40, 160, 60), QColor(50, 70, 210),
        QColor(190, 170, 30), QColor(180, 50, 180), QColor(40, 170, 180), QColor(210, 110, 30), QColor(110, 50, 170) };
    constexpr int kCount = int(sizeof(kPalette) / sizeof(kPalette[0]));
    if (index >= 0 && index < kCount)
        return kPalette[index];
    return QColor::fromHsv(int((quint32(index) * 137u) % 360u), 200, 180);
}

/// The file suffix of an image format: "PNG" -> "png", "JPEG" and "JPG" -> "jpg", others lower-cased.
inline QString formatSuffix(const QByteArray& format)
{
    const QByteArray f = format.toLower();
    if (f == "jpeg" || f == "jpg")
        return QStringLiteral("jpg");
    return QString::fromLatin1(f);
}

/// The picture `spec` describes (a null image for an empty size).
inline QImage makeImage(const ImageSpec& spec)
{
    QImage img(spec.size, QImage::Format_RGB32);
    if (img.isNull())
        return img;
    const QColor base = spec.colour.isValid() ? spec.colour : seedColour(spec.seed);
    if (spec.noise <= 0 && spec.stripes == 0 && spec.brightness == 1.0) {
        img.fill(base);
        return img;
    }
    std::mt19937 rng(spec.seed);
    const quint32 range = quint32(std::clamp(spec.noise, 0, 255)) + 1;
    const double period = std::max(4, std::min(img.width(), img.height()) / 4);
    const double angle = spec.stripeAngle * std::numbers::pi / 180.0;
    const double fx = std::cos(angle) * 2 * std::numbers::pi / period;
    const double fy = std::sin(angle) * 2 * std::numbers::pi / period;
    const double phase = double(spec.seed % 360u) * std::numbers::pi / 180.0;
    for (int y = 0; y < img.height(); ++y) {
        auto* line = reinterpret_cast<QRgb*>(img.scanLine(y));
        for (int x = 0; x < img.width(); ++x) {
            const double stripe = spec.stripes != 0 ? spec.stripes * std::sin(fx * x + fy * y + phase) : 0.0;
            auto channel = [&](int v) {
                const double noise = range > 1 ? double(quint32(rng()) % range) : 0.0;
                return std::clamp(int((v + stripe + noise) * spec.brightness), 0, 255);
            };
            const int r = channel(base.red());
            const int g = channel(base.green());
            const int b = channel(base.blue());
            line[x] = qRgb(r, g, b);
        }
    }
    return img;
}

/// Writes makeImage(spec) to `path`, creating its folder. On failure returns false and says why in `error`.
inline bool writeImage(const QString& path, const ImageSpec& spec, QString* error = nullptr)
{
    auto fail = [&](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(QStringLiteral("cannot create the folder of %1").arg(path));
    const QImage img = makeImage(spec);
    if (img.isNull())
        return fail(QStringLiteral("cannot make a %1 x %2 image for %3")
                        .arg(spec.size.width())
                        .arg(spec.size.height())
                        .arg(path));
    if (!img.save(path, spec.format.isEmpty() ? nullptr : spec.format.constData(), spec.quality))
        return fail(
            QStringLiteral("cannot write %1 (format %2)")
                .arg(path,
                    spec.format.isEmpty() ? QStringLiteral("from its suffix") : QString::fromLatin1(spec.format)));
    return true;
}

/// A picture of class `shows` filed under class `filedAs`: a planted label error.
struct Mislabel
{
    QString shows {};
    QString filedAs {};
    QString name {}; ///< file name without its suffix; empty: "mislabeled<n>" (n counts the plants from 0)
    bool valid = false; ///< in valid/ rather than train/ (train/ + valid/ layout only)
};

/// A dataset of generated images. Class `k`'s pictures have classColour(k) (or colours[k]) and stripes at k * 45
/// degrees; every file has its own seed, so no two files are the same bytes unless noise and stripes are both 0.
/// File names are templates: {class} is the class name, {initial} its first letter, {k} the class index, {i} the
/// image index within its class and split (or within unlabeled/).
struct DatasetSpec
{
    QString root {};
    QStringList classes {};
    int perClass = 4; ///< images of each class (in train/ for the train/ + valid/ layout)
    QList<int> counts {}; ///< per class, instead of perClass where given
    bool trainValid = false; ///< train/ + valid/ layout (implied by validPerClass > 0); else folder-per-class
    int validPerClass = 0; ///< images of each class in valid/
    int unlabeled = 0; ///< images in unlabeled/
    QSize size { 32, 32 };
    QByteArray format = "PNG"; ///< "PNG" or "JPEG"
    QList<QByteArray> formats {}; ///< per class, instead of format where given
    QList<QColor> colours {}; ///< per class, instead of classColour(k) where given
    QColor unlabeledColour {}; ///< invalid: a pale colour per file, far from every class
    int noise = 40;
    int stripes = 0;
    quint32 seed = 1;
    int quality = -1;
    QString trainName = QStringLiteral("{i}");
    QString validName = QStringLiteral("{i}");
    QString unlabeledName = QStringLiteral("u{i}");
    QList<Mislabel> mislabeled {};
};

/// What writeDataset wrote: the files relative to the root ('/'-separated, in the order written), or why it stopped.
struct WrittenDataset
{
    QStringList files;
    QString error; ///< empty when every file was written
    bool ok() const
    {
        return error.isEmpty();
    }
};

/// Writes `spec`: for each class its train (or folder) images, then its valid images; then unlabeled/; then the
/// mislabeled plants. Refuses (before writing anything) a spec without a root, a plant naming an unknown class, a
/// valid plant without the valid split, an empty format, and names that would give one file twice.
inline WrittenDataset writeDataset(const DatasetSpec& spec)
{
    WrittenDataset out;
    if (spec.root.isEmpty()) {
        out.error = QStringLiteral("writeDataset: no root folder");
        return out;
    }
    const bool split = spec.trainValid || spec.validPerClass > 0;
    struct Planned
    {
        QString rel;
        ImageSpec image;
    };
    QList<Planned> planned;
    quint32 n = 0; // files planned so far: each one's seed
    auto name = [](QString pattern, const QString& cls, int k, int i) {
        pattern.replace(QLatin1String("{class}"), cls);
        pattern.replace(QLatin1String("{initial}"), cls.left(1));
        pattern.replace(QLatin1String("{k}"), QString::number(k));
        pattern.replace(QLatin1String("{i}"), QString::number(i));
        return pattern;
    };
    auto classImage = [&](int k) {
        ImageSpec image;
        image.size = spec.size;
        image.colour = k < spec.colours.size() && spec.colours.at(k).isValid() ? spec.colours.at(k) : classColour(k);
        image.noise = spec.noise;
        image.stripes = spec.stripes;
        image.stripeAngle = 45 * k;
        image.seed = spec.seed * 7919u + n++;
        image.format = k < spec.formats.size() && !spec.formats.at(k).isEmpty() ? spec.formats.at(k) : spec.format;
        image.quality = spec.quality;
        return image;
    };
    auto folder = [&](const QString& cls, bool valid) {
        return split ? QStringLiteral("%1/%2/").arg(valid ? "valid" : "train", cls) : cls + QLatin1Char('/');
    };
    for (int k = 0; k < spec.classes.size(); ++k) {
        const QString& cls = spec.classes.at(k);
        const int train = k < spec.counts.size() ? spec.counts.at(k) : spec.perClass;
        for (int valid = 0; valid < (split ? 2 : 1); ++valid)
            for (int i = 0; i < (valid ? spec.validPerClass : train); ++i) {
                ImageSpec image = classImage(k);
                planned.append({ folder(cls, valid) + name(valid ? spec.validName : spec.trainName, cls, k, i)
                        + QLatin1Char('.') + formatSuffix(image.format),
                    image });
            }
    }
    for (int i = 0; i < spec.unlabeled; ++i) {
        ImageSpec image;
        image.size = spec.size;
        image.seed = spec.seed * 7919u + n++;
        image.colour = spec.unlabeledColour.isValid() ? spec.unlabeledColour
                                                      : QColor::fromHsv(int((image.seed * 47u) % 360u), 40, 150);
        image.noise = spec.noise;
        image.stripes = spec.stripes;
        image.stripeAngle = int(image.seed % 180u);
        image.format = spec.format;
        image.quality = spec.quality;
        planned.append({ QStringLiteral("unlabeled/") + name(spec.unlabeledName, QString(), -1, i) + QLatin1Char('.')
                + formatSuffix(image.format),
            image });
    }
    for (int p = 0; p < spec.mislabeled.size(); ++p) {
        const Mislabel& m = spec.mislabeled.at(p);
        const int shows = int(spec.classes.indexOf(m.shows));
        if (shows < 0 || !spec.classes.contains(m.filedAs)) {
            out.error = QStringLiteral("writeDataset: mislabeled file names a class not in the dataset: %1 as %2")
                            .arg(m.shows, m.filedAs);
            return out;
        }
        if (m.valid && !split) {
            out.error = QStringLiteral("writeDataset: a valid/ mislabeled file needs the train/ + valid/ layout");
            return out;
        }
        ImageSpec image = classImage(shows);
        const int filedAs = int(spec.classes.indexOf(m.filedAs));
        // The format of its neighbours, so that only its pixels give it away.
        image.format = filedAs < spec.formats.size() && !spec.formats.at(filedAs).isEmpty() ? spec.formats.at(filedAs)
                                                                                            : spec.format;
        const QString stem = m.name.isEmpty() ? QStringLiteral("mislabeled%1").arg(p) : m.name;
        planned.append({ folder(m.filedAs, m.valid) + stem + QLatin1Char('.') + formatSuffix(image.format), image });
    }
    QSet<QString> seen;
    for (const Planned& f : std::as_const(planned)) {
        if (f.image.format.isEmpty()) {
            out.error = QStringLiteral("writeDataset: no image format for %1").arg(f.rel);
            return out;
        }
        if (seen.contains(f.rel)) {
            out.error =
                QStringLiteral("writeDataset: the names give %1 twice (a name template without {i}?)").arg(f.rel);
            return out;
        }
        seen.insert(f.rel);
    }
    for (const Planned& f : std::as_const(planned)) {
        QString error;
        if (!writeImage(spec.root + QLatin1Char('/') + f.rel, f.image, &error)) {
            out.error = QStringLiteral("writeDataset: ") + error;
            return out;
        }
        out.files.append(f.rel);
    }
    return out;
}

} // namespace WinnowTest
