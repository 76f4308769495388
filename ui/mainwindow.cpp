// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

#include <algorithm>
#include <functional>
#include <utility>

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QSet>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/dataset/demogenerator.h"
#include "core/dataset/importimages.h"
#include "core/engine/trainingcontroller.h"
#include "core/metrics/dataissues.h"
#include "core/thumbnail/thumbnailloader.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/decisionstore.h"
#include "ui/cleaningsession.h"
#include "ui/datasetsummary.h"
#include "ui/englishplurals.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/predict/predictpage.h"
#include "ui/training/trainingpanel.h"

namespace Winnow {

namespace {

const QString kRecentKey = QStringLiteral("recentFolders");
const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kStateKey = QStringLiteral("mainWindow/state");
const QString kZoomKey = QStringLiteral("images/zoom");

QIcon themeIcon(const char* name, QStyle::StandardPixmap fallback)
{
    return QIcon::fromTheme(QString::fromLatin1(name), QApplication::style()->standardIcon(fallback));
}

/// Local files (not folders) among the dropped URLs.
QStringList localFilesOf(const QMimeData* mime)
{
    QStringList out;
    if (!mime || !mime->hasUrls())
        return out;
    for (const QUrl& url : mime->urls()) {
        if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isFile())
            out << url.toLocalFile();
    }
    return out;
}

QString toLabelKey(const QString& root)
{
    return QStringLiteral("toLabelFolders/")
        + QString::fromLatin1(
            QCryptographicHash::hash(QDir::cleanPath(root).toUtf8(), QCryptographicHash::Sha1).toHex());
}

QStringList storedToLabelFolders(const QString& root)
{
    return QSettings().value(toLabelKey(root)).toStringList();
}

QString localFolderOf(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl& url : mime->urls()) {
        if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir())
            return url.toLocalFile();
    }
    return {};
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
    , m_controller(new TrainingController(this))
    , m_loader(new ThumbnailLoader(this))
    , m_imageModel(new ImageGridModel(this))
    , m_imageProxy(new ImageGridProxy(this))
{
    EnglishPlurals::install(); // "1 class", "2 classes" (tr("%n class(es)", nullptr, n) everywhere)
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(QStringLiteral("Winnow"));
    setAcceptDrops(true);
    setDocumentMode(true);
    setUnifiedTitleAndToolBarOnMac(true);

    m_imageModel->setThumbnailLoader(m_loader);
    m_imageProxy->setSourceModel(m_imageModel);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("pages"));
    m_tabs->setDocumentMode(true);
    m_tabs->setIconSize(QSize(16, 16));
    setCentralWidget(m_tabs);

    buildImagesPage();
    m_trainingPanel = new TrainingPanel(m_controller, this);
    m_trainingPanel->setObjectName(QStringLiteral("trainingPanel"));
    m_trainingPanel->setRunsRoot(
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/runs"));
    m_tabs->addTab(m_imagesPage, themeIcon("view-preview", QStyle::SP_FileDialogContentsView), tr("Images"));
    m_tabs->addTab(m_trainingPanel, themeIcon("system-run", QStyle::SP_MediaPlay), tr("Train"));

    m_summary = new DatasetSummary(this);
    auto* dock = new QDockWidget(tr("Dataset"), this);
    dock->setObjectName(QStringLiteral("datasetDock"));
    dock->setWidget(m_summary);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
    dock->setMinimumWidth(260);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    connect(m_summary, &DatasetSummary::classActivated, this, [this](int classIndex) {
        m_classCombo->setCurrentIndex(qMax(0, m_classCombo->findData(classIndex)));
        showPage(m_imagesPage);
    });
    connect(m_summary, &DatasetSummary::fileActivated, this,
        [](const QString& path) { QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(path).absolutePath())); });

    // The analysis pages (confusion matrix, top losses, cleaner, label), the cleaning round, and Predict.
    m_analysis = installAnalysisPages(*this);
    m_cleaning = new CleaningSession(this, m_analysis);
    connect(m_analysis, &AnalysisPages::applyRequested, m_cleaning, &CleaningSession::apply);
    connect(m_summary, &DatasetSummary::renameOddNamesRequested, m_cleaning, &CleaningSession::renameOddNames);
    m_predictPage = new PredictPage;
    m_predictPage->setObjectName(QStringLiteral("predictPage"));
    addPage(m_predictPage, tr("Predict"), themeIcon("system-search", QStyle::SP_FileDialogInfoView));
    connect(m_trainingPanel, &TrainingPanel::runWritten, m_predictPage, &PredictPage::setRunDir);
    connect(m_trainingPanel, &TrainingPanel::runWritten, m_analysis, &AnalysisPages::setRunDir);
    connect(m_predictPage, &PredictPage::exported, this,
        [this](const QString& file) { showStatus(tr("Exported the model to %1").arg(file), 8000); });

    buildActions();
    if (auto* view = menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu")))
        view->insertAction(view->actions().value(0), dock->toggleViewAction());
    buildStatusBar();

    connect(m_controller, &TrainingController::scoresReady, this,
        [this](quint64, const ScoreSet& scores) { setScores(scores); });
    // Photos dropped into an unlabeled folder by any program: rescan, then let the current model suggest classes.
    m_unlabeledWatcher = new QFileSystemWatcher(this);
    m_unlabeledDebounce = new QTimer(this);
    m_unlabeledDebounce->setSingleShot(true);
    m_unlabeledDebounce->setInterval(700);
    connect(
        m_unlabeledWatcher, &QFileSystemWatcher::directoryChanged, m_unlabeledDebounce, qOverload<>(&QTimer::start));
    connect(m_unlabeledDebounce, &QTimer::timeout, this, &MainWindow::onUnlabeledChanged);
    // Failures (and a reload that found no run) reach the status bar through the panel's own words.
    connect(m_trainingPanel, &TrainingPanel::statusMessage, this, [this](const QString& text) { showStatus(text); });
    connect(m_trainingPanel, &TrainingPanel::actionsChanged, this, &MainWindow::updateActions);
    connect(m_trainingPanel, &TrainingPanel::runWritten, this, &MainWindow::updateActions);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::updateActions);

    QSettings settings;
    m_imageView->setZoom(settings.value(kZoomKey, ImageGridView::kDefaultZoom).toInt());
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) {
        // A first start: 1400 x 900, or less on a small screen (never wider than the screen's free area).
        const QRect avail = screen() ? screen()->availableGeometry() : QRect(0, 0, 1400, 900);
        resize(qMin(1400, avail.width()), qMin(900, avail.height()));
    }
    restoreState(settings.value(kStateKey).toByteArray());
    updateTitle();
    updateImageCount();
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildImagesPage()
{
    m_imagesPage = new QWidget(this);
    m_imagesPage->setObjectName(QStringLiteral("imagesPage"));

    m_classCombo = new QComboBox(m_imagesPage);
    m_classCombo->setObjectName(QStringLiteral("classFilter"));
    m_classCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_classCombo->setMinimumContentsLength(9);
    m_splitCombo = new QComboBox(m_imagesPage);
    m_splitCombo->setObjectName(QStringLiteral("splitFilter"));
    m_splitCombo->addItem(tr("All splits"), int(ImageGridProxy::SplitFilter::All));
    m_splitCombo->addItem(tr("Training"), int(ImageGridProxy::SplitFilter::Train));
    m_splitCombo->addItem(tr("Validation"), int(ImageGridProxy::SplitFilter::Valid));
    m_splitCombo->addItem(tr("Unlabeled"), int(ImageGridProxy::SplitFilter::Unlabeled));
    m_sortCombo = new QComboBox(m_imagesPage);
    m_sortCombo->setObjectName(QStringLiteral("sortOrder"));
    m_sortCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sortCombo->setMinimumContentsLength(11);
    m_sortCombo->addItem(tr("File name"), int(ImageGridProxy::SortOrder::None));
    m_sortCombo->addItem(tr("Highest loss first"), int(ImageGridProxy::SortOrder::ByLossDesc));
    m_sortCombo->addItem(tr("Smallest margin first"), int(ImageGridProxy::SortOrder::ByMarginAsc));
    m_sortCombo->addItem(tr("Lowest p(given) first"), int(ImageGridProxy::SortOrder::ByPGivenAsc));
    m_issueCombo = new QComboBox(m_imagesPage);
    m_issueCombo->setObjectName(QStringLiteral("issueFilter"));
    // Narrow (the toolbar must fit a 1366-pixel screen beside the dock); the list opens as wide as its items.
    m_issueCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_issueCombo->setMinimumContentsLength(6);
    m_issueCombo->setToolTip(tr("Only files with this data issue (from the Issues page's last check)"));
    m_issueCombo->addItem(tr("All files"), 0u);
    m_issueCombo->addItem(tr("Files with an issue"), (1u << kDataIssueCount) - 1);
    for (int t = 0; t < kDataIssueCount; ++t)
        m_issueCombo->addItem(dataIssueTitle(dataIssueAt(t)), 1u << t);
    m_search = new QLineEdit(m_imagesPage);
    m_search->setObjectName(QStringLiteral("searchEdit"));
    m_search->setPlaceholderText(tr("Filter by file name"));
    m_search->setClearButtonEnabled(true);
    m_search->addAction(themeIcon("edit-find", QStyle::SP_FileDialogContentsView), QLineEdit::LeadingPosition);
    m_search->setMaximumWidth(260);
    m_countLabel = new QLabel(m_imagesPage);
    m_countLabel->setObjectName(QStringLiteral("imageCount"));
    m_countLabel->setForegroundRole(QPalette::PlaceholderText);

    m_imageView = new ImageGridView(m_imagesPage);
    m_imageView->setObjectName(QStringLiteral("imageGrid"));
    m_imageView->setModel(m_imageProxy);
    m_imageView->setPlaceholderText(tr(
        "Open a dataset folder to browse its images:\nFile ▸ Open Folder (Ctrl+O), or drop a folder on this window."));
    m_imageView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_imageView, &QWidget::customContextMenuRequested, this, &MainWindow::showImageContextMenu);

    auto* zoomIcon = new QLabel(m_imagesPage);
    zoomIcon->setPixmap(themeIcon("zoom-in", QStyle::SP_FileDialogDetailedView).pixmap(16, 16));
    zoomIcon->setToolTip(tr("Thumbnail size"));
    QSlider* zoom = m_imageView->createZoomSlider(m_imagesPage);
    zoom->setObjectName(QStringLiteral("zoomSlider"));
    zoom->setFixedWidth(90);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(10, 8, 10, 6);
    bar->setSpacing(8);
    const auto label = [this](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text, m_imagesPage);
        l->setBuddy(buddy);
        return l;
    };
    bar->addWidget(label(tr("&Class:"), m_classCombo));
    bar->addWidget(m_classCombo);
    bar->addSpacing(6);
    bar->addWidget(label(tr("S&plit:"), m_splitCombo));
    bar->addWidget(m_splitCombo);
    bar->addSpacing(6);
    bar->addWidget(label(tr("S&ort:"), m_sortCombo));
    bar->addWidget(m_sortCombo);
    bar->addSpacing(6);
    bar->addWidget(m_issueCombo); // its items say what it filters by ("All files", "Outliers"...)
    bar->addSpacing(6);
    bar->addWidget(m_search, 1);
    bar->addStretch(1);
    bar->addWidget(m_countLabel);
    bar->addSpacing(10);
    bar->addWidget(zoomIcon);
    bar->addWidget(zoom);

    auto* layout = new QVBoxLayout(m_imagesPage);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(m_imageView, 1);

    connect(m_classCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setClassFilter(m_classCombo->currentData().toInt()); });
    connect(m_splitCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setSplitFilter(ImageGridProxy::SplitFilter(m_splitCombo->currentData().toInt())); });
    connect(m_sortCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_imageProxy->setSortOrder(ImageGridProxy::SortOrder(m_sortCombo->currentData().toInt()));
        m_imageView->scrollToTop();
    });
    connect(m_issueCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_imageProxy->setDataIssueFilter(m_issueCombo->currentData().toUInt()); });
    connect(m_search, &QLineEdit::textChanged, m_imageProxy, &ImageGridProxy::setTextFilter);
    connect(m_imageProxy, &ImageGridProxy::filterChanged, this, &MainWindow::updateImageCount);
    connect(m_imageProxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateImageCount);
    connect(m_imageProxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateImageCount);
    connect(m_imageProxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateImageCount);
    connect(m_imageView, &ImageGridView::zoomChanged, this, [](int px) { QSettings().setValue(kZoomKey, px); });
    updateFilterCombos();
}

