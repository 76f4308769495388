// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/imagepreview.h"

#include <QCloseEvent>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QImageReader>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QScreen>
#include <QUndoStack>
#include <QVBoxLayout>

#include "core/engine/explainer.h"
#include "ui/analysis/decisiongrid.h"
#include "ui/analysis/decisionstore.h"
#include "ui/imagegrid/imagegridmodel.h"
#include "ui/imagegrid/imagegridview.h"

namespace Winnow {

ImagePreview::ImagePreview(DecisionGrid* grid)
    : QDialog(grid)
    , m_grid(grid)
{
    setObjectName(QStringLiteral("imagePreview"));
    setWindowTitle(tr("Preview"));
    setModal(false);
    setSizeGripEnabled(true);

    m_image = new QLabel(this);
    m_image->setObjectName(QStringLiteral("previewImage"));
    m_image->setAlignment(Qt::AlignCenter);
    m_image->setMinimumSize(160, 120);
    m_image->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored); // the pixmap never drives the layout
    m_image->setBackgroundRole(QPalette::Dark);
    m_image->setAutoFillBackground(true);

    m_details = new QLabel(this);
    m_details->setObjectName(QStringLiteral("previewDetails"));
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setMinimumWidth(200);
    m_details->setMaximumWidth(320);

    m_decision = new QLabel(this);
    m_decision->setObjectName(QStringLiteral("previewDecision"));
    m_decision->setTextFormat(Qt::RichText);
    m_decision->setWordWrap(true);

    auto* keys = new QLabel(this);
    keys->setWordWrap(true);
    keys->setTextFormat(Qt::RichText);
    QPalette dim = keys->palette();
    dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
    keys->setPalette(dim);
    QString keyText = tr("<b>←</b> <b>→</b> previous / next, <b>K</b> keep, <b>D</b> delete, <b>1</b>–<b>9</b> move "
                         "to class, <b>Backspace</b> clear, <b>R</b> menu, <b>G</b> evidence map");
    if (grid->mode() == DecisionGrid::Mode::Label)
        keyText += tr(", <b>Enter</b> accept suggestion, <b>S</b> skip");
    keyText += tr(", <b>Ctrl+Z</b> undo, <b>Space</b> or <b>Esc</b> close.");
    keys->setText(keyText);

    auto* side = new QVBoxLayout;
    side->addWidget(m_details);
    side->addWidget(m_decision);
    side->addStretch(1);
    side->addWidget(keys);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(m_image, 1);
    layout->addLayout(side, 0);

    // About 80 % of the window it belongs to.
    const QWidget* win = grid->window();
    const QSize base = win && win->isVisible() ? win->size() : QSize(1200, 800);
    resize(qMax(640, base.width() * 4 / 5), qMax(480, base.height() * 4 / 5));
}

ImagePreview::~ImagePreview() = default;

void ImagePreview::showSample(int sampleIndex)
{
    m_sample = -1;
    m_relPath.clear();
    m_decoded = QImage();
    m_evidence = QImage();
    m_loadError.clear();
    const Dataset* ds = m_grid ? &m_grid->model()->dataset() : nullptr;
    if (ds && sampleIndex >= 0 && sampleIndex < ds->samples.size()) {
        m_sample = sampleIndex;
        const Sample& s = ds->samples.at(sampleIndex);
        m_relPath = s.relPath;
        setWindowTitle(tr("Preview: %1").arg(s.relPath));
        QImageReader reader(ds->absolutePath(s));
        reader.setAutoTransform(true);
        // Decode at about screen size: a 50-megapixel photo must not cost a second per arrow key.
        const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
        const QSize bound = screen ? screen->availableSize() * screen->devicePixelRatio() : QSize(1920, 1080);
        const QSize full = reader.size();
        if (full.isValid() && (full.width() > bound.width() || full.height() > bound.height()))
            reader.setScaledSize(full.scaled(bound, Qt::KeepAspectRatio));
        if (!reader.read(&m_decoded)) {
            m_loadError = reader.errorString();
            m_decoded = QImage();
        }
        // The grid's evidence map (G), blended in once it is ready (DecisionGrid calls showSample again then).
        const ImageGridModel* model = m_grid->model();
        if (const Explanation* e = model->requestEvidence(model->rowForSample(sampleIndex)); e && !m_decoded.isNull())
            if (e->ok()) {
                m_evidence = e->overlay(m_decoded);
                setWindowTitle(tr("Preview: %1 (evidence for %2)").arg(s.relPath, e->label));
            }
    } else {
        setWindowTitle(tr("Preview"));
    }
    rescale();
    refreshDetails();
}

