// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/imagegrid/imagegridview.h"

#include <cmath>

#include <QAbstractProxyModel>
#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QKeyEvent>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
#include <QSlider>
#include <QUrl>
#include <QWheelEvent>

#include "ui/imagegrid/imagegriddelegate.h"
#include "ui/imagegrid/imagegridmodel.h"

namespace Winnow {

namespace {

constexpr int kThumbDebounceMs = 120;
constexpr int kZoomStep = 24;

} // namespace

ImageGridView::ImageGridView(QWidget* parent)
    : QListView(parent)
    , m_delegate(new ImageGridDelegate(this))
{
    setViewMode(IconMode); // sets Free movement: Static must come after
    setMovement(Static);
    setFlow(LeftToRight);
    setWrapping(true);
    setResizeMode(Adjust);
    setLayoutMode(SinglePass);
    setUniformItemSizes(true);
    setSpacing(4);
    setVerticalScrollMode(ScrollPerPixel);
    setHorizontalScrollMode(ScrollPerPixel);
    setSelectionMode(ExtendedSelection);
    setSelectionRectVisible(true);
    setEditTriggers(NoEditTriggers);
    setDragEnabled(false);
    setMouseTracking(true); // hover highlight
    setWordWrap(false);
    setFrameShape(QFrame::NoFrame);
    setItemDelegate(m_delegate);
    m_delegate->setThumbnailSize(m_zoom);
    verticalScrollBar()->setSingleStep(24);

    m_thumbTimer.setSingleShot(true);
    m_thumbTimer.setInterval(kThumbDebounceMs);
    connect(&m_thumbTimer, &QTimer::timeout, this, &ImageGridView::loadThumbnails);
    connect(this, &QAbstractItemView::activated, this, [this](const QModelIndex& index) {
        const QVariant s = index.data(ImageGridModel::SampleIndexRole);
        if (s.isValid())
            Q_EMIT sampleActivated(s.toInt());
    });
}

ImageGridView::~ImageGridView() = default;

void ImageGridView::setModel(QAbstractItemModel* model)
{
    for (const auto& c : std::as_const(m_modelConnections))
        disconnect(c);
    m_modelConnections.clear();

    QListView::setModel(model);

    // Find the ImageGridModel at the bottom of any proxy chain.
    QAbstractItemModel* m = model;
    while (auto* proxy = qobject_cast<QAbstractProxyModel*>(m))
        m = proxy->sourceModel();
    m_grid = qobject_cast<ImageGridModel*>(m);

    if (model) {
        const auto schedule = [this] { scheduleThumbnails(); };
        m_modelConnections << connect(model, &QAbstractItemModel::modelReset, this, schedule)
                           << connect(model, &QAbstractItemModel::layoutChanged, this, schedule)
                           << connect(model, &QAbstractItemModel::rowsInserted, this, schedule)
                           << connect(model, &QAbstractItemModel::rowsRemoved, this, schedule)
                           << connect(model, &QAbstractItemModel::modelReset, this, [this] { syncScoresShown(); });
    }
    if (m_grid) {
        m_modelConnections << connect(m_grid, &ImageGridModel::scoresChanged, this, [this] { syncScoresShown(); });
        ensureDecodeSize();
    }
    syncScoresShown();
    scheduleThumbnails();
}

ImageGridModel* ImageGridView::gridModel() const
{
    return m_grid;
}

ImageGridDelegate* ImageGridView::gridDelegate() const
{
    return m_delegate;
}

void ImageGridView::syncScoresShown()
{
    m_delegate->setShowScores(m_grid && m_grid->hasScores());
}

int ImageGridView::decodePx() const
{
    // Decode in 64 px buckets (in device pixels) so zooming within a bucket reuses the cache.
    const qreal dpr = devicePixelRatioF();
    const int want = int(std::ceil(m_zoom * dpr));
    return qMin(1024, (want + 63) / 64 * 64);
}

void ImageGridView::ensureDecodeSize()
{
    // Only grow: several views may share one model, and the delegate scales larger thumbnails down smoothly.
    if (m_grid && m_grid->thumbnailSize() < decodePx())
        m_grid->setThumbnailSize(decodePx());
}

int ImageGridView::zoom() const
{
    return m_zoom;
}

void ImageGridView::setZoom(int px)
{
    px = qBound(kMinZoom, px, kMaxZoom);
    if (px == m_zoom)
        return;
    // Keep the current item in place while the grid reflows.
    const QModelIndex anchor = currentIndex().isValid() ? currentIndex() : indexAt(QPoint(8, 8));
    m_zoom = px;
    m_delegate->setThumbnailSize(px);
    ensureDecodeSize();
    doItemsLayout();
    if (anchor.isValid())
        scrollTo(anchor, currentIndex().isValid() ? EnsureVisible : PositionAtTop);
    scheduleThumbnails();
    Q_EMIT zoomChanged(px);
}

void ImageGridView::zoomIn()
{
    setZoom(m_zoom + kZoomStep);
}

void ImageGridView::zoomOut()
{
    setZoom(m_zoom - kZoomStep);
}

QSlider* ImageGridView::createZoomSlider(QWidget* parent)
{
    auto* slider = new QSlider(Qt::Horizontal, parent);
    slider->setRange(kMinZoom, kMaxZoom);
    slider->setSingleStep(8);
    slider->setPageStep(kZoomStep);
    slider->setValue(m_zoom);
    slider->setToolTip(tr("Thumbnail size (Ctrl+wheel)"));
    slider->setFixedWidth(140);
    connect(slider, &QSlider::valueChanged, this, &ImageGridView::setZoom);
    connect(this, &ImageGridView::zoomChanged, slider, [slider](int px) {
        const QSignalBlocker block(slider);
        slider->setValue(px);
    });
    return slider;
}

void ImageGridView::setPlaceholderText(const QString& text)
{
    m_placeholder = text;
    viewport()->update();
}

QString ImageGridView::placeholderText() const
{
    return m_placeholder;
}

QList<int> ImageGridView::selectedSampleIndices() const
{
    QModelIndexList indexes = selectionModel() ? selectionModel()->selectedIndexes() : QModelIndexList();
    std::sort(
        indexes.begin(), indexes.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    QList<int> out;
    out.reserve(indexes.size());
    for (const QModelIndex& idx : std::as_const(indexes)) {
        const QVariant s = idx.data(ImageGridModel::SampleIndexRole);
        if (s.isValid())
            out.append(s.toInt());
    }
    return out;
}

int ImageGridView::currentSampleIndex() const
{
    const QVariant s = currentIndex().data(ImageGridModel::SampleIndexRole);
    return s.isValid() ? s.toInt() : -1;
}

bool ImageGridView::selectSample(int sampleIndex)
{
    if (!m_grid || !model())
        return false;
    const int sourceRow = m_grid->rowForSample(sampleIndex);
    if (sourceRow < 0)
        return false;
    // Map the source index up through the proxy chain to this view's model.
    QList<QAbstractProxyModel*> chain;
    for (QAbstractItemModel* m = model(); auto* proxy = qobject_cast<QAbstractProxyModel*>(m); m = proxy->sourceModel())
        chain.prepend(proxy);
    QModelIndex idx = m_grid->index(sourceRow);
    for (QAbstractProxyModel* proxy : std::as_const(chain))
        idx = proxy->mapFromSource(idx);
    if (!idx.isValid())
        return false;
    setCurrentIndex(idx);
    scrollTo(idx, PositionAtCenter);
    return true;
}

int ImageGridView::sourceRowOf(const QModelIndex& viewIndex) const
{
    QModelIndex idx = viewIndex;
    while (idx.isValid()) {
        auto* proxy = qobject_cast<const QAbstractProxyModel*>(idx.model());
        if (!proxy)
            break;
        idx = proxy->mapToSource(idx);
    }
    return idx.isValid() && idx.model() == m_grid ? idx.row() : -1;
}

QList<int> ImageGridView::visibleRows() const
{
    QList<int> rows;
    QAbstractItemModel* m = model();
    if (!m)
        return rows;
    const int n = m->rowCount(rootIndex());
    if (n == 0)
        return rows;
    const QRect area = viewport()->rect();
    // Rows are laid out in order: binary-search the first card not entirely above the viewport, then walk.
    int lo = 0;
    int hi = n;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (visualRect(m->index(mid, 0, rootIndex())).bottom() < area.top())
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int row = lo; row < n; ++row) {
        const QRect r = visualRect(m->index(row, 0, rootIndex()));
        if (r.top() > area.bottom())
            break;
        if (r.intersects(area))
            rows.append(row);
    }
    return rows;
}

void ImageGridView::addFileActions(QMenu* menu, const QString& absolutePath)
{
    if (!menu || absolutePath.isEmpty())
        return;
    const QString native = QDir::toNativeSeparators(absolutePath);
    QAction* open = menu->addAction(tr("Open Containing &Folder"), menu,
        [absolutePath] { QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(absolutePath).absolutePath())); });
    open->setObjectName(QStringLiteral("openFolderAction"));
    open->setToolTip(QDir::toNativeSeparators(QFileInfo(absolutePath).absolutePath()));
    QAction* copy = menu->addAction(tr("&Copy Path"), menu, [native] { QApplication::clipboard()->setText(native); });
    copy->setObjectName(QStringLiteral("copyPathAction"));
    copy->setToolTip(native);
}

