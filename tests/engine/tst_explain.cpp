// SPDX-License-Identifier: GPL-3.0-or-later
// Grad-CAM (Predictor::explain) with the real ImageNet MobileNetV2: the map lies on the object of the class asked
// for, wherever the object is placed; two objects in one image get two different maps; the probability is predict()'s.
// Plus the geometry of Explanation (interpolation, mass share, overlay) on hand-made maps.
#include <QBuffer>
#include <QFile>
#include <QJsonArray>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/engine/explainer.h"
#include "core/engine/predictor.h"
#include "tests/engine/generatedrun.h"
#include "tests/syntheticdataset.h"
#include "tests/testutils.h"

using namespace Winnow;

namespace {

constexpr int kMacaw = 88;
constexpr int kHotdog = 934;

/// A 448 x 448 grey canvas with `photo` squeezed into the 224 x 224 quadrant `q` (0 top left, 1 top right, 2 bottom
/// left, 3 bottom right).
void paste(QImage& canvas, const QImage& photo, int q)
{
    QPainter painter(&canvas);
    painter.drawImage(QRect((q % 2) * 224, (q / 2) * 224, 224, 224), photo);
}

QImage greyCanvas()
{
    QImage canvas(448, 448, QImage::Format_RGB32);
    canvas.fill(QColor(128, 128, 128));
    return canvas;
}

QRectF quadrant(int q)
{
    return QRectF((q % 2) * 0.5, (q / 2) * 0.5, 0.5, 0.5);
}

QString describe(const Explanation& e)
{
    QString s =
        QStringLiteral("%1 p=%2 grid %3x%4:").arg(e.label).arg(e.probability).arg(e.gridWidth).arg(e.gridHeight);
    for (int y = 0; y < e.gridHeight; ++y) {
        s += QStringLiteral("\n ");
        for (int x = 0; x < e.gridWidth; ++x)
            s += QStringLiteral(" %1").arg(double(e.heat[y * e.gridWidth + x]), 4, 'f', 2);
    }
    return s;
}

/// A hand-made 2 x 2 map over the whole image.
Explanation twoByTwo(float a, float b, float c, float d)
{
    Explanation e;
    e.gridWidth = e.gridHeight = 2;
    e.heat = { a, b, c, d };
    e.crop = QRectF(0, 0, 1, 1);
    e.classIndex = e.predictedIndex = 0;
    return e;
}

} // namespace

