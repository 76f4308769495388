// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dataset/demogenerator.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include "core/util/atomicfile.h"
#include "core/util/mix.h"

namespace Winnow {

namespace {

constexpr auto kGenerator = "winnow-demo";
constexpr int kManifestVersion = 1;
const QString kUnlabeledFolder = QStringLiteral("unlabeled");

// Deterministic on every platform (std:: distributions are not): splitmix64 stream.
class Rng
{
public:
    explicit Rng(quint64 seed)
        : m_state(seed)
    { }
    quint64 next()
    {
        const quint64 z = splitmix64(m_state);
        m_state += 0x9E3779B97F4A7C15ull;
        return z;
    }
    double uniform()
    {
        return double(next() >> 11) * (1.0 / 9007199254740992.0);
    }
    double uniform(double a, double b)
    {
        return a + (b - a) * uniform();
    }
    int range(int lo, int hiExclusive)
    {
        return lo + int(next() % quint64(std::max(hiExclusive - lo, 1)));
    }
    bool chance(double p)
    {
        return uniform() < p;
    }

private:
    quint64 m_state;
};

quint64 mix(quint64 a, quint64 b)
{
    Rng r(a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull));
    r.next();
    return r.next();
}

// Class order = demoClasses() order.
enum Shape { Circle, Ring, Square, Star, Triangle, ShapeCount };

cv::Vec3f classColour(int shape) // BGR
{
    switch (shape) {
    case Circle:
        return { 45, 45, 215 }; // red
    case Ring:
        return { 175, 60, 150 }; // purple
    case Square:
        return { 205, 120, 35 }; // blue
    case Star:
        return { 35, 205, 240 }; // yellow
    case Triangle:
    default:
        return { 55, 175, 50 }; // green
    }
}

cv::Vec3f mutedColour(Rng& r)
{
    const double g = r.uniform(50, 210);
    return { float(std::clamp(g + r.uniform(-35, 35), 0.0, 255.0)),
        float(std::clamp(g + r.uniform(-35, 35), 0.0, 255.0)), float(std::clamp(g + r.uniform(-35, 35), 0.0, 255.0)) };
}

cv::Scalar toScalar(const cv::Vec3f& c)
{
    return { c[0], c[1], c[2] };
}

cv::Mat3f background(Rng& r, cv::RNG& pix, int size)
{
    cv::Mat3f bg(size, size);
    const int kind = r.range(0, 4);
    if (kind == 0 || kind == 1) { // linear or radial gradient
        const cv::Vec3f a = mutedColour(r), b = mutedColour(r);
        const double angle = r.uniform(0, 2 * M_PI);
        const double cx = r.uniform(0, size), cy = r.uniform(0, size);
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size; ++x) {
                double t = kind == 0
                    ? ((x - size / 2.0) * std::cos(angle) + (y - size / 2.0) * std::sin(angle)) / size + 0.5
                    : std::hypot(x - cx, y - cy) / (size * 0.9);
                t = std::clamp(t, 0.0, 1.0);
                bg(y, x) = a * float(1 - t) + b * float(t);
            }
    } else if (kind == 2) { // smooth blotches
        const int cells = r.range(3, 8);
        cv::Mat3f small(cells, cells);
        const cv::Vec3f base = mutedColour(r);
        for (int y = 0; y < cells; ++y)
            for (int x = 0; x < cells; ++x)
                small(y, x) =
                    base + cv::Vec3f(float(r.uniform(-40, 40)), float(r.uniform(-40, 40)), float(r.uniform(-40, 40)));
        cv::resize(small, bg, bg.size(), 0, 0, cv::INTER_CUBIC);
    } else { // two-tone "table and wall" with a soft horizon
        const cv::Vec3f top = mutedColour(r), bottom = mutedColour(r);
        const double horizon = r.uniform(0.3, 0.8) * size;
        const double soft = r.uniform(2, 12);
        for (int y = 0; y < size; ++y) {
            const float t = float(1.0 / (1.0 + std::exp(-(y - horizon) / soft)));
            for (int x = 0; x < size; ++x)
                bg(y, x) = top * (1 - t) + bottom * t;
        }
    }
    if (r.chance(0.55)) { // clutter: thin lines, small blobs and boxes in muted colours
        const int n = r.range(4, 15);
        for (int i = 0; i < n; ++i) {
            const cv::Scalar c = toScalar(mutedColour(r));
            const cv::Point p(r.range(0, size), r.range(0, size));
            switch (r.range(0, 3)) {
            case 0:
                cv::line(bg, p, { r.range(0, size), r.range(0, size) }, c, r.range(1, 4), cv::LINE_AA);
                break;
            case 1:
                cv::circle(bg, p, r.range(2, size / 14), c, r.chance(0.5) ? cv::FILLED : 1, cv::LINE_AA);
                break;
            default:
                cv::rectangle(bg, cv::Rect(p.x, p.y, r.range(3, size / 8), r.range(3, size / 8)), c,
                    r.chance(0.5) ? cv::FILLED : 1, cv::LINE_AA);
                break;
            }
        }
    }
    cv::Mat3f grain(size, size);
    pix.fill(grain, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(r.uniform(2, 9)));
    bg += grain;
    return bg;
}

