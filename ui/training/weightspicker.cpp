// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training/weightspicker.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPainter>
#include <QProgressBar>
#include <QSettings>
#include <QStyle>
#include <QStyleOptionFrame>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/engine/weightscatalogue.h"

namespace Winnow {

namespace {

/// A line edit that, while it does not have the focus, shows a long text elided in the middle (a path keeps its
/// folder's start and its file name); editing shows and changes the whole text. The tooltip is the whole text.
class MiddleElidingLineEdit : public QLineEdit
{
public:
    using QLineEdit::QLineEdit;

protected:
    void paintEvent(QPaintEvent* event) override
    {
        QStyleOptionFrame option;
        initStyleOption(&option);
        QRect textRect = style()
                             ->subElementRect(QStyle::SE_LineEditContents, &option, this)
                             .adjusted(2 + textMargins().left(), 0, -2 - textMargins().right(), 0);
        // Not under the clear button (a child tool button at the right end).
        for (const QWidget* child : findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
            if (child->isVisible() && child->geometry().left() > width() / 2)
                textRect.setRight(qMin(textRect.right(), child->geometry().left() - 3));
        const QString full = text();
        if (hasFocus() || full.isEmpty() || fontMetrics().horizontalAdvance(full) <= textRect.width()) {
            QLineEdit::paintEvent(event);
            return;
        }
        QPainter painter(this);
        style()->drawPrimitive(QStyle::PE_PanelLineEdit, &option, &painter, this);
        painter.setPen(palette().color(isEnabled() ? QPalette::Active : QPalette::Disabled, QPalette::Text));
        painter.drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
            fontMetrics().elidedText(full, Qt::ElideMiddle, textRect.width()));
    }
};

} // namespace

WeightsPicker::WeightsPicker(QWidget* parent)
    : QWidget(parent)
{
    auto* weightsRow = new QHBoxLayout;
    weightsRow->setSpacing(4);
    m_weights = new MiddleElidingLineEdit(this);
    m_weights->setObjectName(QStringLiteral("weightsEdit"));
    m_weights->setPlaceholderText(tr("none: random initialisation"));
    m_weights->setClearButtonEnabled(true);
    auto* browseButton = new QToolButton(this);
    browseButton->setIcon(style()->standardIcon(QStyle::SP_DirOpenIcon));
    browseButton->setToolTip(tr("Choose a .safetensors weights file"));
    m_catalogueButton = new QToolButton(this);
    m_catalogueButton->setObjectName(QStringLiteral("catalogueButton"));
    m_catalogueButton->setIcon(style()->standardIcon(QStyle::SP_ArrowDown));
    m_catalogueButton->setToolTip(tr("Well-known pretrained weights: download once into the cache, then use"));
    m_catalogueButton->setPopupMode(QToolButton::InstantPopup);
    m_catalogueMenu = new QMenu(m_catalogueButton);
    m_catalogueMenu->setObjectName(QStringLiteral("catalogueMenu"));
    m_catalogueMenu->setToolTipsVisible(true);
    m_catalogueButton->setMenu(m_catalogueMenu);
    connect(m_catalogueMenu, &QMenu::aboutToShow, this, &WeightsPicker::rebuildCatalogueMenu);
    weightsRow->addWidget(m_weights, 1);
    weightsRow->addWidget(browseButton);
    weightsRow->addWidget(m_catalogueButton);

    m_downloadRow = new QWidget(this);
    auto* downloadLayout = new QHBoxLayout(m_downloadRow);
    downloadLayout->setContentsMargins(0, 0, 0, 0);
    m_downloadBar = new QProgressBar(m_downloadRow);
    m_downloadBar->setObjectName(QStringLiteral("downloadBar"));
    m_downloadBar->setTextVisible(true);
    auto* downloadCancel = new QToolButton(m_downloadRow);
    downloadCancel->setIcon(style()->standardIcon(QStyle::SP_DialogCancelButton));
    downloadCancel->setToolTip(tr("Cancel the download (nothing is kept)"));
    downloadLayout->addWidget(m_downloadBar, 1);
    downloadLayout->addWidget(downloadCancel);
    m_downloadRow->hide();

    m_weightsWarning = new QLabel(this);
    m_weightsWarning->setWordWrap(true);
    m_weightsWarning->setObjectName(QStringLiteral("weightsWarning"));

    // The three rows a form had: a hidden row takes no space (nor spacing), as a hidden form row does.
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(weightsRow);
    layout->addWidget(m_downloadRow);
    layout->addWidget(m_weightsWarning);

    m_downloader = new WeightsDownloader(this);
    connect(downloadCancel, &QToolButton::clicked, m_downloader, &WeightsDownloader::cancel);
    connect(m_downloader, &WeightsDownloader::progress, this, [this](qint64 received, qint64 total) {
        if (total > 0) {
            m_downloadBar->setRange(0, 1000);
            m_downloadBar->setValue(int(1000 * received / total));
            m_downloadBar->setFormat(
                tr("%1: %2 of %3 MB").arg(m_downloadId).arg(received / 1e6, 0, 'f', 1).arg(total / 1e6, 0, 'f', 1));
        } else {
            m_downloadBar->setRange(0, 0);
            m_downloadBar->setFormat(tr("%1: %2 MB").arg(m_downloadId).arg(received / 1e6, 0, 'f', 1));
        }
    });
    connect(m_downloader, &WeightsDownloader::finished, this, [this](const QString& path, const QString& sha) {
        m_downloadRow->hide();
        m_weights->setText(path);
        Q_EMIT statusMessage(
            tr("Downloaded %1 (SHA-256 %2).").arg(m_downloadId, sha.left(16) + QStringLiteral("…")), false);
        updateEnabled();
        Q_EMIT downloadingChanged(false);
        Q_EMIT downloaded(path);
    });
    connect(m_downloader, &WeightsDownloader::failed, this, [this](const QString& message) {
        m_downloadRow->hide();
        Q_EMIT statusMessage(message == QLatin1String("cancelled")
                ? tr("Download of %1 cancelled.").arg(m_downloadId)
                : tr("Could not download %1: %2").arg(m_downloadId, message),
            message != QLatin1String("cancelled"));
        updateEnabled();
        Q_EMIT downloadingChanged(false);
        Q_EMIT downloadFailed(message);
    });

    connect(browseButton, &QToolButton::clicked, this, &WeightsPicker::browse);
    connect(m_weights, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_weights->setToolTip(QDir::toNativeSeparators(text));
        updateWarning();
        Q_EMIT weightsChanged(weights());
    });
    updateWarning();
}