void ImagePreview::refreshDetails()
{
    if (!m_grid || m_sample < 0) {
        m_details->setText(tr("<i>No image selected.</i>"));
        m_decision->clear();
        return;
    }
    m_details->setText(m_grid->detailsHtml(m_sample));
    const QString relPath = m_grid->model()->dataset().samples.value(m_sample).relPath;
    const DecisionStore* store = m_grid->store();
    QString text;
    if (store) {
        const CleanAction a = store->action(relPath);
        if (a == CleanAction::Delete)
            text = tr("<span style='color:#c62828'><b>To delete</b></span> (recoverable until applied)");
        else if (a == CleanAction::Relabel)
            text = tr("<b>To move to %1</b>").arg(store->targetClass(relPath).toHtmlEscaped());
        else if (store->isReviewed(relPath))
            text = tr("<b>Kept</b> (reviewed)");
        else
            text = tr("<i>No decision yet</i>");
    }
    m_decision->setText(tr("Decision: %1").arg(text));
}

void ImagePreview::rescale()
{
    const QImage& shown = m_evidence.isNull() ? m_decoded : m_evidence;
    if (shown.isNull()) {
        m_image->setPixmap({});
        m_image->setText(m_sample < 0
                ? QString()
                : tr("This image cannot be shown: %1").arg(m_loadError.isEmpty() ? tr("unknown error") : m_loadError));
        return;
    }
    const qreal dpr = devicePixelRatioF();
    const QSize target = m_image->contentsRect().size() * dpr;
    // Fit the space both ways: a small web photo is what most needs a closer look.
    QImage scaled = shown;
    if (target.width() > 0 && target.height() > 0 && shown.size() != shown.size().scaled(target, Qt::KeepAspectRatio))
        scaled = shown.scaled(target, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    QPixmap pm = QPixmap::fromImage(scaled);
    pm.setDevicePixelRatio(dpr);
    m_image->setPixmap(pm);
}

void ImagePreview::keyPressEvent(QKeyEvent* event)
{
    if (!m_grid) {
        QDialog::keyPressEvent(event);
        return;
    }
    const Qt::KeyboardModifiers mods = event->modifiers() & ~Qt::KeypadModifier;
    if (mods == Qt::ControlModifier && event->key() == Qt::Key_Z) {
        if (m_grid->store())
            m_grid->store()->undoStack()->undo();
        return;
    }
    if ((mods == (Qt::ControlModifier | Qt::ShiftModifier) && event->key() == Qt::Key_Z)
        || (mods == Qt::ControlModifier && event->key() == Qt::Key_Y)) {
        if (m_grid->store())
            m_grid->store()->undoStack()->redo();
        return;
    }
    if (mods != Qt::NoModifier) {
        QDialog::keyPressEvent(event);
        return;
    }
    switch (event->key()) {
    case Qt::Key_Space:
    case Qt::Key_Escape:
        close();
        return;
    case Qt::Key_Right:
    case Qt::Key_Down:
    case Qt::Key_PageDown:
        m_grid->advance();
        return;
    case Qt::Key_Left:
    case Qt::Key_Up:
    case Qt::Key_PageUp:
        m_grid->retreat();
        return;
    case Qt::Key_R: {
        QMenu* menu = m_grid->createDecisionMenu(this);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(mapToGlobal(rect().center()));
        return;
    }
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (m_grid->mode() != DecisionGrid::Mode::Label)
            return; // Enter opened the preview on the Cleaner pages: do not close it by accident
        break;
    default:
        break;
    }
    if (!m_grid->handleDecisionKey(event->key()))
        QDialog::keyPressEvent(event);
}

void ImagePreview::resizeEvent(QResizeEvent* event)
{
    QDialog::resizeEvent(event);
    rescale();
}

void ImagePreview::closeEvent(QCloseEvent* event)
{
    QDialog::closeEvent(event);
    if (m_grid) {
        m_grid->window()->activateWindow();
        m_grid->view()->setFocus(Qt::OtherFocusReason);
    }
}

} // namespace Winnow