constexpr int kShift = 4; // sub-pixel bits for the drawing calls

cv::Point fixed(double x, double y)
{
    return { int(std::lround(x * (1 << kShift))), int(std::lround(y * (1 << kShift))) };
}

void polygon(cv::Mat1b& mask, double cx, double cy, const std::vector<double>& radii, double rotation)
{
    std::vector<cv::Point> pts;
    const size_t n = radii.size();
    for (size_t k = 0; k < n; ++k) {
        const double a = rotation + 2 * M_PI * double(k) / double(n);
        pts.push_back(fixed(cx + radii[k] * std::cos(a), cy + radii[k] * std::sin(a)));
    }
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>> { pts }, cv::Scalar(255), cv::LINE_AA, kShift);
}

cv::Mat1f shapeMask(int shape, Rng& r, int size, double* outCx, double* outCy, double* outR)
{
    cv::Mat1b mask = cv::Mat1b::zeros(size, size);
    const double radius = size * r.uniform(0.20, 0.36);
    const double margin = radius * 0.8;
    const double cx = r.uniform(margin, size - margin), cy = r.uniform(margin, size - margin);
    const double rot = r.uniform(0, 2 * M_PI);
    switch (shape) {
    case Circle:
        cv::circle(mask, fixed(cx, cy), int(std::lround(radius * (1 << kShift))), cv::Scalar(255), cv::FILLED,
            cv::LINE_AA, kShift);
        break;
    case Ring:
        cv::circle(mask, fixed(cx, cy), int(std::lround(radius * (1 << kShift))), cv::Scalar(255), cv::FILLED,
            cv::LINE_AA, kShift);
        cv::circle(mask, fixed(cx, cy), int(std::lround(radius * r.uniform(0.45, 0.62) * (1 << kShift))), cv::Scalar(0),
            cv::FILLED, cv::LINE_AA, kShift);
        break;
    case Square:
        polygon(mask, cx, cy, std::vector<double>(4, radius * 1.1), rot);
        break;
    case Star: {
        std::vector<double> radii;
        const double inner = r.uniform(0.38, 0.5);
        for (int k = 0; k < 10; ++k)
            radii.push_back(radius * 1.15 * (k % 2 ? inner : 1.0));
        polygon(mask, cx, cy, radii, rot);
        break;
    }
    case Triangle:
    default:
        polygon(mask, cx, cy, std::vector<double>(3, radius * 1.2), rot);
        break;
    }
    *outCx = cx;
    *outCy = cy;
    *outR = radius;
    cv::Mat1f m;
    mask.convertTo(m, CV_32F, 1.0 / 255.0);
    return m;
}