class TestExplain : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    Predictor m_predictor { PredictorOptions { QStringLiteral("cpu"), 4 } };
    QImage m_parrot, m_hotdog;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
    }

    void geometry()
    {
        const Explanation e = twoByTwo(1, 0, 0, 0);
        QVERIFY(e.ok());
        // Cell centres carry their values; the edge value holds beyond them; halfway is the mean.
        QCOMPARE(e.heatAt(0.25, 0.25), 1.f);
        QCOMPARE(e.heatAt(0.05, 0.1), 1.f);
        QCOMPARE(e.heatAt(0.75, 0.75), 0.f);
        QVERIFY(qAbs(e.heatAt(0.5, 0.25) - 0.5f) < 1e-6f);
        QVERIFY(e.heatShare(QRectF(0, 0, 0.5, 0.5)) > 0.6);
        QVERIFY(qAbs(e.heatShare(QRectF(0, 0, 1, 1)) - 1.0) < 1e-9);
        QVERIFY(e.centroid().x() < 0.4 && e.centroid().y() < 0.4);
        const Explanation uniform = twoByTwo(1, 1, 1, 1);
        QVERIFY(qAbs(uniform.heatShare(quadrant(3)) - 0.25) < 1e-9);
        QVERIFY(qAbs(uniform.centroid().x() - 0.5) < 1e-9);
        QCOMPARE(twoByTwo(0, 0, 0, 0).heatShare(quadrant(0)), 0.0);

        // A crop: nothing outside it.
        Explanation cropped = twoByTwo(1, 1, 1, 1);
        cropped.crop = QRectF(0.25, 0, 0.5, 1);
        QCOMPARE(cropped.heatAt(0.1, 0.5), 0.f);
        QCOMPARE(cropped.heatAt(0.5, 0.5), 1.f);
        QVERIFY(qAbs(cropped.heatShare(QRectF(0, 0, 0.5, 1)) - 0.5) < 1e-9);

        // The overlay: same size, hot corner red-ish, the unseen margin dimmed, the cold part close to the photo.
        QImage photo(40, 20, QImage::Format_RGB32);
        photo.fill(QColor(200, 200, 200));
        Explanation hot = twoByTwo(1, 0, 0, 0);
        hot.crop = QRectF(0.25, 0, 0.5, 1);
        const QImage o = hot.overlay(photo);
        QCOMPARE(o.size(), photo.size());
        const QColor hotPixel = o.pixelColor(11, 2), coldPixel = o.pixelColor(28, 17), unseen = o.pixelColor(2, 10);
        QVERIFY2(hotPixel.red() > hotPixel.blue() + 40, qPrintable(hotPixel.name()));
        QVERIFY2(unseen.red() < 100 && unseen.green() < 100, qPrintable(unseen.name()));
        QCOMPARE(coldPixel, QColor(200, 200, 200)); // no evidence: the photo as it is
        QVERIFY(Explanation {}.overlay(photo).isNull());
        QVERIFY(hot.overlay(QImage()).isNull());

        // The colour scale runs from blue to red.
        QVERIFY(qBlue(Explanation::heatColour(0)) > 100 && qRed(Explanation::heatColour(0)) == 0);
        QVERIFY(qRed(Explanation::heatColour(1)) > 100 && qBlue(Explanation::heatColour(1)) == 0);
        const QJsonObject j = hot.toJson();
        QCOMPARE(j.value(QStringLiteral("heat")).toArray().size(), 4);
        QCOMPARE(Explanation {}.toJson().contains(QStringLiteral("error")), true);
    }

    void loadNetwork()
    {
        WINNOW_REQUIRE_SHARED(shared);
        QString error;
        QVERIFY2(m_predictor.loadImageNet(QStringLiteral("mobilenet_v2"),
                     shared + QStringLiteral("/weights/mobilenet_v2-imagenet.safetensors"),
                     shared + QStringLiteral("/weights/imagenet-classes.txt"), &error),
            qPrintable(error));
        QVERIFY(m_parrot.load(shared + QStringLiteral("/images/parrot.jpg")));
        QVERIFY(m_hotdog.load(shared + QStringLiteral("/images/hot_dog.jpg")));
    }

    /// The macaw's evidence follows the macaw into each quadrant of the canvas.
    void followsTheObject_data()
    {
        QTest::addColumn<int>("q");
        for (int q = 0; q < 4; ++q)
            QTest::newRow(qPrintable(QStringLiteral("quadrant %1").arg(q))) << q;
    }

    void followsTheObject()
    {
        if (!m_predictor.isLoaded())
            QSKIP("no network (see loadNetwork)");
        QFETCH(int, q);
        QImage canvas = greyCanvas();
        paste(canvas, m_parrot, q);
        const QString path = m_dir.filePath(QStringLiteral("parrot-q%1.png").arg(q));
        QVERIFY(canvas.save(path));
        const Explanation e = m_predictor.explain(path, kMacaw);
        QVERIFY2(e.ok(), qPrintable(e.error));
        QCOMPARE(e.classIndex, kMacaw);
        // Without a class, the predicted one (a bee eater beats the macaw in some quadrants).
        const Explanation predicted = m_predictor.explain(path);
        QVERIFY2(predicted.ok(), qPrintable(predicted.error));
        QCOMPARE(predicted.classIndex, predicted.predictedIndex);
        QCOMPARE(e.predictedIndex, predicted.classIndex);
        QCOMPARE(e.gridWidth, 7);
        QCOMPARE(e.gridHeight, 7);
        QCOMPARE(e.heat.size(), 49);
        QCOMPARE(*std::max_element(e.heat.begin(), e.heat.end()), 1.f);
        // torchvision's transform: shorter side to 256, centre crop 224, so the model sees the middle 87.5%.
        QVERIFY(qAbs(e.crop.width() - 224.0 / 256) < 1e-6 && qAbs(e.crop.x() - 16.0 / 256) < 1e-6);
        const double share = e.heatShare(quadrant(q));
        qInfo("macaw in quadrant %d: p=%.4f, %.0f%% of the map's mass there", q, e.probability, 100 * share);
        QVERIFY2(share > 0.5, qPrintable(describe(e)));
        // The probability is predict()'s.
        const Prediction p = m_predictor.predict(path);
        QVERIFY(p.ok());
        QVERIFY(qAbs(p.probabilities[kMacaw] - e.probability) < 1e-4f);
    }

    /// Two objects, two classes, two maps: each class's evidence lies on its own object.
    void classDiscriminative()
    {
        if (!m_predictor.isLoaded())
            QSKIP("no network (see loadNetwork)");
        QImage canvas = greyCanvas();
        paste(canvas, m_parrot, 0);
        paste(canvas, m_hotdog, 3);
        QByteArray png;
        QBuffer buffer(&png);
        QVERIFY(buffer.open(QIODevice::WriteOnly) && canvas.save(&buffer, "PNG"));
        const Explanation macaw = m_predictor.explain(png, kMacaw);
        const Explanation hotdog = m_predictor.explain(png, kHotdog);
        QVERIFY2(macaw.ok(), qPrintable(macaw.error));
        QVERIFY2(hotdog.ok(), qPrintable(hotdog.error));
        QCOMPARE(macaw.classIndex, kMacaw);
        QCOMPARE(hotdog.classIndex, kHotdog);
        QCOMPARE(macaw.predictedIndex, hotdog.predictedIndex); // one forward pass, whichever class is explained
        qInfo("macaw: %.0f%% top left; hot dog: %.0f%% bottom right (p %.3f / %.3f)",
            100 * macaw.heatShare(quadrant(0)), 100 * hotdog.heatShare(quadrant(3)), macaw.probability,
            hotdog.probability);
        QVERIFY2(macaw.heatShare(quadrant(0)) > 0.5, qPrintable(describe(macaw)));
        QVERIFY2(hotdog.heatShare(quadrant(3)) > 0.5, qPrintable(describe(hotdog)));
        QVERIFY(macaw.centroid().x() < 0.5 && macaw.centroid().y() < 0.5);
        QVERIFY(hotdog.centroid().x() > 0.5 && hotdog.centroid().y() > 0.5);
        const Prediction p = m_predictor.predict(png);
        QVERIFY(qAbs(p.probabilities[kHotdog] - hotdog.probability) < 1e-4f);
    }

    /// The GUI's Explainer: maps come off a worker thread, newest request first, equal to Predictor::explain on the
    /// run's model; a class the model lacks and a run that cannot load fail with a reason; a new run drops the cache.
    void explainerQueue()
    {
        const QStringList vocab { QStringLiteral("black"), QStringLiteral("grizzly"), QStringLiteral("teddys") };
        const QString run = m_dir.filePath(QStringLiteral("run"));
        makeGeneratedRun(run, vocab, 64, false, 7);
        QStringList images;
        for (int i = 0; i < 4; ++i) {
            // Pictures with structure (stripes under noise), each its own size, colour and stripe direction.
            const WinnowTest::ImageSpec picture {
                .size = QSize(96 + 16 * i, 80), .noise = 40, .stripes = 60, .stripeAngle = 45 * i, .seed = quint32(i)
            };
            images << m_dir.filePath(QStringLiteral("img%1.png").arg(i));
            QString error;
            QVERIFY2(WinnowTest::writeImage(images.last(), picture, &error), qPrintable(error));
        }
        Predictor reference(PredictorOptions { QStringLiteral("auto"), 1 });
        QString error;
        QVERIFY2(reference.loadRun(run, &error), qPrintable(error));

        Explainer explainer;
        QSignalSpy ready(&explainer, &Explainer::ready);
        QVERIFY(!explainer.request(images[0], QString())); // no run yet: nothing queued
        QVERIFY(!explainer.isPending(images[0], QString()));
        explainer.setRunDir(run);
        QVERIFY(!explainer.request(images[0], QString()));
        QVERIFY(explainer.isPending(images[0], QString()));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 120000);
        const Explanation* e = explainer.find(images[0], QString());
        QVERIFY(e && e->ok());
        const Explanation direct = reference.explain(images[0]);
        QCOMPARE(e->heat, direct.heat);
        QCOMPARE(e->classIndex, direct.classIndex);
        QCOMPARE(explainer.request(images[0], QString()), e); // cached: no new job
        QVERIFY(!explainer.isPending(images[0], QString()));

        // Newest first: a burst of requests is served from its end (after the one already running).
        ready.clear();
        for (int i = 1; i < 4; ++i)
            QVERIFY(!explainer.request(images[i], QStringLiteral("grizzly")));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 3, 120000);
        QStringList order;
        for (const auto& args : ready)
            order << args.at(0).toString();
        QVERIFY2(order.indexOf(images[3]) < order.indexOf(images[2]), qPrintable(order.join(QLatin1Char(' '))));
        for (int i = 1; i < 4; ++i) {
            const Explanation* g = explainer.find(images[i], QStringLiteral("grizzly"));
            QVERIFY(g && g->ok());
            QCOMPARE(g->classIndex, 1);
            QCOMPARE(g->heat, reference.explain(images[i], 1).heat);
        }

        // A fast scroll asks for far more maps than fit on screen: only the newest kMaxQueued stay in the queue, the
        // oldest are dropped, and the newest are all computed. The worker takes jobs meanwhile (these files cannot be
        // read, so each fails at once) and its answers wait for the event loop, so isPending() counts them too; the
        // queue itself is what the cap bounds, whatever the worker's pace.
        // A real map first keeps the worker busy while the burst arrives, so without the cap the queue would hold it
        // all.
        QVERIFY(!explainer.request(images[0], QStringLiteral("grizzly")));
        QStringList scroll;
        for (int i = 0; i < Explainer::kMaxQueued + 40; ++i)
            scroll << images[i % 4] + QStringLiteral("?%1").arg(i); // distinct keys; files that cannot be read
        for (const QString& p : std::as_const(scroll))
            explainer.request(p, QString());
        int queued = 0, oldQueued = 0;
        for (int i = 0; i < scroll.size(); ++i) {
            const bool inQueue = explainer.isQueued(scroll[i], QString());
            QVERIFY(!inQueue || explainer.isPending(scroll[i], QString()));
            queued += inQueue;
            oldQueued += inQueue && i < 40;
        }
        QVERIFY2(queued <= Explainer::kMaxQueued, qPrintable(QString::number(queued)));
        QCOMPARE(oldQueued, 0); // the 40 oldest were pushed out by 64 newer ones
        for (int i = 40; i < scroll.size(); ++i)
            QTRY_VERIFY_WITH_TIMEOUT(explainer.find(scroll[i], QString()) != nullptr, 60000);
        QVERIFY(!explainer.find(scroll.last(), QString())->ok()); // no such file: a failure, cached with its reason

        ready.clear();
        explainer.request(images[0], QStringLiteral("panda"));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 120000);
        const Explanation* missing = explainer.find(images[0], QStringLiteral("panda"));
        QVERIFY(missing && !missing->ok());
        QVERIFY2(missing->error.contains(QStringLiteral("no class 'panda'")), qPrintable(missing->error));

        // Another run: the cache is dropped; a run that cannot load says why.
        QSignalSpy failed(&explainer, &Explainer::modelFailed);
        explainer.setRunDir(m_dir.filePath(QStringLiteral("no-such-run")));
        QVERIFY(!explainer.find(images[0], QString()));
        ready.clear();
        explainer.request(images[0], QString());
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 120000);
        QCOMPARE(failed.count(), 1);
        QVERIFY(!explainer.find(images[0], QString())->ok());
        QVERIFY(!explainer.find(images[0], QString())->error.isEmpty());

        // Destroyed with work queued: the worker stops after the map in progress.
        auto* busy = new Explainer;
        busy->setRunDir(run);
        for (const QString& img : images)
            busy->request(img, QStringLiteral("black"));
        delete busy;
    }

    void badInput()
    {
        if (!m_predictor.isLoaded())
            QSKIP("no network (see loadNetwork)");
        const QString junk = m_dir.filePath(QStringLiteral("junk.jpg"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not a JPEG");
        f.close();
        const Explanation e = m_predictor.explain(junk);
        QVERIFY(!e.ok());
        QVERIFY(!e.error.isEmpty());
        QCOMPARE(e.file, junk);
        QVERIFY(!m_predictor.explain(m_dir.filePath(QStringLiteral("missing.png"))).ok());
        QVERIFY(!m_predictor.explain(QByteArray()).ok());
        const QString path = m_dir.filePath(QStringLiteral("parrot-q0.png"));
        const Explanation outOfRange = m_predictor.explain(path, 1000);
        QVERIFY(!outOfRange.ok());
        QVERIFY2(outOfRange.error.contains(QStringLiteral("out of range")), qPrintable(outOfRange.error));
        QVERIFY(!Predictor {}.explain(path).ok()); // nothing loaded
    }
};

QTEST_GUILESS_MAIN(TestExplain)
#include "tst_explain.moc"
