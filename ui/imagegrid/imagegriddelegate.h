// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStyledItemDelegate>

class QFontMetrics;

namespace Winnow {

/**
 * Paints one ImageGridModel row as a card: the thumbnail (aspect kept, centred in a square), the file name, and
 * - unscored: "class · split";
 * - scored: "given → predicted" (predicted in red when wrong), then "loss", "p(pred)" and "p(given)" each labelled;
 * plus a decision badge (Keep / Delete / → class) over the thumbnail, a red frame and corner mark on mispredictions,
 * and a warning line for unreadable files. The size is the same for every row (uniform item sizes), fixed per
 * thumbnail size and by whether score lines are shown. Reads only roles, so it works through any proxy.
 */
class ImageGridDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit ImageGridDelegate(QObject* parent = nullptr);

    void setThumbnailSize(int px); ///< logical pixels of the thumbnail square
    int thumbnailSize() const;
    void setShowScores(bool on); ///< reserve and draw the score lines
    bool showScores() const;

    QSize cardSize() const;

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    /// Badge colour for a decision text: green Keep, red Delete, blue relabel, grey otherwise.
    static QColor decisionColor(const QString& decision);
    /// A file name that fits `width`: whole if it can; else elided in the middle, keeping the extension and more of
    /// the end of the name than of its start ("0…00123.jpg", not "000…jpg": numbered files differ at the end).
    static QString elideFileName(const QFontMetrics& metrics, const QString& name, int width);

private:
    int lineHeight() const;
    int textLines() const;

    int m_thumbPx = 160;
    bool m_showScores = false;
};

} // namespace Winnow