void MainWindow::buildActions()
{
    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    auto* openAction = fileMenu->addAction(
        themeIcon("document-open", QStyle::SP_DirOpenIcon), tr("&Open Folder…"), this, &MainWindow::browseForFolder);
    openAction->setShortcut(QKeySequence::Open);
    openAction->setObjectName(QStringLiteral("openFolderAction"));
    openAction->setToolTip(tr("Open a dataset folder (one sub-folder per class)"));
    m_recentMenu = fileMenu->addMenu(themeIcon("document-open-recent", QStyle::SP_DirLinkIcon), tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    auto* demoAction = fileMenu->addAction(themeIcon("applications-science", QStyle::SP_DriveHDIcon),
        tr("Open &Demo Dataset"), this, &MainWindow::openDemo);
    demoAction->setObjectName(QStringLiteral("openDemoAction"));
    demoAction->setToolTip(tr("A small generated dataset with planted label errors"));
    auto* rescanAction = fileMenu->addAction(
        themeIcon("view-refresh", QStyle::SP_BrowserReload), tr("Re&scan Folder"), this, &MainWindow::rescan);
    rescanAction->setShortcut(QKeySequence::Refresh);
    fileMenu->addSeparator();
    auto* addImages = fileMenu->addAction(themeIcon("list-add", QStyle::SP_FileDialogNewFolder),
        tr("&Add Images to Label…"), this, &MainWindow::browseForImagesToLabel);
    addImages->setObjectName(QStringLiteral("addImagesAction"));
    addImages->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_I));
    addImages->setToolTip(tr("Copy new photos into the dataset's unlabeled/ folder (or drop them on the window)"));
    m_toLabelMenu = fileMenu->addMenu(tr("&To-Label Folders"));
    m_toLabelMenu->setObjectName(QStringLiteral("toLabelMenu"));
    connect(m_toLabelMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildToLabelMenu);
    fileMenu->addSeparator();
    auto* exportAction = fileMenu->addAction(themeIcon("document-save-as", QStyle::SP_DialogSaveButton),
        tr("&Export Model…"), m_predictPage, &PredictPage::exportModel);
    exportAction->setObjectName(QStringLiteral("exportModelAction"));
    exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportAction->setToolTip(tr("Save the trained model as one portable file (for winnow predict / serve)"));
    m_exportAction = exportAction;
    fileMenu->addSeparator();
    auto* quitAction = fileMenu->addAction(
        themeIcon("application-exit", QStyle::SP_DialogCloseButton), tr("&Quit"), this, &QWidget::close);
    quitAction->setShortcut(QKeySequence::Quit);
    quitAction->setMenuRole(QAction::QuitRole);

    auto* viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->setObjectName(QStringLiteral("viewMenu"));
    viewMenu->addSeparator();
    // Zoom acts on the thumbnails of the page in front (each grid keeps its own size).
    m_zoomIn = viewMenu->addAction(themeIcon("zoom-in", QStyle::SP_ArrowUp), tr("Zoom &In"), this, [this] {
        if (ImageGridView* v = currentGridView())
            v->zoomIn();
    });
    m_zoomIn->setObjectName(QStringLiteral("zoomInAction"));
    m_zoomIn->setShortcuts({ QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal) });
    m_zoomOut = viewMenu->addAction(themeIcon("zoom-out", QStyle::SP_ArrowDown), tr("Zoom &Out"), this, [this] {
        if (ImageGridView* v = currentGridView())
            v->zoomOut();
    });
    m_zoomOut->setObjectName(QStringLiteral("zoomOutAction"));
    m_zoomOut->setShortcut(QKeySequence::ZoomOut);
    m_zoomReset =
        viewMenu->addAction(themeIcon("zoom-original", QStyle::SP_DialogResetButton), tr("&Reset Zoom"), this, [this] {
            if (ImageGridView* v = currentGridView())
                v->setZoom(ImageGridView::kDefaultZoom);
        });
    m_zoomReset->setObjectName(QStringLiteral("zoomResetAction"));
    m_zoomReset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    viewMenu->addSeparator();
    auto* imagesAction = viewMenu->addAction(tr("&Images"), this, [this] { showPage(m_imagesPage); });
    imagesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    auto* trainAction = viewMenu->addAction(tr("&Train"), this, [this] { showPage(m_trainingPanel); });
    trainAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));

    int pageKey = Qt::Key_3;
    for (int i = 2; i < m_tabs->count() && pageKey <= Qt::Key_9; ++i, ++pageKey) {
        QWidget* page = m_tabs->widget(i);
        auto* a = viewMenu->addAction(m_tabs->tabText(i), this, [this, page] { showPage(page); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(pageKey)));
    }

    auto* cleanMenu = menuBar()->addMenu(tr("&Clean"));
    cleanMenu->setObjectName(QStringLiteral("cleanMenu"));
    cleanMenu->addAction(m_cleaning->applyAction());
    cleanMenu->addAction(m_cleaning->undoAction());
    cleanMenu->addAction(m_cleaning->redoAction());
    cleanMenu->addSeparator();
    m_retrainAction = cleanMenu->addAction(
        themeIcon("view-refresh", QStyle::SP_BrowserReload), tr("Re&train"), m_trainingPanel, &TrainingPanel::retrain);
    auto* retrainAction = m_retrainAction;
    retrainAction->setObjectName(QStringLiteral("retrainHeadAction"));
    retrainAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    cleanMenu->addAction(m_cleaning->retrainAfterApplyAction());
    // Disabled actions say why, in the menus too.
    for (QMenu* menu : menuBar()->findChildren<QMenu*>())
        menu->setToolTipsVisible(true);

    auto* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->setToolTipsVisible(true);
    auto* shortcuts = helpMenu->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    shortcuts->setObjectName(QStringLiteral("shortcutsAction"));
    shortcuts->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Slash));
    helpMenu->addSeparator();
    helpMenu->addAction(
        themeIcon("help-about", QStyle::SP_MessageBoxInformation), tr("&About Winnow"), this, &MainWindow::about);
    helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);

    auto* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolBar"));
    toolbar->setMovable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setIconSize(QSize(18, 18));
    toolbar->addAction(openAction);
    toolbar->addAction(demoAction);
    toolbar->addAction(rescanAction);
    toolbar->addSeparator();
    auto* trainTool = toolbar->addAction(
        themeIcon("system-run", QStyle::SP_MediaPlay), tr("Train"), this, [this] { showPage(m_trainingPanel); });
    trainTool->setToolTip(tr("Go to the training page"));
    toolbar->addAction(m_cleaning->applyAction());
    toolbar->addAction(m_cleaning->undoAction());
    toolbar->addAction(retrainAction);
}