void ImageGridView::scheduleThumbnails()
{
    m_thumbTimer.start();
}

void ImageGridView::loadThumbnails()
{
    if (!m_grid || !model() || !isVisible())
        return;
    const QList<int> visible = visibleRows();
    QList<int> sourceRows;
    sourceRows.reserve(visible.size() * 2);
    for (int row : visible)
        sourceRows.append(sourceRowOf(model()->index(row, 0, rootIndex())));
    // Preload about one screen below the last visible card.
    if (!visible.isEmpty()) {
        const int n = model()->rowCount(rootIndex());
        const int extra = int(visible.size());
        for (int row = visible.last() + 1; row < qMin(n, visible.last() + 1 + extra); ++row)
            sourceRows.append(sourceRowOf(model()->index(row, 0, rootIndex())));
    }
    sourceRows.removeAll(-1);
    m_grid->prioritizeThumbnails(sourceRows);
}

void ImageGridView::wheelEvent(QWheelEvent* event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        const int steps = event->angleDelta().y() / 120;
        if (steps != 0)
            setZoom(m_zoom + steps * kZoomStep);
        event->accept();
        return;
    }
    QListView::wheelEvent(event);
}

void ImageGridView::keyPressEvent(QKeyEvent* event)
{
    if (event->matches(QKeySequence::ZoomIn)
        || (event->modifiers() & Qt::ControlModifier && event->key() == Qt::Key_Equal)) {
        zoomIn();
        return;
    }
    if (event->matches(QKeySequence::ZoomOut)) {
        zoomOut();
        return;
    }
    if (!(event->modifiers() & (Qt::ControlModifier | Qt::AltModifier | Qt::MetaModifier))) {
        QString decision;
        switch (event->key()) {
        case Qt::Key_K:
            decision = QStringLiteral("Keep");
            break;
        case Qt::Key_D:
        case Qt::Key_Delete:
            decision = QStringLiteral("Delete");
            break;
        case Qt::Key_R:
            decision = QStringLiteral("Relabel");
            break;
        case Qt::Key_G:
            Q_EMIT evidenceKeyPressed();
            event->accept();
            return;
        default:
            break;
        }
        if (!decision.isEmpty()) {
            const QList<int> samples = selectedSampleIndices();
            if (!samples.isEmpty())
                Q_EMIT decisionRequested(decision, samples);
            event->accept();
            return;
        }
    }
    QListView::keyPressEvent(event);
}