WeightsPicker::~WeightsPicker() = default;

QString WeightsPicker::weights() const
{
    return m_weights->text().trimmed();
}

void WeightsPicker::setWeights(const QString& path)
{
    m_weights->setText(path);
    if (path == defaultPretrainedWeights(m_arch))
        m_lastDefaultWeights = path;
    updateWarning(); // also when the text is the same: the file may have come or gone
}

void WeightsPicker::setArch(const QString& arch)
{
    m_arch = arch;
    // Follow the architecture while the field still holds a default (or nothing).
    const QString current = weights();
    if (current.isEmpty() || current == m_lastDefaultWeights) {
        m_lastDefaultWeights = defaultPretrainedWeights(arch);
        m_weights->setText(m_lastDefaultWeights);
    }
    updateWarning();
}

void WeightsPicker::setArchAndWeights(const QString& arch, const QString& path)
{
    m_arch = arch;
    setWeights(path);
}

void WeightsPicker::setJobRunning(bool running)
{
    m_jobRunning = running;
    updateEnabled();
}

void WeightsPicker::updateEnabled()
{
    m_weights->setEnabled(!m_jobRunning);
    m_catalogueButton->setEnabled(!m_jobRunning && !isDownloading());
}

void WeightsPicker::updateWarning()
{
    const QString path = weights();
    QString text;
    if (path.isEmpty())
        text = tr("No pretrained weights: the network starts from random values and needs far more data and epochs.");
    else if (!QFileInfo(path).isFile())
        text = tr("File not found.");
    else if (!path.endsWith(QLatin1String(".safetensors"), Qt::CaseInsensitive))
        text = tr("Expected a .safetensors file.");
    m_warning = text;
    m_weightsWarning->setVisible(!text.isEmpty());
    m_weightsWarning->setText(
        QStringLiteral("<span style='color:#b9770e'>&#9888; %1</span>").arg(text.toHtmlEscaped()));
}

