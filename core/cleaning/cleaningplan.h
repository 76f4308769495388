// SPDX-License-Identifier: GPL-3.0-or-later
// The user's cleaning decisions (keep / delete / relabel), before anything touches the disk.
#pragma once

#include <optional>

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include "core/dataset/dataset.h"

namespace Winnow {

/**
 * What to do with one file. `Keep` is the absence of a decision: a plan never stores it.
 */
enum class CleanAction : quint8 {
    Keep,
    Delete, ///< move into the dataset's trash (`.winnow/trash/`), recoverable until the trash is emptied
    Relabel ///< move into another class folder (for an unlabeled file: give it a label)
};

QString cleanActionName(CleanAction a); ///< "keep", "delete", "relabel" (the JSON/CSV spelling)

/// One decision of a plan. `size`/`mtimeMs` fingerprint the file as it was when the decision was taken (-1: unknown);
/// applying refuses a file that changed since.
struct CleanDecision
{
    QString file; ///< relative to the dataset root, '/' separators
    CleanAction action = CleanAction::Keep;
    QString toClass; ///< Relabel only
    qint64 size = -1;
    qint64 mtimeMs = -1; ///< ms since the epoch (UTC)

    bool operator==(const CleanDecision&) const = default;
};

/// Counts of a plan, for "3 to delete, 5 to move" texts.
struct PlanSummary
{
    int deletes = 0;
    int relabels = 0; ///< labelled files moved to another class
    int labels = 0; ///< unlabeled files given a class (also moves)
    int moves() const
    {
        return relabels + labels;
    }
    int total() const
    {
        return deletes + relabels + labels;
    }
    /// "nothing to do", "3 to delete, 5 to move", "3 to delete, 5 to move (2 newly labelled)".
    QString text() const;
};

/**
 * The cleaning decisions for one dataset, keyed by file (relative path). Pure value type, no I/O except the
 * optional fingerprinting in set() and the load/save helpers; not thread-safe (use it from one thread, typically
 * the GUI thread, where a QUndoStack calls set()/remove()).
 *
 * Semantics: relabelling a file to the class it already has is Keep and clears its decision; relabelling a file of
 * an unlabeled folder labels it (it will move from `unlabeled/` into the class folder). Decisions iterate in a stable
 * order (sorted by relative path, as QString compares). The plan knows the dataset layout so that it can tell a
 * file's class from its path (see classOf()).
 *
 * Persistence: toJson()/fromJson() (format documented in core/cleaning/FORMAT.md, "winnow-plan" version 1) and
 * toCsv() (file,action,to, like fastai v1's cleaned.csv).
 */
class CleaningPlan
{
public:
    CleaningPlan() = default;
    /// `root`: the dataset folder (absolute). When non-empty, set() records each file's size and mtime.
    explicit CleaningPlan(
        const QString& root, Layout layout = Layout::FolderPerClass, const QStringList& unlabeledFolders = {});
    /// A plan for a scanned dataset (root, layout and unlabeled folders taken from it).
    static CleaningPlan forDataset(const Dataset& dataset);

    QString root() const
    {
        return m_root;
    }
    Layout layout() const
    {
        return m_layout;
    }
    /// Extra unlabeled folders besides `unlabeled` (relative to the root).
    QStringList unlabeledFolders() const
    {
        return m_unlabeledFolders;
    }
    void setRoot(const QString& root)
    {
        m_root = root;
    }
    void setLayout(Layout layout)
    {
        m_layout = layout;
    }
    void setUnlabeledFolders(const QStringList& folders)
    {
        m_unlabeledFolders = folders;
    }

    /// The class a file belongs to according to its path and the layout; empty for unlabeled files (in `unlabeled/`,
    /// an extra unlabeled folder, directly in the root, or outside train/valid in the train/valid layout).
    QString classOf(const QString& relPath) const;
    /// The split folder ("train"/"valid") of a file in the train/valid layout, else empty.
    QString splitOf(const QString& relPath) const;
    /// Where a Relabel to `className` puts the file, before collision renaming: `<class>/<name>` (folder-per-class,
    /// files in nested folders land directly in the class folder) or `<split>/<class>/<name>` (train/valid; unlabeled
    /// files go to `train/`).
    QString relabelDestination(const QString& relPath, const QString& className) const;

