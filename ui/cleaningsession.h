// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include "core/cleaning/transaction.h"

class QAction;
class QTimer;
class QWidget;

namespace Winnow {

class DatasetDocument;
class TrainingPanel;
struct Dataset;

/**
 * The cleaning round of a DatasetDocument: Apply (the document's pending decisions, as one journaled,
 * undoable transaction: core/cleaning/transaction.h), Undo / Redo of applied transactions, and the one-click retrain
 * that follows.
 *
 * Transactions run off the GUI thread; the document rescans the folder afterwards (keeping the scores) and, when
 * retrainAfterApply() is on and a training panel is given, the model is retrained on the new labels
 * (TrainingPanel::retrain). Confirmations are modal boxes over `dialogParent` (off with setConfirm(false)); results
 * and failures go out through statusMessage() and errorOccurred().
 * Pending decisions are saved beside the dataset (`<root>/.winnow/pending-plan.json`) as they change and loaded
 * when the folder is opened again, so closing the window loses nothing. GUI thread only.
 */
class CleaningSession : public QObject
{
    Q_OBJECT
public:
    /// `panel` (may be null) retrains after an apply; `dialogParent` (may be null) owns the session and its boxes.
    CleaningSession(DatasetDocument* document, TrainingPanel* panel, QWidget* dialogParent = nullptr);
    ~CleaningSession() override;

    QAction* applyAction() const
    {
        return m_apply;
    }
    QAction* undoAction() const
    {
        return m_undo;
    }
    QAction* redoAction() const
    {
        return m_redo;
    }
    QAction* retrainAfterApplyAction() const
    {
        return m_retrainAfter;
    }

    bool isBusy() const
    {
        return m_busy;
    }
    /// Ask before applying (the default). Tests turn it off.
    void setConfirm(bool confirm)
    {
        m_confirm = confirm;
    }
    /// Where pending decisions are kept for `root`.
    static QString pendingPlanPath(const QString& root);
    /// The text of the Apply confirmation's details: one line per file ("delete  a/b.jpg", "move  a/c.jpg → d/").
    static QString planDetails(const CleaningPlan& plan);

    /// Saves the pending decisions now (the window is closing) and, when there are some, tells the user they are
    /// kept beside the dataset and come back with it. Returns how many were kept.
    int keepPendingOnQuit();

public Q_SLOTS:
    /// Applies the pending decisions (after a confirmation that says what will happen).
    void apply();
    /// Undoes the last applied transaction (files come back from the trash, relabelled files go back).
    void undoLastApply();
    /// Re-applies the last undone transaction.
    void redoApply();
    /// Renames the dataset's images whose names lack their format's extension (Sample::oddName), after asking, as
    /// one transaction that Undo Last Apply undoes; then rescans.
    void renameOddNames();

Q_SIGNALS:
    /// A transaction finished (successfully or not); the rescan has been started when it moved files.
    void transactionFinished(const Winnow::TransactionResult& result);
    void statusMessage(const QString& text, int timeoutMs);
    void errorOccurred(const QString& title, const QString& message);

private:
    enum class Op { Apply, Undo, Redo, Rename };
    void run(Op op, const QList<Cleaning::FileRename>& renames = {});
    void onFinished(Op op, const TransactionResult& result);
    void onDatasetOpened(const Dataset& dataset);
    bool trainingRunning() const;
    void updateActions();
    void scheduleSave();
    void savePending();
    QWidget* dialogParent() const;

    const CleaningPlan& plan() const;
    void setPlan(const CleaningPlan& plan);

    QPointer<DatasetDocument> m_document;
    QPointer<TrainingPanel> m_panel;
    QPointer<QWidget> m_dialogParent;
    QAction* m_apply = nullptr;
    QAction* m_undo = nullptr;
    QAction* m_redo = nullptr;
    QAction* m_retrainAfter = nullptr;
    QTimer* m_saveTimer = nullptr;
    QString m_root; ///< the dataset root the pending plan belongs to
    HistoryStatus m_history;
    bool m_busy = false;
    bool m_confirm = true;
    bool m_retrainPending = false; ///< retrain once the rescan after an apply/undo/redo arrives
    bool m_scorePending = false; ///< re-score after the rescan that follows an apply, undo or redo without retrain
    bool m_loadingPlan = false;
};

} // namespace Winnow
