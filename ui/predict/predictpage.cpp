// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/predict/predictpage.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include <QCheckBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/dataset/dataset.h"
#include "core/engine/modelfile.h"
#include "core/engine/predictor.h"
#include "core/engine/run.h"

namespace Winnow {

namespace {

constexpr int kThumb = 56;
constexpr int kPreview = 320;

const QStringList& imagePatterns()
{
    static const QStringList p { QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png"),
        QStringLiteral("*.bmp"), QStringLiteral("*.gif"), QStringLiteral("*.webp"), QStringLiteral("*.tif"),
        QStringLiteral("*.tiff") };
    return p;
}

QImage loadScaled(const QString& path, int side)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QSize s = reader.size();
    if (s.isValid() && (s.width() > side || s.height() > side))
        reader.setScaledSize(s.scaled(side, side, Qt::KeepAspectRatio));
    return reader.read();
}

struct LoadResult
{
    std::shared_ptr<const Predictor> predictor;
    QString error;
};

struct PredictResult
{
    std::vector<quint64> ids;
    QVector<Prediction> predictions;
    QVector<QImage> thumbs;
};

} // namespace

struct PredictPage::Row
{
    quint64 id = 0;
    QString file;
    QImage thumb;
    std::optional<Prediction> result;
    bool inFlight = false;
    std::optional<Explanation> evidence; ///< of the predicted class, with the model of `evidenceGeneration`
    quint64 evidenceGeneration = 0;
    bool explaining = false;
};

PredictPage::PredictPage(QWidget* parent)
    : QWidget(parent)
{
    setAcceptDrops(true);

    m_modelLabel = new QLabel(tr("No model: open an exported model file, or train one first."), this);
    m_modelLabel->setWordWrap(true);
    m_modelLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_openButton = new QPushButton(tr("Open model..."), this);
    m_runButton = new QPushButton(tr("Use current run"), this);
    m_exportButton = new QPushButton(tr("Export..."), this);
    m_exportButton->setToolTip(tr("Save the current run's model as one portable file (for winnow predict / serve)"));
    m_addButton = new QPushButton(tr("Add images..."), this);
    m_clearButton = new QPushButton(tr("Clear"), this);
    connect(m_openButton, &QPushButton::clicked, this, &PredictPage::chooseModel);
    connect(m_runButton, &QPushButton::clicked, this, &PredictPage::useCurrentRun);
    connect(m_exportButton, &QPushButton::clicked, this, &PredictPage::exportModel);
    connect(m_addButton, &QPushButton::clicked, this, &PredictPage::chooseImages);
    connect(m_clearButton, &QPushButton::clicked, this, &PredictPage::clear);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_modelLabel, 1);
    for (auto* b : { m_openButton, m_runButton, m_exportButton, m_addButton, m_clearButton })
        bar->addWidget(b);

    m_hint = new QLabel(tr("Drop images here to predict their class"), this);
    m_hint->setAlignment(Qt::AlignCenter);
    m_hint->setStyleSheet(QStringLiteral("QLabel { border: 2px dashed palette(mid); border-radius: 8px; padding: 24px; "
                                         "color: palette(mid); }"));

    m_list = new QTableWidget(0, 3, this);
    m_list->setHorizontalHeaderLabels({ tr("Image"), tr("Prediction"), tr("Probability") });
    m_list->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_list->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_list->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_list->verticalHeader()->hide();
    m_list->verticalHeader()->setDefaultSectionSize(kThumb + 6);
    m_list->setIconSize(QSize(kThumb, kThumb));
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    connect(m_list, &QTableWidget::itemSelectionChanged, this, &PredictPage::showDetails);

    auto* details = new QWidget(this);
    m_preview = new QLabel(details);
    m_preview->setAlignment(Qt::AlignCenter);
    m_preview->setMinimumSize(kPreview / 2, kPreview / 2);
    m_verdict = new QLabel(details);
    m_verdict->setAlignment(Qt::AlignCenter);
    QFont big = m_verdict->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_verdict->setFont(big);
    m_probs = new QTableWidget(0, 3, details);
    m_probs->setHorizontalHeaderLabels({ tr("Class"), QString(), tr("p") });
    m_probs->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_probs->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_probs->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_probs->verticalHeader()->hide();
    m_probs->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_probs->setSelectionMode(QAbstractItemView::NoSelection);
    m_evidenceBox = new QCheckBox(tr("Evidence map (&G)"), details);
    m_evidenceBox->setToolTip(tr("Colour the parts of the image where the model found its prediction (Grad-CAM: "
                                 "red is strong evidence; the dimmed border is outside the crop the model sees)"));
    connect(m_evidenceBox, &QCheckBox::toggled, this, [this] { showDetails(); });
    auto* dl = new QVBoxLayout(details);
    dl->addWidget(m_preview, 2);
    dl->addWidget(m_evidenceBox, 0, Qt::AlignHCenter);
    dl->addWidget(m_verdict);
    dl->addWidget(m_probs, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_list);
    split->addWidget(details);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_hint);
    layout->addWidget(split, 1);
    updateState();
}