void MainWindow::buildStatusBar()
{
    m_statusInfo = new QLabel(this);
    m_statusInfo->setObjectName(QStringLiteral("statusInfo"));
    m_busyLabel = new QLabel(this);
    m_busyBar = new QProgressBar(this);
    m_busyBar->setObjectName(QStringLiteral("busyIndicator"));
    m_busyBar->setRange(0, 0);
    m_busyBar->setMaximumWidth(120);
    m_busyBar->setMaximumHeight(14);
    m_busyBar->setTextVisible(false);
    m_busyBar->hide();
    m_busyLabel->hide();
    statusBar()->addPermanentWidget(m_busyLabel);
    statusBar()->addPermanentWidget(m_busyBar);
    statusBar()->addPermanentWidget(m_statusInfo);
    statusBar()->setSizeGripEnabled(true);
}

void MainWindow::openDataset(const QString& folder)
{
    const QString trimmed = folder.trimmed();
    if (trimmed.isEmpty()) {
        showError(tr("Cannot Open Dataset"), tr("No folder was given."));
        return;
    }
    const QFileInfo info(trimmed);
    if (!info.exists()) {
        showError(
            tr("Cannot Open Dataset"), tr("The folder \"%1\" does not exist.").arg(QDir::toNativeSeparators(trimmed)));
        return;
    }
    if (!info.isDir()) {
        showError(tr("Cannot Open Dataset"),
            tr("\"%1\" is a file, not a folder. Choose the folder that holds one sub-folder per class.")
                .arg(QDir::toNativeSeparators(trimmed)));
        return;
    }
    if (!info.isReadable()) {
        showError(tr("Cannot Open Dataset"),
            tr("The folder \"%1\" cannot be read (permission denied).").arg(QDir::toNativeSeparators(trimmed)));
        return;
    }
    startScan(QDir::cleanPath(info.absoluteFilePath()), false);
}

