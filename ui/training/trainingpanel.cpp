// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/trainingpanel.h"

#include <cmath>
#include <utility>

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "core/dataset/splitstore.h"
#include "core/engine/roundhistory.h"
#include "core/engine/trainingcontroller.h"
#include "core/engine/weightscatalogue.h"
#include "ui/training/jobstatus.h"
#include "ui/training/lossplot.h"
#include "ui/training/runmemory.h"
#include "ui/training/trainingmodels.h"
#include "ui/training/trainsettingsform.h"
#include "ui/training/weightspicker.h"

namespace Winnow {

namespace {

/// Classes with at least one readable labelled image (what training can use).
int classesWithImages(const Dataset& dataset)
{
    int n = 0;
    for (const ClassCounts& c : dataset.counts())
        n += c.train + c.valid > 0;
    return n;
}

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent)
{
    auto* table = new QTableView(parent);
    table->setModel(model);
    table->setAlternatingRowColors(true);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setShowGrid(false);
    table->verticalHeader()->hide();
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table->horizontalHeader()->setHighlightSections(false);
    table->setWordWrap(false);
    return table;
}

} // namespace

TrainingPanel::TrainingPanel(TrainingController* controller, QWidget* parent)
    : QWidget(parent)
    , m_controller(controller)
    , m_epochModel(new EpochTableModel(this))
    , m_roundModel(new RoundTableModel(this))
{
    buildUi();

    TrainConfig defaults;
    defaults.weights = defaultWeightsPath(defaults.arch);
    setConfig(defaults);

    if (m_controller) {
        connect(m_controller, &TrainingController::started, this, &TrainingPanel::onStarted);
        connect(m_controller, &TrainingController::progress, this, &TrainingPanel::onProgress);
        connect(m_controller, &TrainingController::epochFinished, this, &TrainingPanel::onEpochFinished);
        connect(m_controller, &TrainingController::scoresReady, this, &TrainingPanel::onScoresReady);
        connect(m_controller, &TrainingController::roundFinished, this, &TrainingPanel::onRoundFinished);
        connect(m_controller, &TrainingController::runLoaded, this, &TrainingPanel::onRunLoaded);
        connect(m_controller, &TrainingController::finished, this, &TrainingPanel::onFinished);
        connect(m_controller, &TrainingController::failed, this, &TrainingPanel::onFailed);
        connect(m_controller, &TrainingController::cancelled, this, &TrainingPanel::onCancelled);
    }
    updateButtons();
}

TrainingPanel::~TrainingPanel() = default;

