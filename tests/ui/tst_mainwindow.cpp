// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>

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
#include "tests/cleaning/cleaningtestutil.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/labelpage.h"
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

        // A file that is no image, or a web URL, is refused.
        const QString notes = m_dir.filePath(QStringLiteral("notes.txt"));
        QFile notesFile(notes);
        QVERIFY(notesFile.open(QIODevice::WriteOnly));
        notesFile.write("no image");
        notesFile.close();
        QMimeData file;
        file.setUrls({ QUrl::fromLocalFile(notes) });
        QVERIFY(!MainWindow::canOpenDrop(&file));
        QVERIFY(!MainWindow::canImportDrop(&file));
        QDragEnterEvent refused(QPoint(50, 50), Qt::CopyAction, &file, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &refused);
        QVERIFY(!refused.isAccepted());
        QMimeData web;
        web.setUrls({ QUrl(QStringLiteral("https://example.com/data")) });
        QVERIFY(!MainWindow::canOpenDrop(&web));
    }

    /// Photos dropped on the window are copied (never moved, never overwriting) into unlabeled/ and show up as
    /// unlabeled after the automatic rescan; what could not be added is listed.
    void dropImagesToLabel()
    {
        const QString root = m_dir.filePath(QStringLiteral("drop"));
        const QString outside = m_dir.filePath(QStringLiteral("new-photos"));
        for (const QString& f : { QStringLiteral("circle/c0.png"), QStringLiteral("circle/c1.png"),
                 QStringLiteral("square/s0.jpg"), QStringLiteral("unlabeled/u0.png") })
            QVERIFY(CleaningTest::writeFile(root, f, CleaningTest::readFile(m_dataset + QLatin1Char('/') + f)));
        QVERIFY(CleaningTest::writeFile(
            outside, QStringLiteral("u0.png"), CleaningTest::readFile(m_dataset + QStringLiteral("/circle/c2.png"))));
        QVERIFY(CleaningTest::writeFile(outside, QStringLiteral("IMG_1.JPG"),
            CleaningTest::readFile(m_dataset + QStringLiteral("/square/s1.jpg"))));
        QVERIFY(CleaningTest::writeFile(outside, QStringLiteral("readme.txt"), "not an image"));
        const QMap<QString, QByteArray> sources = CleaningTest::hashTree(outside);
        const QMap<QString, QByteArray> before = CleaningTest::hashTree(root);

        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QMimeData mime;
        mime.setUrls({ QUrl::fromLocalFile(outside + QStringLiteral("/u0.png")),
            QUrl::fromLocalFile(outside + QStringLiteral("/IMG_1.JPG")),
            QUrl::fromLocalFile(outside + QStringLiteral("/readme.txt")) });
        QVERIFY(MainWindow::canImportDrop(&mime));
        QDragEnterEvent early(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &early);
        QVERIFY(!early.isAccepted()); // no dataset to add them to yet

        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        QCOMPARE(window.dataset()->count(Split::Unlabeled), 1);
        QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QCOMPARE(enter.dropAction(), Qt::CopyAction);
        QSignalSpy imported(&window, &MainWindow::imagesImported);
        opened.clear();
        QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(drop.isAccepted());
        QTRY_VERIFY_WITH_TIMEOUT(imported.count() > 0, 60000);
        const QStringList copied = imported.first().at(0).toStringList();
        const QStringList skipped = imported.first().at(1).toStringList();
        QCOMPARE(
            copied, (QStringList { QStringLiteral("unlabeled/u0 (2).png"), QStringLiteral("unlabeled/IMG_1.JPG") }));
        QCOMPARE(skipped.size(), 1);
        QVERIFY(skipped.first().contains(QLatin1String("readme.txt")));
        QTRY_COMPARE(visibleMessageBoxes(), 1); // the skipped file is reported
        closeMessageBoxes();

        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000); // rescanned
        QCOMPARE(window.dataset()->count(Split::Unlabeled), 3);
        QCOMPARE(window.dataset()->vocab, (QStringList { QStringLiteral("circle"), QStringLiteral("square") }));
        QCOMPARE(CleaningTest::hashTree(outside), sources); // copied, not moved
        const QMap<QString, QByteArray> after = CleaningTest::hashTree(root);
        for (auto it = before.cbegin(); it != before.cend(); ++it)
            QCOMPARE(after.value(it.key()), it.value()); // nothing overwritten
        QCOMPARE(after.value(QStringLiteral("unlabeled/u0 (2).png")), sources.value(QStringLiteral("u0.png")));
        QCOMPARE(after.value(QStringLiteral("unlabeled/IMG_1.JPG")), sources.value(QStringLiteral("IMG_1.JPG")));
    }

    /// A folder marked "to label" is scanned as unlabeled (not a class), remembered for the dataset, and can be
    /// unmarked.
    void toLabelFolder()
    {
        const QString root = m_dir.filePath(QStringLiteral("tolabel"));
        const QList<QPair<QString, QString>> files = { { QStringLiteral("circle/c0.png"),
                                                           QStringLiteral("circle/c0.png") },
            { QStringLiteral("square/s0.jpg"), QStringLiteral("square/s0.jpg") },
            { QStringLiteral("incoming/batch1/c3.png"), QStringLiteral("circle/c3.png") } };
        for (const auto& [to, from] : files)
            QVERIFY(CleaningTest::writeFile(root, to, CleaningTest::readFile(m_dataset + QLatin1Char('/') + from)));
        {
            MainWindow window;
            QSignalSpy opened(&window, &MainWindow::datasetOpened);
            window.openDataset(root);
            QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
            QVERIFY(window.dataset()->vocab.contains(QStringLiteral("incoming")));
            opened.clear();
            QVERIFY(window.setToLabelFolder(root + QStringLiteral("/incoming"), true));
            QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
            QCOMPARE(window.toLabelFolders(), QStringList { QStringLiteral("incoming") });
            QCOMPARE(window.dataset()->vocab, (QStringList { QStringLiteral("circle"), QStringLiteral("square") }));
            QCOMPARE(window.dataset()->count(Split::Unlabeled), 1);
            QVERIFY(!window.setToLabelFolder(m_dir.path(), true)); // outside the dataset: refused, said why
            closeMessageBoxes();
        }
        MainWindow again; // remembered for this dataset
        QSignalSpy opened(&again, &MainWindow::datasetOpened);
        again.openDataset(root);
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        QCOMPARE(again.dataset()->count(Split::Unlabeled), 1);
        QCOMPARE(again.dataset()->options.unlabeledFolders, QStringList { QStringLiteral("incoming") });
        opened.clear();
        QVERIFY(again.setToLabelFolder(QStringLiteral("incoming"), false));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        QVERIFY(again.toLabelFolders().isEmpty());
        QVERIFY(again.dataset()->vocab.contains(QStringLiteral("incoming")));
    }

    /// Labelling by keyboard in the Label view, applied as one transaction and undone: the tree is byte-identical.
    void labelingRoundTrip()
    {
        const QString root = m_dir.filePath(QStringLiteral("labeling"));
        const QList<QPair<QString, QString>> files = { { QStringLiteral("circle/c0.png"),
                                                           QStringLiteral("circle/c0.png") },
            { QStringLiteral("circle/c1.png"), QStringLiteral("circle/c1.png") },
            { QStringLiteral("square/s0.jpg"), QStringLiteral("square/s0.jpg") },
            { QStringLiteral("unlabeled/u0.png"), QStringLiteral("circle/c2.png") },
            { QStringLiteral("unlabeled/u1.jpg"), QStringLiteral("square/s1.jpg") },
            { QStringLiteral("unlabeled/u2.png"), QStringLiteral("unlabeled/u0.png") } };
        for (const auto& [to, from] : files)
            QVERIFY(CleaningTest::writeFile(root, to, CleaningTest::readFile(m_dataset + QLatin1Char('/') + from)));
        const QMap<QString, QByteArray> before = CleaningTest::hashTree(root);
        const QSet<QString> dirsBefore = CleaningTest::dirSet(root);

        MainWindow window;
        window.resize(1300, 850);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        CleaningSession* session = window.cleaningSession();
        session->setConfirm(false);
        session->retrainAfterApplyAction()->setChecked(false);
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);

        // The model's suggestions: u0 circle (sure), u1 square, u2 circle (unsure).
        ScoreSet scores;
        scores.datasetRoot = window.dataset()->root;
        scores.vocab = window.dataset()->vocab;
        const auto add = [&](const QString& file, int given, int predicted, double p) {
            ScoreRecord r;
            r.file = file;
            r.given = given;
            r.predicted = predicted;
            r.split = given < 0 ? Split::Unlabeled : Split::Train;
            r.probs = { float(predicted == 0 ? p : 1 - p), float(predicted == 1 ? p : 1 - p) };
            r.pPredicted = p;
            r.pGiven = given >= 0 ? double(r.probs.at(given)) : 0.0;
            r.loss = given >= 0 ? -std::log(std::max(1e-7, r.pGiven)) : 0.0;
            scores.records << r;
        };
        add(QStringLiteral("circle/c0.png"), 0, 0, 0.9);
        add(QStringLiteral("circle/c1.png"), 0, 0, 0.9);
        add(QStringLiteral("square/s0.jpg"), 1, 1, 0.9);
        add(QStringLiteral("unlabeled/u0.png"), -1, 0, 0.97);
        add(QStringLiteral("unlabeled/u1.jpg"), -1, 1, 0.80);
        add(QStringLiteral("unlabeled/u2.png"), -1, 0, 0.55);
        window.setScores(scores);

        LabelPage* page = window.analysisPages()->labelPage();
        QVERIFY(page);
        window.showPage(page);
        ImageGridView* view = page->grid()->view();
        QCOMPARE(view->model()->rowCount(), 3);
        // Least confident first: u2 (0.55), u1 (0.80), u0 (0.97).
        QCOMPARE(view->model()->index(0, 0).data(ImageGridModel::RelPathRole).toString(),
            QStringLiteral("unlabeled/u2.png"));
        view->setFocus();
        view->selectionModel()->setCurrentIndex(view->model()->index(0, 0), QItemSelectionModel::ClearAndSelect);
        QTest::keyClick(view, Qt::Key_2); // u2: the user knows better, class 2 = square
        QTest::keyClick(view, Qt::Key_Return); // u1: accept "square"
        QTest::keyClick(view, Qt::Key_Return); // u0: accept "circle"
        const CleaningPlan plan = window.analysisPages()->plan();
        QCOMPARE(plan.size(), 3);

        QSignalSpy done(session, &CleaningSession::transactionFinished);
        opened.clear();
        session->applyAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(done.count() > 0, 60000);
        TransactionResult result = done.takeFirst().at(0).value<TransactionResult>();
        QVERIFY2(result.ok, qPrintable(result.message()));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        const QMap<QString, QByteArray> labelled = CleaningTest::hashTree(root);
        QCOMPARE(labelled.value(QStringLiteral("square/u2.png")), before.value(QStringLiteral("unlabeled/u2.png")));
        QCOMPARE(labelled.value(QStringLiteral("square/u1.jpg")), before.value(QStringLiteral("unlabeled/u1.jpg")));
        QCOMPARE(labelled.value(QStringLiteral("circle/u0.png")), before.value(QStringLiteral("unlabeled/u0.png")));
        QCOMPARE(window.dataset()->count(Split::Unlabeled), 0);
        QCOMPARE(labelled.size(), before.size());

        opened.clear();
        session->undoAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(done.count() > 0, 60000);
        result = done.takeFirst().at(0).value<TransactionResult>();
        QVERIFY2(result.ok, qPrintable(result.message()));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() > 0, 60000);
        QCOMPARE(CleaningTest::hashTree(root), before); // byte-identical, every file at its old path
        QCOMPARE(CleaningTest::dirSet(root), dirsBefore);
        QCOMPARE(window.dataset()->count(Split::Unlabeled), 3);
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