void MainWindow::rescan()
{
    if (m_dataset)
        startScan(m_dataset->root, true);
}

void MainWindow::startScan(const QString& folder, bool keepScores)
{
    ScanOptions options;
    const TrainConfig config = m_trainingPanel->config();
    options.validPct = config.validPct;
    options.seed = config.seed;
    options.unlabeledFolders = storedToLabelFolders(folder);
    const quint64 generation = ++m_scanGeneration;
    m_scanning = true;
    setBusy(tr("Scanning %1…").arg(QFileInfo(folder).fileName()));
    Q_EMIT scanStarted(folder);
    // A watcher connected before setFuture(), not QFuture::then(context): under load, Qt 6.4's context
    // continuation now and then never reached the GUI thread (tst_mainwindow waited 20 s for an empty scan).
    auto* watcher = new QFutureWatcher<ScanResult>(this);
    connect(watcher, &QFutureWatcher<ScanResult>::finished, this, [this, watcher, generation, folder, keepScores] {
        watcher->deleteLater();
        onScanFinished(generation, folder, keepScores, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([folder, options] { return scanDataset(folder, options); }));
}

void MainWindow::onScanFinished(quint64 generation, const QString& folder, bool keepScores, const ScanResult& result)
{
    if (generation != m_scanGeneration)
        return; // superseded by a newer scan
    m_scanning = false;
    clearBusy();
    if (!result.ok()) {
        showError(tr("Cannot Open Dataset"),
            tr("Could not read a dataset from \"%1\":\n%2").arg(QDir::toNativeSeparators(folder), result.error));
        return;
    }
    if (!keepScores || !m_dataset || m_dataset->root != result.dataset->root)
        m_scores = {};
    applyDataset(*result.dataset);
    addRecent(result.dataset->root);
    const Dataset& ds = *m_dataset;
    const int bad = int(ds.unreadable().size());
    showStatus(bad == 0 ? tr("Opened %1: %n image(s).", nullptr, ds.size()).arg(QFileInfo(ds.root).fileName())
                        : tr("Opened %1: %2, %3 unreadable.")
                              .arg(QFileInfo(ds.root).fileName(), tr("%n image(s)", nullptr, ds.size()))
                              .arg(bad),
        8000);
}

void MainWindow::applyDataset(const Dataset& dataset)
{
    m_dataset = dataset;
    m_imageModel->setDataset(dataset);
    if (!m_scores.isEmpty())
        m_imageModel->setScores(m_scores);
    m_summary->setDataset(dataset);
    m_trainingPanel->setDataset(dataset);
    updateFilterCombos();
    updateTitle();
    updateImageCount();
    m_imageView->scrollToTop();
    watchUnlabeledFolders();
    Q_EMIT datasetOpened(*m_dataset);
    if (std::exchange(m_scoreAfterScan, false) && m_dataset->count(Split::Unlabeled) > 0)
        m_controller->score(*m_dataset); // 0 (nothing) when busy or without a model
}

void MainWindow::watchUnlabeledFolders()
{
    if (const QStringList watched = m_unlabeledWatcher->directories(); !watched.isEmpty())
        m_unlabeledWatcher->removePaths(watched);
    if (!m_dataset)
        return;
    QStringList folders { QStringLiteral("unlabeled") };
    folders += storedToLabelFolders(m_dataset->root);
    for (const QString& f : std::as_const(folders)) {
        const QString path = QDir(m_dataset->root).filePath(f);
        if (QFileInfo(path).isDir())
            m_unlabeledWatcher->addPath(path);
    }
}

void MainWindow::onUnlabeledChanged()
{
    if (!m_dataset)
        return;
    // Wait for a running scan, import or training job; the folder is looked at again afterwards.
    if (m_scanning || m_importing || m_controller->isBusy()) {
        m_unlabeledDebounce->start(1500);
        return;
    }
    // Only when the folders' files differ from the scan's (an apply that labels files changes them too, and its
    // own rescan has already seen that).
    QSet<QString> onDisk, scanned, dirs;
    for (const QString& dir : m_unlabeledWatcher->directories()) {
        const QString rel = QDir(m_dataset->root).relativeFilePath(dir);
        dirs.insert(rel);
        for (const QString& name : QDir(dir).entryList(QDir::Files))
            if (hasImageExtension(name))
                onDisk.insert(rel + QLatin1Char('/') + name);
    }
    for (const Sample& sm : m_dataset->samples)
        if (sm.split == Split::Unlabeled && dirs.contains(sm.relPath.section(QLatin1Char('/'), 0, -2)))
            scanned.insert(sm.relPath);
    if (onDisk == scanned)
        return;
    m_scoreAfterScan = true;
    rescan();
}

void MainWindow::setScores(const ScoreSet& scores)
{
    if (m_dataset && !scores.datasetRoot.isEmpty()
        && QDir::cleanPath(scores.datasetRoot) != QDir::cleanPath(m_dataset->root)) {
        showStatus(tr("Ignored scores for another dataset (%1).").arg(scores.datasetRoot));
        return;
    }
    m_scores = scores;
    m_imageModel->setScores(scores);
    // First scores: show the most suspicious images first; later rounds keep the user's order.
    if (m_sortCombo->currentIndex() == 0 && !scores.isEmpty())
        m_sortCombo->setCurrentIndex(m_sortCombo->findData(int(ImageGridProxy::SortOrder::ByLossDesc)));
    updateImageCount();
    Q_EMIT scoresChanged(m_scores);
}

void MainWindow::openDefault()
{
    const QStringList recent = recentFolders();
    for (const QString& folder : recent) {
        if (QFileInfo(folder).isDir()) {
            openDataset(folder);
            return;
        }
    }
    openDemo();
}

void MainWindow::openDemo()
{
    const QString dir = defaultDemoDir();
    if (QFileInfo(dir).isDir() && isDemoDataset(dir)) {
        openDataset(dir);
        return;
    }
    if (m_demoRunning)
        return;
    m_demoRunning = true;
    setBusy(tr("Generating the demo dataset…"));
    auto* watcher = new QFutureWatcher<DemoResult>(this);
    connect(watcher, &QFutureWatcher<DemoResult>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const DemoResult result = watcher->result();
        m_demoRunning = false;
        clearBusy();
        if (!result.ok()) {
            showError(tr("Cannot Create the Demo Dataset"), result.error);
            return;
        }
        openDataset(result.root);
    });
    watcher->setFuture(QtConcurrent::run([dir] { return writeDemoDataset(dir); }));
}

void MainWindow::addPage(QWidget* page, const QString& title, const QIcon& icon)
{
    if (!page)
        return;
    page->setParent(m_tabs);
    m_tabs->addTab(page, icon, title);
}

void MainWindow::showPage(QWidget* page)
{
    const int index = m_tabs->indexOf(page);
    if (index >= 0)
        m_tabs->setCurrentIndex(index);
}

QWidget* MainWindow::imagesPage() const
{
    return m_imagesPage;
}

TrainingPanel* MainWindow::trainingPanel() const
{
    return m_trainingPanel;
}

QTabWidget* MainWindow::pages() const
{
    return m_tabs;
}

const Dataset* MainWindow::dataset() const
{
    return m_dataset ? &*m_dataset : nullptr;
}

const ScoreSet& MainWindow::scores() const
{
    return m_scores;
}

TrainingController* MainWindow::controller() const
{
    return m_controller;
}

ThumbnailLoader* MainWindow::thumbnailLoader() const
{
    return m_loader;
}

ImageGridModel* MainWindow::imageModel() const
{
    return m_imageModel;
}

ImageGridProxy* MainWindow::imageProxy() const
{
    return m_imageProxy;
}

ImageGridView* MainWindow::imageView() const
{
    return m_imageView;
}

DatasetSummary* MainWindow::summary() const
{
    return m_summary;
}

bool MainWindow::isScanning() const
{
    return m_scanning;
}

QString MainWindow::lastError() const
{
    return m_lastError;
}

void MainWindow::showError(const QString& title, const QString& message)
{
    m_lastError = message;
    showStatus(message, 10000);
    // Non-modal: never blocks the event loop (or a test driving it).
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->open();
    Q_EMIT errorOccurred(message);
}

void MainWindow::showStatus(const QString& text, int timeoutMs)
{
    statusBar()->showMessage(text, timeoutMs);
}

void MainWindow::setBusy(const QString& text)
{
    m_busyLabel->setText(text);
    m_busyLabel->show();
    m_busyBar->show();
}

void MainWindow::clearBusy()
{
    if (m_scanning || m_demoRunning)
        return;
    m_busyLabel->hide();
    m_busyBar->hide();
}

QStringList MainWindow::recentFolders() const
{
    return QSettings().value(kRecentKey).toStringList();
}

void MainWindow::addRecent(const QString& folder)
{
    QStringList recent = recentFolders();
    recent.removeAll(folder);
    recent.prepend(folder);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    QSettings().setValue(kRecentKey, recent);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentFolders();
    for (int i = 0; i < recent.size(); ++i) {
        const QString& folder = recent.at(i);
        const QString text = QStringLiteral("&%1  %2").arg((i + 1) % 10).arg(QDir::toNativeSeparators(folder));
        QAction* a = m_recentMenu->addAction(text, this, [this, folder] { openDataset(folder); });
        a->setEnabled(QFileInfo(folder).isDir());
    }
    if (recent.isEmpty()) {
        m_recentMenu->addAction(tr("No recent folders"))->setEnabled(false);
        return;
    }
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(tr("&Clear Menu"), this, [] { QSettings().remove(kRecentKey); });
}

void MainWindow::browseForFolder()
{
    QString start = m_dataset ? QFileInfo(m_dataset->root).absolutePath() : recentFolders().value(0);
    if (start.isEmpty())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Open Dataset Folder"), start);
    if (!folder.isEmpty())
        openDataset(folder);
}

void MainWindow::updateFilterCombos()
{
    const QSignalBlocker block(m_classCombo);
    const int previous = m_classCombo->currentData().isValid() ? m_classCombo->currentData().toInt() : -1;
    const QString previousName = m_classCombo->currentText();
    m_classCombo->clear();
    m_classCombo->addItem(tr("All classes"), -1);
    if (m_dataset) {
        for (int i = 0; i < m_dataset->vocab.size(); ++i)
            m_classCombo->addItem(m_dataset->vocab.at(i), i);
    }
    int index = m_classCombo->findText(previousName);
    if (index < 0 || previous < 0)
        index = 0;
    m_classCombo->setCurrentIndex(index);
    m_imageProxy->setClassFilter(m_classCombo->currentData().toInt());
    m_classCombo->setEnabled(m_dataset.has_value());
    m_splitCombo->setEnabled(m_dataset.has_value());
    m_search->setEnabled(m_dataset.has_value());
}

void MainWindow::updateImageCount()
{
    if (!m_dataset) {
        m_countLabel->clear();
        m_statusInfo->setText(tr("No dataset"));
        return;
    }
    const int shown = m_imageProxy->rowCount();
    const int total = m_imageModel->rowCount();
    const QLocale locale;
    m_countLabel->setText(shown == total ? tr("%n image(s)", nullptr, total)
                                         : tr("%1 of %n image(s)", nullptr, total).arg(locale.toString(shown)));
    QString info = tr("%1 · %2 train · %3 valid")
                       .arg(tr("%n class(es)", nullptr, int(m_dataset->vocab.size())))
                       .arg(locale.toString(m_dataset->count(Split::Train)))
                       .arg(locale.toString(m_dataset->count(Split::Valid)));
    if (!m_scores.isEmpty())
        info += tr(" · %1 scored").arg(locale.toString(m_scores.records.size()));
    m_statusInfo->setText(info);
    m_imageView->setPlaceholderText(m_dataset ? tr("No images match the filters.") : QString());
}

void MainWindow::updateTitle()
{
    if (m_dataset) {
        setWindowTitle(tr("%1 — Winnow").arg(QFileInfo(m_dataset->root).fileName()));
        setWindowFilePath(m_dataset->root);
    } else {
        setWindowTitle(QStringLiteral("Winnow"));
    }
}

void MainWindow::about()
{
    QMessageBox::about(this, tr("About Winnow"),
        tr("<h3>Winnow %1</h3>"
           "<p>Find and fix bad data in image-classification datasets: train a classifier, rank every "
           "image by how much the model disagrees with its label, then keep, delete or relabel, and "
           "retrain.</p>"
           "<p>Built with Qt %2 and LibTorch.</p>"
           "<p>Licensed under the GNU GPL, version 3 or later.</p>")
            .arg(QStringLiteral(WINNOW_VERSION), QString::fromLatin1(qVersion())));
}

ImageGridView* MainWindow::currentGridView() const
{
    QWidget* page = m_tabs->currentWidget();
    if (!page)
        return nullptr;
    if (page == m_imagesPage)
        return m_imageView;
    const QList<ImageGridView*> views = page->findChildren<ImageGridView*>();
    for (ImageGridView* v : views)
        if (v->isVisibleTo(page))
            return v;
    return views.value(0);
}

void MainWindow::updateActions()
{
    if (m_retrainAction) {
        const QString why = m_trainingPanel->retrainBlockedReason();
        m_retrainAction->setEnabled(why.isEmpty());
        m_retrainAction->setToolTip(why.isEmpty() ? m_trainingPanel->retrainDescription() : why);
    }
    if (m_exportAction) {
        const bool run = !m_predictPage->runDir().isEmpty();
        m_exportAction->setEnabled(run);
        m_exportAction->setToolTip(run ? tr("Save the trained model as one portable file (for winnow predict / serve)")
                                       : tr("No model yet: train one (Train page) first"));
    }
    const bool zoomable = currentGridView() != nullptr;
    for (QAction* a : { m_zoomIn, m_zoomOut, m_zoomReset }) {
        if (!a)
            continue;
        a->setEnabled(zoomable);
        a->setToolTip(zoomable ? tr("%1 the thumbnails of this page").arg(a->text().remove(QLatin1Char('&')))
                               : tr("This page has no thumbnails to zoom"));
    }
}

QList<QPair<QString, QString>> MainWindow::shortcutList() const
{
    QList<QPair<QString, QString>> out;
    const auto clean = [](QString text) {
        text.remove(QLatin1Char('&'));
        text = text.section(QLatin1Char('\t'), 0, 0);
        if (text.endsWith(QStringLiteral("…")))
            text.chop(1);
        return text;
    };
    // Menu actions, in menu order (submenus included).
    std::function<void(const QList<QAction*>&, const QString&)> walk = [&](const QList<QAction*>& actions,
                                                                           const QString& path) {
        for (QAction* a : actions) {
            if (a->isSeparator())
                continue;
            if (QMenu* sub = a->menu()) {
                walk(sub->actions(), path + clean(a->text()) + QStringLiteral(" ▸ "));
                continue;
            }
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            if (!keys.isEmpty())
                out.append({ keys.join(QStringLiteral(", ")), path + clean(a->text()) });
        }
    };
    walk(menuBar()->actions(), {});
    // Keys of the thumbnail grids and the decision pages (not menu actions).
    const QList<QPair<QString, QString>> grid = {
        { tr("Arrow keys, Home, End, Page Up/Down"), tr("Thumbnail grids ▸ Move between images") },
        { tr("Shift+Arrow, Ctrl+A"), tr("Thumbnail grids ▸ Extend the selection, select all") },
        { tr("K"), tr("Thumbnail grids ▸ Keep (marks the image reviewed)") },
        { tr("D, Delete"), tr("Thumbnail grids ▸ Delete (to the dataset's trash when applied)") },
        { tr("1 – 9"), tr("Analysis pages ▸ Move to class 1 – 9") },
        { tr("Backspace"), tr("Analysis pages ▸ Clear the decision") },
        { tr("R, right click"), tr("Thumbnail grids ▸ Decision menu") },
        { tr("G"), tr("Thumbnail grids ▸ Evidence maps (Grad-CAM): the predicted class, the given label, off") },
        { tr("Space, double click"),
            tr("Analysis pages ▸ Large preview (arrows move, the same decision keys work, "
               "Space or Esc closes)") },
        { tr("Enter"), tr("Label page ▸ Accept the suggestion") },
        { tr("S"), tr("Label page ▸ Skip") },
        { QKeySequence(QKeySequence::Undo).toString(QKeySequence::NativeText),
            tr("Analysis pages ▸ Undo the last decision") },
        { QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z).toString(QKeySequence::NativeText) + QStringLiteral(", ")
                + QKeySequence(Qt::CTRL | Qt::Key_Y).toString(QKeySequence::NativeText),
            tr("Analysis pages ▸ Redo the decision") },
        { tr("Ctrl+wheel"), tr("Thumbnail grids ▸ Zoom") },
    };
    out += grid;
    return out;
}

