// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/thumbnail/thumbnailloader.h"
#include "tests/syntheticdataset.h"

using namespace Winnow;

class TestThumbnailLoader : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    /// A plain `color` picture (the format from the name's suffix: JPEG and PNG are decoded differently).
    QString writeImage(const QString& name, QSize size, QColor color)
    {
        const QString path = m_dir.filePath(name);
        QString error;
        if (!WinnowTest::writeImage(path, { .size = size, .colour = color, .quality = 95 }, &error))
            qFatal("cannot write fixture: %s", qPrintable(error));
        return path;
    }

    static quint64 idOf(const QSignalSpy& spy, int i)
    {
        return spy.at(i).at(0).toULongLong();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
    }

    void decode_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QSize>("source");
        QTest::addColumn<int>("px");
        QTest::addColumn<QSize>("expected");
        QTest::newRow("wide png") << "wide.png" << QSize(400, 200) << 100 << QSize(100, 50);
        QTest::newRow("tall jpg") << "tall.jpg" << QSize(300, 600) << 120 << QSize(60, 120);
        QTest::newRow("small is not upscaled") << "small.png" << QSize(50, 40) << 100 << QSize(50, 40);
        QTest::newRow("square jpg") << "square.jpg" << QSize(512, 512) << 64 << QSize(64, 64);
    }

    void decode()
    {
        QFETCH(QString, name);
        QFETCH(QSize, source);
        QFETCH(int, px);
        QFETCH(QSize, expected);
        const QString path = writeImage(name, source, QColor(200, 30, 30));
        QString error;
        const QImage image = ThumbnailLoader::decode(path, px, &error);
        QVERIFY2(!image.isNull(), qPrintable(error));
        QCOMPARE(image.size(), expected);
        const QColor c = image.pixelColor(image.width() / 2, image.height() / 2);
        QVERIFY2(c.red() > 150 && c.green() < 80 && c.blue() < 80, qPrintable(c.name()));
    }

    /// Thumbnails come from the imaging front end (decodeImage), so they show what the model sees: a transparent
    /// PNG on white (as the loader feeds it to the network), a big JPEG at the right size through a reduced decode.
    void decodesAsTheModelSees()
    {
        QImage clear(40, 30, QImage::Format_ARGB32);
        clear.fill(Qt::transparent);
        const QString png = m_dir.filePath(QStringLiteral("clear.png"));
        QVERIFY(clear.save(png));
        QString error;
        const QImage thumb = ThumbnailLoader::decode(png, 64, &error);
        QVERIFY2(!thumb.isNull(), qPrintable(error));
        QVERIFY(!thumb.hasAlphaChannel());
        QCOMPARE(thumb.pixelColor(20, 15), QColor(Qt::white));

        // 2400 x 1600: libjpeg decodes it at 1/8 (300 x 200, the shorter side still >= 160), then it is scaled.
        const QString big = writeImage(QStringLiteral("big.jpg"), QSize(2400, 1600), QColor(30, 160, 40));
        const QImage bigThumb = ThumbnailLoader::decode(big, 160, &error);
        QVERIFY2(!bigThumb.isNull(), qPrintable(error));
        QCOMPARE(bigThumb.size(), QSize(160, 106));
        const QColor c = bigThumb.pixelColor(80, 53);
        QVERIFY2(c.green() > 120 && c.red() < 70, qPrintable(c.name()));

        // A file that is not an image says why, in the decoder's words.
        const QString html = m_dir.filePath(QStringLiteral("page.jpg"));
        QFile f(html);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("<!DOCTYPE html><html><body>moved</body></html>");
        f.close();
        QVERIFY(ThumbnailLoader::decode(html, 64, &error).isNull());
        QVERIFY2(!error.isEmpty(), "no reason given");
    }

    void loadsAsynchronouslyAndCaches()
    {
        ThumbnailLoader loader;
        const QString path = writeImage(QStringLiteral("a.png"), QSize(300, 200), Qt::blue);
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        QSignalSpy failed(&loader, &ThumbnailLoader::thumbnailFailed);
        loader.request(7, path, 90);
        QCOMPARE(loaded.count(), 0); // never answered from inside request()
        QVERIFY(loader.isPending(7));
        QVERIFY(loaded.wait(5000));
        QCOMPARE(loaded.count(), 1);
        QCOMPARE(idOf(loaded, 0), quint64(7));
        QCOMPARE(loaded.at(0).at(1).value<QImage>().size(), QSize(90, 60));
        QCOMPARE(failed.count(), 0);
        QVERIFY(!loader.isPending(7));
        QVERIFY(!loader.cached(path, 90).isNull());
        QVERIFY(loader.cached(path, 91).isNull()); // keyed by size too
        QVERIFY(loader.cacheBytes() > 0);

        // A cache hit needs no decode, but is still delivered asynchronously.
        loader.request(8, path, 90);
        QCOMPARE(loader.pendingCount(), 0);
        QCOMPARE(loaded.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, 2000);
        QCOMPARE(idOf(loaded, 1), quint64(8));
    }

    void deduplicatesInFlightRequests()
    {
        ThumbnailLoader loader;
        const QString path = writeImage(QStringLiteral("dup.jpg"), QSize(640, 480), Qt::green);
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        loader.request(1, path, 128);
        loader.request(2, path, 128);
        loader.request(3, path, 128);
        loader.request(3, path, 128); // same id twice: still one answer
        QCOMPARE(loader.pendingCount(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 3, 5000);
        QList<quint64> ids;
        for (int i = 0; i < loaded.count(); ++i)
            ids << idOf(loaded, i);
        std::sort(ids.begin(), ids.end());
        QCOMPARE(ids, (QList<quint64> { 1, 2, 3 }));
        QCOMPARE(loader.cachedCount(), 1);
    }

    void cancelsQueuedRequests()
    {
        ThumbnailLoader loader;
        QStringList paths;
        for (int i = 0; i < 24; ++i)
            paths << writeImage(QStringLiteral("c%1.jpg").arg(i), QSize(800, 600), QColor(i * 10, 100, 100));
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        QSignalSpy failed(&loader, &ThumbnailLoader::thumbnailFailed);
        for (int i = 0; i < paths.size(); ++i)
            loader.request(quint64(i), paths.at(i), 96);
        QCOMPARE(loader.pendingCount(), 24);
        // The rows scrolled away: only the last two are still wanted.
        loader.cancelAllExcept({ 22, 23 });
        QVERIFY(loader.pendingCount() <= 2 + ThumbnailLoader::kMaxThreads); // running decodes finish
        QVERIFY(!loader.isPending(0));
        QVERIFY(loader.isPending(23));
        QTRY_COMPARE_WITH_TIMEOUT(loader.pendingCount(), 0, 5000);
        QTest::qWait(50); // let any stray queued delivery arrive
        QList<quint64> ids;
        for (int i = 0; i < loaded.count(); ++i)
            ids << idOf(loaded, i);
        std::sort(ids.begin(), ids.end());
        QCOMPARE(ids, (QList<quint64> { 22, 23 }));
        QCOMPARE(failed.count(), 0);

        // cancel() of a single id, and of a cache answer not yet delivered.
        loader.request(100, paths.at(5), 50);
        loader.request(101, paths.at(22), 96); // cached: delivered later
        loader.cancel(100);
        loader.cancel(101);
        QTest::qWait(200);
        QCOMPARE(loaded.count(), 2);
    }

    void newRequestForSameIdReplacesOld()
    {
        ThumbnailLoader loader;
        const QString a = writeImage(QStringLiteral("ra.png"), QSize(100, 100), Qt::red);
        const QString b = writeImage(QStringLiteral("rb.png"), QSize(100, 50), Qt::yellow);
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        // Occupy both decoder threads first so that the replaced request is still queued.
        loader.request(90, writeImage(QStringLiteral("busy1.jpg"), QSize(1600, 1200), Qt::gray), 64);
        loader.request(91, writeImage(QStringLiteral("busy2.jpg"), QSize(1600, 1200), Qt::gray), 64);
        loader.request(1, a, 64);
        loader.request(1, b, 64);
        QTRY_COMPARE_WITH_TIMEOUT(loader.pendingCount(), 0, 5000);
        QTest::qWait(50);
        int answersFor1 = 0;
        for (int i = 0; i < loaded.count(); ++i) {
            if (idOf(loaded, i) == 1) {
                ++answersFor1;
                QCOMPARE(loaded.at(i).at(1).value<QImage>().size(), QSize(64, 32)); // b, not a
            }
        }
        QCOMPARE(answersFor1, 1);
    }

    void boundedByBytes()
    {
        ThumbnailLoader loader;
        // One 100x100 RGB32 thumbnail is 40,000 bytes: room for three.
        const qint64 limit = 3 * 100 * 100 * 4 + 100;
        loader.setCacheLimit(limit);
        QCOMPARE(loader.cacheLimit(), limit);
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        for (int i = 0; i < 10; ++i)
            loader.request(quint64(i), writeImage(QStringLiteral("b%1.png").arg(i), QSize(200, 200), Qt::cyan), 100);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 10, 10000);
        QVERIFY2(loader.cacheBytes() <= limit, qPrintable(QString::number(loader.cacheBytes())));
        QCOMPARE(loader.cachedCount(), 3);

        loader.setCacheLimit(0);
        QCOMPARE(loader.cachedCount(), 0);
        QCOMPARE(loader.cacheBytes(), 0);
    }

    void reportsFailures_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<bool>("create");
        QTest::newRow("text file named .jpg") << QByteArray("this is not an image\n") << true;
        QTest::newRow("empty file") << QByteArray() << true;
        QTest::newRow("truncated header") << QByteArray("\x89PNG\r\n\x1a\n\0\0", 10) << true;
        QTest::newRow("missing file") << QByteArray() << false;
    }

    void reportsFailures()
    {
        QFETCH(QByteArray, content);
        QFETCH(bool, create);
        static int counter = 0;
        const QString path = m_dir.filePath(QStringLiteral("bad-%1.jpg").arg(++counter));
        QFile::remove(path);
        if (create) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }
        ThumbnailLoader loader;
        QSignalSpy loaded(&loader, &ThumbnailLoader::thumbnailLoaded);
        QSignalSpy failed(&loader, &ThumbnailLoader::thumbnailFailed);
        loader.request(5, path, 64);
        QVERIFY(failed.wait(5000));
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toULongLong(), quint64(5));
        QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        QCOMPARE(loaded.count(), 0);
        QString reason;
        QVERIFY(loader.hasFailed(path, 64, &reason));
        QVERIFY(!reason.isEmpty());

        // Remembered: the second request fails without another decode.
        loader.request(6, path, 64);
        QCOMPARE(loader.pendingCount(), 0);
        QVERIFY(failed.wait(2000));
        QCOMPARE(failed.at(1).at(0).toULongLong(), quint64(6));
    }

    void destroysWithWorkPending()
    {
        // Must neither crash nor deliver to a dead object.
        auto* loader = new ThumbnailLoader;
        for (int i = 0; i < 8; ++i)
            loader->request(
                quint64(i), writeImage(QStringLiteral("d%1.jpg").arg(i), QSize(1200, 900), Qt::magenta), 128);
        delete loader;
        QTest::qWait(50);
    }
};

QTEST_GUILESS_MAIN(TestThumbnailLoader)
#include "tst_thumbnailloader.moc"
