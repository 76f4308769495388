// SPDX-License-Identifier: GPL-3.0-or-later
// The Issues page on a small real dataset: counts per issue type, duplicate groups shown side by side with the copy
// to keep first, bulk decisions that go through the shared DecisionStore (and so through apply and undo).
#include <cmath>

#include <QFile>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include "core/metrics/dataissues.h"
#include "tests/syntheticdataset.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/issuespage.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"

using namespace Winnow;

class TestAnalysisIssues : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void issuesPage()
    {
        QTemporaryDir dir;
        const QString root = dir.path();
        // 64x64 photo stand-ins: a colour under a fine random texture (sharp, colourful, not blank).
        const auto written = WinnowTest::writeDataset({ .root = root,
            .classes = { "cat", "dog" },
            .perClass = 6,
            .validPerClass = 1,
            .size = QSize(64, 64),
            .noise = 80,
            .trainName = "{initial}{i}",
            .validName = "v{k}" });
        QVERIFY2(written.ok(), qPrintable(written.error));
        // An exact copy inside train, a leaked copy in valid, and a photo far too dark.
        QVERIFY(
            QFile::copy(root + QStringLiteral("/train/cat/c0.png"), root + QStringLiteral("/train/cat/zz_copy.png")));
        QVERIFY(QFile::copy(root + QStringLiteral("/train/dog/d3.png"), root + QStringLiteral("/valid/dog/leak.png")));
        QString error;
        QVERIFY2(WinnowTest::writeImage(root + QStringLiteral("/train/dog/dark.png"),
                     { .size = QSize(64, 64), .noise = 80, .brightness = 0.1, .seed = 7, .format = "PNG" }, &error),
            qPrintable(error));

        const auto scan = scanDataset(root);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        const Dataset& ds = *scan.dataset;
        QCOMPARE(ds.size(), 17);
        const auto stats = measureDatasetImages(ds);
        const DataIssueReport report = findDataIssues(ds, stats, nullptr, nullptr);
        QCOMPARE(report.counts[int(DataIssue::ExactDuplicate)], 4);
        QCOMPARE(report.counts[int(DataIssue::Leakage)], 1);
        QCOMPARE(report.counts[int(DataIssue::Dark)], 1);
        QCOMPARE(report.counts[int(DataIssue::Blurry)], 0);

        // With scores, the validation error with and without the leaked copy (which the model got right, as a
        // file it trained on tends to be).
        {
            ScoreSet scores;
            scores.vocab = ds.vocab;
            for (const Sample& s : ds.samples) {
                if (s.split != Split::Valid)
                    continue;
                ScoreRecord r;
                r.file = s.relPath;
                r.split = s.split;
                r.given = s.label;
                r.predicted = s.relPath == QLatin1String("valid/cat/v0.png") ? 1 - s.label : s.label;
                scores.records.append(r);
            }
            const DataIssueReport withScores = findDataIssues(ds, stats, nullptr, &scores);
            QCOMPARE(withScores.validScored, 3);
            QCOMPARE(withScores.validLeakedScored, 1);
            QVERIFY(std::abs(withScores.validError - 1.0 / 3) < 1e-9);
            QVERIFY(std::abs(withScores.validErrorWithoutLeaked - 0.5) < 1e-9);
            const QJsonObject leak = dataIssueSummaryJson(withScores, ds).value(QStringLiteral("leakage")).toObject();
            QCOMPARE(leak.value(QStringLiteral("valid_leaked")).toInt(), 1);
            QCOMPARE(report.validError, -1.0); // no scores, no figure
        }

        DecisionStore store;
        store.setDataset(ds);
        IssuesPage page;
        page.setStore(&store);
        page.setDataset(ds);
        QSignalSpy asked(&page, &IssuesPage::findRequested);
        page.setReport(report, QStringLiteral("/somewhere/else")); // another dataset's report is ignored
        QVERIFY(!page.hasReport());
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QCOMPARE(asked.count(), 1); // shown without a report: it asks for a check, once
        page.setReport(report, ds.root);
        QVERIFY(page.hasReport());
        QCOMPARE(page.issueList()->count(), kDataIssueCount);
        QVERIFY(page.issueList()->item(int(DataIssue::ExactDuplicate))->text().contains(QStringLiteral("(4)")));
        QVERIFY(page.issueList()->item(int(DataIssue::NearDuplicate))->text().contains(QStringLiteral("(–)")));

        // Duplicate groups side by side, the copy to keep first (a train copy before a valid one).
        page.showIssue(DataIssue::ExactDuplicate);
        ImageGridProxy* proxy = page.grid()->proxy();
        QCOMPARE(proxy->rowCount(), 4);
        QStringList shown;
        for (int row = 0; row < proxy->rowCount(); ++row)
            shown << ds.samples.at(proxy->sampleIndex(row)).relPath;
        QVERIFY2(shown.indexOf(QStringLiteral("train/cat/c0.png")) + 1
                == shown.indexOf(QStringLiteral("train/cat/zz_copy.png")),
            qPrintable(shown.join(QLatin1Char(' '))));
        QVERIFY2(shown.indexOf(QStringLiteral("train/dog/d3.png")) + 1
                == shown.indexOf(QStringLiteral("valid/dog/leak.png")),
            qPrintable(shown.join(QLatin1Char(' '))));

        // "Delete all but one of each group": the two copies, not the kept ones.
        QCOMPARE(page.applyBulkAction(), 2);
        QCOMPARE(store.plan().size(), 2);
        QVERIFY(store.decisionText(QStringLiteral("train/cat/zz_copy.png")).contains(QStringLiteral("Delete")));
        QVERIFY(store.decisionText(QStringLiteral("valid/dog/leak.png")).contains(QStringLiteral("Delete")));
        QVERIFY(store.decisionText(QStringLiteral("train/cat/c0.png")).isEmpty());
        store.undoStack()->undo();
        QCOMPARE(store.plan().size(), 0);

        // Leakage: only the validation copy.
        page.showIssue(DataIssue::Leakage);
        QCOMPARE(page.currentIssue(), DataIssue::Leakage);
        QCOMPARE(page.applyBulkAction(), 1);
        QCOMPARE(store.plan().size(), 1);
        QCOMPARE(store.plan().decisions().constFirst().file, QStringLiteral("valid/dog/leak.png"));

        // Quality issues: the button selects what is shown, for review by key.
        page.showIssue(DataIssue::Dark);
        QCOMPARE(proxy->rowCount(), 1);
        QCOMPARE(ds.samples.at(proxy->sampleIndex(0)).relPath, QStringLiteral("train/dog/dark.png"));
        QCOMPARE(page.applyBulkAction(), 0);
        QCOMPARE(page.grid()->targetSamples().size(), 1);

        // Switching the list row switches the grid; the decisions stay.
        page.issueList()->setCurrentRow(int(DataIssue::Grayscale));
        QCOMPARE(page.currentIssue(), DataIssue::Grayscale);
        QCOMPARE(proxy->rowCount(), 0);
        QCOMPARE(store.plan().size(), 1);

        // Blur judged against a set soft all through: the explanation says so, with the set's own threshold.
        {
            QVERIFY(report.usedPixels);
            DataIssueReport soft = report;
            soft.blurryThreshold = 0.02;
            IssuesPage other;
            other.setDataset(ds);
            other.setReport(soft, ds.root);
            other.showIssue(DataIssue::Blurry);
            const auto* explanation = other.findChild<QLabel*>(QStringLiteral("issueExplanation"));
            QVERIFY(explanation);
            QVERIFY2(explanation->text().contains(QStringLiteral("soft all through"))
                    && explanation->text().contains(QStringLiteral("0.020")),
                qPrintable(explanation->text()));
            soft.blurryThreshold = DataIssueOptions().blurryBelow;
            other.setReport(soft, ds.root);
            other.showIssue(DataIssue::Blurry);
            QVERIFY2(
                !explanation->text().contains(QStringLiteral("soft all through")), qPrintable(explanation->text()));
        }

        // A rescan with the same files keeps the report; one with other files (an Apply) drops it, since its
        // sample indices would now name other files.
        page.setDataset(ds);
        QVERIFY(page.hasReport());
        Dataset fewer = ds;
        fewer.samples.removeAt(0);
        page.setDataset(fewer);
        QVERIFY(!page.hasReport());
        QCOMPARE(page.grid()->proxy()->rowCount(), 0);
        // A report that arrives after such a rescan is read by path: the grid names the same files.
        page.setReport(report, ds.root);
        QVERIFY(page.hasReport());
        page.showIssue(DataIssue::Dark);
        QCOMPARE(page.grid()->proxy()->rowCount(), 1);
        QCOMPARE(fewer.samples.at(page.grid()->proxy()->sampleIndex(0)).relPath, QStringLiteral("train/dog/dark.png"));
        for (const FileDataIssues& f : page.report().files)
            QCOMPARE(fewer.samples.at(f.sample).relPath, f.file);
        page.setDataset(ds);
        page.setReport(report, ds.root);
        QVERIFY(page.hasReport());

        // Any grid can show the flags as badges and filter on them (the Images page's Issue filter).
        {
            ImageGridModel model;
            model.setDataset(ds);
            ImageGridProxy filter;
            filter.setSourceModel(&model);
            model.setDataIssueProvider([&](int sample) -> quint32 {
                const FileDataIssues* f = report.forSample(sample);
                return f ? f->flags : 0;
            });
            QCOMPARE(filter.rowCount(), ds.size());
            filter.setDataIssueFilter(1u << int(DataIssue::Dark));
            QCOMPARE(filter.rowCount(), 1);
            QCOMPARE(filter.index(0, 0).data(ImageGridModel::DataIssuesRole).toString(), QStringLiteral("dark"));
            filter.setDataIssueFilter((1u << kDataIssueCount) - 1);
            QCOMPARE(filter.rowCount(), report.flaggedFiles());
            // A new report announced through refreshDataIssues() refilters.
            model.setDataIssueProvider([](int) -> quint32 { return 0; });
            QCOMPARE(filter.rowCount(), 0);
            filter.setDataIssueFilter(0);
            QCOMPARE(filter.rowCount(), ds.size());
        }

        // Another dataset: the report goes.
        Dataset other = ds;
        other.root = dir.filePath(QStringLiteral("elsewhere"));
        page.setDataset(other);
        QVERIFY(!page.hasReport());
    }
};

QTEST_MAIN(TestAnalysisIssues)
#include "tst_analysis_issues.moc"
