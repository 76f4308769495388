// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QListView>
#include <QPointer>
#include <QTimer>

class QMenu;
class QSlider;

namespace Winnow {

class ImageGridDelegate;
class ImageGridModel;

/**
 * Virtualized thumbnail grid: QListView in IconMode with uniform item sizes, per-pixel scrolling and Adjust resize,
 * painting through an ImageGridDelegate it owns. Set an ImageGridModel, or any proxy chain whose bottom is one (e.g.
 * ImageGridProxy); the view finds it through QAbstractProxyModel::sourceModel().
 *
 * Thumbnail scheduling: after scrolling, resizing, showing, resets and layout changes settle (~120 ms), the view asks
 * the model for the visible rows first, then about one screen below, and cancels every other pending request.
 *
 * Zoom: Ctrl+wheel, Ctrl++ / Ctrl+-, or a slider from createZoomSlider(); the value is the thumbnail edge in logical
 * pixels (kMinZoom..kMaxZoom). Keys K / D / R emit decisionRequested("Keep" / "Delete" / "Relabel") for the
 * selection, G emits evidenceKeyPressed(); Enter or double click emits sampleActivated().
 */
class ImageGridView : public QListView
{
    Q_OBJECT
public:
    static constexpr int kMinZoom = 64;
    static constexpr int kMaxZoom = 384;
    static constexpr int kDefaultZoom = 150;

    explicit ImageGridView(QWidget* parent = nullptr);
    ~ImageGridView() override;

    void setModel(QAbstractItemModel* model) override;
    ImageGridModel* gridModel() const; ///< the ImageGridModel under any proxies, or null
    ImageGridDelegate* gridDelegate() const;

    int zoom() const;
    /// A horizontal slider bound both ways to the zoom, parented to `parent`.
    QSlider* createZoomSlider(QWidget* parent);

    /// Text shown centred when the model is empty (e.g. "No images match the filters").
    void setPlaceholderText(const QString& text);
    QString placeholderText() const;

    QList<int> selectedSampleIndices() const; ///< sample indices (Dataset::samples) of the selection, view order
    int currentSampleIndex() const; ///< -1 if none
    /// Scroll to and select the row showing this sample; false if it is filtered out.
    bool selectSample(int sampleIndex);

    /// Rows (of model(), i.e. view rows) whose cards intersect the viewport now.
    QList<int> visibleRows() const;

    /// Appends "Open Containing Folder" and "Copy Path" for one image file to a card's context menu.
    static void addFileActions(QMenu* menu, const QString& absolutePath);

public Q_SLOTS:
    void setZoom(int px);
    void zoomIn();
    void zoomOut();
    void scheduleThumbnails(); ///< (re)arm the debounce timer

Q_SIGNALS:
    void zoomChanged(int px);
    void sampleActivated(int sampleIndex);
    void currentSampleChanged(int sampleIndex);
    void decisionRequested(const QString& decision, const QList<int>& sampleIndices);
    /// G: the owner cycles the model's evidence maps (ImageGridModel::cycleEvidenceMode).
    void evidenceKeyPressed();

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void paintEvent(QPaintEvent* event) override;
    void currentChanged(const QModelIndex& current, const QModelIndex& previous) override;

private:
    void loadThumbnails();
    void syncScoresShown();
    int sourceRowOf(const QModelIndex& viewIndex) const;
    int decodePx() const;
    void ensureDecodeSize();

    ImageGridDelegate* m_delegate = nullptr;
    QPointer<ImageGridModel> m_grid;
    QList<QMetaObject::Connection> m_modelConnections;
    QTimer m_thumbTimer;
    int m_zoom = kDefaultZoom;
    QString m_placeholder;
};

} // namespace Winnow
