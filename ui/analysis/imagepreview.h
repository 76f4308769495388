// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QImage>
#include <QPointer>

class QLabel;

namespace Winnow {

class DecisionGrid;

/**
 * The large preview of a DecisionGrid's current image (Space, Enter on the Cleaner pages, or double click): the
 * photo scaled to fit, beside the same numbers as the grid's panel and the current decision.
 *
 * It follows the grid: arrows (and Page Up / Page Down) move the grid's current image, and the decision keys (K, D,
 * Delete, 1..9, Backspace, R, G, and in Label mode Enter and S) are the grid's own, so a decision made here is the same
 * undoable decision and moves on to the next image in the grid's order. Ctrl+Z / Ctrl+Shift+Z undo and redo. Space or
 * Escape closes it and gives the keyboard back to the grid. Modeless; one per grid. GUI thread only.
 */
class ImagePreview : public QDialog
{
    Q_OBJECT
public:
    explicit ImagePreview(DecisionGrid* grid);
    ~ImagePreview() override;

    /// The sample shown (-1: none).
    int sample() const
    {
        return m_sample;
    }
    /// Relative path of the sample shown (empty: none).
    QString relPath() const
    {
        return m_relPath;
    }
    /// Shows this sample (decodes it at about screen size) and its numbers.
    void showSample(int sampleIndex);
    /// Re-reads the numbers and the decision of the shown sample (after a decision or new scores).
    void refreshDetails();

    QLabel* imageLabel() const
    {
        return m_image;
    }
    QLabel* detailsLabel() const
    {
        return m_details;
    }
    /// The decoded image (null when unreadable or none).
    QImage image() const
    {
        return m_decoded;
    }
    /// Whether the image is shown with its evidence map (the grid's G mode, once the map is ready).
    bool showsEvidence() const
    {
        return !m_evidence.isNull();
    }

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void rescale();

    QPointer<DecisionGrid> m_grid;
    QLabel* m_image = nullptr;
    QLabel* m_details = nullptr;
    QLabel* m_decision = nullptr;
    QImage m_decoded;
    QImage m_evidence; ///< m_decoded with the grid's evidence map blended in, or null
    QString m_loadError;
    int m_sample = -1;
    QString m_relPath;
};

} // namespace Winnow