PredictPage::~PredictPage() = default;

void PredictPage::setRunDir(const QString& runDir)
{
    m_runDir = runDir;
    // Follow the run: its first model, and each later round (a retrain rewrites the run folder). A model file the
    // user opened stays in use.
    const bool showingRun = m_loading ? m_loadingRun : (!m_predictor || m_fromRun);
    if (!m_runDir.isEmpty() && showingRun)
        useCurrentRun();
    else if (m_runDir.isEmpty() && m_predictor && m_fromRun && !m_loading) {
        // Another dataset without a run: its predictions must not come from the previous dataset's model.
        m_predictor.reset();
        m_fromRun = false;
        m_modelLabel->setText(tr("No model: open an exported model file, or train one first."));
    }
    updateState();
}

bool PredictPage::hasModel() const
{
    return m_predictor != nullptr;
}

int PredictPage::imageCount() const
{
    return int(m_rows.size());
}

const Prediction* PredictPage::prediction(int row) const
{
    if (row < 0 || row >= int(m_rows.size()) || !m_rows[size_t(row)]->result)
        return nullptr;
    return &*m_rows[size_t(row)]->result;
}

void PredictPage::openModelFile(const QString& file)
{
    startLoad(file, false);
}

void PredictPage::useCurrentRun()
{
    if (!m_runDir.isEmpty())
        startLoad(m_runDir, true);
}

void PredictPage::startLoad(const QString& source, bool isRun)
{
    const quint64 generation = ++m_generation;
    m_loading = true;
    m_loadingRun = isRun;
    m_modelLabel->setText(tr("Loading %1...").arg(QDir::toNativeSeparators(source)));
    updateState();
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, generation, source, isRun] {
        watcher->deleteLater();
        if (generation != m_generation)
            return; // a newer load superseded this one
        m_loading = false;
        const LoadResult r = watcher->result();
        if (!r.predictor) {
            m_modelLabel->setText(tr("Could not load the model: %1").arg(r.error));
            updateState();
            Q_EMIT modelFailed(r.error);
            return;
        }
        m_predictor = r.predictor;
        m_fromRun = isRun;
        const ModelInfo& info = m_predictor->info();
        m_description = tr("%1 (%2), %3 classes (%4), %5 px, from %6")
                            .arg(info.arch, info.kind)
                            .arg(info.vocab.size())
                            .arg(info.vocab.join(QStringLiteral(", ")))
                            .arg(info.size)
                            .arg(isRun ? tr("the current run") : QFileInfo(source).fileName());
        m_modelLabel->setText(m_description);
        // Predictions from the previous model no longer apply.
        for (auto& row : m_rows)
            row->result.reset();
        for (int i = 0; i < m_list->rowCount(); ++i) {
            m_list->item(i, 1)->setText(QString());
            m_list->item(i, 2)->setText(QString());
        }
        updateState();
        Q_EMIT modelLoaded(m_description);
        predictPending();
    });
    watcher->setFuture(QtConcurrent::run([source, isRun] {
        auto p = std::make_shared<Predictor>();
        LoadResult r;
        const bool ok = isRun ? p->loadRun(source, &r.error) : p->load(source, &r.error);
        if (ok)
            r.predictor = p;
        return r;
    }));
}

