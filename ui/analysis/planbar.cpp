// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/planbar.h"

#include <QAction>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QToolButton>
#include <QUndoStack>

#include "ui/analysis/decisionstore.h"

namespace Winnow {

PlanBar::PlanBar(QWidget* parent)
    : QWidget(parent)
{
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("planSummary"));
    QFont bold = m_summary->font();
    bold.setBold(true);
    m_summary->setFont(bold);
    m_undo = new QToolButton(this);
    m_redo = new QToolButton(this);
    m_undoAction = new QAction(QIcon::fromTheme(QStringLiteral("edit-undo")), tr("Undo"), this);
    m_undoAction->setShortcuts({ QKeySequence::Undo });
    m_redoAction = new QAction(QIcon::fromTheme(QStringLiteral("edit-redo")), tr("Redo"), this);
    m_redoAction->setShortcuts({ QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y) });
    for (QAction* a : { m_undoAction, m_redoAction }) {
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        a->setEnabled(false);
    }
    connect(m_undoAction, &QAction::triggered, this, [this] {
        if (m_store)
            m_store->undoStack()->undo();
    });
    connect(m_redoAction, &QAction::triggered, this, [this] {
        if (m_store)
            m_store->undoStack()->redo();
    });
    m_undo->setDefaultAction(m_undoAction);
    m_redo->setDefaultAction(m_redoAction);
    m_undo->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_redo->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    m_export = new QPushButton(tr("Export plan..."), this);
    m_export->setToolTip(tr("Save the decisions as JSON (re-loadable) or CSV (file,action,to)"));
    connect(m_export, &QPushButton::clicked, this, &PlanBar::exportPlan);
    m_apply = new QPushButton(tr("Apply..."), this);
    m_apply->setObjectName(QStringLiteral("applyButton"));
    m_apply->setToolTip(tr("Review and carry out the decisions (deleted files go to the dataset's trash)"));
    connect(m_apply, &QPushButton::clicked, this, &PlanBar::applyRequested);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->addWidget(m_summary, 1);
    layout->addWidget(m_undo);
    layout->addWidget(m_redo);
    layout->addSpacing(12);
    layout->addWidget(m_export);
    layout->addWidget(m_apply);
    updateSummary();
}

void PlanBar::installShortcuts(QWidget* scope)
{
    scope->addAction(m_undoAction);
    scope->addAction(m_redoAction);
}

void PlanBar::setStore(DecisionStore* store)
{
    for (const auto& c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_store = store;
    if (store) {
        QUndoStack* undo = store->undoStack();
        m_connections << connect(store, &DecisionStore::decisionsChanged, this, &PlanBar::updateSummary)
                      << connect(undo, &QUndoStack::canUndoChanged, m_undoAction, &QAction::setEnabled)
                      << connect(undo, &QUndoStack::canRedoChanged, m_redoAction, &QAction::setEnabled)
                      << connect(undo, &QUndoStack::undoTextChanged, this,
                             [this](const QString& t) { m_undoAction->setToolTip(tr("Undo %1").arg(t)); })
                      << connect(undo, &QUndoStack::redoTextChanged, this,
                             [this](const QString& t) { m_redoAction->setToolTip(tr("Redo %1").arg(t)); });
        m_undoAction->setEnabled(undo->canUndo());
        m_redoAction->setEnabled(undo->canRedo());
    } else {
        m_undoAction->setEnabled(false);
        m_redoAction->setEnabled(false);
    }
    updateSummary();
}

void PlanBar::updateSummary()
{
    if (!m_store) {
        m_summary->setText(tr("0 to delete, 0 to move"));
        m_apply->setEnabled(false);
        m_export->setEnabled(false);
        return;
    }
    const PlanSummary s = m_store->summary();
    QString text = m_store->summaryText();
    if (s.labels > 0)
        text += tr(" (%n newly labelled)", nullptr, s.labels);
    m_summary->setText(text);
    m_apply->setEnabled(s.total() > 0);
    m_export->setEnabled(s.total() > 0);
}

void PlanBar::exportPlan()
{
    if (!m_store)
        return;
    QString selected;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export cleaning plan"),
        QStringLiteral("cleaning-plan.json"), tr("Winnow plan (*.json);;CSV file,action,to (*.csv)"), &selected);
    if (path.isEmpty())
        return;
    QString file = path;
    if (!file.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)
        && !file.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        file += selected.contains(QLatin1String("csv")) ? QStringLiteral(".csv") : QStringLiteral(".json");
    QString error;
    if (!m_store->exportPlan(file, &error))
        QMessageBox::warning(this, tr("Export cleaning plan"), tr("Could not write %1:\n%2").arg(file, error));
}

} // namespace Winnow
