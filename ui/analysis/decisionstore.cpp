// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/analysis/decisionstore.h"

#include <QUndoCommand>
#include <QUndoStack>

namespace Winnow {

/// One undo step: each file's decision before and after. The change is already made when the command is pushed.
class DecisionCommand : public QUndoCommand
{
public:
    struct Entry
    {
        QString relPath;
        std::optional<CleanDecision> before;
        std::optional<CleanDecision> after;
        bool reviewedBefore = false; ///< the Kept mark (Keep on purpose), undone and redone with the decision
        bool reviewedAfter = false;
    };

    DecisionCommand(DecisionStore* store, QList<Entry> entries, const QString& text)
        : QUndoCommand(text)
        , m_store(store)
        , m_entries(std::move(entries))
    { }

    void undo() override
    {
        apply(false);
    }
    void redo() override
    {
        if (m_first) { // pushed after the fact
            m_first = false;
            return;
        }
        apply(true);
    }

private:
    void apply(bool after)
    {
        QStringList paths;
        paths.reserve(m_entries.size());
        for (const Entry& e : std::as_const(m_entries)) {
            m_store->restore(e.relPath, after ? e.after : e.before);
            m_store->markReviewed(e.relPath, after ? e.reviewedAfter : e.reviewedBefore);
            paths << e.relPath;
        }
        Q_EMIT m_store->decisionsChanged(paths);
    }