void MainWindow::showShortcuts()
{
    auto* dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("shortcutsDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Keyboard Shortcuts"));
    auto* list = new QTreeWidget(dialog);
    list->setObjectName(QStringLiteral("shortcutList"));
    list->setRootIsDecorated(false);
    list->setAlternatingRowColors(true);
    list->setHeaderLabels({ tr("Keys"), tr("Action") });
    list->setWordWrap(true); // long descriptions wrap instead of ending in "..."
    for (const auto& [keys, what] : shortcutList()) {
        auto* item = new QTreeWidgetItem({ keys, what });
        item->setToolTip(1, what);
        list->addTopLevelItem(item);
    }
    list->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    list->header()->setStretchLastSection(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(list);
    layout->addWidget(buttons);
    dialog->resize(760, 600);
    dialog->show();
}

void MainWindow::showImageContextMenu(const QPoint& pos)
{
    const QModelIndex index = m_imageView->indexAt(pos);
    if (!index.isValid() || !m_dataset)
        return;
    // Right click on a card outside the selection acts on that card alone, like file managers do.
    if (!m_imageView->selectionModel()->isSelected(index))
        m_imageView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
    const QList<int> samples = m_imageView->selectedSampleIndices();
    QStringList paths;
    for (int s : samples)
        if (s >= 0 && s < m_dataset->samples.size())
            paths << m_dataset->samples.at(s).relPath;
    if (paths.isEmpty())
        return;
    DecisionStore* store = m_analysis ? m_analysis->store() : nullptr;
    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("imageContextMenu"));
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const QString what = paths.size() == 1 ? QStringLiteral("“%1”").arg(paths.first().section(QLatin1Char('/'), -1))
                                           : tr("%n image(s)", nullptr, int(paths.size()));
    if (store) {
        menu->addAction(tr("&Keep %1\tK").arg(what), this, [store, paths] { store->decide(paths, CleanAction::Keep); });
        menu->addAction(
            tr("&Delete %1\tD").arg(what), this, [store, paths] { store->decide(paths, CleanAction::Delete); });
        QMenu* move = menu->addMenu(tr("&Move to Class"));
        const QStringList classes = store->classes();
        for (const QString& c : classes)
            move->addAction(c, this, [this, store, paths, c] {
                QString error;
                if (!store->decide(paths, CleanAction::Relabel, c, &error))
                    showStatus(tr("Cannot move to %1: %2").arg(c, error));
            });
        move->setEnabled(!classes.isEmpty());
        menu->addSeparator();
    }
    ImageGridView::addFileActions(menu, QDir(m_dataset->root).filePath(paths.first()));
    menu->popup(m_imageView->viewport()->mapToGlobal(pos));
}

