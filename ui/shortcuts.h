// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QPair>
#include <QString>

class QMenuBar;
class QWidget;

/// Help > Keyboard Shortcuts: every key of the window in one list.
namespace Winnow::Shortcuts {

/// (keys, what they do): the menu bar's actions in menu order ("File ▸ Open Folder"), then the keys of the thumbnail
/// grids and the decision pages, which are not menu actions.
QList<QPair<QString, QString>> list(const QMenuBar* menuBar);
/// Shows the list in a non-modal dialog (deleted on close) over `parent`.
void showDialog(QWidget* parent, const QList<QPair<QString, QString>>& shortcuts);

} // namespace Winnow::Shortcuts