    /**
     * Sets the decision for `relPath`. Keep (or Relabel to the file's own class) removes any decision. Returns false
     * and sets `error` (if given) for a bad path (absolute, '..', inside .winnow/) or an invalid class name; the plan
     * is then unchanged. When root() is set and the file exists, its size and mtime are recorded.
     */
    bool set(const QString& relPath, CleanAction action, const QString& toClass = {}, QString* error = nullptr);
    bool markDelete(const QString& relPath, QString* error = nullptr)
    {
        return set(relPath, CleanAction::Delete, {}, error);
    }
    bool relabel(const QString& relPath, const QString& className, QString* error = nullptr)
    {
        return set(relPath, CleanAction::Relabel, className, error);
    }
    /// Clears one file's decision (= Keep). Returns whether there was one.
    bool remove(const QString& relPath);
    /// Clears every decision (root, layout and folders stay).
    void clear()
    {
        m_decisions.clear();
    }
    /// Inserts a decision as is (fingerprint included), after the same validation as set().
    bool insert(const CleanDecision& decision, QString* error = nullptr);

    CleanAction action(const QString& relPath) const;
    QString targetClass(const QString& relPath) const; ///< Relabel target, else empty
    std::optional<CleanDecision> decision(const QString& relPath) const;
    bool contains(const QString& relPath) const
    {
        return m_decisions.contains(relPath);
    }
    bool isEmpty() const
    {
        return m_decisions.isEmpty();
    }
    int size() const
    {
        return int(m_decisions.size());
    }
    /// Every decision, sorted by file path.
    QList<CleanDecision> decisions() const
    {
        return m_decisions.values();
    }
    PlanSummary summary() const;

    /// JSON "winnow-plan" version 1 (indented, UTF-8).
    QByteArray toJson() const;
    /// CSV with header `file,action,to`, RFC 4180 quoting, one row per decision, '\n' line ends.
    QByteArray toCsv() const;
    /**
     * Parses a "winnow-plan" JSON. On error returns nullopt and a message naming the offending place
     * ("line 3, column 5: ...", "decisions[2]: unknown action 'remove'"). Entries with action "keep" are accepted and
     * ignored. A missing "layout" is taken from the dataset folder on disk when it exists (see detectLayout()).
     */
    static std::optional<CleaningPlan> fromJson(const QByteArray& json, QString* error = nullptr);

    /// Writes toJson() to `path` durably (temp file, fsync, rename).
    bool save(const QString& path, QString* error = nullptr) const;
    static std::optional<CleaningPlan> load(const QString& path, QString* error = nullptr);
    bool saveCsv(const QString& path, QString* error = nullptr) const;

    bool operator==(const CleaningPlan& other) const = default;

private:
    bool isUnlabeledPath(const QString& relPath) const;

    QString m_root;
    Layout m_layout = Layout::FolderPerClass;
    QStringList m_unlabeledFolders;
    QMap<QString, CleanDecision> m_decisions;
};

/// Checks a relative dataset path: non-empty, '/'-separated, no empty/"."/".." components, not absolute, not inside
/// `.winnow/`. Returns an error message, or an empty string when fine.
QString validateRelativePath(const QString& relPath);

/// Checks a class name: non-empty, no '/', '\\' or control characters, no leading/trailing spaces, not hidden ('.'),
/// not "."/"..", and not a reserved folder name ("unlabeled", "train", "valid", case-insensitive), at most 255 bytes.
/// Returns an error message, or an empty string when fine.
QString validateClassName(const QString& name);

/**
 * Creates an empty class folder: `<root>/<name>` (folder-per-class) or `<root>/train/<name>` (train/valid).
 * Fails with a message if the name is invalid, the class already exists (in either split for train/valid) or the
 * folder cannot be made.
 */
bool createClass(
    const QString& root, const QString& name, QString* error = nullptr, Layout layout = Layout::FolderPerClass);

/// The layout of a dataset folder as the cleaning layer sees it: TrainValid when both `train/` and `valid/` are
/// folders, else FolderPerClass.
Layout detectLayout(const QString& root);

} // namespace Winnow
