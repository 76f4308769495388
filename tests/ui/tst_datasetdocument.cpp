// SPDX-License-Identifier: GPL-3.0-or-later
// DatasetDocument without a window: open -> score -> decide -> apply -> rescan -> undo, the decisions kept beside
// the dataset across documents, a superseded scan dropped, bad folders and foreign scores refused with a message.
#include <QDirIterator>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "tests/ui/tst_analysis_fixtures.h"
#include "ui/analysis/decisionstore.h"
#include "ui/cleaningsession.h"
#include "ui/datasetdocument.h"

using namespace Winnow;

namespace {

/// Every file under root, relative, outside .winnow.
QStringList filesUnder(const QString& root)
{
    QStringList out;
    QDirIterator it(root, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString rel = QDir(root).relativeFilePath(it.next());
        if (!rel.startsWith(QLatin1String(".winnow/")))
            out << rel;
    }
    out.sort();
    return out;
}

/// Scores for every readable image of `ds`: the model agrees with every label except `wrong`'s, which it calls
/// class 1 with 0.9.
ScoreSet scoresFor(const Dataset& ds, const QString& wrong)
{
    ScoreSet s;
    s.datasetRoot = ds.root;
    s.vocab = ds.vocab;
    for (const Sample& sm : ds.samples) {
        if (!sm.readable() || sm.label < 0)
            continue;
        const bool bad = sm.relPath == wrong;
        s.records << AnalysisTest::record(
            sm.relPath, sm.split, sm.label, bad ? 1 : sm.label, bad ? 0.9 : 0.8, int(ds.vocab.size()));
    }
    return s;
}

bool waitForOpened(QSignalSpy& spy, int n = 1)
{
    while (spy.count() < n)
        if (!spy.wait(20000))
            return false;
    return true;
}

} // namespace