QMenu* WeightsPicker::catalogueMenu() const
{
    return m_catalogueMenu;
}

QLineEdit* WeightsPicker::lineEdit() const
{
    return m_weights;
}

bool WeightsPicker::isDownloading() const
{
    return m_downloader->isRunning();
}

void WeightsPicker::rebuildCatalogueMenu()
{
    m_catalogueMenu->clear();
    const WeightsCatalogue catalogue = weightsCatalogue();
    const QString arch = m_arch;
    const QList<WeightsEntry> entries = catalogue.forArch(arch);
    if (entries.isEmpty()) {
        QAction* none = m_catalogueMenu->addAction(tr("No catalogue weights for %1").arg(arch));
        none->setEnabled(false);
    }
    for (const WeightsEntry& e : entries) {
        const bool cached = !cachedWeightsFile(e).isEmpty();
        QAction* a =
            m_catalogueMenu->addAction(cached ? tr("%1 (downloaded)").arg(e.title) : tr("%1 (download)").arg(e.title));
        a->setData(e.id);
        a->setEnabled(!m_downloader->isRunning());
        a->setToolTip(QStringLiteral("%1\n%2").arg(e.url.toString(), e.source));
        connect(a, &QAction::triggered, this, [this, e] { useWeightsEntry(e); });
    }
    for (const QString& error : catalogue.errors) {
        QAction* bad = m_catalogueMenu->addAction(tr("Catalogue problem: %1").arg(error));
        bad->setEnabled(false);
    }
    m_catalogueMenu->addSeparator();
    const QString local = defaultPretrainedWeights(arch);
    if (!local.isEmpty()) {
        QAction* shared =
            m_catalogueMenu->addAction(tr("Local ImageNet weights (%1)").arg(QFileInfo(local).fileName()));
        shared->setToolTip(QDir::toNativeSeparators(local));
        connect(shared, &QAction::triggered, this, [this, local] { m_weights->setText(local); });
    }
    m_catalogueMenu->addAction(tr("Choose a File…"), this, &WeightsPicker::browse);
    QAction* none = m_catalogueMenu->addAction(tr("No Pretrained Weights"), this, [this] { m_weights->clear(); });
    none->setToolTip(tr("Random initialisation: needs far more data and epochs"));
}

bool WeightsPicker::useCatalogueWeights(const QString& id)
{
    const WeightsCatalogue catalogue = weightsCatalogue();
    const WeightsEntry* entry = catalogue.find(id);
    return entry && useWeightsEntry(*entry);
}

bool WeightsPicker::useWeightsEntry(const WeightsEntry& e)
{
    if (m_downloader->isRunning())
        return false;
    if (m_arch != e.arch)
        Q_EMIT archRequested(e.arch); // the owner switches and calls setArch(): the default may follow first
    const QString cached = cachedWeightsFile(e);
    if (!cached.isEmpty()) {
        m_weights->setText(cached);
        return true;
    }
    m_downloadId = e.id;
    m_downloadBar->setRange(0, 0);
    m_downloadBar->setFormat(tr("%1: connecting…").arg(e.id));
    m_downloadRow->show();
    Q_EMIT statusMessage(tr("Downloading %1 from %2…").arg(e.id, e.url.host()), false);
    if (!m_downloader->start(e))
        return false; // failed() already reported why
    updateEnabled();
    Q_EMIT downloadingChanged(true);
    return true;
}

void WeightsPicker::browse()
{
    QString start = weights();
    if (start.isEmpty())
        start = QSettings().value(QStringLiteral("training/lastWeightsDir")).toString();
    const QString file = QFileDialog::getOpenFileName(
        this, tr("Pretrained Weights"), start, tr("Safetensors weights (*.safetensors);;All files (*)"));
    if (file.isEmpty())
        return;
    QSettings().setValue(QStringLiteral("training/lastWeightsDir"), QFileInfo(file).absolutePath());
    m_weights->setText(file);
}

} // namespace Winnow