    DecisionStore* m_store;
    QList<Entry> m_entries;
    bool m_first = true;
};

DecisionStore::DecisionStore(QObject* parent)
    : QObject(parent)
    , m_undo(new QUndoStack(this))
{ }

DecisionStore::~DecisionStore()
{
    // The stack's commands point back at this store: drop them before members go.
    m_undo->clear();
}

void DecisionStore::setDataset(const Dataset& dataset)
{
    const bool sameRoot = !dataset.root.isEmpty() && dataset.root == m_plan.root();
    if (!sameRoot) {
        m_created.clear();
        setPlan(CleaningPlan::forDataset(dataset));
    }
    QStringList classes = dataset.vocab;
    for (const QString& c : std::as_const(m_created))
        if (!classes.contains(c))
            classes << c;
    setClasses(classes);
}

void DecisionStore::setPlan(const CleaningPlan& plan)
{
    m_undo->clear();
    if (plan.root() != m_plan.root())
        m_reviewed.clear();
    m_plan = plan;
    Q_EMIT decisionsChanged({});
}

void DecisionStore::setClasses(const QStringList& classes)
{
    if (classes == m_classes)
        return;
    m_classes = classes;
    Q_EMIT classesChanged(m_classes);
}

bool DecisionStore::createClass(const QString& rawName, QString* error)
{
    const QString name = rawName.trimmed();
    if (const QString bad = validateClassName(name); !bad.isEmpty()) {
        if (error)
            *error = bad;
        return false;
    }
    if (m_classes.contains(name)) {
        if (error)
            *error = tr("A class named '%1' already exists.").arg(name);
        return false;
    }
    if (m_plan.root().isEmpty()) {
        if (error)
            *error = tr("No dataset is open.");
        return false;
    }
    if (!Winnow::createClass(m_plan.root(), name, error, m_plan.layout()))
        return false;
    m_created << name;
    setClasses(m_classes + QStringList { name });
    return true;
}

bool DecisionStore::decide(const QStringList& relPaths, CleanAction action, const QString& toClass, QString* error)
{
    QList<Change> changes;
    changes.reserve(relPaths.size());
    for (const QString& p : relPaths)
        changes.append({ p, action, toClass });
    QString text;
    const int n = int(relPaths.size());
    const QString what = n == 1 ? relPaths.first().section(QLatin1Char('/'), -1) : tr("%n image(s)", nullptr, n);
    switch (action) {
    case CleanAction::Keep:
        text = tr("Keep %1").arg(what);
        break;
    case CleanAction::Delete:
        text = tr("Delete %1").arg(what);
        break;
    case CleanAction::Relabel:
        text = tr("Move %1 to %2").arg(what, toClass);
        break;
    }
    return decideMany(changes, text, error);
}

bool DecisionStore::decideMany(const QList<Change>& changes, const QString& text, QString* error)
{
    // Validate everything first, so that a refused step changes nothing.
    for (const Change& c : changes) {
        QString bad = validateRelativePath(c.relPath);
        if (bad.isEmpty() && c.action == CleanAction::Relabel)
            bad = validateClassName(c.toClass);
        if (!bad.isEmpty()) {
            if (error)
                *error = bad;
            return false;
        }
    }
    QList<DecisionCommand::Entry> entries;
    QStringList paths;
    for (const Change& c : changes) {
        DecisionCommand::Entry e;
        e.relPath = c.relPath;
        e.before = m_plan.decision(c.relPath);
        if (!m_plan.set(c.relPath, c.action, c.toClass, error)) {
            // Cannot happen after validation; roll back what was done so far and report.
            for (auto it = entries.crbegin(); it != entries.crend(); ++it)
                restore(it->relPath, it->before);
            if (!paths.isEmpty())
                Q_EMIT decisionsChanged(paths);
            return false;
        }
        e.after = m_plan.decision(c.relPath);
        // Keep marks the file reviewed (a visible mark, no plan entry); clearing and any other decision drop it.
        e.reviewedBefore = m_reviewed.contains(c.relPath);
        e.reviewedAfter = c.action == CleanAction::Keep && c.markReviewed;
        const bool same = e.before.has_value() == e.after.has_value()
            && (!e.before || (e.before->action == e.after->action && e.before->toClass == e.after->toClass))
            && e.reviewedBefore == e.reviewedAfter;
        if (same) {
            restore(c.relPath, e.before); // keep the old fingerprint too
            continue;
        }
        markReviewed(c.relPath, e.reviewedAfter);
        paths << c.relPath;
        entries.append(std::move(e));
    }
    if (entries.isEmpty())
        return true;
    m_undo->push(new DecisionCommand(this, std::move(entries), text));
    Q_EMIT decisionsChanged(paths);
    return true;
}

bool DecisionStore::clearDecisions(const QStringList& relPaths, QString* error)
{
    QList<Change> changes;
    changes.reserve(relPaths.size());
    for (const QString& p : relPaths)
        changes.append({ p, CleanAction::Keep, {}, false });
    const int n = int(relPaths.size());
    const QString what = n == 1 ? relPaths.first().section(QLatin1Char('/'), -1) : tr("%n image(s)", nullptr, n);
    return decideMany(changes, tr("Clear %1").arg(what), error);
}

void DecisionStore::markReviewed(const QString& relPath, bool reviewed)
{
    if (reviewed)
        m_reviewed.insert(relPath);
    else
        m_reviewed.remove(relPath);
}

void DecisionStore::restore(const QString& relPath, const std::optional<CleanDecision>& decision)
{
    m_plan.remove(relPath);
    if (decision)
        m_plan.insert(*decision);
}

QString DecisionStore::decisionText(const QString& relPath) const
{
    const auto d = m_plan.decision(relPath);
    if (!d)
        return m_reviewed.contains(relPath) ? QStringLiteral("%1 Kept").arg(QChar(0x2713)) : QString();
    switch (d->action) {
    case CleanAction::Keep:
        return {};
    case CleanAction::Delete:
        return QStringLiteral("Delete");
    case CleanAction::Relabel:
        return QChar(0x2192) + QLatin1Char(' ') + d->toClass;
    }
    return {};
}

QString DecisionStore::summaryText() const
{
    const PlanSummary s = m_plan.summary();
    return tr("%1 to delete, %2 to move").arg(s.deletes).arg(s.moves());
}

bool DecisionStore::exportPlan(const QString& path, QString* error) const
{
    if (path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        return m_plan.saveCsv(path, error);
    return m_plan.save(path, error);
}

} // namespace Winnow