bool MainWindow::canOpenDrop(const QMimeData* mime)
{
    return !localFolderOf(mime).isEmpty();
}

bool MainWindow::canImportDrop(const QMimeData* mime)
{
    const QStringList files = localFilesOf(mime);
    return std::any_of(files.cbegin(), files.cend(), [](const QString& f) { return hasImageExtension(f); });
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    // Image files are copied into the open dataset (never moved); a folder is opened as a dataset.
    if ((m_dataset && canImportDrop(event->mimeData())) || canOpenDrop(event->mimeData())) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
    } else {
        event->ignore();
    }
}

void MainWindow::dropEvent(QDropEvent* event)
{
    if (m_dataset && canImportDrop(event->mimeData())) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
        addImagesToLabel(localFilesOf(event->mimeData()));
        return;
    }
    const QString folder = localFolderOf(event->mimeData());
    if (folder.isEmpty()) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    openDataset(folder);
}

bool MainWindow::requireDatasetForImport()
{
    if (m_dataset)
        return true;
    showError(tr("Cannot Add Images"), tr("Open a dataset first: new images are copied into its unlabeled/ folder."));
    return false;
}

void MainWindow::addImagesToLabel(const QStringList& paths)
{
    if (!requireDatasetForImport())
        return;
    if (m_importing) {
        showStatus(tr("Still copying the previous images…"));
        return;
    }
    if (paths.isEmpty())
        return;
    m_importing = true;
    const QString root = m_dataset->root;
    setBusy(tr("Copying %n image(s) into unlabeled/…", nullptr, int(paths.size())));
    auto* watcher = new QFutureWatcher<ImportResult>(this);
    connect(watcher, &QFutureWatcher<ImportResult>::finished, this, [this, watcher, root] {
        watcher->deleteLater();
        const ImportResult result = watcher->result();
        m_importing = false;
        clearBusy();
        if (!result.ok()) {
            showError(tr("Cannot Add Images"), result.error);
        } else if (!result.skipped.isEmpty()) {
            const int shown = 12;
            QString list = result.skipped.mid(0, shown).join(QLatin1Char('\n'));
            if (result.skipped.size() > shown)
                list += tr("\n… and %n more", nullptr, int(result.skipped.size() - shown));
            showError(tr("Some Files Were Not Added"),
                tr("Copied %n image(s) into unlabeled/. Not added:\n%1", nullptr, int(result.copied.size())).arg(list));
        } else {
            showStatus(tr("Copied %n image(s) into unlabeled/.", nullptr, int(result.copied.size())), 8000);
        }
        if (!result.copied.isEmpty() && m_dataset && m_dataset->root == root)
            rescan();
        Q_EMIT imagesImported(result.copied, result.skipped);
    });
    watcher->setFuture(QtConcurrent::run([root, paths] { return importImagesToLabel(root, paths); }));
}