class TestDatasetDocument : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_root;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void init()
    {
        // A fresh folder per test: cat/ (4), dog/ (4), one cat photo filed under dog.
        static int n = 0;
        m_root = m_dir.filePath(QStringLiteral("ds%1").arg(++n));
        for (int i = 0; i < 4; ++i) {
            QVERIFY(AnalysisTest::writePng(QStringLiteral("%1/cat/c%2.png").arg(m_root).arg(i), i));
            QVERIFY(AnalysisTest::writePng(QStringLiteral("%1/dog/d%2.png").arg(m_root).arg(i), 100 + i));
        }
        QVERIFY(AnalysisTest::writePng(m_root + QStringLiteral("/dog/stray-cat.png"), 3));
    }

    void openScoreDecideApplyRescanUndo()
    {
        DatasetDocument doc;
        QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
        QSignalSpy busy(&doc, &DatasetDocument::busyChanged);
        QVERIFY(doc.open(m_root));
        QVERIFY(doc.isScanning());
        QVERIFY(!doc.busyText().isEmpty());
        QVERIFY(waitForOpened(opened));
        QVERIFY(!doc.isScanning());
        QVERIFY(doc.busyText().isEmpty());
        QVERIFY(busy.count() >= 2); // started, then ended
        QVERIFY(busy.last().at(0).toString().isEmpty());
        QVERIFY(doc.dataset());
        QCOMPARE(doc.dataset()->size(), 9);
        QCOMPARE(doc.dataset()->vocab, QStringList({ QStringLiteral("cat"), QStringLiteral("dog") }));
        // The decisions belong to this folder from the first signal on.
        QCOMPARE(doc.decisions()->plan().root(), doc.dataset()->root);

        // Score.
        QSignalSpy scored(&doc, &DatasetDocument::scoresChanged);
        QVERIFY(doc.setScores(scoresFor(*doc.dataset(), QStringLiteral("dog/stray-cat.png"))));
        QCOMPARE(scored.count(), 1);
        QCOMPARE(doc.scores().records.size(), 9);

        // Decide: the stray goes to cat, one dog photo is junk.
        CleaningSession session(&doc, nullptr);
        session.setConfirm(false);
        QVERIFY(session.applyAction()->isEnabled() == false); // nothing decided yet
        QVERIFY(doc.decisions()->decide(
            { QStringLiteral("dog/stray-cat.png") }, CleanAction::Relabel, QStringLiteral("cat")));
        QVERIFY(doc.decisions()->decide({ QStringLiteral("dog/d0.png") }, CleanAction::Delete));
        QCOMPARE(doc.decisions()->plan().size(), 2);
        QVERIFY(session.applyAction()->isEnabled());
        const QStringList before = filesUnder(m_root);

        // Apply: one transaction, then the document rescans by itself, keeping the scores.
        QSignalSpy finished(&session, &CleaningSession::transactionFinished);
        const int scans = int(opened.count());
        session.apply();
        QVERIFY(finished.wait(20000));
        const auto result = finished.first().at(0).value<TransactionResult>();
        QVERIFY2(result.ok, qPrintable(result.error));
        QVERIFY(waitForOpened(opened, scans + 1));
        QVERIFY(doc.decisions()->plan().isEmpty()); // done: the next round starts empty
        QVERIFY(doc.dataset()->findSample(QStringLiteral("cat/stray-cat.png")) >= 0);
        QCOMPARE(doc.dataset()->findSample(QStringLiteral("dog/stray-cat.png")), -1);
        QCOMPARE(doc.dataset()->findSample(QStringLiteral("dog/d0.png")), -1);
        QCOMPARE(doc.dataset()->size(), 8);
        QCOMPARE(doc.scores().records.size(), 9); // kept by path until the next scoring pass
        QVERIFY(session.undoAction()->isEnabled());
        // Nothing was lost: the deleted file sits in the dataset's trash.
        QDirIterator trash(m_root + QStringLiteral("/.winnow"), { QStringLiteral("d0.png") }, QDir::Files,
            QDirIterator::Subdirectories);
        QVERIFY(trash.hasNext());

        // Undo puts every file back, and the document sees it.
        finished.clear();
        session.undoLastApply();
        QVERIFY(finished.wait(20000));
        QVERIFY(finished.first().at(0).value<TransactionResult>().ok);
        QVERIFY(waitForOpened(opened, scans + 2));
        QCOMPARE(filesUnder(m_root), before);
        QCOMPARE(doc.dataset()->size(), 9);
        QVERIFY(doc.dataset()->findSample(QStringLiteral("dog/stray-cat.png")) >= 0);
    }

    void decisionsSurviveTheDocument()
    {
        {
            DatasetDocument doc;
            CleaningSession session(&doc, nullptr);
            QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
            QVERIFY(doc.open(m_root));
            QVERIFY(waitForOpened(opened));
            QVERIFY(doc.decisions()->decide({ QStringLiteral("cat/c1.png") }, CleanAction::Delete));
            session.setConfirm(false);
            QCOMPARE(session.keepPendingOnQuit(), 1); // written now, nothing moved
        }
        QVERIFY(QFileInfo::exists(m_root + QStringLiteral("/cat/c1.png")));
        DatasetDocument doc;
        CleaningSession session(&doc, nullptr);
        QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
        QSignalSpy status(&session, &CleaningSession::statusMessage);
        QVERIFY(doc.open(m_root));
        QVERIFY(waitForOpened(opened));
        QCOMPARE(doc.decisions()->action(QStringLiteral("cat/c1.png")), CleanAction::Delete);
        QVERIFY(!status.isEmpty());
        QVERIFY(status.last().at(0).toString().contains(QStringLiteral("Restored 1 pending decision")));
    }

    void newerScanWins()
    {
        const QString other = m_dir.filePath(QStringLiteral("other"));
        QVERIFY(AnalysisTest::writePng(other + QStringLiteral("/a/x.png"), 1));
        QVERIFY(AnalysisTest::writePng(other + QStringLiteral("/b/y.png"), 2));
        DatasetDocument doc;
        QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
        QVERIFY(doc.open(m_root));
        QVERIFY(doc.open(other)); // before the first scan ends
        QVERIFY(waitForOpened(opened));
        QTest::qWait(300); // the first scan's result, if it came, would be dropped
        QCOMPARE(opened.count(), 1);
        QCOMPARE(doc.dataset()->root, QDir::cleanPath(other));
    }

    void refusesWithAReason()
    {
        DatasetDocument doc;
        QSignalSpy errors(&doc, &DatasetDocument::errorOccurred);
        QVERIFY(!doc.open(m_dir.filePath(QStringLiteral("missing"))));
        QCOMPARE(errors.count(), 1);
        QVERIFY(errors.last().at(1).toString().contains(QStringLiteral("does not exist")));
        QVERIFY(!doc.open(m_root + QStringLiteral("/cat/c0.png")));
        QVERIFY(errors.last().at(1).toString().contains(QStringLiteral("is a file, not a folder")));
        QVERIFY(!doc.open(QStringLiteral("  ")));
        QCOMPARE(errors.count(), 3);
        QVERIFY(!doc.dataset());

        // Importing with no dataset open says why.
        doc.importImages({ m_root + QStringLiteral("/cat/c0.png") });
        QCOMPARE(errors.count(), 4);
        QVERIFY(errors.last().at(1).toString().contains(QStringLiteral("Open a dataset first")));

        // Scores of another folder are refused, and the document's stay.
        QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
        QVERIFY(doc.open(m_root));
        QVERIFY(waitForOpened(opened));
        QSignalSpy status(&doc, &DatasetDocument::statusMessage);
        ScoreSet foreign = scoresFor(*doc.dataset(), {});
        foreign.datasetRoot = m_dir.filePath(QStringLiteral("elsewhere"));
        QVERIFY(!doc.setScores(foreign));
        QVERIFY(doc.scores().isEmpty());
        QCOMPARE(status.count(), 1);
        QVERIFY(status.last().at(0).toString().contains(QStringLiteral("another dataset")));
    }

    void importsAndRescans()
    {
        DatasetDocument doc;
        QSignalSpy opened(&doc, &DatasetDocument::datasetOpened);
        QVERIFY(doc.open(m_root));
        QVERIFY(waitForOpened(opened));
        const QString outside = m_dir.filePath(QStringLiteral("new-photo.png"));
        QVERIFY(AnalysisTest::writePng(outside, 7));
        QSignalSpy imported(&doc, &DatasetDocument::imagesImported);
        doc.importImages({ outside });
        QVERIFY(doc.isImporting());
        QVERIFY(imported.wait(20000));
        QCOMPARE(imported.first().at(0).toStringList(), QStringList { QStringLiteral("unlabeled/new-photo.png") });
        QVERIFY(QFileInfo::exists(outside)); // copied, never moved
        QVERIFY(waitForOpened(opened, 2));
        QCOMPARE(doc.dataset()->count(Split::Unlabeled), 1);
    }
};

QTEST_MAIN(TestDatasetDocument)
#include "tst_datasetdocument.moc"