void PredictPage::addImages(const QStringList& inputs)
{
    const QStringList files = expandImageInputs(inputs);
    static quint64 nextId = 1;
    for (const QString& f : std::as_const(files)) {
        auto row = std::make_unique<Row>();
        row->id = nextId++;
        row->file = f;
        const int r = m_list->rowCount();
        m_list->insertRow(r);
        auto* name = new QTableWidgetItem(QFileInfo(f).fileName());
        name->setToolTip(QDir::toNativeSeparators(f));
        m_list->setItem(r, 0, name);
        m_list->setItem(r, 1, new QTableWidgetItem);
        auto* p = new QTableWidgetItem;
        p->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_list->setItem(r, 2, p);
        m_rows.push_back(std::move(row));
    }
    if (!files.isEmpty() && m_list->selectedItems().isEmpty())
        m_list->selectRow(m_list->rowCount() - int(files.size()));
    updateState();
    predictPending();
}

void PredictPage::predictPending()
{
    if (!m_predictor || m_predicting)
        return;
    PredictResult job;
    QStringList files;
    for (auto& row : m_rows)
        if (!row->result && !row->inFlight) {
            row->inFlight = true;
            job.ids.push_back(row->id);
            files << row->file;
        }
    if (files.isEmpty())
        return;
    m_predicting = true;
    const quint64 generation = m_generation;
    auto predictor = m_predictor;
    auto* watcher = new QFutureWatcher<PredictResult>(this);
    connect(watcher, &QFutureWatcher<PredictResult>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        m_predicting = false;
        const PredictResult r = watcher->result();
        int shown = 0;
        for (size_t i = 0; i < r.ids.size(); ++i) {
            const auto it =
                std::find_if(m_rows.begin(), m_rows.end(), [&](const auto& row) { return row->id == r.ids[i]; });
            if (it == m_rows.end())
                continue; // cleared meanwhile
            Row& row = **it;
            row.inFlight = false;
            const int index = int(it - m_rows.begin());
            if (!r.thumbs[int(i)].isNull()) {
                row.thumb = r.thumbs[int(i)];
                m_list->item(index, 0)->setIcon(QIcon(QPixmap::fromImage(row.thumb)));
            }
            if (generation != m_generation)
                continue; // computed with a previous model: predict again below
            const Prediction& p = r.predictions[int(i)];
            row.result = p;
            if (p.ok()) {
                m_list->item(index, 1)->setText(p.label);
                m_list->item(index, 2)->setText(QString::number(p.probabilities[p.index], 'f', 3));
                m_list->item(index, 1)->setForeground(palette().text());
            } else {
                m_list->item(index, 1)->setText(tr("unreadable"));
                m_list->item(index, 1)->setToolTip(p.error);
                m_list->item(index, 1)->setForeground(Qt::red);
                m_list->item(index, 2)->setText(QString());
            }
            ++shown;
        }
        showDetails();
        if (shown)
            Q_EMIT predictionsReady(shown);
        predictPending(); // anything added (or invalidated) meanwhile
    });
    watcher->setFuture(QtConcurrent::run([predictor, files, job]() mutable {
        job.predictions = predictor->predictFiles(files);
        job.thumbs.reserve(files.size());
        for (const QString& f : files)
            job.thumbs.append(loadScaled(f, kThumb));
        return job;
    }));
}