void MainWindow::browseForImagesToLabel()
{
    if (!requireDatasetForImport())
        return;
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add Images to Label"), QString(),
        tr("Images (*.jpg *.jpeg *.jfif *.png *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm *.pbm);;All files (*)"));
    addImagesToLabel(files);
}

QStringList MainWindow::toLabelFolders() const
{
    return m_dataset ? storedToLabelFolders(m_dataset->root) : QStringList();
}

bool MainWindow::setToLabelFolder(const QString& folderIn, bool toLabel)
{
    if (!m_dataset)
        return false;
    const QString root = m_dataset->root;
    QString folder = QDir::fromNativeSeparators(folderIn);
    if (QFileInfo(folder).isAbsolute()) {
        const QString clean = QDir::cleanPath(folder);
        if (!clean.startsWith(root + QLatin1Char('/'))) {
            showError(tr("Cannot Mark Folder"),
                tr("\"%1\" is not inside the dataset \"%2\".").arg(QDir::toNativeSeparators(clean), root));
            return false;
        }
        folder = clean.mid(root.size() + 1);
    }
    folder = QDir::cleanPath(folder);
    if (folder.isEmpty() || folder == QLatin1String(".") || folder.startsWith(QLatin1String(".."))) {
        showError(tr("Cannot Mark Folder"), tr("Choose a folder inside the dataset, not the dataset itself."));
        return false;
    }
    QStringList folders = storedToLabelFolders(root);
    if (toLabel == folders.contains(folder))
        return true;
    if (toLabel)
        folders << folder;
    else
        folders.removeAll(folder);
    QSettings settings;
    if (folders.isEmpty())
        settings.remove(toLabelKey(root));
    else
        settings.setValue(toLabelKey(root), folders);
    showStatus(toLabel ? tr("Images in %1 are now unlabeled: never a class, never trained on.").arg(folder)
                       : tr("%1 is a class folder again.").arg(folder));
    rescan();
    return true;
}

