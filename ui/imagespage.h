// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "core/engine/types.h"

class QComboBox;
class QLabel;
class QLineEdit;

namespace Winnow {

class DatasetDocument;
class ImageGridModel;
class ImageGridProxy;
class ImageGridView;

/**
 * The Images page: the whole dataset in one filterable thumbnail grid (class, split, sort order, data issue, file
 * name), the count of what the filters show, the zoom slider, and a right-click menu that records decisions into the
 * document's DecisionStore. The model and proxy are the window's (other pages share them); the page observes the
 * document through the window's calls to datasetChanged() and scoresChanged().
 */
class ImagesPage : public QWidget
{
    Q_OBJECT
public:
    ImagesPage(DatasetDocument* document, ImageGridModel* model, ImageGridProxy* proxy, QWidget* parent = nullptr);

    ImageGridView* view() const;
    /// The document opened or rescanned a dataset (the model already holds it): class list, count, back to the top.
    void datasetChanged();
    /// New scores (the model already holds them): the first ones sort by highest loss.
    void scoresChanged(const ScoreSet& scores);
    /// Shows only this class (the sidebar's click).
    void showClass(int classIndex);

Q_SIGNALS:
    void statusMessage(const QString& text, int timeoutMs);

private:
    void updateFilterCombos();
    void updateCount();
    void showContextMenu(const QPoint& pos);

    DatasetDocument* m_document = nullptr;
    ImageGridModel* m_imageModel = nullptr;
    ImageGridProxy* m_imageProxy = nullptr;
    ImageGridView* m_imageView = nullptr;
    QComboBox* m_classCombo = nullptr;
    QComboBox* m_splitCombo = nullptr;
    QComboBox* m_issueCombo = nullptr;
    QComboBox* m_sortCombo = nullptr;
    QLineEdit* m_search = nullptr;
    QLabel* m_countLabel = nullptr;
};

} // namespace Winnow
