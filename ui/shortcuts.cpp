// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/shortcuts.h"

#include <functional>

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QKeySequence>
#include <QMenu>
#include <QMenuBar>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Winnow::Shortcuts {

QList<QPair<QString, QString>> list(const QMenuBar* menuBar)
{
    QList<QPair<QString, QString>> out;
    const auto clean = [](QString text) {
        text.remove(QLatin1Char('&'));
        text = text.section(QLatin1Char('\t'), 0, 0);
        if (text.endsWith(QStringLiteral("…")))
            text.chop(1);
        return text;
    };
    // Menu actions, in menu order (submenus included).
    std::function<void(const QList<QAction*>&, const QString&)> walk = [&](const QList<QAction*>& actions,
                                                                           const QString& path) {
        for (QAction* a : actions) {
            if (a->isSeparator())
                continue;
            if (QMenu* sub = a->menu()) {
                walk(sub->actions(), path + clean(a->text()) + QStringLiteral(" ▸ "));
                continue;
            }
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            if (!keys.isEmpty())
                out.append({ keys.join(QStringLiteral(", ")), path + clean(a->text()) });
        }
    };
    if (menuBar)
        walk(menuBar->actions(), {});
    // Keys of the thumbnail grids and the decision pages (not menu actions).
    const QList<QPair<QString, QString>> grid = {
        { QObject::tr("Arrow keys, Home, End, Page Up/Down"), QObject::tr("Thumbnail grids ▸ Move between images") },
        { QObject::tr("Shift+Arrow, Ctrl+A"), QObject::tr("Thumbnail grids ▸ Extend the selection, select all") },
        { QObject::tr("K"), QObject::tr("Thumbnail grids ▸ Keep (marks the image reviewed)") },
        { QObject::tr("D, Delete"), QObject::tr("Thumbnail grids ▸ Delete (to the dataset's trash when applied)") },
        { QObject::tr("1 – 9"), QObject::tr("Analysis pages ▸ Move to class 1 – 9") },
        { QObject::tr("Backspace"), QObject::tr("Analysis pages ▸ Clear the decision") },
        { QObject::tr("R, right click"), QObject::tr("Thumbnail grids ▸ Decision menu") },
        { QObject::tr("G"),
            QObject::tr("Thumbnail grids ▸ Evidence maps (Grad-CAM): the predicted class, the given label, off") },
        { QObject::tr("Space, double click"),
            QObject::tr("Analysis pages ▸ Large preview (arrows move, the same decision keys work, "
                        "Space or Esc closes)") },
        { QObject::tr("Enter"), QObject::tr("Label page ▸ Accept the suggestion") },
        { QObject::tr("S"), QObject::tr("Label page ▸ Skip") },
        { QKeySequence(QKeySequence::Undo).toString(QKeySequence::NativeText),
            QObject::tr("Analysis pages ▸ Undo the last decision") },
        { QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z).toString(QKeySequence::NativeText) + QStringLiteral(", ")
                + QKeySequence(Qt::CTRL | Qt::Key_Y).toString(QKeySequence::NativeText),
            QObject::tr("Analysis pages ▸ Redo the decision") },
        { QObject::tr("Ctrl+wheel"), QObject::tr("Thumbnail grids ▸ Zoom") },
    };
    out += grid;
    return out;
}

void showDialog(QWidget* parent, const QList<QPair<QString, QString>>& shortcuts)
{
    auto* dialog = new QDialog(parent);
    dialog->setObjectName(QStringLiteral("shortcutsDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Keyboard Shortcuts"));
    auto* list = new QTreeWidget(dialog);
    list->setObjectName(QStringLiteral("shortcutList"));
    list->setRootIsDecorated(false);
    list->setAlternatingRowColors(true);
    list->setHeaderLabels({ QObject::tr("Keys"), QObject::tr("Action") });
    list->setWordWrap(true); // long descriptions wrap instead of ending in "..."
    for (const auto& [keys, what] : shortcuts) {
        auto* item = new QTreeWidgetItem({ keys, what });
        item->setToolTip(1, what);
        list->addTopLevelItem(item);
    }
    list->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    list->header()->setStretchLastSection(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(list);
    layout->addWidget(buttons);
    dialog->resize(760, 600);
    dialog->show();
}

} // namespace Winnow::Shortcuts