void PredictPage::showDetails()
{
    const auto selected = m_list->selectionModel()->selectedRows();
    m_probs->setRowCount(0);
    if (selected.isEmpty()) {
        m_preview->clear();
        m_verdict->clear();
        return;
    }
    const int index = selected.first().row();
    if (index < 0 || index >= int(m_rows.size()))
        return;
    Row& row = *m_rows[size_t(index)];
    const QImage img = loadScaled(row.file, kPreview);
    m_evidenceShown = false;
    if (m_evidenceBox->isChecked() && row.result && row.result->ok() && !img.isNull()) {
        if (row.evidence && row.evidenceGeneration == m_generation && row.evidence->ok()) {
            m_preview->setPixmap(QPixmap::fromImage(row.evidence->overlay(img)));
            m_evidenceShown = true;
        } else {
            m_preview->setPixmap(QPixmap::fromImage(img));
            if (!row.evidence || row.evidenceGeneration != m_generation)
                explainRow(index);
        }
    } else {
        m_preview->setPixmap(img.isNull() ? QPixmap() : QPixmap::fromImage(img));
    }
    if (!row.result) {
        m_verdict->setText(m_predictor ? tr("predicting...") : tr("open a model to predict"));
        return;
    }
    const Prediction& p = *row.result;
    if (!p.ok()) {
        m_verdict->setText(tr("Cannot predict: %1").arg(p.error));
        return;
    }
    const QStringList vocab = m_predictor ? m_predictor->vocab() : QStringList();
    m_verdict->setText(tr("%1  (%2 %)").arg(p.label).arg(100.0 * p.probabilities[p.index], 0, 'f', 1));
    std::vector<int> order(size_t(p.probabilities.size()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p.probabilities[a] > p.probabilities[b]; });
    const int shown = std::min<int>(int(order.size()), 20);
    m_probs->setRowCount(shown);
    for (int r = 0; r < shown; ++r) {
        const int c = order[size_t(r)];
        m_probs->setItem(r, 0, new QTableWidgetItem(c < vocab.size() ? vocab.at(c) : QString::number(c)));
        auto* barWidget = new QProgressBar;
        barWidget->setRange(0, 1000);
        barWidget->setValue(int(std::lround(1000.0 * p.probabilities[c])));
        barWidget->setTextVisible(false);
        m_probs->setCellWidget(r, 1, barWidget);
        auto* v = new QTableWidgetItem(QString::number(p.probabilities[c], 'f', 4));
        v->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_probs->setItem(r, 2, v);
    }
}

void PredictPage::setEvidenceVisible(bool on)
{
    m_evidenceBox->setChecked(on);
}

void PredictPage::explainRow(int index)
{
    Row& row = *m_rows[size_t(index)];
    if (!m_predictor || row.explaining)
        return;
    row.explaining = true;
    const quint64 generation = m_generation;
    const quint64 id = row.id;
    auto predictor = m_predictor;
    const QString file = row.file;
    auto* watcher = new QFutureWatcher<Explanation>(this);
    connect(watcher, &QFutureWatcher<Explanation>::finished, this, [this, watcher, generation, id] {
        watcher->deleteLater();
        const auto it = std::find_if(m_rows.begin(), m_rows.end(), [&](const auto& r) { return r->id == id; });
        if (it == m_rows.end())
            return; // cleared meanwhile
        Row& r = **it;
        r.explaining = false;
        r.evidence = watcher->result();
        r.evidenceGeneration = generation;
        const int index = int(it - m_rows.begin());
        if (!r.evidence->ok())
            m_evidenceBox->setToolTip(
                tr("No evidence map for %1: %2").arg(QFileInfo(r.file).fileName(), r.evidence->error));
        const auto selected = m_list->selectionModel()->selectedRows();
        if (!selected.isEmpty() && selected.first().row() == index)
            showDetails(); // a map of a superseded model is computed again there
        Q_EMIT evidenceReady(index);
    });
    watcher->setFuture(QtConcurrent::run([predictor, file] { return predictor->explain(file); }));
}

