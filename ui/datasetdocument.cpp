// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/datasetdocument.h"

#include <utility>

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QSet>
#include <QSettings>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include "core/dataset/demogenerator.h"
#include "core/dataset/importimages.h"
#include "core/engine/trainingcontroller.h"
#include "ui/analysis/decisionstore.h"

namespace Winnow {

namespace {

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

} // namespace

DatasetDocument::DatasetDocument(QObject* parent)
    : QObject(parent)
    , m_decisions(new DecisionStore(this))
    , m_unlabeledWatcher(new QFileSystemWatcher(this))
    , m_unlabeledDebounce(new QTimer(this))
{
    // Photos dropped into an unlabeled folder by any program: rescan, then let the current model suggest classes.
    m_unlabeledDebounce->setSingleShot(true);
    m_unlabeledDebounce->setInterval(700);
    connect(
        m_unlabeledWatcher, &QFileSystemWatcher::directoryChanged, m_unlabeledDebounce, qOverload<>(&QTimer::start));
    connect(m_unlabeledDebounce, &QTimer::timeout, this, &DatasetDocument::onUnlabeledChanged);
}

DatasetDocument::~DatasetDocument() = default;

void DatasetDocument::setController(TrainingController* controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    if (controller)
        connect(controller, &TrainingController::scoresReady, this,
            [this](quint64, const ScoreSet& scores) { setScores(scores); });
}

TrainingController* DatasetDocument::controller() const
{
    return m_controller;
}

void DatasetDocument::setScanOptionsProvider(std::function<void(ScanOptions&)> provider)
{
    m_scanOptions = std::move(provider);
}

bool DatasetDocument::open(const QString& folder)
{
    const QString trimmed = folder.trimmed();
    const auto fail = [this](const QString& message) {
        Q_EMIT errorOccurred(tr("Cannot Open Dataset"), message);
        return false;
    };
    if (trimmed.isEmpty())
        return fail(tr("No folder was given."));
    const QFileInfo info(trimmed);
    const QString shown = QDir::toNativeSeparators(trimmed);
    if (!info.exists())
        return fail(tr("The folder \"%1\" does not exist.").arg(shown));
    if (!info.isDir())
        return fail(
            tr("\"%1\" is a file, not a folder. Choose the folder that holds one sub-folder per class.").arg(shown));
    if (!info.isReadable())
        return fail(tr("The folder \"%1\" cannot be read (permission denied).").arg(shown));
    startScan(QDir::cleanPath(info.absoluteFilePath()), false);
    return true;
}

void DatasetDocument::rescan()
{
    if (m_dataset)
        startScan(m_dataset->root, true);
}

void DatasetDocument::startScan(const QString& folder, bool keepScores)
{
    ScanOptions options;
    if (m_scanOptions)
        m_scanOptions(options);
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

void DatasetDocument::onScanFinished(
    quint64 generation, const QString& folder, bool keepScores, const ScanResult& result)
{
    if (generation != m_scanGeneration)
        return; // superseded by a newer scan
    m_scanning = false;
    clearBusy();
    if (!result.ok()) {
        Q_EMIT errorOccurred(tr("Cannot Open Dataset"),
            tr("Could not read a dataset from \"%1\":\n%2").arg(QDir::toNativeSeparators(folder), result.error));
        return;
    }
    if (!keepScores || !m_dataset || m_dataset->root != result.dataset->root)
        m_scores = {};
    m_dataset = *result.dataset;
    m_decisions->setDataset(*m_dataset);
    watchUnlabeledFolders();
    Q_EMIT datasetOpened(*m_dataset);
    if (std::exchange(m_scoreAfterScan, false) && m_dataset && m_dataset->count(Split::Unlabeled) > 0 && m_controller)
        m_controller->score(*m_dataset); // 0 (nothing) when busy or without a model
}

const Dataset* DatasetDocument::dataset() const
{
    return m_dataset ? &*m_dataset : nullptr;
}

const ScoreSet& DatasetDocument::scores() const
{
    return m_scores;
}

bool DatasetDocument::setScores(const ScoreSet& scores)
{
    if (m_dataset && !scores.datasetRoot.isEmpty()
        && QDir::cleanPath(scores.datasetRoot) != QDir::cleanPath(m_dataset->root)) {
        Q_EMIT statusMessage(tr("Ignored scores for another dataset (%1).").arg(scores.datasetRoot), 5000);
        return false;
    }
    m_scores = scores;
    Q_EMIT scoresChanged(m_scores);
    return true;
}

DecisionStore* DatasetDocument::decisions() const
{
    return m_decisions;
}

bool DatasetDocument::isScanning() const
{
    return m_scanning;
}

bool DatasetDocument::isImporting() const
{
    return m_importing;
}

QString DatasetDocument::busyText() const
{
    return m_busyText;
}

void DatasetDocument::setBusy(const QString& text)
{
    m_busyText = text;
    Q_EMIT busyChanged(text);
}

void DatasetDocument::clearBusy()
{
    if (m_scanning || m_demoRunning || m_importing || m_busyText.isEmpty())
        return;
    m_busyText.clear();
    Q_EMIT busyChanged({});
}

void DatasetDocument::openDemo()
{
    const QString dir = defaultDemoDir();
    if (QFileInfo(dir).isDir() && isDemoDataset(dir)) {
        open(dir);
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
            Q_EMIT errorOccurred(tr("Cannot Create the Demo Dataset"), result.error);
            return;
        }
        open(result.root);
    });
    watcher->setFuture(QtConcurrent::run([dir] { return writeDemoDataset(dir); }));
}

