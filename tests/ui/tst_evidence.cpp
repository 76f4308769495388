// SPDX-License-Identifier: GPL-3.0-or-later
// Evidence maps (Grad-CAM) on the analysis grids: G cycles Off -> predicted class -> given label -> Off, the cards in
// view get their maps from the Explainer's worker (the thumbnail changes, a "why: <class>" caption appears), the
// large preview shows the map too, and without a model G says what is missing.
#include <QCoreApplication>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include "core/engine/explainer.h"
#include "core/thumbnail/thumbnailloader.h"
#include "tests/engine/generatedrun.h"
#include "tests/syntheticdataset.h"
#include "tst_analysis_fixtures.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/imagepreview.h"
#include "ui/analysis/toplossespage.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"

using namespace Winnow;
using namespace AnalysisTest;

class TestEvidence : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    Dataset m_ds;
    ScoreSet m_scores;
    QString m_run;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        const QStringList classes { QStringLiteral("cat"), QStringLiteral("dog") };
        // 64 x 48 images with structure (stripes under noise), so the maps are not flat.
        const auto written = WinnowTest::writeDataset({ .root = m_dir.filePath(QStringLiteral("data")),
            .classes = classes,
            .perClass = 3,
            .size = QSize(64, 48),
            .stripes = 60,
            .trainName = "t{i}" });
        QVERIFY2(written.ok(), qPrintable(written.error));
        m_ds = scan(m_dir.filePath(QStringLiteral("data")));
        QCOMPARE(m_ds.size(), 6);
        QCOMPARE(m_ds.vocab, classes);
        m_scores.datasetRoot = m_ds.root;
        m_scores.vocab = classes;
        int k = 0;
        for (const Sample& s : std::as_const(m_ds.samples))
            m_scores.records << record(s.relPath, s.split, s.label, k++ % 2 ? s.label : 1 - s.label, 0.7, 2);
        m_run = m_dir.filePath(QStringLiteral("run"));
        makeGeneratedRun(m_run, classes, 64, false, 11);
    }

    void withoutModel()
    {
        DecisionStore store;
        TopLossesPage page;
        page.setStore(&store);
        store.setDataset(m_ds);
        page.setDataset(m_ds);
        page.setScores(m_scores);
        Explainer explainer; // no run
        page.grid()->setExplainer(&explainer);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QSignalSpy status(page.grid(), &DecisionGrid::statusMessage);
        QTest::keyClick(page.grid()->view(), Qt::Key_G);
        QCOMPARE(page.grid()->model()->evidenceMode(), ImageGridModel::EvidenceMode::Off);
        QCOMPARE(status.count(), 1);
        QVERIFY2(status.at(0).at(0).toString().contains(QLatin1String("trained model")),
            qPrintable(status.at(0).at(0).toString()));
        QCOMPARE(page.grid()->proxy()->index(0, 0).data(ImageGridModel::EvidenceCaptionRole).toString(), QString());
    }

    void mapsOnCards()
    {
        ThumbnailLoader loader;
        DecisionStore store;
        TopLossesPage page;
        page.setStore(&store);
        page.setThumbnailLoader(&loader);
        store.setDataset(m_ds);
        page.setDataset(m_ds);
        page.setScores(m_scores);
        Explainer explainer;
        explainer.setRunDir(m_run);
        page.grid()->setExplainer(&explainer);
        page.resize(900, 600);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        const ImageGridProxy* proxy = page.grid()->proxy();
        QVERIFY(proxy->rowCount() >= 4);
        // Thumbnails first (the view asks for the visible ones).
        QTRY_VERIFY_WITH_TIMEOUT(proxy->index(0, 0).data(ImageGridModel::ThumbnailStateRole).toInt()
                == int(ImageGridModel::ThumbnailState::Ready),
            30000);
        const QImage plain = proxy->index(0, 0).data(Qt::DecorationRole).value<QPixmap>().toImage();

        QSignalSpy status(page.grid(), &DecisionGrid::statusMessage);
        QTest::keyClick(page.grid()->view(), Qt::Key_G);
        QCOMPARE(page.grid()->model()->evidenceMode(), ImageGridModel::EvidenceMode::Predicted);
        QVERIFY(status.last().at(0).toString().contains(QLatin1String("predicted class")));
        QTRY_VERIFY_WITH_TIMEOUT(proxy->index(0, 0).data(ImageGridModel::EvidenceRole).toBool(), 120000);
        const QImage blended = proxy->index(0, 0).data(Qt::DecorationRole).value<QPixmap>().toImage();
        QCOMPARE(blended.size(), plain.size());
        QVERIFY(blended != plain);
        // The caption names the class the card shows as predicted, and the map is the run's network's for it.
        const QString path = proxy->index(0, 0).data(ImageGridModel::PathRole).toString();
        const QString shown = proxy->index(0, 0).data(ImageGridModel::PredictedLabelRole).toString();
        QCOMPARE(proxy->index(0, 0).data(ImageGridModel::EvidenceCaptionRole).toString(),
            QStringLiteral("why: %1").arg(shown));
        Predictor predictor;
        QString error;
        QVERIFY2(predictor.loadRun(m_run, &error), qPrintable(error));
        QCOMPARE(explainer.find(path, shown)->heat, predictor.explain(path, int(m_scores.vocab.indexOf(shown))).heat);

        // The given label next: every card asks for its own label's map.
        QTest::keyClick(page.grid()->view(), Qt::Key_G);
        QCOMPARE(page.grid()->model()->evidenceMode(), ImageGridModel::EvidenceMode::Given);
        QTRY_VERIFY_WITH_TIMEOUT(proxy->index(0, 0).data(ImageGridModel::EvidenceRole).toBool(), 120000);
        QCOMPARE(proxy->index(0, 0).data(ImageGridModel::EvidenceCaptionRole).toString(),
            QStringLiteral("why: %1").arg(proxy->index(0, 0).data(ImageGridModel::GivenLabelRole).toString()));
        QVERIFY(explainer.find(path, proxy->index(0, 0).data(ImageGridModel::GivenLabelRole).toString()));

        // The large preview shows the same map, full size.
        page.grid()->view()->setCurrentIndex(proxy->index(0, 0));
        QTest::keyClick(page.grid()->view(), Qt::Key_Space);
        ImagePreview* preview = page.grid()->preview();
        QVERIFY(preview);
        QTRY_VERIFY_WITH_TIMEOUT(preview->showsEvidence(), 120000);
        QVERIFY2(preview->windowTitle().contains(QLatin1String("evidence for")), qPrintable(preview->windowTitle()));

        // Off again: plain thumbnails, no caption.
        QTest::keyClick(preview, Qt::Key_G);
        QCOMPARE(page.grid()->model()->evidenceMode(), ImageGridModel::EvidenceMode::Off);
        QVERIFY(!preview->showsEvidence());
        QVERIFY(!proxy->index(0, 0).data(ImageGridModel::EvidenceRole).toBool());
        QCOMPARE(proxy->index(0, 0).data(ImageGridModel::EvidenceCaptionRole).toString(), QString());
        preview->close();
    }
};

QTEST_MAIN(TestEvidence)
#include "tst_evidence.moc"