void PredictPage::clear()
{
    m_rows.clear();
    m_list->setRowCount(0);
    showDetails();
    updateState();
}

void PredictPage::updateState()
{
    m_runButton->setEnabled(!m_runDir.isEmpty() && !m_loading);
    m_exportButton->setEnabled(!m_runDir.isEmpty() && !m_exporting);
    m_openButton->setEnabled(!m_loading);
    m_clearButton->setEnabled(!m_rows.empty());
    m_hint->setVisible(m_rows.empty());
}

void PredictPage::chooseModel()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Open model"),
        QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation),
        tr("Winnow models (*.%1 *.safetensors);;All files (*)").arg(QLatin1String(kModelFileSuffix)));
    if (!file.isEmpty())
        openModelFile(file);
}

void PredictPage::chooseImages()
{
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add images"), QString(),
        tr("Images (%1);;All files (*)").arg(imagePatterns().join(QLatin1Char(' '))));
    if (!files.isEmpty())
        addImages(files);
}

void PredictPage::exportModel()
{
    if (m_exporting)
        return;
    if (m_runDir.isEmpty()) {
        QMessageBox::information(this, tr("Export model"), tr("Train a model first: there is no run to export."));
        return;
    }
    QString error;
    const auto info = readRunInfo(m_runDir, &error);
    if (!info) {
        QMessageBox::warning(this, tr("Export model"), error);
        return;
    }
    const QString name =
        QStringLiteral("%1-%2.%3")
            .arg(QFileInfo(info->datasetRoot).fileName(), info->config.arch, QLatin1String(kModelFileSuffix));
    const QString file = QFileDialog::getSaveFileName(this, tr("Export model"),
        QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)).filePath(name),
        tr("Winnow models (*.%1);;All files (*)").arg(QLatin1String(kModelFileSuffix)));
    if (file.isEmpty())
        return;
    m_exportInteractive = exportRunTo(file);
}

bool PredictPage::exportRunTo(const QString& file)
{
    if (m_exporting || m_runDir.isEmpty())
        return false;
    // Off the GUI thread (reads and writes tens of MB); the page stays usable and says what it is doing.
    m_exporting = true;
    m_exportInteractive = false;
    m_exportButton->setText(tr("Exporting..."));
    updateState();
    auto* watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, file] {
        watcher->deleteLater();
        const QString failure = watcher->result();
        m_exporting = false;
        m_exportButton->setText(tr("Export..."));
        updateState();
        if (!failure.isEmpty()) {
            if (m_exportInteractive) {
                auto* box = new QMessageBox(QMessageBox::Warning, tr("Export model"),
                    tr("The model could not be exported:\n%1").arg(failure), QMessageBox::Ok, this);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            }
            Q_EMIT exportFailed(failure);
            return;
        }
        Q_EMIT exported(file);
        openModelFile(file); // show that the written file loads, and predict with it
    });
    const QString runDir = m_runDir;
    watcher->setFuture(QtConcurrent::run([runDir, file] {
        QString e;
        return Winnow::exportModel(runDir, file, ExportOptions {}, &e) ? QString() : e;
    }));
    return true;
}

void PredictPage::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls()) {
        for (const QUrl& url : event->mimeData()->urls())
            if (url.isLocalFile()) {
                event->acceptProposedAction();
                return;
            }
    }
}

void PredictPage::dropEvent(QDropEvent* event)
{
    QStringList files;
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile())
            files << url.toLocalFile();
    // A dropped model file opens as the model; anything else is an image to predict.
    QStringList images;
    for (const QString& f : std::as_const(files)) {
        if (f.endsWith(QLatin1Char('.') + QLatin1String(kModelFileSuffix), Qt::CaseInsensitive))
            openModelFile(f);
        else
            images << f;
    }
    if (!images.isEmpty())
        addImages(images);
    event->acceptProposedAction();
}

} // namespace Winnow