void DatasetDocument::watchUnlabeledFolders()
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

void DatasetDocument::onUnlabeledChanged()
{
    if (!m_dataset)
        return;
    // Wait for a running scan, import or training job; the folder is looked at again afterwards.
    if (m_scanning || m_importing || (m_controller && m_controller->isBusy())) {
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

void DatasetDocument::importImages(const QStringList& paths)
{
    if (!m_dataset) {
        Q_EMIT errorOccurred(
            tr("Cannot Add Images"), tr("Open a dataset first: new images are copied into its unlabeled/ folder."));
        return;
    }
    if (m_importing) {
        Q_EMIT statusMessage(tr("Still copying the previous images…"), 5000);
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
            Q_EMIT errorOccurred(tr("Cannot Add Images"), result.error);
        } else if (!result.skipped.isEmpty()) {
            const int shown = 12;
            QString list = result.skipped.mid(0, shown).join(QLatin1Char('\n'));
            if (result.skipped.size() > shown)
                list += tr("\n… and %n more", nullptr, int(result.skipped.size() - shown));
            Q_EMIT errorOccurred(tr("Some Files Were Not Added"),
                tr("Copied %n image(s) into unlabeled/. Not added:\n%1", nullptr, int(result.copied.size())).arg(list));
        } else {
            Q_EMIT statusMessage(tr("Copied %n image(s) into unlabeled/.", nullptr, int(result.copied.size())), 8000);
        }
        if (!result.copied.isEmpty() && m_dataset && m_dataset->root == root)
            rescan();
        Q_EMIT imagesImported(result.copied, result.skipped);
    });
    watcher->setFuture(QtConcurrent::run([root, paths] { return importImagesToLabel(root, paths); }));
}

QStringList DatasetDocument::toLabelFolders() const
{
    return m_dataset ? storedToLabelFolders(m_dataset->root) : QStringList();
}

bool DatasetDocument::setToLabelFolder(const QString& folderIn, bool toLabel)
{
    if (!m_dataset)
        return false;
    const QString root = m_dataset->root;
    QString folder = QDir::fromNativeSeparators(folderIn);
    if (QFileInfo(folder).isAbsolute()) {
        const QString clean = QDir::cleanPath(folder);
        if (!clean.startsWith(root + QLatin1Char('/'))) {
            Q_EMIT errorOccurred(tr("Cannot Mark Folder"),
                tr("\"%1\" is not inside the dataset \"%2\".").arg(QDir::toNativeSeparators(clean), root));
            return false;
        }
        folder = clean.mid(root.size() + 1);
    }
    folder = QDir::cleanPath(folder);
    if (folder.isEmpty() || folder == QLatin1String(".") || folder.startsWith(QLatin1String(".."))) {
        Q_EMIT errorOccurred(
            tr("Cannot Mark Folder"), tr("Choose a folder inside the dataset, not the dataset itself."));
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
    Q_EMIT statusMessage(toLabel ? tr("Images in %1 are now unlabeled: never a class, never trained on.").arg(folder)
                                 : tr("%1 is a class folder again.").arg(folder),
        5000);
    rescan();
    return true;
}

} // namespace Winnow