void MainWindow::browseForToLabelFolder()
{
    if (!m_dataset)
        return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of Images to Label"), m_dataset->root);
    if (!dir.isEmpty())
        setToLabelFolder(dir, true);
}

void MainWindow::rebuildToLabelMenu()
{
    m_toLabelMenu->clear();
    auto* add = m_toLabelMenu->addAction(tr("Mark a Folder as To Label…"), this, &MainWindow::browseForToLabelFolder);
    add->setEnabled(m_dataset.has_value());
    add->setToolTip(tr("Images in that folder are scanned as unlabeled, like unlabeled/"));
    const QStringList folders = toLabelFolders();
    if (folders.isEmpty())
        return;
    m_toLabelMenu->addSeparator();
    for (const QString& folder : folders) {
        QAction* a = m_toLabelMenu->addAction(folder);
        a->setCheckable(true);
        a->setChecked(true);
        a->setToolTip(tr("Uncheck to scan %1 as a class again").arg(folder));
        connect(a, &QAction::toggled, this, [this, folder](bool on) { setToLabelFolder(folder, on); });
    }
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_controller->isBusy()) {
        const auto answer = QMessageBox::question(this, tr("Training in Progress"),
            tr("A training job is still running. Cancel it and quit?"), QMessageBox::Yes | QMessageBox::No,
            QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_controller->cancel();
    }
    m_cleaning->keepPendingOnQuit(); // saved now; says where they are kept
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    QMainWindow::closeEvent(event);
}

} // namespace Winnow
