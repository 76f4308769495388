// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

#include <algorithm>
#include <utility>

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QUrl>

#include "core/engine/trainingcontroller.h"
#include "core/metrics/dataissues.h"
#include "core/thumbnail/thumbnailloader.h"
#include "ui/analysis/analysispages.h"
#include "ui/analysis/decisionstore.h"
#include "ui/cleaningsession.h"
#include "ui/datasetdocument.h"
#include "ui/datasetsummary.h"
#include "ui/englishplurals.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridproxy.h"
#include "ui/imagegrid/imagegridview.h"
#include "ui/imagespage.h"
#include "ui/predict/predictpage.h"
#include "ui/shortcuts.h"
#include "ui/training/trainingpanel.h"

namespace Winnow {

namespace {

const QString kRecentKey = QStringLiteral("recentFolders");
const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kStateKey = QStringLiteral("mainWindow/state");

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
    , m_document(new DatasetDocument(this))
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

    m_document->setController(m_controller);
    m_imageModel->setThumbnailLoader(m_loader);
    m_imageProxy->setSourceModel(m_imageModel);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("pages"));
    m_tabs->setDocumentMode(true);
    m_tabs->setIconSize(QSize(16, 16));
    setCentralWidget(m_tabs);

    m_imagesPage = new ImagesPage(m_document, m_imageModel, m_imageProxy, this);
    m_imageView = m_imagesPage->view();
    connect(m_imagesPage, &ImagesPage::statusMessage, this, &MainWindow::showStatus);
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
        m_imagesPage->showClass(classIndex);
        showPage(m_imagesPage);
    });
    connect(m_summary, &DatasetSummary::fileActivated, this,
        [](const QString& path) { QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(path).absolutePath())); });

    // The window observes the document first (its own grid and sidebar are up to date when the pages hear of a
    // dataset), then the analysis pages, the cleaning round and the training panel do.
    m_document->setScanOptionsProvider([panel = QPointer<TrainingPanel>(m_trainingPanel)](ScanOptions& options) {
        if (!panel)
            return;
        const TrainConfig config = panel->config();
        options.validPct = config.validPct;
        options.seed = config.seed;
    });
    connect(m_document, &DatasetDocument::datasetOpened, m_trainingPanel, &TrainingPanel::setDataset);
    connect(m_document, &DatasetDocument::datasetOpened, this, &MainWindow::onDatasetOpened); // "Opened ..." last
    connect(m_document, &DatasetDocument::scoresChanged, this, &MainWindow::onScoresChanged);
    connect(m_document, &DatasetDocument::busyChanged, this, &MainWindow::onBusyChanged);
    connect(m_document, &DatasetDocument::errorOccurred, this, &MainWindow::showError);
    connect(m_document, &DatasetDocument::statusMessage, this, &MainWindow::showStatus);
    connect(m_document, &DatasetDocument::scanStarted, this, &MainWindow::scanStarted);
    connect(m_document, &DatasetDocument::imagesImported, this, &MainWindow::imagesImported);

    // The analysis pages (confusion matrix, top losses, cleaner, label, issues), the cleaning round, and Predict.
    m_analysis = installAnalysisPages({ m_document, m_controller, m_loader, m_imageModel, m_imageView }, this);
    for (const auto& [page, title] : m_analysis->tabs())
        addPage(page, title);
    connect(m_analysis, &AnalysisPages::statusMessage, this, &MainWindow::showStatus);
    m_cleaning = new CleaningSession(m_document, m_trainingPanel, this);
    connect(m_cleaning, &CleaningSession::statusMessage, this, &MainWindow::showStatus);
    connect(m_cleaning, &CleaningSession::errorOccurred, this, &MainWindow::showError);
    connect(m_analysis, &AnalysisPages::applyRequested, m_cleaning, &CleaningSession::apply);
    connect(m_document, &DatasetDocument::datasetOpened, this, &MainWindow::datasetOpened);
    connect(m_document, &DatasetDocument::scoresChanged, this, &MainWindow::scoresChanged);
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

    // Failures (and a reload that found no run) reach the status bar through the panel's own words.
    connect(m_trainingPanel, &TrainingPanel::statusMessage, this, [this](const QString& text) { showStatus(text); });
    connect(m_trainingPanel, &TrainingPanel::actionsChanged, this, &MainWindow::updateActions);
    connect(m_trainingPanel, &TrainingPanel::runWritten, this, &MainWindow::updateActions);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::updateActions);

    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray())) {
        // A first start: 1400 x 900, or less on a small screen (never wider than the screen's free area).
        const QRect avail = screen() ? screen()->availableGeometry() : QRect(0, 0, 1400, 900);
        resize(qMin(1400, avail.width()), qMin(900, avail.height()));
    }
    restoreState(settings.value(kStateKey).toByteArray());
    updateTitle();
    updateStatusInfo();
    updateActions();
}

