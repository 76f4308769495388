// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/cleaning: the transaction journal (<root>/.winnow/journal/<id>.json) and its event log (<id>.log),
// as data and as parsers that never trust the disk. Used by transaction.cpp; fuzzed by tests/fuzz/fuzz_journal.cpp.
#pragma once

#include <optional>

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include "core/cleaning/transaction.h"
#include "core/dataset/splitstore.h"

namespace Winnow::Cleaning::Internal {

inline constexpr int kJournalVersion = 1;
inline constexpr char kJournalFormat[] = "winnow-journal";

enum class Phase { None, Apply, Undo, Redo };
enum class Where { From, To, Neither };

QByteArray phaseName(Phase p); ///< "apply", "undo", "redo", "none" (the log's spelling)
bool isForward(Phase p); ///< apply and redo move files from -> to; undo moves them back
QString parentOf(const QString& rel); ///< "a/b/c.jpg" -> "a/b"; "" for a top-level name

struct Step
{
    MoveKind kind = MoveKind::Delete;
    QString from;
    QString to;
    QString toClass;
    qint64 size = -1;
    qint64 mtimeMs = -1;
    QString sha256;
    QString split; ///< the file's split before the step ("train", "valid", "unlabeled"); empty: not recorded
};

struct Journal
{
    QString id;
    int seq = 0;
    TransactionKind kind = TransactionKind::Apply;
    QDateTime created;
    QString dataset;
    QStringList createdDirs; ///< parents first
    QStringList orphans; ///< undone transactions this one makes un-redoable
    std::optional<SplitSettings> split; ///< the settings of the saved split that Step::split was read from
    QList<Step> steps;

    QByteArray toJson() const;

    /// Parses a journal; false and *error on anything malformed (a step path outside the root included).
    static bool fromJson(const QByteArray& data, Journal* j, QString* error);
};

/// What the event log says.
struct LogState
{
    bool hasLog = false;
    TransactionState state = TransactionState::Incomplete;
    Phase pending = Phase::Apply; // a journal without a log is an apply that never started
    bool rollingBack = false;
    bool purged = false;
    QList<qint8> pos; // per step: -1 unknown, 0 at from, 1 at to (a hint; the filesystem is the truth)

    /// Reads an event log; a torn last line (a crash mid-write) is ignored.
    static LogState parse(const QByteArray& data, int steps);
};

} // namespace Winnow::Cleaning::Internal