void TrainingPanel::buildUi()
{
    // --- Settings column -------------------------------------------------------------------------------------
    m_form = new TrainSettingsForm(this);
    m_form->setObjectName(QStringLiteral("settingsForm"));
    m_weightsPicker = m_form->weightsPicker();

    m_start = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("S&tart training"), this);
    m_start->setObjectName(QStringLiteral("startButton"));
    m_start->setDefault(true);
    m_start->setToolTip(tr("Fine-tune the model on this dataset, then score every image"));
    m_cancel = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("&Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_retrain = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), tr("&Retrain"), this);
    m_retrain->setObjectName(QStringLiteral("retrainButton"));
    m_retrain->setToolTip(retrainDescription());

    auto* buttons = new QGridLayout;
    buttons->addWidget(m_start, 0, 0, 1, 2);
    buttons->addWidget(m_retrain, 1, 0);
    buttons->addWidget(m_cancel, 1, 1);

    m_datasetLabel = new QLabel(this);
    m_datasetLabel->setWordWrap(true);
    m_datasetLabel->setObjectName(QStringLiteral("datasetLabel"));

    auto* settings = new QWidget(this);
    auto* settingsLayout = new QVBoxLayout(settings);
    settingsLayout->setContentsMargins(0, 0, 0, 0);
    settingsLayout->addWidget(m_datasetLabel);
    settingsLayout->addWidget(m_form);
    settingsLayout->addLayout(buttons);
    settingsLayout->addStretch(1);
    settings->setMinimumWidth(300);
    settings->setMaximumWidth(420);

    // --- Progress, plot and tables -----------------------------------------------------------------------------
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("progressBar"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QString());
    m_status = new QLabel(tr("Ready."), this);
    m_status->setObjectName(QStringLiteral("statusLabel"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A long status ("Reloaded the last run (...): round 3 ...") wraps instead of widening the window.
    m_status->setWordWrap(true);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    m_chartView = new LossPlot(this);
    m_chartView->setObjectName(QStringLiteral("lossChart"));

    m_epochTable = makeTable(m_epochModel, this);
    m_epochTable->setObjectName(QStringLiteral("epochTable"));
    // fastai's column names need their width; the stage column takes what is left.
    for (int c = 0; c < EpochTableModel::ColumnCount; ++c)
        m_epochTable->horizontalHeader()->setSectionResizeMode(
            c, c == EpochTableModel::StageColumn ? QHeaderView::Stretch : QHeaderView::ResizeToContents);
    m_roundTable = makeTable(m_roundModel, this);
    m_roundTable->setObjectName(QStringLiteral("roundTable"));
    // Seven columns in a narrow box: numbers take what they need, the kind and the predictions share the rest and
    // elide (the full texts are in the tooltips).
    m_roundTable->setTextElideMode(Qt::ElideMiddle);
    for (int c = 0; c < RoundTableModel::ColumnCount; ++c)
        m_roundTable->horizontalHeader()->setSectionResizeMode(c,
            c == RoundTableModel::KindColumn || c == RoundTableModel::PredictionsChangedColumn
                ? QHeaderView::Stretch
                : QHeaderView::ResizeToContents);

    auto* epochBox = new QGroupBox(tr("Epochs"), this);
    (new QVBoxLayout(epochBox))->addWidget(m_epochTable);
    auto* roundBox = new QGroupBox(tr("Rounds"), this);
    (new QVBoxLayout(roundBox))->addWidget(m_roundTable);
    auto* tables = new QSplitter(Qt::Horizontal, this);
    tables->addWidget(epochBox);
    tables->addWidget(roundBox);
    tables->setStretchFactor(0, 1);
    tables->setStretchFactor(1, 1);
    tables->setChildrenCollapsible(false);

    auto* right = new QSplitter(Qt::Vertical, this);
    right->addWidget(m_chartView);
    right->addWidget(tables);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    right->setChildrenCollapsible(false);

    auto* progressRow = new QHBoxLayout;
    progressRow->addWidget(m_status, 1);
    progressRow->addWidget(m_progress, 1);

    auto* rightColumn = new QVBoxLayout;
    rightColumn->addLayout(progressRow);
    rightColumn->addWidget(right, 1);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(16);
    layout->addWidget(settings);
    layout->addLayout(rightColumn, 1);

    connect(m_weightsPicker, &WeightsPicker::weightsChanged, this, &TrainingPanel::updateButtons);
    connect(m_weightsPicker, &WeightsPicker::downloadingChanged, this, &TrainingPanel::updateButtons);
    connect(m_weightsPicker, &WeightsPicker::statusMessage, this, &TrainingPanel::setStatus);
    connect(m_weightsPicker, &WeightsPicker::downloaded, this, &TrainingPanel::weightsDownloaded);
    connect(m_weightsPicker, &WeightsPicker::downloadFailed, this, &TrainingPanel::weightsDownloadFailed);
    connect(m_start, &QPushButton::clicked, this, &TrainingPanel::start);
    connect(m_cancel, &QPushButton::clicked, this, &TrainingPanel::cancel);
    connect(m_retrain, &QPushButton::clicked, this, &TrainingPanel::retrain);
}

QString TrainingPanel::defaultWeightsPath(const QString& arch)
{
    return defaultPretrainedWeights(arch);
}

TrainConfig TrainingPanel::config() const
{
    return m_form->config();
}

void TrainingPanel::setConfig(const TrainConfig& c)
{
    m_form->setConfig(c);
    updateButtons();
}

QMenu* TrainingPanel::catalogueMenu() const
{
    return m_weightsPicker->catalogueMenu();
}

bool TrainingPanel::isDownloading() const
{
    return m_weightsPicker->isDownloading();
}

bool TrainingPanel::useCatalogueWeights(const QString& id)
{
    return m_weightsPicker->useCatalogueWeights(id);
}

void TrainingPanel::setDataset(const Dataset& dataset)
{
    const bool other = !m_dataset || m_dataset->root != dataset.root;
    m_dataset = dataset;
    if (other) {
        m_hasModel = false;
        m_lastRunDir.clear();
        m_lastScores = {};
        m_pendingDiff.reset();
        m_loadPending = false;
        m_epochModel->clear();
        m_roundModel->clear();
        m_chartView->reset(1);
        setStatus(tr("Ready."));
        Q_EMIT runWritten(QString()); // no run for this dataset until one loads or finishes
    }
    const int classes = int(dataset.vocab.size());
    const int train = dataset.count(Split::Train);
    const int valid = dataset.count(Split::Valid);
    m_datasetLabel->setText(
        tr("<b>%1</b><br>%2 · %3 train · %4 valid images")
            .arg(QFileInfo(dataset.root).fileName().toHtmlEscaped(), tr("%n class(es)", nullptr, classes))
            .arg(train)
            .arg(valid));
    updateButtons();
    if (other)
        loadLastRun(); // the model, scores and rounds of the last session come back without retraining
}

QString TrainingPanel::lastRunDir(const QString& datasetRoot)
{
    return RunMemory::lastRunDir(datasetRoot);
}

QStringList TrainingPanel::runCandidates() const
{
    return m_dataset ? RunMemory::runCandidates(m_dataset->root, m_runsRoot) : QStringList();
}

bool TrainingPanel::loadLastRun()
{
    if (!m_controller || !m_dataset || runCandidates().isEmpty())
        return false;
    m_loadPending = true;
    startPendingLoad();
    return true;
}

void TrainingPanel::startPendingLoad()
{
    if (!m_loadPending || !m_controller || !m_dataset || m_controller->isBusy())
        return;
    m_loadPending = false;
    const QStringList candidates = runCandidates();
    if (candidates.isEmpty())
        return;
    const quint64 job = m_controller->loadRun(m_dataset->root, candidates);
    if (job == 0) {
        m_loadPending = true; // busy after all: try again when it is idle
        return;
    }
    m_job = job;
    m_jobKind = QStringLiteral("load");
    m_jobRoot = m_dataset->root;
}

bool TrainingPanel::jobIsForOpenDataset() const
{
    return m_dataset && QDir::cleanPath(m_jobRoot) == QDir::cleanPath(m_dataset->root);
}

void TrainingPanel::saveRoundHistory(const QString& runDir)
{
    if (runDir.isEmpty() || !QFileInfo(runDir).isDir())
        return;
    const QList<RoundSummary>& rows = m_roundModel->rows();
    QString error;
    if (!writeRoundHistory(runDir, QVector<RoundSummary>(rows.cbegin(), rows.cend()), &error))
        setStatus(tr("The round history could not be saved: %1").arg(error), true);
}

void TrainingPanel::showLatestRoundStatus(const QString& prefix)
{
    if (!m_roundModel->rows().isEmpty()) {
        // The latest round, not the first fine-tune's epochs: after head retrains the model is that round's.
        const RoundSummary& last = m_roundModel->rows().constLast();
        setStatus(tr("%1 round %2 (%3): error rate %4, valid loss %5.")
                      .arg(prefix)
                      .arg(last.round)
                      .arg(last.kind)
                      .arg(last.errorRate, 0, 'f', 4)
                      .arg(last.validLoss, 0, 'f', 4));
    } else if (!m_epochModel->rows().isEmpty()) {
        const EpochStats& last = m_epochModel->rows().constLast();
        setStatus(tr("%1 error rate %2, valid loss %3.")
                      .arg(prefix)
                      .arg(last.errorRate, 0, 'f', 4)
                      .arg(last.validLoss, 0, 'f', 4));
    } else {
        setStatus(prefix);
    }
}

void TrainingPanel::clearDataset()
{
    m_dataset.reset();
    m_hasModel = false;
    m_loadPending = false;
    m_datasetLabel->setText(tr("<i>No dataset open.</i>"));
    updateButtons();
}

void TrainingPanel::setRunsRoot(const QString& dir)
{
    m_runsRoot = dir;
}

QString TrainingPanel::runsRoot() const
{
    return m_runsRoot;
}

bool TrainingPanel::isBusy() const
{
    return m_busy;
}

bool TrainingPanel::hasModel() const
{
    return m_hasModel;
}

EpochTableModel* TrainingPanel::epochModel() const
{
    return m_epochModel;
}

RoundTableModel* TrainingPanel::roundModel() const
{
    return m_roundModel;
}

QPushButton* TrainingPanel::startButton() const
{
    return m_start;
}

QPushButton* TrainingPanel::cancelButton() const
{
    return m_cancel;
}

QPushButton* TrainingPanel::retrainButton() const
{
    return m_retrain;
}

QProgressBar* TrainingPanel::progressBar() const
{
    return m_progress;
}

QString TrainingPanel::trainingBlockedReason(bool needModel) const
{
    if (!m_controller)
        return tr("No training engine");
    if (!m_dataset)
        return tr("Open a dataset first");
    if (classesWithImages(*m_dataset) < 2)
        return tr("Needs at least two classes with images");
    if (needModel && !m_hasModel)
        return tr("Train a model first");
    if (m_busy || m_controller->isBusy())
        return tr("A job is running: wait for it to finish or cancel it");
    return {};
}

QString TrainingPanel::startBlockedReason() const
{
    if (QString why = trainingBlockedReason(false); !why.isEmpty())
        return why;
    if (m_weightsPicker && m_weightsPicker->isDownloading())
        return tr("Wait for the weights download to finish");
    return {};
}

QString TrainingPanel::retrainDescription() const
{
    switch (TrainingController::RetrainMode(m_retrainMode)) {
    case TrainingController::RetrainMode::Head:
        return tr("A round after cleaning: refit the fine-tuned network's last layer on its cached features of the "
                  "current labels (seconds), then re-score every image");
    case TrainingController::RetrainMode::Full:
        return tr("A round after cleaning: fine-tune again with the run's settings on the current labels, then "
                  "re-score every image");
    case TrainingController::RetrainMode::Auto:
        break;
    }
    return tr("A round after cleaning on the current labels, then every image re-scored: a full fine-tune when the "
              "last one extrapolates to under a minute (or on a GPU), else the fine-tuned network's last layer "
              "refitted on cached features (seconds)");
}

QString TrainingPanel::retrainBlockedReason() const
{
    return trainingBlockedReason(true);
}

void TrainingPanel::updateButtons()
{
    const bool busy = m_busy || (m_controller && m_controller->isBusy());
    const QString startWhy = startBlockedReason();
    const QString retrainWhy = retrainBlockedReason();
    m_start->setEnabled(startWhy.isEmpty());
    m_retrain->setEnabled(retrainWhy.isEmpty());
    m_cancel->setEnabled(busy);
    m_form->setJobRunning(busy);
    // A disabled button says why.
    m_start->setToolTip(
        startWhy.isEmpty() ? tr("Fine-tune the model on this dataset, then score every image") : startWhy);
    m_retrain->setToolTip(retrainWhy.isEmpty() ? retrainDescription() : retrainWhy);
    m_cancel->setToolTip(busy ? tr("Stop the running job (within one batch)") : tr("Nothing is running"));
    Q_EMIT actionsChanged();
}

void TrainingPanel::setBusy(bool busy)
{
    if (m_busy == busy)
        return;
    m_busy = busy;
    updateButtons();
    Q_EMIT busyChanged(busy);
}

void TrainingPanel::setStatus(const QString& text, bool error)
{
    m_status->setText(error ? QStringLiteral("<span style='color:#c0392b'>%1</span>").arg(text.toHtmlEscaped())
                            : text.toHtmlEscaped());
    m_status->setToolTip(text);
    Q_EMIT statusMessage(text);
}

void TrainingPanel::start()
{
    if (!m_controller || !m_dataset || m_busy)
        return;
    const TrainConfig c = config();
    if (!c.weights.isEmpty() && !QFileInfo(c.weights).isFile()) {
        setStatus(tr("Weights file not found: %1").arg(c.weights), true);
        return;
    }
    QString runDir;
    if (!m_runsRoot.isEmpty()) {
        const QString name = QFileInfo(m_dataset->root).fileName();
        runDir = QDir(m_runsRoot)
                     .filePath(name + QLatin1Char('-')
                         + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    }
    QString splitWarning;
    if (!persistSplits(*m_dataset, &splitWarning)) { // pin the split this run trains on; best effort
        qWarning("Winnow: %s", qPrintable(splitWarning));
        // Say it where the user looks: a split that is not saved may shift when files are added or cleaned.
        Q_EMIT statusMessage(tr("Training goes on, but %1: a later cleaning may move files between train and "
                                "valid.")
                                 .arg(splitWarning));
    }
    const quint64 job = m_controller->train(*m_dataset, c, runDir);
    if (job == 0) {
        setStatus(tr("The engine is busy with another job."), true);
        return;
    }
    m_job = job;
    m_jobKind = QStringLiteral("train");
    m_jobRoot = m_dataset->root;
    m_loadPending = false; // a new model replaces whatever the last run was
    m_pendingRunDir = runDir;
}

void TrainingPanel::cancel()
{
    if (m_controller)
        m_controller->cancel();
    setStatus(tr("Cancelling…"));
}

void TrainingPanel::retrain()
{
    if (!m_controller || !m_dataset || m_busy)
        return;
    // A full fine-tune when one takes under a minute (or runs on a GPU), else the fine-tuned network's last layer
    // refitted on its cached features (about a second).
    const quint64 job = m_controller->retrain(*m_dataset, TrainingController::RetrainMode(m_retrainMode));
    if (job == 0) {
        setStatus(tr("Cannot retrain now: the engine is busy or has no model yet."), true);
        return;
    }
    m_job = job;
    m_jobKind = QStringLiteral("retrain");
    m_jobRoot = m_dataset->root;
}

void TrainingPanel::onStarted(quint64 job, const QString& what)
{
    if (job != m_job && m_dataset)
        m_jobRoot = m_dataset->root; // started elsewhere: on the dataset shown
    m_job = job;
    m_jobKind = what;
    m_jobUnreadable.clear();
    m_epochsDone = 0;
    m_plotStarted = false;
    setBusy(true);
    if (!jobIsForOpenDataset()) {
        m_progress->setRange(0, 0);
        setStatus(tr("Finishing a job for %1…").arg(QFileInfo(m_jobRoot).fileName()));
        return;
    }
    if (what == QLatin1String("train")) {
        m_epochModel->clear();
        const TrainConfig c = config();
        m_chartView->reset(c.epochs + c.freezeEpochs);
    }
    m_progress->setRange(0, 0); // busy until the first progress report
    setStatus(JobStatus::startedText(what));
}

void TrainingPanel::onProgress(quint64 job, const TrainProgress& p)
{
    Q_UNUSED(job)
    if (!m_busy)
        setBusy(true);
    if (!jobIsForOpenDataset())
        return;
    const int bpe = qMax(1, p.batchesPerEpoch);
    if (p.phase == QLatin1String("train") && p.totalEpochs > 0) {
        if (!m_plotStarted) { // a fresh curve and epoch table for every fine-tune (a full retrain too)
            m_plotStarted = true;
            if (m_jobKind != QLatin1String("train"))
                m_epochModel->clear();
            m_chartView->reset(p.totalEpochs);
        }
        const double x = m_epochsDone + double(p.batch) / bpe;
        m_chartView->addTrainPoint(x, p.smoothLoss);
        m_progress->setRange(0, 1000);
        m_progress->setValue(int(1000.0 * qMin(1.0, x / qMax(1, p.totalEpochs))));
        m_progress->setFormat(
            tr("epoch %1/%2 · batch %3/%4").arg(m_epochsDone + 1).arg(p.totalEpochs).arg(p.batch).arg(bpe));
        setStatus(tr("Training: loss %1").arg(p.smoothLoss, 0, 'f', 4));
    } else {
        m_progress->setRange(0, 1000);
        m_progress->setValue(int(1000.0 * qBound(0.0, double(p.batch) / bpe, 1.0)));
        m_progress->setFormat(QStringLiteral("%1 %2/%3").arg(p.phase).arg(p.batch).arg(bpe));
        setStatus(JobStatus::phaseText(p.phase));
    }
}

void TrainingPanel::onEpochFinished(quint64 job, const EpochStats& stats)
{
    Q_UNUSED(job)
    if (!jobIsForOpenDataset())
        return;
    m_epochModel->append(stats);
    m_epochTable->scrollToBottom();
    ++m_epochsDone;
    m_chartView->addValidPoint(m_epochsDone, stats.validLoss);
}

void TrainingPanel::onScoresReady(quint64 job, const ScoreSet& scores)
{
    Q_UNUSED(job)
    if (!jobIsForOpenDataset()
        || (!scores.datasetRoot.isEmpty() && QDir::cleanPath(scores.datasetRoot) != QDir::cleanPath(m_jobRoot)))
        return;
    m_pendingDiff.reset();
    if (m_jobKind == QLatin1String("load")) {
        m_lastScores = scores; // the baseline of the next round's "predictions changed"
        return;
    }
    setStatus(tr("Scored %n image(s).", nullptr, int(scores.records.size())));
    m_jobUnreadable = scores.unreadable;
    // Compare with the previous round of the same dataset (shown with the round that follows).
    m_pendingDiff.reset();
    if (!m_lastScores.isEmpty() && m_lastScores.datasetRoot == scores.datasetRoot)
        m_pendingDiff = compareRounds(m_lastScores, scores);
    m_lastScores = scores;
}

void TrainingPanel::onRoundFinished(quint64 job, const RoundSummary& summary)
{
    Q_UNUSED(job)
    if (!jobIsForOpenDataset())
        return;
    RoundSummary r = summary;
    // Round numbers only grow within a dataset's history (the engine counts from 0 again at each fine-tune).
    if (!m_roundModel->rows().isEmpty())
        r.round = qMax(r.round, m_roundModel->rows().constLast().round + 1);
    const std::optional<RoundDiff> diff = std::exchange(m_pendingDiff, std::nullopt);
    // Files changed since the previous round, each once (the same count as the tooltip's).
    if (diff)
        r.filesChanged = diff->filesChanged();
    m_roundModel->append(r, diff);
    m_roundTable->scrollToBottom();
    saveRoundHistory(m_jobKind == QLatin1String("train") ? m_pendingRunDir : m_lastRunDir);
}

void TrainingPanel::onRunLoaded(
    quint64 job, const QString& runDir, const RunInfo& info, const QVector<RoundSummary>& rounds)
{
    Q_UNUSED(job)
    if (!m_dataset || QDir::cleanPath(info.datasetRoot) != QDir::cleanPath(m_dataset->root))
        return;
    m_lastRunDir = runDir;
    // The form shows the settings this run was trained with, so that Start or a full retrain repeats them.
    if (!m_busy || m_jobKind == QLatin1String("load")) {
        TrainConfig c = info.config;
        if (!c.weights.isEmpty() && !QFileInfo(c.weights).isFile())
            c.weights = config().weights; // moved or deleted since: keep what the form had rather than a dead path
        setConfig(c);
    }
    m_epochModel->clear();
    m_chartView->reset(int(info.epochs.size()));
    for (const EpochStats& e : info.epochs) {
        m_epochModel->append(e);
        m_chartView->addTrainPoint(e.epoch + 1, e.trainLoss);
        m_chartView->addValidPoint(e.epoch + 1, e.validLoss);
    }
    m_roundModel->clear();
    for (const RoundSummary& r : rounds)
        m_roundModel->append(r);
    m_roundTable->scrollToBottom();
}

void TrainingPanel::onFinished(quint64 job)
{
    Q_UNUSED(job)
    const bool ours = jobIsForOpenDataset();
    if (m_jobKind == QLatin1String("train") && !m_pendingRunDir.isEmpty()) {
        const QString dir = std::exchange(m_pendingRunDir, QString());
        RunMemory::rememberRun(m_jobRoot, dir); // reloaded when this dataset is opened again
        if (ours) {
            m_lastRunDir = dir;
            Q_EMIT runWritten(m_lastRunDir);
        }
    } else if (ours && m_jobKind == QLatin1String("retrain") && !m_lastRunDir.isEmpty()) {
        Q_EMIT runWritten(m_lastRunDir); // the worker saved this round into the run folder
    } else if (ours && m_jobKind == QLatin1String("load") && !m_lastRunDir.isEmpty()) {
        RunMemory::rememberRun(m_jobRoot, m_lastRunDir);
        Q_EMIT runWritten(m_lastRunDir);
    }
    if (ours && m_jobKind != QLatin1String("find data issues")) // that job leaves no model behind
        m_hasModel = true;
    setBusy(false);
    m_progress->setRange(0, 1000);
    m_progress->setValue(ours ? 1000 : 0);
    m_progress->setFormat(ours ? tr("done") : QString());
    if (!ours)
        setStatus(tr("Ready."));
    else if (m_jobKind == QLatin1String("load"))
        showLatestRoundStatus(tr("Reloaded the last run (%1):").arg(QFileInfo(m_lastRunDir).fileName()));
    else
        showLatestRoundStatus(tr("Finished"));
    if (ours && m_jobKind != QLatin1String("load") && !m_jobUnreadable.isEmpty()) {
        const QStringList gone = std::exchange(m_jobUnreadable, {});
        setStatus(m_status->toolTip() + QLatin1Char(' ') + JobStatus::unreadableText(gone), true);
    }
    if (ours && m_jobKind == QLatin1String("load"))
        Q_EMIT runLoaded(m_lastRunDir);
    updateButtons();
    QTimer::singleShot(0, this, &TrainingPanel::startPendingLoad);
}

void TrainingPanel::onFailed(quint64 job, const QString& message)
{
    Q_UNUSED(job)
    setBusy(false);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    if (m_jobKind == QLatin1String("load"))
        setStatus(tr("No earlier run was reloaded (%1): train a model.").arg(message));
    else if (jobIsForOpenDataset())
        setStatus(tr("Failed: %1").arg(message), true);
    else
        setStatus(tr("Ready."));
    QTimer::singleShot(0, this, &TrainingPanel::startPendingLoad);
}

void TrainingPanel::onCancelled(quint64 job)
{
    Q_UNUSED(job)
    setBusy(false);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    setStatus(tr("Cancelled."));
    QTimer::singleShot(0, this, &TrainingPanel::startPendingLoad);
}

} // namespace Winnow
