// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPointer>
#include <QWidget>

class QLabel;
class QPushButton;
class QToolButton;

namespace Winnow {

class DecisionStore;

/**
 * The strip under the cleaner and label views: "n to delete, m to move" (always visible), Undo / Redo (also
 * Ctrl+Z / Ctrl+Shift+Z within the page), "Export plan..." (JSON or CSV) and "Apply...", which only emits
 * applyRequested(): the shell runs the transactional apply. GUI thread only.
 */
class PlanBar : public QWidget
{
    Q_OBJECT
public:
    explicit PlanBar(QWidget* parent = nullptr);

    void setStore(DecisionStore* store);
    /// Installs Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) on `scope` and its children.
    void installShortcuts(QWidget* scope);

    QLabel* summaryLabel() const
    {
        return m_summary;
    }
    QPushButton* applyButton() const
    {
        return m_apply;
    }

public Q_SLOTS:
    /// Asks for a file name and writes the plan (format from the chosen extension).
    void exportPlan();

Q_SIGNALS:
    void applyRequested();

private:
    void updateSummary();

    QPointer<DecisionStore> m_store;
    QList<QMetaObject::Connection> m_connections;
    QLabel* m_summary = nullptr;
    QToolButton* m_undo = nullptr;
    QToolButton* m_redo = nullptr;
    QPushButton* m_export = nullptr;
    QPushButton* m_apply = nullptr;
    QAction* m_undoAction = nullptr;
    QAction* m_redoAction = nullptr;
};

} // namespace Winnow