void ImageGridView::resizeEvent(QResizeEvent* event)
{
    QListView::resizeEvent(event);
    scheduleThumbnails();
}

void ImageGridView::showEvent(QShowEvent* event)
{
    QListView::showEvent(event);
    ensureDecodeSize(); // the screen (and its pixel ratio) is known now
    scheduleThumbnails();
}

void ImageGridView::scrollContentsBy(int dx, int dy)
{
    QListView::scrollContentsBy(dx, dy);
    scheduleThumbnails();
}

void ImageGridView::paintEvent(QPaintEvent* event)
{
    QListView::paintEvent(event);
    if (!m_placeholder.isEmpty() && (!model() || model()->rowCount(rootIndex()) == 0)) {
        QPainter painter(viewport());
        QColor color = palette().color(QPalette::PlaceholderText);
        painter.setPen(color);
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 1.15);
        painter.setFont(f);
        painter.drawText(
            viewport()->rect().adjusted(24, 24, -24, -24), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
    }
}

void ImageGridView::currentChanged(const QModelIndex& current, const QModelIndex& previous)
{
    QListView::currentChanged(current, previous);
    const QVariant s = current.data(ImageGridModel::SampleIndexRole);
    Q_EMIT currentSampleChanged(s.isValid() ? s.toInt() : -1);
}

} // namespace Winnow
