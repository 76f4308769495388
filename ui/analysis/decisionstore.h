// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QSet>
#include <QStringList>

#include "core/cleaning/cleaningplan.h"
#include "core/dataset/dataset.h"

class QUndoStack;

namespace Winnow {

/**
 * The one place the analysis views record cleaning decisions: a CleaningPlan (keyed by relative path, so decisions
 * survive switching category, split or page) behind a QUndoStack (every call of decide() is one undo step), plus the
 * list of relabel targets (the dataset's classes, then classes created since with createClass()).
 *
 * Every view showing decisions listens to decisionsChanged(). Code that changes the plan behind the store's back
 * (e.g. the shell after a transactional Apply) hands the new plan over with setPlan(), which also clears the undo
 * history. GUI thread only.
 */
class DecisionStore : public QObject
{
    Q_OBJECT
public:
    /// One file's wanted decision. Keep clears any decision.
    struct Change
    {
        QString relPath;
        CleanAction action = CleanAction::Keep;
        QString toClass; ///< Relabel only
        bool markReviewed = true; ///< Keep only: mark the file reviewed (false: just clear its decision)
    };

    explicit DecisionStore(QObject* parent = nullptr);
    ~DecisionStore() override;

    /// A dataset was opened or rescanned. Another root: a fresh plan for it (undo history cleared). The same root:
    /// decisions are kept (they are keyed by path), and classes created earlier stay targets if still absent.
    void setDataset(const Dataset& dataset);
    /// Replaces the plan (loaded from disk, or emptied after Apply). Clears the undo history.
    void setPlan(const CleaningPlan& plan);
    const CleaningPlan& plan() const
    {
        return m_plan;
    }
    QUndoStack* undoStack() const
    {
        return m_undo;
    }

    /// Relabel targets in menu / digit-key order: the dataset vocab, then created classes.
    QStringList classes() const
    {
        return m_classes;
    }
    void setClasses(const QStringList& classes);
    /// Creates the class folder on disk (core createClass: name validated, never overwrites) and adds it to classes().
    bool createClass(const QString& name, QString* error = nullptr);

    /// Records the same decision for every path, as one undo step. Refuses (changing nothing) a bad path or class
    /// name, with a message. Returns true also when nothing changed (no undo step is pushed then).
    bool decide(const QStringList& relPaths, CleanAction action, const QString& toClass = {}, QString* error = nullptr);
    /// Several possibly different decisions as one undo step named `text`.
    bool decideMany(const QList<Change>& changes, const QString& text, QString* error = nullptr);

    CleanAction action(const QString& relPath) const
    {
        return m_plan.action(relPath);
    }
    QString targetClass(const QString& relPath) const
    {
        return m_plan.targetClass(relPath);
    }
    /// Badge text for the grid: "" (undecided), "✓ Kept" (reviewed with Keep), "Delete", "→ class".
    QString decisionText(const QString& relPath) const;
    /// Files the user kept on purpose (K, <Keep>) in this session: no plan entry, but a reviewed mark on the card.
    /// A later decision, or clearing (Backspace), removes the mark, and undo / redo restore it with the decision it
    /// came with (Keep is an undo step like any other); another dataset starts with none.
    bool isReviewed(const QString& relPath) const
    {
        return m_reviewed.contains(relPath);
    }
    /// Drops decisions and Kept marks (Backspace), as one undo step.
    bool clearDecisions(const QStringList& relPaths, QString* error = nullptr);
    PlanSummary summary() const
    {
        return m_plan.summary();
    }
    /// "n to delete, m to move" (always both numbers).
    QString summaryText() const;

    /// Writes the plan: CSV when `path` ends in .csv (any case), else JSON.
    bool exportPlan(const QString& path, QString* error = nullptr) const;

Q_SIGNALS:
    /// Decisions of these files changed; an empty list means any file may have changed (plan replaced).
    void decisionsChanged(const QStringList& relPaths);
    void classesChanged(const QStringList& classes);

private:
    friend class DecisionCommand;
    void restore(const QString& relPath, const std::optional<CleanDecision>& decision);
    void markReviewed(const QString& relPath, bool reviewed);

    CleaningPlan m_plan;
    QUndoStack* m_undo = nullptr;
    QStringList m_classes;
    QStringList m_created; ///< classes made with createClass(), kept across rescans of the same root
    QSet<QString> m_reviewed; ///< kept on purpose (isReviewed)
};

} // namespace Winnow