// One picture: `shape` < 0 draws no object.
cv::Mat renderScene(int shape, Rng& r, cv::RNG& pix, int size)
{
    cv::Mat3f img = background(r, pix, size);
    if (shape >= 0) {
        double cx = 0, cy = 0, radius = 1;
        const cv::Mat1f mask = shapeMask(shape, r, size, &cx, &cy, &radius);
        if (r.chance(0.6)) { // soft drop shadow
            cv::Mat1f shadow;
            const cv::Mat shiftM = (cv::Mat_<double>(2, 3) << 1, 0, r.uniform(2, 7), 0, 1, r.uniform(2, 7));
            cv::warpAffine(mask, shadow, shiftM, mask.size());
            cv::GaussianBlur(shadow, shadow, cv::Size(0, 0), r.uniform(2, 4));
            const float depth = float(r.uniform(0.2, 0.45));
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x)
                    img(y, x) *= 1.0f - depth * shadow(y, x);
        }
        cv::Vec3f colour = classColour(shape);
        for (int c = 0; c < 3; ++c)
            colour[c] = float(std::clamp(colour[c] + r.uniform(-20, 20), 0.0, 255.0));
        const double lightAngle = r.uniform(0, 2 * M_PI);
        const double shading = r.uniform(0.0, 0.3);
        cv::Mat3f texture(size, size);
        pix.fill(texture, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(r.uniform(2, 8)));
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size; ++x) {
                const float a = mask(y, x);
                if (a <= 0.f)
                    continue;
                const double d = ((x - cx) * std::cos(lightAngle) + (y - cy) * std::sin(lightAngle)) / radius;
                const float shade = float(1.0 + shading * std::clamp(d, -1.0, 1.0));
                img(y, x) = img(y, x) * (1 - a) + (colour * shade + texture(y, x)) * a;
            }
    }
    // Lighting: global contrast/brightness plus an illumination gradient.
    const float contrast = float(r.uniform(0.75, 1.25)), brightness = float(r.uniform(-30, 30));
    const double gAngle = r.uniform(0, 2 * M_PI), gAmount = r.uniform(0, 0.2);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            const double t = ((x - size / 2.0) * std::cos(gAngle) + (y - size / 2.0) * std::sin(gAngle)) / size;
            img(y, x) = img(y, x) * (contrast * float(1.0 + gAmount * t)) + cv::Vec3f::all(brightness);
        }
    cv::Mat3f noise(size, size);
    pix.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(r.uniform(1, 10)));
    img += noise;
    if (r.chance(0.25))
        cv::GaussianBlur(img, img, cv::Size(0, 0), r.uniform(0.6, 1.4));
    cv::Mat out;
    img.convertTo(out, CV_8UC3); // saturates
    return out;
}

enum class Junk { None, Blank, Noise, NoObject };

cv::Mat renderJunk(Junk kind, Rng& r, cv::RNG& pix, int size)
{
    if (kind == Junk::NoObject)
        return renderScene(-1, r, pix, size);
    cv::Mat out(size, size, CV_8UC3);
    if (kind == Junk::Blank) {
        const double v = r.uniform(236, 252);
        cv::Mat3f f(size, size, cv::Vec3f::all(float(v)));
        cv::Mat3f grain(size, size);
        pix.fill(grain, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(1.0));
        f += grain;
        f.convertTo(out, CV_8UC3);
    } else {
        pix.fill(out, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
    }
    return out;
}

QString junkName(Junk j)
{
    switch (j) {
    case Junk::Blank:
        return QStringLiteral("blank");
    case Junk::Noise:
        return QStringLiteral("noise");
    case Junk::NoObject:
        return QStringLiteral("no object");
    case Junk::None:
        break;
    }
    return {};
}

struct Item
{
    int trueClass = -1; // -1 for junk
    QString folder;
    Junk junk = Junk::None;
    bool mislabeled = false;
    QString file; // relative path
    quint64 seed = 0;
    QString error; // set by the writer
};

QString cleanAbsolute(const QString& dir)
{
    QString p = QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
    while (p.size() > 1 && p.endsWith(QLatin1Char('/')))
        p.chop(1);
    return p;
}

// Removes the files a previous run generated (img-NNNN.jpg in the demo's folders), then empty folders.
bool removePreviousDemo(const QString& root, QString* error)
{
    static const QRegularExpression kGenerated(QStringLiteral("^img-\\d{4,}\\.jpg$"));
    QStringList folders = demoClasses();
    folders << kUnlabeledFolder;
    for (const QString& f : std::as_const(folders)) {
        QDir d(root + QLatin1Char('/') + f);
        if (!d.exists())
            continue;
        const QStringList files = d.entryList(QDir::Files | QDir::Hidden);
        for (const QString& name : files) {
            if (!kGenerated.match(name).hasMatch())
                continue;
            if (!d.remove(name)) {
                *error = QStringLiteral("Could not remove %1 from the previous demo.").arg(d.filePath(name));
                return false;
            }
        }
        if (d.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System))
            QDir(root).rmdir(f);
    }
    return true;
}

} // namespace

QStringList demoClasses()
{
    return { QStringLiteral("circle"), QStringLiteral("ring"), QStringLiteral("square"), QStringLiteral("star"),
        QStringLiteral("triangle") };
}

QString demoManifestPath(const QString& dir)
{
    return cleanAbsolute(dir) + QStringLiteral(".manifest.json");
}

QString defaultDemoDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/demo");
}

bool isDemoDataset(const QString& dir)
{
    QFile f(demoManifestPath(dir));
    if (!QFileInfo(dir).isDir() || !f.open(QIODevice::ReadOnly))
        return false;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(16 << 20));
    return doc.isObject() && doc.object().value(QStringLiteral("generator")).toString() == QLatin1String(kGenerator);
}

