// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>
#include <functional>

#include <QAction>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>
#include <QTreeWidget>
#include <QUrl>

#include "core/cleaning/transaction.h"
#include "core/engine/trainingcontroller.h"
#include "tests/cleaning/cleaningtestutil.h"
#include "tests/syntheticdataset.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/cleanerpage.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/analysis/labelpage.h"
#include "ui/analysis/toplossespage.h"
#include "ui/cleaningsession.h"
#include "ui/datasetsummary.h"
#include "ui/englishplurals.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/mainwindow.h"
#include "ui/predict/predictpage.h"
#include "ui/training/trainingmodels.h"
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

    /// A copy of some of the test images under m_dir/name.
    QString copyDataset(const QString& name, const QStringList& files)
    {
        const QString root = m_dir.filePath(name);
        for (const QString& f : files)
            if (!CleaningTest::writeFile(root, f, CleaningTest::readFile(m_dataset + QLatin1Char('/') + f)))
                return {};
        return root;
    }

    QStringList twoClassFiles() const
    {
        QStringList files;
        for (int i = 0; i < 7; ++i)
            files << QStringLiteral("circle/c%1.png").arg(i);
        for (int i = 0; i < 4; ++i)
            files << QStringLiteral("square/s%1.jpg").arg(i);
        return files;
    }

    /// The tiniest training that still fine-tunes: a few seconds on two cores.
    static TrainConfig tinyConfig()
    {
        TrainConfig c;
        c.arch = QStringLiteral("tiny"); // the test network: the whole fine-tune path, fast
        c.weights.clear();
        c.size = 32;
        c.batchSize = 4;
        c.epochs = 1;
        c.freezeEpochs = 1;
        c.device = QStringLiteral("cpu");
        c.threads = 2;
        return c;
    }

    static QString stripped(QString text)
    {
        text.remove(QLatin1Char('&'));
        text.remove(QStringLiteral("…"));
        text.remove(QStringLiteral("..."));
        return text.section(QLatin1Char('\t'), 0, 0).trimmed();
    }

    /// Every action of the menus and the toolbar (submenus included).
    static QList<QAction*> allActions(MainWindow& window)
    {
        QList<QAction*> out;
        std::function<void(const QList<QAction*>&)> walk = [&](const QList<QAction*>& actions) {
            for (QAction* a : actions) {
                if (a->isSeparator())
                    continue;
                if (a->menu()) {
                    QMetaObject::invokeMethod(a->menu(), "aboutToShow"); // menus built on demand
                    walk(a->menu()->actions());
                    continue;
                }
                if (!out.contains(a))
                    out << a;
            }
        };
        walk(window.menuBar()->actions());
        for (QToolBar* bar : window.findChildren<QToolBar*>())
            walk(bar->actions());
        return out;
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
        // Plain colours (no noise): circle/c0..c6.png red, square/s0..s3.jpg blue, unlabeled/u0.png grey.
        const auto written = WinnowTest::writeDataset({ .root = m_dataset,
            .classes = { "circle", "square" },
            .counts = { 7, 4 },
            .unlabeled = 1,
            .size = QSize(96, 64),
            .formats = { "PNG", "JPEG" },
            .colours = { QColor(220, 40, 40), QColor(40, 40, 220) },
            .unlabeledColour = Qt::gray,
            .noise = 0,
            .trainName = "{initial}{i}" });
        QVERIFY2(written.ok(), qPrintable(written.error));
        QCOMPARE(written.files, twoClassFiles() << QStringLiteral("unlabeled/u0.png"));
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
        // The corrupt file is listed with a reason, first (the test images of a class are byte-identical copies, which
        // are listed after it).
        const QTreeWidget* bad = window.summary()->unreadableList();
        QVERIFY(bad->topLevelItemCount() >= 1);
        for (int i = 1; i < bad->topLevelItemCount(); ++i)
            QVERIFY2(bad->topLevelItem(i)->text(1).startsWith(QStringLiteral("the same bytes as")),
                qPrintable(bad->topLevelItem(i)->text(1)));
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

        // Images, Train, Confusion matrix, Top losses, Cleaner, Label, Issues, Predict.
        QCOMPARE(window.pages()->count(), 8);
        QCOMPARE(window.pages()->indexOf(window.predictPage()), 7);
        auto* extra = new QLabel(QStringLiteral("analysis"));
        window.addPage(extra, QStringLiteral("Extra"));
        QCOMPARE(window.pages()->count(), 9);
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

    /// Opening another folder never removes the first folder's pending decisions: they are on disk the whole time
    /// and come back when the first folder is opened again.
    void pendingDecisionsSurviveAnotherFolder()
    {
        const QString a = copyDataset(QStringLiteral("pendingA"), twoClassFiles());
        const QString b = copyDataset(QStringLiteral("pendingB"), twoClassFiles());
        QVERIFY(!a.isEmpty() && !b.isEmpty());
        const QString pendingA = CleaningSession::pendingPlanPath(a);
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(a);
        QVERIFY(opened.wait(20000));
        DecisionStore* store = window.analysisPages()->store();
        QVERIFY(store->decide({ QStringLiteral("circle/c0.png") }, CleanAction::Delete));
        QVERIFY(store->decide({ QStringLiteral("circle/c1.png") }, CleanAction::Relabel, QStringLiteral("square")));
        // At once, before the save timer fired: opening B must write A's decisions first, never delete them.
        opened.clear();
        window.openDataset(b);
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.dataset()->root, QDir::cleanPath(b));
        QVERIFY(window.analysisPages()->plan().isEmpty());
        QTest::qWait(600); // past the save timer
        QVERIFY2(QFileInfo::exists(pendingA), "opening another folder deleted the first folder's decisions");
        QCOMPARE(CleaningPlan::load(pendingA)->size(), 2);
        QVERIFY(!QFileInfo::exists(CleaningSession::pendingPlanPath(b)));

        opened.clear();
        window.openDataset(a);
        QVERIFY(opened.wait(20000));
        const CleaningPlan plan = window.analysisPages()->plan();
        QCOMPARE(plan.size(), 2);
        QCOMPARE(plan.action(QStringLiteral("circle/c0.png")), CleanAction::Delete);
        QCOMPARE(plan.targetClass(QStringLiteral("circle/c1.png")), QStringLiteral("square"));
        QVERIFY(window.cleaningSession()->applyAction()->isEnabled());
        // A rescan keeps them (the restored plan is keyed to the folder as opened).
        opened.clear();
        window.rescan();
        QVERIFY(opened.wait(20000));
        QCOMPARE(window.analysisPages()->plan().size(), 2);

        // Quitting says they are kept, and keeps them.
        window.cleaningSession()->setConfirm(false);
        QCOMPARE(window.cleaningSession()->keepPendingOnQuit(), 2);
        QVERIFY(window.statusBar()->currentMessage().contains(QLatin1String("kept")));
        QCOMPARE(CleaningPlan::load(pendingA)->size(), 2);
    }

    /// Apply, Undo and Redo wait for a training job (disabled, with the reason), and come back when it ends.
    void cleaningWaitsForTraining()
    {
        const QString root = copyDataset(QStringLiteral("waits"), twoClassFiles());
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QVERIFY(opened.wait(20000));
        QVERIFY(window.analysisPages()->store()->decide({ QStringLiteral("circle/c0.png") }, CleanAction::Delete));
        QAction* apply = window.cleaningSession()->applyAction();
        QVERIFY(apply->isEnabled());
        TrainingController* controller = window.controller();
        Q_EMIT controller->started(777, QStringLiteral("train")); // as the worker reports a job
        QVERIFY(window.trainingPanel()->isBusy());
        QVERIFY(!apply->isEnabled());
        QVERIFY2(apply->toolTip().contains(QLatin1String("training")), qPrintable(apply->toolTip()));
        QVERIFY(!window.cleaningSession()->undoAction()->isEnabled());
        QVERIFY(window.cleaningSession()->undoAction()->toolTip().contains(QLatin1String("training")));
        QSignalSpy done(window.cleaningSession(), &CleaningSession::transactionFinished);
        window.cleaningSession()->setConfirm(false);
        window.cleaningSession()->apply(); // refused while the job runs
        QTest::qWait(100);
        QCOMPARE(done.count(), 0);
        QVERIFY(QFileInfo::exists(root + QStringLiteral("/circle/c0.png")));
        Q_EMIT controller->cancelled(777);
        QVERIFY(!window.trainingPanel()->isBusy());
        QVERIFY(apply->isEnabled());
    }

    /// A disabled action says why: in the menus, the toolbar and on the Train page.
    void disabledActionsSayWhy()
    {
        const QString one = copyDataset(QStringLiteral("oneclass"),
            { QStringLiteral("circle/c0.png"), QStringLiteral("circle/c1.png"), QStringLiteral("circle/c2.png") });
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(one);
        QVERIFY(opened.wait(20000));
        QPushButton* start = window.trainingPanel()->startButton();
        QVERIFY(!start->isEnabled());
        QCOMPARE(start->toolTip(), QStringLiteral("Needs at least two classes with images"));
        QVERIFY(!window.trainingPanel()->retrainButton()->isEnabled());
        QVERIFY(!window.trainingPanel()->retrainButton()->toolTip().isEmpty());
        auto* retrain = window.findChild<QAction*>(QStringLiteral("retrainHeadAction"));
        QVERIFY(retrain);
        QVERIFY(!retrain->isEnabled());

        // Two classes, no model yet: the toolbar's Retrain Head says what to do first.
        const QString two = copyDataset(QStringLiteral("twoclass"), twoClassFiles());
        opened.clear();
        window.openDataset(two);
        QVERIFY(opened.wait(20000));
        QVERIFY(start->isEnabled());
        QVERIFY(!retrain->isEnabled());
        QCOMPARE(retrain->toolTip(), QStringLiteral("Train a model first"));
        // No model yet: nothing to export.
        auto* exportModel = window.findChild<QAction*>(QStringLiteral("exportModelAction"));
        QVERIFY(exportModel);
        QVERIFY(!exportModel->isEnabled());
        QVERIFY(exportModel->toolTip().contains(QLatin1String("train one")));

        for (QAction* a : allActions(window)) {
            if (a->isEnabled() || a->text().isEmpty())
                continue;
            if (a->text() == QLatin1String("No recent folders"))
                continue; // a placeholder entry, not an action
            QVERIFY2(!a->toolTip().isEmpty() && stripped(a->toolTip()) != stripped(a->text()),
                qPrintable(QStringLiteral("disabled without a reason: ") + a->text()));
        }
    }

    /// "1 class", "2 classes": counts read as English in the window.
    void singularAndPlural()
    {
        QCOMPARE(EnglishPlurals::resolve(QStringLiteral("%n class(es)"), 1), QStringLiteral("%n class"));
        QCOMPARE(EnglishPlurals::resolve(QStringLiteral("%n class(es)"), 2), QStringLiteral("%n classes"));
        QCOMPARE(EnglishPlurals::resolve(QStringLiteral("%n image(s)"), 0), QStringLiteral("%n images"));
        const QString one = copyDataset(QStringLiteral("singular"), { QStringLiteral("circle/c0.png") });
        MainWindow window;
        QCOMPARE(QObject::tr("%n class(es)", nullptr, 1), QStringLiteral("1 class"));
        QCOMPARE(QObject::tr("%n image(s)", nullptr, 3), QStringLiteral("3 images"));
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(one);
        QVERIFY(opened.wait(20000));
        auto* info = window.findChild<QLabel*>(QStringLiteral("statusInfo"));
        QVERIFY2(info->text().startsWith(QStringLiteral("1 class ·")), qPrintable(info->text()));
        QCOMPARE(window.findChild<QLabel*>(QStringLiteral("imageCount"))->text(), QStringLiteral("1 image"));
        QVERIFY(!window.trainingPanel()
                     ->findChild<QLabel*>(QStringLiteral("datasetLabel"))
                     ->text()
                     .contains(QLatin1String("classes")));
        QVERIFY(window.statusBar()->currentMessage().contains(QLatin1String("1 image.")));
    }

    /// The Label page counts unlabeled images as the class table does (readable ones); an unreadable file in
    /// unlabeled/ is shown but counted apart.
    void labelCountAgreesWithClassTable()
    {
        const QString root = copyDataset(QStringLiteral("labelcount"),
            { QStringLiteral("circle/c0.png"), QStringLiteral("square/s0.jpg"), QStringLiteral("unlabeled/u0.png") });
        QVERIFY(CleaningTest::writeFile(root, QStringLiteral("unlabeled/broken.jpg"), "not a jpeg"));
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QVERIFY(opened.wait(20000));
        QCOMPARE(
            countForClass(window.summary()->classModel(), QStringLiteral("unlabeled"), ClassCountsModel::TotalColumn),
            1);
        const QString caption =
            window.analysisPages()->labelPage()->findChild<QLabel*>(QStringLiteral("labelCaption"))->text();
        QVERIFY2(caption.startsWith(QLatin1String("1 unlabeled image, 0 decided")), qPrintable(caption));
        QVERIFY2(caption.contains(QLatin1String("1 unreadable file shown")), qPrintable(caption));
    }

    /// Desktop manners: zoom acts on the page in front, K leaves a reviewed mark, cards have a context menu,
    /// the picker hands focus back to the grid, the Apply dialog lists the files, Help lists every shortcut.
    void desktopManners()
    {
        const QString root = copyDataset(QStringLiteral("manners"), twoClassFiles());
        MainWindow window;
        window.resize(1300, 850);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QVERIFY(opened.wait(20000));

        // Zoom: the Top losses page's grid, not the hidden Images grid.
        auto* zoomIn = window.findChild<QAction*>(QStringLiteral("zoomInAction"));
        QVERIFY(zoomIn);
        QWidget* topLosses = window.analysisPages()->topLossesPage();
        window.showPage(topLosses);
        ImageGridView* lossGrid = window.currentGridView();
        QVERIFY(lossGrid && lossGrid != window.imageView());
        const int imagesZoom = window.imageView()->zoom();
        const int lossZoom = lossGrid->zoom();
        zoomIn->trigger();
        QVERIFY(lossGrid->zoom() > lossZoom);
        QCOMPARE(window.imageView()->zoom(), imagesZoom);
        window.showPage(window.trainingPanel());
        QVERIFY(!zoomIn->isEnabled());
        QVERIFY(!zoomIn->toolTip().isEmpty());
        window.showPage(window.imagesPage());
        QVERIFY(zoomIn->isEnabled());
        zoomIn->trigger();
        QVERIFY(window.imageView()->zoom() > imagesZoom);

        // K on the Images grid marks the card reviewed.
        ImageGridView* view = window.imageView();
        view->setFocus();
        const QModelIndex first = view->model()->index(0, 0);
        view->selectionModel()->setCurrentIndex(first, QItemSelectionModel::ClearAndSelect);
        QTest::keyClick(view, Qt::Key_K);
        QVERIFY2(first.data(ImageGridModel::DecisionRole).toString().contains(QLatin1String("Kept")),
            qPrintable(first.data(ImageGridModel::DecisionRole).toString()));
        QVERIFY(window.analysisPages()->plan().isEmpty()); // a mark, not a decision to apply

        // The card's context menu: Keep, Delete, the classes, Open Containing Folder, Copy Path.
        Q_EMIT view->customContextMenuRequested(view->visualRect(first).center());
        QMenu* menu = nullptr;
        QTRY_VERIFY((menu = window.findChild<QMenu*>(QStringLiteral("imageContextMenu"))) != nullptr);
        QStringList texts;
        std::function<void(QMenu*)> collect = [&](QMenu* m) {
            for (QAction* a : m->actions()) {
                texts << stripped(a->text());
                if (a->menu())
                    collect(a->menu());
            }
        };
        collect(menu);
        for (const QString& want : { QStringLiteral("circle"), QStringLiteral("square"),
                 QStringLiteral("Open Containing Folder"), QStringLiteral("Copy Path") })
            QVERIFY2(texts.contains(want), qPrintable(texts.join(QLatin1String(" | "))));
        QVERIFY(std::any_of(texts.cbegin(), texts.cend(), [](const QString& t) { return t.startsWith("Keep"); }));
        QVERIFY(std::any_of(texts.cbegin(), texts.cend(), [](const QString& t) { return t.startsWith("Delete"); }));
        auto* copy = menu->findChild<QAction*>(QStringLiteral("copyPathAction"));
        QVERIFY(copy);
        copy->trigger();
        const QString rel = first.data(ImageGridModel::RelPathRole).toString();
        QCOMPARE(QApplication::clipboard()->text(), QDir::toNativeSeparators(QDir(root).filePath(rel)));
        menu->close();

        // The picker (decision combo) of an analysis page hands focus back to the grid.
        QWidget* cleaner = window.analysisPages()->cleanerPage();
        window.showPage(cleaner);
        DecisionGrid* grid = cleaner->findChild<DecisionGrid*>();
        QVERIFY(grid);
        QApplication::setActiveWindow(&window);
        grid->decisionCombo()->setFocus();
        if (grid->view()->model()->rowCount() > 0) {
            grid->view()->setCurrentIndex(grid->view()->model()->index(0, 0));
            grid->decisionCombo()->setFocus();
            QTRY_VERIFY(grid->decisionCombo()->hasFocus());
            Q_EMIT grid->decisionCombo()->activated(1); // <Delete>
            QTRY_VERIFY(grid->view()->hasFocus());
        }

        // The Apply confirmation lists every file it will move.
        CleaningPlan plan = CleaningPlan::forDataset(*window.dataset());
        QVERIFY(plan.markDelete(QStringLiteral("circle/c2.png")));
        QVERIFY(plan.relabel(QStringLiteral("circle/c3.png"), QStringLiteral("square")));
        const QString details = CleaningSession::planDetails(plan);
        QVERIFY2(details.contains(QLatin1String("delete  circle/c2.png")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("circle/c3.png  →  square/")), qPrintable(details));

        // Help > Keyboard Shortcuts lists every menu shortcut and the grid keys.
        const QList<QPair<QString, QString>> shortcuts = window.shortcutList();
        QStringList keys;
        for (const auto& [k, what] : shortcuts)
            keys << k;
        const QString all = keys.join(QLatin1String(", "));
        for (QAction* a : allActions(window))
            for (const QKeySequence& k : a->shortcuts())
                QVERIFY2(all.contains(k.toString(QKeySequence::NativeText)), qPrintable(a->text()));
        QVERIFY(keys.contains(QStringLiteral("K")));
        QVERIFY(keys.contains(QStringLiteral("D, Delete")));
        window.showShortcuts();
        auto* dialog = window.findChild<QDialog*>(QStringLiteral("shortcutsDialog"));
        QVERIFY(dialog && dialog->isVisible());
        QCOMPARE(dialog->findChild<QTreeWidget*>()->topLevelItemCount(), shortcuts.size());
        dialog->close();
    }

    /// The loop with a real (tiny) model: round numbers grow across fine-tunes, "Files changed" counts what the
    /// tooltip lists, and the last run (model, scores, rounds) comes back when the folder is opened again or in a new
    /// window, without training.
    /// A photo saved into unlabeled/ by another program gets the current model's suggestion without a retrain.
    void newUnlabeledFilesGetSuggestions()
    {
        QStringList files = twoClassFiles();
        const QString root = copyDataset(QStringLiteral("watched"), files);
        QVERIFY(!root.isEmpty());
        QVERIFY(CleaningTest::writeFile(root, QStringLiteral("unlabeled/u0.png"),
            CleaningTest::readFile(m_dataset + QStringLiteral("/circle/c6.png"))));
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(root);
        QVERIFY(opened.wait(20000));
        // Opening looks for a saved run first (there is none): let that finish before training.
        QTest::qWait(300);
        QTRY_VERIFY_WITH_TIMEOUT(!window.controller()->isBusy(), 20000);
        window.trainingPanel()->setConfig(tinyConfig());
        QSignalSpy finished(window.controller(), &TrainingController::finished);
        QSignalSpy failed(window.controller(), &TrainingController::failed);
        window.trainingPanel()->start();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), 300000);
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
        auto scored = [&](const QString& rel) {
            for (const auto& r : window.scores().records)
                if (r.file == rel)
                    return r.split == Split::Unlabeled && r.predicted >= 0;
            return false;
        };
        QVERIFY(scored(QStringLiteral("unlabeled/u0.png")));
        QVERIFY(!scored(QStringLiteral("unlabeled/new.jpg")));
        const int rounds = window.trainingPanel()->roundModel()->rowCount();

        // Another program saves a photo there: a rescan and a scoring pass follow by themselves, no training.
        QVERIFY(CleaningTest::writeFile(root, QStringLiteral("unlabeled/new.jpg"),
            CleaningTest::readFile(m_dataset + QStringLiteral("/square/s3.jpg"))));
        QTRY_VERIFY_WITH_TIMEOUT(scored(QStringLiteral("unlabeled/new.jpg")), 60000);
        QCOMPARE(window.trainingPanel()->roundModel()->rowCount(), rounds);
        QCOMPARE(window.dataset()->count(Split::Unlabeled), 2);
    }

    void lastRunComesBack()
    {
        const QString a = copyDataset(QStringLiteral("runA"), twoClassFiles());
        const QString b = copyDataset(QStringLiteral("runB"), twoClassFiles());
        const QString runs = m_dir.filePath(QStringLiteral("runs"));
        {
            MainWindow window;
            TrainingPanel* panel = window.trainingPanel();
            panel->setRunsRoot(runs);
            panel->setRetrainMode(int(TrainingController::RetrainMode::Head)); // auto would fine-tune this tiny set
            CleaningSession* session = window.cleaningSession();
            session->setConfirm(false);
            session->retrainAfterApplyAction()->setChecked(true);
            QSignalSpy opened(&window, &MainWindow::datasetOpened);
            window.openDataset(a);
            QVERIFY(opened.wait(20000));
            panel->setConfig(tinyConfig());
            QSignalSpy finished(window.controller(), &TrainingController::finished);
            QSignalSpy failed(window.controller(), &TrainingController::failed);
            panel->start();
            QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), 300000);
            QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
            RoundTableModel* rounds = panel->roundModel();
            QCOMPARE(rounds->rowCount(), 1);
            QCOMPARE(rounds->rows().at(0).round, 0);
            QVERIFY(!window.scores().isEmpty());
            QVERIFY(window.findChild<QAction*>(QStringLiteral("retrainHeadAction"))->isEnabled());

            // A cleaning round: 1 deleted, 1 relabelled -> head retrain; 2 files changed, as the tooltip says.
            DecisionStore* store = window.analysisPages()->store();
            QVERIFY(store->decide({ QStringLiteral("circle/c0.png") }, CleanAction::Delete));
            QVERIFY(store->decide({ QStringLiteral("circle/c1.png") }, CleanAction::Relabel, QStringLiteral("square")));
            finished.clear();
            session->applyAction()->trigger();
            QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), 300000);
            QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
            QCOMPARE(rounds->rowCount(), 2);
            QCOMPARE(rounds->rows().at(1).round, 1);
            QCOMPARE(rounds->rows().at(1).kind, QStringLiteral("head retrain"));
            QCOMPARE(rounds->index(1, RoundTableModel::FilesChangedColumn).data().toInt(), 2);
            const QString tip =
                rounds->index(1, RoundTableModel::PredictionsChangedColumn).data(Qt::ToolTipRole).toString();
            QVERIFY2(tip.contains(QLatin1String("2 files changed (1 removed, 1 moved)")), qPrintable(tip));

            // A second fine-tune continues the numbering; the status follows the latest round. Apply waits for it.
            QVERIFY(store->decide({ QStringLiteral("circle/c2.png") }, CleanAction::Delete));
            QVERIFY(session->applyAction()->isEnabled());
            finished.clear();
            panel->start();
            QTRY_VERIFY(panel->isBusy());
            QVERIFY(!session->applyAction()->isEnabled());
            QVERIFY(session->applyAction()->toolTip().contains(QLatin1String("training")));
            QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), 300000);
            QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).toString()));
            QCOMPARE(rounds->rowCount(), 3);
            QCOMPARE(rounds->rows().at(2).round, 2);
            QVERIFY(session->applyAction()->isEnabled());
            const QString status = panel->findChild<QLabel*>(QStringLiteral("statusLabel"))->text();
            QVERIFY2(status.contains(QLatin1String("round 2")), qPrintable(status));

            // Another folder: nothing of A's run shows there.
            opened.clear();
            window.openDataset(b);
            QVERIFY(opened.wait(20000));
            QCOMPARE(rounds->rowCount(), 0);
            QVERIFY(window.scores().isEmpty());
            QVERIFY(!panel->hasModel());
            auto* exportModel = window.findChild<QAction*>(QStringLiteral("exportModelAction"));
            QVERIFY(!exportModel->isEnabled()); // A's model is not B's
            panel->setConfig(TrainConfig {}); // B is trained with the defaults: A's settings must come back with A

            // Back to A: scores and rounds without training, Retrain possible, the pending decision still there.
            QSignalSpy started(window.controller(), &TrainingController::started);
            QSignalSpy loaded(panel, &TrainingPanel::runLoaded);
            opened.clear();
            window.openDataset(a);
            QVERIFY(opened.wait(20000));
            QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 60000);
            for (const auto& call : started)
                QCOMPARE(call.at(1).toString(), QStringLiteral("load"));
            QCOMPARE(rounds->rowCount(), 3);
            QCOMPARE(rounds->rows().at(2).round, 2);
            QVERIFY(!window.scores().isEmpty());
            QVERIFY(exportModel->isEnabled());
            QCOMPARE(panel->config().size, tinyConfig().size);
            QCOMPARE(panel->config().arch, tinyConfig().arch);
            QCOMPARE(panel->config().batchSize, tinyConfig().batchSize);
            QCOMPARE(window.scores().datasetRoot, QDir::cleanPath(a));
            QVERIFY(panel->hasModel());
            QVERIFY(window.findChild<QAction*>(QStringLiteral("retrainHeadAction"))->isEnabled());
            QCOMPARE(window.analysisPages()->plan().action(QStringLiteral("circle/c2.png")), CleanAction::Delete);
        }
        // A new window (the app restarted): the same.
        MainWindow window;
        QSignalSpy loaded(window.trainingPanel(), &TrainingPanel::runLoaded);
        QSignalSpy opened(&window, &MainWindow::datasetOpened);
        window.openDataset(a);
        QVERIFY(opened.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 60000);
        QCOMPARE(window.trainingPanel()->roundModel()->rowCount(), 3);
        QVERIFY(!window.scores().isEmpty());
        QVERIFY(window.imageProxy()->index(0, 0).data(ImageGridModel::HasScoreRole).toBool());
        QVERIFY(window.trainingPanel()->epochModel()->rowCount() > 0);

        // Apply and undo without a retrain: the current model scores the files as they are now, so the file that
        // came back has a score again (it does not drop out of the grids).
        const auto scored = [&window](const QString& file) {
            for (const ScoreRecord& r : window.scores().records)
                if (r.file == file)
                    return true;
            return false;
        };
        const QString c2 = QStringLiteral("circle/c2.png");
        QVERIFY(scored(c2));
        CleaningSession* session = window.cleaningSession();
        session->setConfirm(false);
        session->retrainAfterApplyAction()->setChecked(false);
        QVERIFY(session->applyAction()->isEnabled());
        session->applyAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!scored(c2) && !window.controller()->isBusy(), 120000);
        QVERIFY(session->undoAction()->isEnabled());
        session->undoAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(scored(c2), 120000);
    }

    void settingsPersist()
    {
        QSettings().clear();
        {
            MainWindow window;
            if (window.minimumSizeHint().width() > 1100) {
                QStringList wide; // which page is too wide, to say so
                for (QWidget* w : window.findChildren<QWidget*>())
                    if (w->minimumSizeHint().width() > 900 && !w->objectName().isEmpty())
                        wide << QStringLiteral("%1 %2").arg(w->objectName()).arg(w->minimumSizeHint().width());
                QFAIL(qPrintable(QStringLiteral("the window must fit a 1366-pixel-wide screen; minimum width %1: %2")
                                     .arg(window.minimumSizeHint().width())
                                     .arg(wide.join(QStringLiteral(", ")))));
            }
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
