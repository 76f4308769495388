// SPDX-License-Identifier: GPL-3.0-or-later
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>

#include "core/cleaning/transaction.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/decisionstore.h"
#include "ui/cleaningsession.h"
#include "ui/datasetsummary.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/mainwindow.h"
#include "ui/predict/predictpage.h"
#include "ui/training/trainingpanel.h"

using namespace Winnow;

class TestMainWindow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_dataset;

    static void closeMessageBoxes()
    {
        for (QWidget* w : QApplication::topLevelWidgets()) {
            if (auto* box = qobject_cast<QMessageBox*>(w); box && box->isVisible())
                box->close();
        }
    }

    static int visibleMessageBoxes()
    {
        int n = 0;
        for (QWidget* w : QApplication::topLevelWidgets())
            n += qobject_cast<QMessageBox*>(w) && w->isVisible();
        return n;
    }

    static int countForClass(const ClassCountsModel* model, const QString& name, int column)
    {
        for (int r = 0; r < model->rowCount(); ++r) {
            if (model->index(r, ClassCountsModel::ClassColumn).data().toString() == name)
                return model->index(r, column).data().toInt();
        }
        return -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("WinnowTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        QSettings().clear();
        QVERIFY(m_dir.isValid());

        // 7 circles, 4 squares (PNG and JPEG), one corrupt file, one unlabeled image.
        m_dataset = m_dir.filePath(QStringLiteral("shapes"));
        const auto write = [this](const QString& rel, QColor color, const char* format) {
            QDir().mkpath(QFileInfo(m_dataset + QLatin1Char('/') + rel).absolutePath());
            QImage image(96, 64, QImage::Format_RGB32);
            image.fill(color);
            QVERIFY(image.save(m_dataset + QLatin1Char('/') + rel, format));
        };
        for (int i = 0; i < 7; ++i)
            write(QStringLiteral("circle/c%1.png").arg(i), QColor(220, 40, 40), "PNG");
        for (int i = 0; i < 4; ++i)
            write(QStringLiteral("square/s%1.jpg").arg(i), QColor(40, 40, 220), "JPG");
        write(QStringLiteral("unlabeled/u0.png"), Qt::gray, "PNG");
        QFile bad(m_dataset + QStringLiteral("/square/broken.jpg"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("definitely not a jpeg");
    }

    void cleanup()
    {
        closeMessageBoxes();
    }

    void opensFolderAndFilters()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.dataset(), nullptr);
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(m_dataset);
        QVERIFY(window.isScanning());
        QVERIFY(opened.wait(20000));
        QVERIFY(!window.isScanning());
        QVERIFY(window.dataset());
        QCOMPARE(window.dataset()->vocab, (QStringList { QStringLiteral("circle"), QStringLiteral("square") }));
        QVERIFY(window.windowTitle().contains(QStringLiteral("shapes")));
        QCOMPARE(window.recentFolders().value(0), QDir::cleanPath(m_dataset));

        // The class table shows readable counts per class and split.
        const ClassCountsModel* counts = window.summary()->classModel();
        QCOMPARE(countForClass(counts, QStringLiteral("circle"), ClassCountsModel::TotalColumn), 7);
        QCOMPARE(countForClass(counts, QStringLiteral("square"), ClassCountsModel::TotalColumn), 4);
        QCOMPARE(countForClass(counts, QStringLiteral("circle"), ClassCountsModel::TrainColumn)
                + countForClass(counts, QStringLiteral("circle"), ClassCountsModel::ValidColumn),
            7);
        const QList<ClassCounts> expected = window.dataset()->counts();
        for (const ClassCounts& c : expected) {
            QCOMPARE(countForClass(counts, c.name, ClassCountsModel::TrainColumn), c.train);
            QCOMPARE(countForClass(counts, c.name, ClassCountsModel::ValidColumn), c.valid);
        }
        // The corrupt file is listed with a reason.
        const QTreeWidget* bad = window.summary()->unreadableList();
        QCOMPARE(bad->topLevelItemCount(), 1);
        QCOMPARE(bad->topLevelItem(0)->text(0), QStringLiteral("square/broken.jpg"));
        QVERIFY(!bad->topLevelItem(0)->text(1).isEmpty());

        // The grid shows everything, then only squares after switching the class filter.
        ImageGridProxy* proxy = window.imageProxy();
        QCOMPARE(proxy->rowCount(), window.dataset()->size());
        auto* classCombo = window.findChild<QComboBox*>(QStringLiteral("classFilter"));
        QVERIFY(classCombo);
        classCombo->setCurrentIndex(classCombo->findText(QStringLiteral("square")));
        QCOMPARE(proxy->rowCount(), 5); // 4 images + the broken file, labelled by its folder
        for (int r = 0; r < proxy->rowCount(); ++r)
            QCOMPARE(proxy->index(r, 0).data(ImageGridModel::GivenLabelRole).toString(), QStringLiteral("square"));
        auto* countLabel = window.findChild<QLabel*>(QStringLiteral("imageCount"));
        QVERIFY(countLabel->text().contains(QStringLiteral("5 of")));

        auto* splitCombo = window.findChild<QComboBox*>(QStringLiteral("splitFilter"));
        splitCombo->setCurrentIndex(splitCombo->findData(int(ImageGridProxy::SplitFilter::Unlabeled)));
        QCOMPARE(proxy->rowCount(), 0); // unlabeled files are no class
        classCombo->setCurrentIndex(0);
        QCOMPARE(proxy->rowCount(), 1);

        // Clicking a class in the sidebar filters the grid to it.
        splitCombo->setCurrentIndex(0);
        QTableView* table = window.summary()->classTable();
        const QModelIndex circleRow = counts->index(0, ClassCountsModel::ClassColumn);
        QCOMPARE(circleRow.data().toString(), QStringLiteral("circle"));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(circleRow).center());
        QCOMPARE(classCombo->currentText(), QStringLiteral("circle"));
        QCOMPARE(proxy->rowCount(), 7);

        // Thumbnails of the visible cards arrive.
        const QModelIndex first = proxy->index(0, 0);
        first.data(Qt::DecorationRole);
        QTRY_COMPARE_WITH_TIMEOUT(
            first.data(ImageGridModel::ThumbnailStateRole).toInt(), int(ImageGridModel::ThumbnailState::Ready), 5000);

        // Images, Train, Confusion matrix, Top losses, Cleaner, Label, Predict.
        QCOMPARE(window.pages()->count(), 7);
        QCOMPARE(window.pages()->indexOf(window.predictPage()), 6);
        auto* extra = new QLabel(QStringLiteral("analysis"));
        window.addPage(extra, QStringLiteral("Extra"));
        QCOMPARE(window.pages()->count(), 8);
        window.showPage(extra);
        QCOMPARE(window.pages()->currentWidget(), extra);
    }

    void scoresReachTheGrid()
    {
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(m_dataset);
        QVERIFY(opened.wait(20000));
        ScoreSet scores;
        scores.datasetRoot = window.dataset()->root;
        scores.vocab = window.dataset()->vocab;
        for (const Sample& s : window.dataset()->samples) {
            if (!s.readable())
                continue;
            ScoreRecord r;
            r.file = s.relPath;
            r.given = s.label;
            r.predicted = s.label == 0 ? 1 : 0;
            r.loss = s.relPath.endsWith(QLatin1String("c3.png")) ? 5.0 : 1.0;
            scores.records.append(r);
        }
        QSignalSpy changed(&window, &MainWindow::scoresChanged);
        window.setScores(scores);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(window.scores().records.size(), scores.records.size());
        // The grid now shows the highest loss first.
        QCOMPARE(window.imageProxy()->index(0, 0).data(ImageGridModel::RelPathRole).toString(),
            QStringLiteral("circle/c3.png"));
        QVERIFY(window.imageProxy()->index(0, 0).data(ImageGridModel::MispredictedRole).toBool());

        // A rescan keeps them.
        window.rescan();
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.scores().records.size(), scores.records.size());
        QVERIFY(window.imageProxy()->index(0, 0).data(ImageGridModel::HasScoreRole).toBool());
    }

    void dragAndDropFolder()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QMimeData mime;
        mime.setUrls({ QUrl::fromLocalFile(m_dataset) });
        QVERIFY(MainWindow::canOpenDrop(&mime));

        QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(drop.isAccepted());
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.dataset()->root, QDir::cleanPath(m_dataset));

        // A file or a web URL is refused.
        QMimeData file;
        file.setUrls({ QUrl::fromLocalFile(m_dataset + QStringLiteral("/circle/c0.png")) });
        QVERIFY(!MainWindow::canOpenDrop(&file));
        QDragEnterEvent refused(QPoint(50, 50), Qt::CopyAction, &file, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &refused);
        QVERIFY(!refused.isAccepted());
        QMimeData web;
        web.setUrls({ QUrl(QStringLiteral("https://example.com/data")) });
        QVERIFY(!MainWindow::canOpenDrop(&web));
    }

    void invalidFoldersShowErrors_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<bool>("async"); // the scan itself fails, after the GUI thread moved on
        QTest::newRow("missing") << m_dir.filePath(QStringLiteral("does-not-exist")) << false;
        QTest::newRow("a file") << m_dataset + QStringLiteral("/circle/c0.png") << false;
        QTest::newRow("empty string") << QString() << false;
        QTest::newRow("folder without classes") << m_dir.filePath(QStringLiteral("empty")) << true;
    }

    void invalidFoldersShowErrors()
    {
        QFETCH(QString, folder);
        QFETCH(bool, async);
        QDir().mkpath(m_dir.filePath(QStringLiteral("empty")));
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy errors(&window, &MainWindow::errorOccurred);
        window.openDataset(folder);
        if (async)
            QVERIFY(errors.wait(20000));
        QCOMPARE(errors.count(), 1);
        QVERIFY(!window.lastError().isEmpty());
        QCOMPARE(window.dataset(), nullptr);
        QTRY_COMPARE(visibleMessageBoxes(), 1); // shown, non-modal: we got here without anyone clicking
        closeMessageBoxes();
        QTRY_COMPARE(visibleMessageBoxes(), 0);
        // The window still works afterwards.
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(m_dataset);
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
    }

    /// Not a check: with WINNOW_SCREENSHOT=DIR set, opens WINNOW_SCREENSHOT_DATASET (default: the demo-like test
    /// folder) and saves a PNG of each page there; with WINNOW_SCREENSHOT_TRAIN=1 it trains first (slow).
    void screenshot()
    {
        const QString out = qEnvironmentVariable("WINNOW_SCREENSHOT");
        if (out.isEmpty())
            QSKIP("set WINNOW_SCREENSHOT=DIR to write screenshots");
        QDir().mkpath(out);
        const QString folder = qEnvironmentVariable("WINNOW_SCREENSHOT_DATASET", m_dataset);
        MainWindow window;
        window.resize(1500, 920);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(folder);
        QVERIFY(opened.wait(60000));
        if (qEnvironmentVariableIntValue("WINNOW_SCREENSHOT_TRAIN")) {
            window.showPage(window.trainingPanel());
            QSignalSpy scored(&window, &MainWindow::scoresChanged);
            window.trainingPanel()->start();
            QTest::qWait(4000);
            QVERIFY(window.trainingPanel()->grab().save(out + QStringLiteral("/train-running.png")));
            QVERIFY(scored.wait(600000));
            QTest::qWait(500);
            QVERIFY(window.grab().save(out + QStringLiteral("/train-done.png")));
            window.showPage(window.imagesPage());
        }
        QTest::qWait(1500); // thumbnails
        QVERIFY(window.grab().save(out + QStringLiteral("/images.png")));
        for (int i = 1; i < window.pages()->count(); ++i) {
            window.pages()->setCurrentIndex(i);
            QTest::qWait(800);
            QVERIFY(window.grab().save(out + QStringLiteral("/page-%1.png").arg(i)));
        }
    }

    /// The cleaning round in the window: decisions saved beside the dataset and restored by a new window, Apply as one
    /// transaction (files in the trash / in their new class, rescan), Undo puts every file back, Redo again.
    void cleaningRound()
    {
        const QString root = m_dir.filePath(QStringLiteral("round"));
        QDir().mkpath(root);
        const QStringList files = { QStringLiteral("circle/c0.png"), QStringLiteral("circle/c1.png"),
            QStringLiteral("circle/c2.png"), QStringLiteral("square/s0.jpg") };
        for (const QString& f : files) {
            QDir().mkpath(QFileInfo(root + QLatin1Char('/') + f).absolutePath());
            QVERIFY(QFile::copy(m_dataset + QLatin1Char('/') + f, root + QLatin1Char('/') + f));
        }
        const QString pending = CleaningSession::pendingPlanPath(root);
        {
            MainWindow window;
            QSignalSpy opened(&window, &MainWindow::datasetOpened);
            window.openDataset(root);
            QVERIFY(opened.wait(20000));
            DecisionStore* store = window.analysisPages()->store();
            QVERIFY(store->decide({ QStringLiteral("circle/c0.png") }, CleanAction::Delete));
            QVERIFY(store->decide({ QStringLiteral("circle/c1.png") }, CleanAction::Relabel, QStringLiteral("square")));
            QVERIFY(window.cleaningSession()->applyAction()->isEnabled());
            QVERIFY(!window.cleaningSession()->undoAction()->isEnabled());
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(pending), 5000);
        } // closing the window loses no decision

        MainWindow window;
        CleaningSession* session = window.cleaningSession();
        session->setConfirm(false);
        session->retrainAfterApplyAction()->setChecked(false);
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.analysisPages()->plan().size(), 2);
        QCOMPARE(window.analysisPages()->plan().action(QStringLiteral("circle/c1.png")), CleanAction::Relabel);

        QSignalSpy done(session, &CleaningSession::transactionFinished);
        opened.clear();
        session->applyAction()->trigger();
        QVERIFY(done.wait(20000));
        auto result = done.takeFirst().at(0).value<TransactionResult>();
        QVERIFY2(result.ok, qPrintable(result.message()));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000); // rescanned (may arrive with transactionFinished)
        QVERIFY(!QFileInfo::exists(root + QStringLiteral("/circle/c0.png")));
        QVERIFY(!QFileInfo::exists(root + QStringLiteral("/circle/c1.png")));
        QVERIFY(QFileInfo::exists(root + QStringLiteral("/square/c1.png")));
        QVERIFY(QFileInfo::exists(
            root + QStringLiteral("/.winnow/trash/") + result.transactionId + QStringLiteral("/circle/c0.png")));
        QCOMPARE(window.dataset()->samples.size(), 3); // one deleted, one relabelled
        QVERIFY(window.analysisPages()->plan().isEmpty());
        QVERIFY(!QFileInfo::exists(pending));
        QVERIFY(session->undoAction()->isEnabled());
        QVERIFY(!session->applyAction()->isEnabled());

        opened.clear();
        session->undoAction()->trigger();
        QVERIFY(done.wait(20000));
        result = done.takeFirst().at(0).value<TransactionResult>();
        QVERIFY2(result.ok, qPrintable(result.message()));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        for (const QString& f : files)
            QVERIFY2(QFileInfo::exists(root + QLatin1Char('/') + f), qPrintable(f));
        QVERIFY(!QFileInfo::exists(root + QStringLiteral("/square/c1.png")));
        QVERIFY(session->redoAction()->isEnabled());

        session->redoAction()->trigger();
        QVERIFY(done.wait(20000));
        QVERIFY(done.takeFirst().at(0).value<TransactionResult>().ok);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(root + QStringLiteral("/square/c1.png")), 5000);
        QVERIFY(!QFileInfo::exists(root + QStringLiteral("/circle/c0.png")));
    }

    void settingsPersist()
    {
        QSettings().clear();
        {
            MainWindow window;
            QVERIFY2(window.minimumSizeHint().width() <= 1100, "the window must fit a 1366-pixel-wide screen");
            window.resize(1111, 777);
            window.imageView()->setZoom(200);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.close();
        }
        MainWindow again;
        QCOMPARE(again.size(), QSize(1111, 777));
        QCOMPARE(again.imageView()->zoom(), 200);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
