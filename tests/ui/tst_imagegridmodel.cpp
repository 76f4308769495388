// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QPixmap>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/thumbnail/thumbnailloader.h"
#include "tests/syntheticdataset.h"
#include "ui/imagegrid/imagegriddelegate.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

using namespace Winnow;

namespace {

/// A synthetic dataset (no files needed): `perClass` samples per class, every 5th in valid, plus `unlabeled` and one
/// unreadable file. Sample paths sort like a scan would.
Dataset makeDataset(
    const QStringList& vocab, int perClass, int unlabeled = 0, const QString& root = QStringLiteral("/data/set"))
{
    Dataset ds;
    ds.root = root;
    ds.vocab = vocab;
    for (int c = 0; c < vocab.size(); ++c) {
        for (int i = 0; i < perClass; ++i) {
            Sample s;
            s.relPath = QStringLiteral("%1/img-%2.jpg").arg(vocab.at(c)).arg(i, 6, 10, QLatin1Char('0'));
            s.label = c;
            s.split = i % 5 == 4 ? Split::Valid : Split::Train;
            ds.samples.append(s);
        }
    }
    for (int i = 0; i < unlabeled; ++i) {
        Sample s;
        s.relPath = QStringLiteral("unlabeled/u-%1.jpg").arg(i, 4, 10, QLatin1Char('0'));
        s.split = Split::Unlabeled;
        ds.samples.append(s);
    }
    Sample bad;
    bad.relPath = vocab.value(0) + QStringLiteral("/zz-broken.jpg");
    bad.label = 0;
    bad.status = Unreadable::NotAnImage;
    ds.samples.append(bad);
    std::sort(
        ds.samples.begin(), ds.samples.end(), [](const Sample& a, const Sample& b) { return a.relPath < b.relPath; });
    return ds;
}

/// Scores every readable sample: loss grows with the sample index; every 3rd labeled sample is predicted wrong.
ScoreSet makeScores(const Dataset& ds)
{
    ScoreSet set;
    set.datasetRoot = ds.root;
    set.vocab = ds.vocab;
    const int k = int(ds.vocab.size());
    for (int i = 0; i < ds.samples.size(); ++i) {
        const Sample& s = ds.samples.at(i);
        if (!s.readable())
            continue;
        ScoreRecord r;
        r.file = s.relPath;
        r.split = s.split;
        r.given = s.label;
        const bool wrong = s.label >= 0 && i % 3 == 0;
        r.predicted = s.label < 0 ? i % k : (wrong ? (s.label + 1) % k : s.label);
        r.loss = 0.01 * i;
        r.pPredicted = 0.9;
        r.pGiven = wrong ? 0.05 : 0.9;
        r.margin = wrong ? -0.85 : 0.8 - 0.001 * i;
        r.probs = QVector<float>(k, 0.1f / k);
        set.records.append(r);
    }
    return set;
}

} // namespace

class TestImageGridModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rolesWithoutScores()
    {
        ImageGridModel model;
        QAbstractItemModelTester tester(&model);
        const Dataset ds = makeDataset({ QStringLiteral("cat"), QStringLiteral("dog") }, 10, 3);
        model.setDataset(ds);
        QCOMPARE(model.rowCount(), ds.size());
        const QModelIndex first = model.index(0);
        const Sample& s0 = ds.samples.at(0);
        QCOMPARE(first.data(ImageGridModel::RelPathRole).toString(), s0.relPath);
        QCOMPARE(first.data(ImageGridModel::PathRole).toString(), ds.absolutePath(s0));
        QCOMPARE(first.data(ImageGridModel::SampleIndexRole).toInt(), 0);
        QCOMPARE(first.data(ImageGridModel::GivenLabelRole).toString(), QStringLiteral("cat"));
        QCOMPARE(first.data(ImageGridModel::HasScoreRole).toBool(), false);
        QVERIFY(!first.data(ImageGridModel::LossRole).isValid());
        QVERIFY(!first.data(ImageGridModel::PredictedLabelRole).isValid());
        QCOMPARE(first.data(Qt::DisplayRole).toString(), QStringLiteral("img-000000.jpg"));
        QVERIFY(first.data(Qt::DecorationRole).canConvert<QPixmap>()); // placeholder without a loader

        const int bad = ds.findSample(QStringLiteral("cat/zz-broken.jpg"));
        QVERIFY(bad >= 0);
        const QModelIndex badIndex = model.index(model.rowForSample(bad));
        QCOMPARE(badIndex.data(ImageGridModel::ReadableRole).toBool(), false);
        QVERIFY(!badIndex.data(ImageGridModel::UnreadableReasonRole).toString().isEmpty());
        QCOMPARE(
            badIndex.data(ImageGridModel::ThumbnailStateRole).toInt(), int(ImageGridModel::ThumbnailState::Failed));

        const int u = ds.findSample(QStringLiteral("unlabeled/u-0001.jpg"));
        QCOMPARE(model.index(model.rowForSample(u)).data(ImageGridModel::SplitRole).toInt(), int(Split::Unlabeled));
        QCOMPARE(model.index(model.rowForSample(u)).data(ImageGridModel::GivenIndexRole).toInt(), -1);

        // A subset keeps its order and maps both ways.
        model.setDataset(ds, { 5, 2, 9 });
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.sampleIndex(0), 5);
        QCOMPARE(model.rowForSample(2), 1);
        QCOMPARE(model.rowForSample(0), -1);
    }

    void scoresAndProxyWithTester()
    {
        ImageGridModel model;
        ImageGridProxy proxy;
        QAbstractItemModelTester modelTester(&model);
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy);

        const Dataset ds = makeDataset({ QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") }, 20, 4);
        model.setDataset(ds);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const ScoreSet scores = makeScores(ds);
        model.setScores(scores);
        QVERIFY(model.hasScores());
        QCOMPARE(changed.count(), 1);
        QVERIFY(changed.at(0).at(2).value<QList<int>>().contains(ImageGridModel::LossRole));

        // Every scored row exposes its record.
        for (const ScoreRecord& r : scores.records) {
            const QModelIndex idx = model.index(model.rowForRelPath(r.file));
            QCOMPARE(idx.data(ImageGridModel::LossRole).toDouble(), r.loss);
            QCOMPARE(idx.data(ImageGridModel::PredictedIndexRole).toInt(), r.predicted);
            QCOMPARE(idx.data(ImageGridModel::PredictedLabelRole).toString(), ds.vocab.at(r.predicted));
            QCOMPARE(idx.data(ImageGridModel::MispredictedRole).toBool(), r.given >= 0 && r.predicted != r.given);
            QCOMPARE(idx.data(ImageGridModel::PGivenRole).isValid(), r.given >= 0);
        }

        // Class filter.
        proxy.setClassFilter(1);
        QCOMPARE(proxy.rowCount(), 20);
        for (int i = 0; i < proxy.rowCount(); ++i)
            QCOMPARE(proxy.index(i, 0).data(ImageGridModel::GivenLabelRole).toString(), QStringLiteral("b"));

        // Split filter on top.
        proxy.setSplitFilter(ImageGridProxy::SplitFilter::Valid);
        QCOMPARE(proxy.rowCount(), 4);
        proxy.setSplitFilter(ImageGridProxy::SplitFilter::All);
        proxy.setClassFilter(-1);
        proxy.setSplitFilter(ImageGridProxy::SplitFilter::Unlabeled);
        QCOMPARE(proxy.rowCount(), 4);
        proxy.setSplitFilter(ImageGridProxy::SplitFilter::All);
        QCOMPARE(proxy.rowCount(), ds.size());

        // Confusion cell: actual a, predicted b.
        int expected = 0;
        for (const ScoreRecord& r : scores.records)
            expected += r.given == 0 && r.predicted == 1;
        QVERIFY(expected > 0);
        proxy.setCellFilter(0, 1);
        QCOMPARE(proxy.rowCount(), expected);
        for (int i = 0; i < proxy.rowCount(); ++i) {
            QCOMPARE(proxy.index(i, 0).data(ImageGridModel::GivenIndexRole).toInt(), 0);
            QCOMPARE(proxy.index(i, 0).data(ImageGridModel::PredictedIndexRole).toInt(), 1);
        }
        proxy.clearCellFilter();

        proxy.setMispredictedOnly(true);
        int wrong = 0;
        for (const ScoreRecord& r : scores.records)
            wrong += r.given >= 0 && r.predicted != r.given;
        QCOMPARE(proxy.rowCount(), wrong);
        proxy.setMispredictedOnly(false);

        proxy.setTextFilter(QStringLiteral("IMG-00001"));
        QCOMPARE(proxy.rowCount(), 3 * 10); // img-000010..19 in each class
        proxy.setTextFilter({});

        proxy.setReadableOnly(true);
        QCOMPARE(proxy.rowCount(), ds.size() - 1);
        proxy.setReadableOnly(false);

        // Scores cleared: score filters empty the view, plain filters do not care.
        model.setScores({});
        proxy.setScoredOnly(true);
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setScoredOnly(false);
        QCOMPARE(proxy.rowCount(), ds.size());
    }

    void sortsByLossAndMargin()
    {
        ImageGridModel model;
        ImageGridProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy);
        const Dataset ds = makeDataset({ QStringLiteral("x"), QStringLiteral("y") }, 15, 2);
        model.setDataset(ds);
        ScoreSet scores = makeScores(ds);
        // Shuffle the losses so that source order is not already sorted.
        for (int i = 0; i < scores.records.size(); ++i)
            scores.records[i].loss = double((i * 7919) % 101) / 10.0;
        model.setScores(scores);

        proxy.setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
        const int scored = int(scores.records.size());
        double previous = std::numeric_limits<double>::infinity();
        for (int i = 0; i < scored; ++i) {
            const QModelIndex idx = proxy.index(i, 0);
            QVERIFY(idx.data(ImageGridModel::HasScoreRole).toBool());
            const double loss = idx.data(ImageGridModel::LossRole).toDouble();
            QVERIFY2(
                loss <= previous, qPrintable(QStringLiteral("row %1: %2 after %3").arg(i).arg(loss).arg(previous)));
            previous = loss;
        }
        double maxLoss = 0;
        for (const ScoreRecord& r : scores.records)
            maxLoss = qMax(maxLoss, r.loss);
        QCOMPARE(proxy.index(0, 0).data(ImageGridModel::LossRole).toDouble(), maxLoss);
        // The unreadable (unscored) file sorts last.
        QCOMPARE(proxy.index(proxy.rowCount() - 1, 0).data(ImageGridModel::HasScoreRole).toBool(), false);

        proxy.setSortOrder(ImageGridProxy::SortOrder::ByMarginAsc);
        previous = -std::numeric_limits<double>::infinity();
        for (int i = 0; i < scored; ++i) {
            const double m = proxy.index(i, 0).data(ImageGridModel::MarginRole).toDouble();
            QVERIFY(m >= previous);
            previous = m;
        }

        proxy.setSortOrder(ImageGridProxy::SortOrder::ByName);
        for (int i = 1; i < proxy.rowCount(); ++i) {
            QVERIFY(QString::compare(proxy.index(i - 1, 0).data(ImageGridModel::RelPathRole).toString(),
                        proxy.index(i, 0).data(ImageGridModel::RelPathRole).toString(), Qt::CaseInsensitive)
                < 0);
        }

        // New scores re-sort a loss-ordered view.
        proxy.setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
        for (auto& r : scores.records)
            r.loss = r.file == QStringLiteral("y/img-000003.jpg") ? 99.0 : 0.5;
        model.setScores(scores);
        QCOMPARE(proxy.index(0, 0).data(ImageGridModel::RelPathRole).toString(), QStringLiteral("y/img-000003.jpg"));
    }

    void decisionRole()
    {
        ImageGridModel model;
        QAbstractItemModelTester tester(&model);
        const Dataset ds = makeDataset({ QStringLiteral("a"), QStringLiteral("b") }, 5);
        model.setDataset(ds);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        const QString file = QStringLiteral("b/img-000002.jpg");
        const int row = model.rowForRelPath(file);
        QVERIFY(row >= 0);
        model.setDecision(file, QStringLiteral("Delete"));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), row); // role-scoped, single row
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), row);
        QCOMPARE(changed.at(0).at(2).value<QList<int>>(), QList<int> { ImageGridModel::DecisionRole });
        QCOMPARE(model.index(row).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("Delete"));
        QCOMPARE(model.index(0).data(ImageGridModel::DecisionRole).toString(), QString());

        model.setDecisions({ { QStringLiteral("a/img-000000.jpg"), QStringLiteral("-> b") } });
        QCOMPARE(model.index(0).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("-> b"));
        QCOMPARE(model.index(row).data(ImageGridModel::DecisionRole).toString(), QString());

        // A provider answers lazily; pushed texts win over it.
        model.setDecisionProvider([](const QString& rel) {
            return rel.startsWith(QLatin1String("b/")) ? QStringLiteral("Keep") : QString();
        });
        QCOMPARE(model.index(row).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("Keep"));
        QCOMPARE(model.index(0).data(ImageGridModel::DecisionRole).toString(), QStringLiteral("-> b"));

        ImageGridProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setDecidedOnly(true);
        QCOMPARE(proxy.rowCount(), 1 + 5); // a/img-0 pushed, all of b from the provider

        QCOMPARE(ImageGridDelegate::decisionColor(QStringLiteral("Delete")),
            ImageGridDelegate::decisionColor(QStringLiteral("delete")));
        QVERIFY(ImageGridDelegate::decisionColor(QStringLiteral("Keep"))
            != ImageGridDelegate::decisionColor(QStringLiteral("Delete")));
    }

    /// At the smallest zoom a numbered file name keeps its distinguishing end ("0…0123.jpg", never "000…jpg").
    void elidesFileNamesInTheMiddle()
    {
        const QFontMetrics fm(QApplication::font());
        const QString name = QStringLiteral("00000123.jpg");
        QCOMPARE(ImageGridDelegate::elideFileName(fm, name, fm.horizontalAdvance(name)), name);
        for (int width : { fm.horizontalAdvance(name) - 1, fm.horizontalAdvance(QStringLiteral("0…00123.jpg")),
                 fm.horizontalAdvance(QStringLiteral("0…123.jpg")), fm.horizontalAdvance(QStringLiteral("…0123")) }) {
            const QString e = ImageGridDelegate::elideFileName(fm, name, width);
            QVERIFY2(fm.horizontalAdvance(e) <= width, qPrintable(e));
            QVERIFY2(e.contains(QChar(0x2026)), qPrintable(e));
            QVERIFY2(e.contains(QLatin1String("23")), qPrintable(e)); // the end of the number survives
        }
        const int smallest = fm.horizontalAdvance(QStringLiteral("000…jpg"));
        QVERIFY(ImageGridDelegate::elideFileName(fm, name, smallest) != QStringLiteral("000…jpg"));
        // The grid's smallest zoom: the name line of a card.
        QVERIFY(ImageGridDelegate::elideFileName(fm, name, ImageGridView::kMinZoom).contains(QLatin1String("23")));
    }

    void thumbnailsThroughTheLoader()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        Dataset ds;
        ds.root = dir.path();
        ds.vocab = { QStringLiteral("red") };
        // Plain red (no noise): the thumbnail's pixel is checked below.
        const auto written = WinnowTest::writeDataset({ .root = dir.path(),
            .classes = ds.vocab,
            .size = QSize(120, 80),
            .colours = { QColor(Qt::red) },
            .noise = 0 });
        QVERIFY2(written.ok(), qPrintable(written.error));
        QCOMPARE(written.files.size(), 4);
        for (const QString& rel : written.files) {
            Sample s;
            s.relPath = rel;
            s.label = 0;
            ds.samples.append(s);
        }
        ThumbnailLoader loader;
        ImageGridModel model;
        model.setThumbnailLoader(&loader);
        model.setThumbnailSize(64);
        model.setDataset(ds);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        const QModelIndex idx = model.index(2);
        const QPixmap placeholder = idx.data(Qt::DecorationRole).value<QPixmap>();
        QVERIFY(!placeholder.isNull());
        QCOMPARE(idx.data(ImageGridModel::ThumbnailStateRole).toInt(), int(ImageGridModel::ThumbnailState::Loading));
        QTRY_COMPARE_WITH_TIMEOUT(
            idx.data(ImageGridModel::ThumbnailStateRole).toInt(), int(ImageGridModel::ThumbnailState::Ready), 5000);
        QVERIFY(!changed.isEmpty());
        QCOMPARE(changed.constLast().at(0).toModelIndex().row(), 2);
        QVERIFY(changed.constLast().at(2).value<QList<int>>().contains(Qt::DecorationRole));
        const QPixmap thumb = idx.data(Qt::DecorationRole).value<QPixmap>();
        QCOMPARE(thumb.width(), 64);
        QVERIFY(thumb.height() == 42 || thumb.height() == 43);
        QCOMPARE(thumb.toImage().pixelColor(32, 20), QColor(Qt::red));

        // prioritizeThumbnails() keeps only the listed rows pending.
        model.prioritizeThumbnails({ 0 });
        QVERIFY(loader.isPending(0));
        QVERIFY(!loader.isPending(1));
        QTRY_COMPARE_WITH_TIMEOUT(model.thumbnailState(0), ImageGridModel::ThumbnailState::Ready, 5000);
    }

    void viewShowsAndZooms()
    {
        ImageGridModel model;
        ImageGridProxy proxy;
        proxy.setSourceModel(&model);
        model.setDataset(makeDataset({ QStringLiteral("a"), QStringLiteral("b") }, 50));
        ImageGridView view;
        view.setModel(&proxy);
        QCOMPARE(view.gridModel(), &model);
        view.resize(800, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QList<int> visible = view.visibleRows();
        QVERIFY(!visible.isEmpty());
        QCOMPARE(visible.first(), 0);
        QVERIFY(visible.size() < proxy.rowCount());

        QSignalSpy zoom(&view, &ImageGridView::zoomChanged);
        const QSize before = view.gridDelegate()->cardSize();
        view.setZoom(ImageGridView::kMinZoom);
        QCOMPARE(zoom.count(), 1);
        QVERIFY(view.gridDelegate()->cardSize().width() < before.width());
        QVERIFY(view.visibleRows().size() > visible.size());

        QVERIFY(view.selectSample(70));
        QCOMPARE(view.currentSampleIndex(), 70);
        QCOMPARE(view.selectedSampleIndices(), QList<int> { 70 });
        QSignalSpy decision(&view, &ImageGridView::decisionRequested);
        QTest::keyClick(&view, Qt::Key_D);
        QCOMPARE(decision.count(), 1);
        QCOMPARE(decision.at(0).at(0).toString(), QStringLiteral("Delete"));

        // Scores switch the delegate to taller cards with score lines.
        const int h = view.gridDelegate()->cardSize().height();
        model.setScores(makeScores(model.dataset()));
        QVERIFY(view.gridDelegate()->showScores());
        QVERIFY(view.gridDelegate()->cardSize().height() > h);
    }

    void resetWith100kItems()
    {
        QStringList vocab;
        for (int c = 0; c < 10; ++c)
            vocab << QStringLiteral("class%1").arg(c);
        const Dataset ds = makeDataset(vocab, 10000);
        QVERIFY(ds.size() > 100000);
        const ScoreSet scores = makeScores(ds);

        ImageGridModel model;
        ImageGridProxy proxy;
        proxy.setSourceModel(&model);
        ImageGridView view;
        view.setModel(&proxy);
        view.resize(1000, 700);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));

        QElapsedTimer timer;
        timer.start();
        model.setDataset(ds);
        const qint64 resetMs = timer.elapsed();
        QCOMPARE(model.rowCount(), ds.size());
        QCOMPARE(proxy.rowCount(), ds.size());
        timer.restart();
        QCoreApplication::processEvents(); // layout and first paint
        view.repaint();
        const qint64 paintMs = timer.elapsed();
        timer.restart();
        model.setScores(scores);
        const qint64 scoresMs = timer.elapsed();
        timer.restart();
        proxy.setClassFilter(3);
        const qint64 filterMs = timer.elapsed();
        QCOMPARE(proxy.rowCount(), 10000);
        proxy.setClassFilter(-1);
        timer.restart();
        proxy.setSortOrder(ImageGridProxy::SortOrder::ByLossDesc);
        const qint64 sortMs = timer.elapsed();
        QVERIFY(proxy.index(0, 0).data(ImageGridModel::HasScoreRole).toBool());
        timer.restart();
        view.verticalScrollBar()->setValue(view.verticalScrollBar()->maximum() / 2);
        view.repaint();
        const qint64 scrollMs = timer.elapsed();
        qInfo("100k rows (%d): reset %lld ms, layout+paint %lld ms, setScores %lld ms, class filter %lld ms, "
              "loss sort %lld ms, scroll+paint %lld ms",
            ds.size(), resetMs, paintMs, scoresMs, filterMs, sortMs, scrollMs);
    }
};

QTEST_MAIN(TestImageGridModel)
#include "tst_imagegridmodel.moc"