MainWindow::~MainWindow() = default;

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
    m_document->open(folder);
}

void MainWindow::rescan()
{
    m_document->rescan();
}

void MainWindow::onDatasetOpened(const Dataset& dataset)
{
    m_imageModel->setDataset(dataset);
    if (!m_document->scores().isEmpty())
        m_imageModel->setScores(m_document->scores());
    m_summary->setDataset(dataset);
    m_imagesPage->datasetChanged();
    updateTitle();
    updateStatusInfo();
    addRecent(dataset.root);
    const int bad = int(dataset.unreadable().size());
    showStatus(bad == 0 ? tr("Opened %1: %n image(s).", nullptr, dataset.size()).arg(QFileInfo(dataset.root).fileName())
                        : tr("Opened %1: %2, %3 unreadable.")
                              .arg(QFileInfo(dataset.root).fileName(), tr("%n image(s)", nullptr, dataset.size()))
                              .arg(bad),
        8000);
}

void MainWindow::setScores(const ScoreSet& scores)
{
    m_document->setScores(scores);
}

void MainWindow::onScoresChanged(const ScoreSet& scores)
{
    m_imageModel->setScores(scores);
    m_imagesPage->scoresChanged(scores);
    updateStatusInfo();
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
    m_document->openDemo();
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
    return m_document->dataset();
}

const ScoreSet& MainWindow::scores() const
{
    return m_document->scores();
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
    return m_document->isScanning();
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

void MainWindow::onBusyChanged(const QString& text)
{
    m_busyLabel->setText(text);
    m_busyLabel->setVisible(!text.isEmpty());
    m_busyBar->setVisible(!text.isEmpty());
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
    QString start = dataset() ? QFileInfo(dataset()->root).absolutePath() : recentFolders().value(0);
    if (start.isEmpty())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Open Dataset Folder"), start);
    if (!folder.isEmpty())
        openDataset(folder);
}

void MainWindow::updateStatusInfo()
{
    const Dataset* ds = dataset();
    if (!ds) {
        m_statusInfo->setText(tr("No dataset"));
        return;
    }
    const QLocale locale;
    QString info = tr("%1 · %2 train · %3 valid")
                       .arg(tr("%n class(es)", nullptr, int(ds->vocab.size())))
                       .arg(locale.toString(ds->count(Split::Train)))
                       .arg(locale.toString(ds->count(Split::Valid)));
    if (!scores().isEmpty())
        info += tr(" · %1 scored").arg(locale.toString(scores().records.size()));
    m_statusInfo->setText(info);
}

void MainWindow::updateTitle()
{
    if (dataset()) {
        setWindowTitle(tr("%1 — Winnow").arg(QFileInfo(dataset()->root).fileName()));
        setWindowFilePath(dataset()->root);
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
    return Shortcuts::list(menuBar());
}

void MainWindow::showShortcuts()
{
    Shortcuts::showDialog(this, shortcutList());
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
    if ((dataset() && canImportDrop(event->mimeData())) || canOpenDrop(event->mimeData())) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
    } else {
        event->ignore();
    }
}

void MainWindow::dropEvent(QDropEvent* event)
{
    if (dataset() && canImportDrop(event->mimeData())) {
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

void MainWindow::addImagesToLabel(const QStringList& paths)
{
    m_document->importImages(paths);
}

void MainWindow::browseForImagesToLabel()
{
    if (!dataset()) {
        m_document->importImages({}); // says why
        return;
    }
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add Images to Label"), QString(),
        tr("Images (*.jpg *.jpeg *.jfif *.png *.bmp *.gif *.webp *.tif *.tiff *.ppm *.pgm *.pbm);;All files (*)"));
    addImagesToLabel(files);
}

QStringList MainWindow::toLabelFolders() const
{
    return m_document->toLabelFolders();
}

bool MainWindow::setToLabelFolder(const QString& folder, bool toLabel)
{
    return m_document->setToLabelFolder(folder, toLabel);
}

void MainWindow::browseForToLabelFolder()
{
    if (!dataset())
        return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of Images to Label"), dataset()->root);
    if (!dir.isEmpty())
        setToLabelFolder(dir, true);
}

void MainWindow::rebuildToLabelMenu()
{
    m_toLabelMenu->clear();
    auto* add = m_toLabelMenu->addAction(tr("Mark a Folder as To Label…"), this, &MainWindow::browseForToLabelFolder);
    add->setEnabled((dataset() != nullptr));
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