DemoResult writeDemoDataset(const QString& dir, const DemoOptions& opt)
{
    QElapsedTimer timer;
    timer.start();
    DemoResult res;
    if (dir.trimmed().isEmpty()) {
        res.error = QStringLiteral("No folder given for the demo dataset.");
        return res;
    }
    const QString root = cleanAbsolute(dir);
    res.root = root;
    res.manifestPath = demoManifestPath(root);
    res.classes = demoClasses();
    if (opt.imagesPerClass < 1 || opt.imageSize < 32 || opt.imageSize > 4096) {
        res.error = QStringLiteral("Invalid demo options: need at least 1 image per class and a size of 32-4096 px.");
        return res;
    }

    const QFileInfo info(root);
    if (info.exists() && !info.isDir()) {
        res.error = QStringLiteral("%1 exists and is not a folder.").arg(root);
        return res;
    }
    if (info.isDir() && !QDir(root).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System)) {
        if (!isDemoDataset(root)) {
            res.error = QStringLiteral("%1 is not empty and is not a Winnow demo dataset; refusing to overwrite it. "
                                       "Choose a new or empty folder.")
                            .arg(root);
            return res;
        }
        if (!removePreviousDemo(root, &res.error))
            return res;
    }
    if (!QDir().mkpath(root)) {
        res.error = QStringLiteral("Could not create folder %1.").arg(root);
        return res;
    }

    // Plan every file first (single-threaded, seeded), then render in parallel.
    Rng plan(mix(opt.seed, 0xD3E0));
    const int nClasses = ShapeCount;
    std::vector<Item> items;
    for (int c = 0; c < nClasses; ++c)
        for (int i = 0; i < opt.imagesPerClass; ++i)
            items.push_back(Item { c, res.classes.at(c), Junk::None, false, {}, 0, {} });
    const int classImages = int(items.size());
    const int nMislabeled =
        std::clamp(int(std::lround(std::clamp(opt.mislabelFraction, 0.0, 1.0) * classImages)), 0, classImages);
    {
        std::vector<int> order(static_cast<size_t>(classImages));
        for (int i = 0; i < classImages; ++i)
            order[size_t(i)] = i;
        for (int i = classImages - 1; i > 0; --i)
            std::swap(order[size_t(i)], order[size_t(plan.range(0, i + 1))]);
        for (int k = 0; k < nMislabeled; ++k) {
            Item& it = items[size_t(order[size_t(k)])];
            const int wrong = (it.trueClass + plan.range(1, nClasses)) % nClasses;
            it.folder = res.classes.at(wrong);
            it.mislabeled = true;
        }
    }
    if (opt.junk)
        for (const Junk j : { Junk::Blank, Junk::Noise, Junk::NoObject })
            items.push_back(Item { -1, res.classes.at(plan.range(0, nClasses)), j, false, {}, 0, {} });
    for (int i = 0; i < std::max(opt.unlabeledImages, 0); ++i)
        items.push_back(Item { plan.range(0, nClasses), kUnlabeledFolder, Junk::None, false, {}, 0, {} });

    // Neutral, shuffled file numbers so that a name says nothing about the picture.
    const int total = int(items.size());
    std::vector<int> numbers(static_cast<size_t>(total));
    for (int i = 0; i < total; ++i)
        numbers[size_t(i)] = i + 1;
    for (int i = total - 1; i > 0; --i)
        std::swap(numbers[size_t(i)], numbers[size_t(plan.range(0, i + 1))]);
    const int width = std::max(4, int(QString::number(total).size()));
    for (int i = 0; i < total; ++i) {
        Item& it = items[size_t(i)];
        it.file = it.folder + QStringLiteral("/img-%1.jpg").arg(numbers[size_t(i)], width, 10, QLatin1Char('0'));
        it.seed = mix(opt.seed, quint64(i) + 1);
    }

    QStringList folders = res.classes;
    if (opt.unlabeledImages > 0)
        folders << kUnlabeledFolder;
    for (const QString& f : std::as_const(folders))
        if (!QDir(root).mkpath(f)) {
            res.error = QStringLiteral("Could not create folder %1/%2.").arg(root, f);
            return res;
        }

    const int size = opt.imageSize;
    const std::vector<int> params { cv::IMWRITE_JPEG_QUALITY, std::clamp(opt.jpegQuality, 1, 100) };
    // A pool of its own: this runs as a task of the global pool (the GUI's Open Demo), and blockingMap only waits, so
    // on a one-thread global pool it would wait for ever for work queued behind itself.
    QThreadPool pool;
    pool.setMaxThreadCount(QThread::idealThreadCount());
    QtConcurrent::blockingMap(&pool, items, [&](Item& it) {
        try {
            Rng r(it.seed);
            cv::RNG pix(r.next());
            const cv::Mat img =
                it.junk != Junk::None ? renderJunk(it.junk, r, pix, size) : renderScene(it.trueClass, r, pix, size);
            std::vector<uchar> buf;
            if (!cv::imencode(".jpg", img, buf, params)) {
                it.error = QStringLiteral("could not encode %1").arg(it.file);
                return;
            }
            const QByteArray jpeg =
                QByteArray::fromRawData(reinterpret_cast<const char*>(buf.data()), qsizetype(buf.size()));
            writeFileAtomically(root + QLatin1Char('/') + it.file, jpeg, &it.error);
        } catch (const std::exception& e) {
            it.error = QStringLiteral("could not render %1: %2").arg(it.file, QString::fromLocal8Bit(e.what()));
        }
    });
    for (const Item& it : items)
        if (!it.error.isEmpty()) {
            res.error = QStringLiteral("Writing the demo dataset failed: ") + it.error;
            return res;
        }

    // Manifest, beside the dataset.
    QJsonArray files, problems, unlabeled;
    for (const Item& it : items) {
        files.append(it.file);
        if (it.folder == kUnlabeledFolder) {
            res.unlabeled.append(
                PlantedProblem { it.file, QStringLiteral("unlabeled"), res.classes.at(it.trueClass), it.folder, {} });
        } else if (it.mislabeled) {
            res.problems.append(
                PlantedProblem { it.file, QStringLiteral("mislabeled"), res.classes.at(it.trueClass), it.folder, {} });
        } else if (it.junk != Junk::None) {
            res.problems.append(PlantedProblem { it.file, QStringLiteral("junk"), {}, it.folder, junkName(it.junk) });
        }
    }
    const auto byFile = [](const PlantedProblem& a, const PlantedProblem& b) { return a.file < b.file; };
    std::sort(res.problems.begin(), res.problems.end(), byFile);
    std::sort(res.unlabeled.begin(), res.unlabeled.end(), byFile);
    for (const PlantedProblem& p : std::as_const(res.problems)) {
        QJsonObject o { { QStringLiteral("file"), p.file }, { QStringLiteral("kind"), p.kind },
            { QStringLiteral("true_class"), p.trueClass.isEmpty() ? QJsonValue() : QJsonValue(p.trueClass) },
            { QStringLiteral("placed_in"), p.placedIn } };
        if (!p.detail.isEmpty())
            o.insert(QStringLiteral("detail"), p.detail);
        problems.append(o);
    }
    for (const PlantedProblem& p : std::as_const(res.unlabeled))
        unlabeled.append(
            QJsonObject { { QStringLiteral("file"), p.file }, { QStringLiteral("true_class"), p.trueClass } });
    QJsonArray sortedFiles;
    {
        QStringList names;
        for (const auto& v : std::as_const(files))
            names << v.toString();
        std::sort(names.begin(), names.end());
        for (const QString& n : std::as_const(names))
            sortedFiles.append(n);
    }
    const QJsonObject manifest {
        { QStringLiteral("generator"), QString::fromLatin1(kGenerator) },
        { QStringLiteral("version"), kManifestVersion },
        { QStringLiteral("seed"),
            opt.seed <= (quint64(1) << 53) ? QJsonValue(double(opt.seed)) : QJsonValue(QString::number(opt.seed)) },
        { QStringLiteral("dataset"), QFileInfo(root).fileName() },
        { QStringLiteral("classes"), QJsonArray::fromStringList(res.classes) },
        { QStringLiteral("images_per_class"), opt.imagesPerClass },
        { QStringLiteral("image_size"), opt.imageSize },
        { QStringLiteral("images"), total },
        { QStringLiteral("files"), sortedFiles },
        { QStringLiteral("problems"), problems },
        { QStringLiteral("unlabeled"), unlabeled },
    };
    QString error;
    if (!writeFileAtomically(res.manifestPath, QJsonDocument(manifest).toJson(QJsonDocument::Indented), &error)) {
        res.error = QStringLiteral("Writing the demo manifest failed: ") + error;
        return res;
    }
    res.images = total;
    res.seconds = double(timer.nsecsElapsed()) / 1e9;
    return res;
}

} // namespace Winnow
