// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/cleaning/journal_p.h"

namespace Winnow::Cleaning::Internal {

QByteArray phaseName(Phase p)
{
    switch (p) {
    case Phase::Apply:
        return "apply";
    case Phase::Undo:
        return "undo";
    case Phase::Redo:
        return "redo";
    case Phase::None:
        break;
    }
    return "none";
}

bool isForward(Phase p)
{
    return p != Phase::Undo;
}

QString parentOf(const QString& rel)
{
    const int slash = int(rel.lastIndexOf(QLatin1Char('/')));
    return slash < 0 ? QString() : rel.left(slash);
}

namespace {

/// A size or mtime as written by toJson(); -1 (not recorded) for anything else: out of range, fractional, negative.
qint64 fingerprintValue(const QJsonValue& v)
{
    const double d = v.toDouble(-1);
    if (!(d >= 0 && d < 9223372036854775808.0) || d != double(qint64(d)))
        return -1;
    return qint64(d);
}

} // namespace

QByteArray Journal::toJson() const
{
    QJsonArray steps;
    for (const Step& s : this->steps) {
        QJsonObject o;
        o.insert(QStringLiteral("op"), moveKindName(s.kind));
        o.insert(QStringLiteral("from"), s.from);
        o.insert(QStringLiteral("to"), s.to);
        if (!s.toClass.isEmpty())
            o.insert(QStringLiteral("class"), s.toClass);
        o.insert(QStringLiteral("size"), double(s.size));
        o.insert(QStringLiteral("mtime"), double(s.mtimeMs));
        if (!s.sha256.isEmpty())
            o.insert(QStringLiteral("sha256"), s.sha256);
        if (!s.split.isEmpty())
            o.insert(QStringLiteral("split"), s.split);
        steps.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), QLatin1String(kJournalFormat));
    root.insert(QStringLiteral("version"), kJournalVersion);
    root.insert(QStringLiteral("id"), id);
    root.insert(QStringLiteral("seq"), seq);
    root.insert(
        QStringLiteral("kind"), kind == TransactionKind::Restore ? QStringLiteral("restore") : QStringLiteral("apply"));
    root.insert(QStringLiteral("created"), created.toString(Qt::ISODateWithMs));
    root.insert(QStringLiteral("dataset"), dataset);
    root.insert(QStringLiteral("createdDirs"), QJsonArray::fromStringList(createdDirs));
    root.insert(QStringLiteral("orphans"), QJsonArray::fromStringList(orphans));
    if (split) // the seed as a string: a JSON number would lose bits above 2^53
        root.insert(QStringLiteral("split"),
            QJsonObject { { QStringLiteral("seed"), QString::number(split->seed) },
                { QStringLiteral("validPct"), split->validPct } });
    root.insert(QStringLiteral("steps"), steps);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool Journal::fromJson(const QByteArray& data, Journal* j, QString* error)
{
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("not valid JSON (%1)").arg(perr.errorString());
        return false;
    }
    const QJsonObject o = doc.object();
    if (o.value(QStringLiteral("format")).toString() != QLatin1String(kJournalFormat)) {
        *error = QStringLiteral("not a Winnow journal");
        return false;
    }
    if (o.value(QStringLiteral("version")).toInt() != kJournalVersion) {
        *error = QStringLiteral("unsupported journal version %1").arg(o.value(QStringLiteral("version")).toInt());
        return false;
    }
    j->id = o.value(QStringLiteral("id")).toString();
    j->seq = o.value(QStringLiteral("seq")).toInt();
    j->kind = o.value(QStringLiteral("kind")).toString() == QLatin1String("restore") ? TransactionKind::Restore
                                                                                     : TransactionKind::Apply;
    j->created = QDateTime::fromString(o.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
    j->dataset = o.value(QStringLiteral("dataset")).toString();
    for (const QJsonValue& v : o.value(QStringLiteral("createdDirs")).toArray())
        j->createdDirs << v.toString();
    for (const QJsonValue& v : o.value(QStringLiteral("orphans")).toArray())
        j->orphans << v.toString();
    if (const QJsonObject so = o.value(QStringLiteral("split")).toObject(); !so.isEmpty()) {
        bool ok = false;
        const quint64 seed = so.value(QStringLiteral("seed")).toString().toULongLong(&ok);
        const double pct = so.value(QStringLiteral("validPct")).toDouble(-1);
        if (ok && pct >= 0.0 && pct <= 1.0)
            j->split = SplitSettings { seed, pct };
    }
    const QJsonArray steps = o.value(QStringLiteral("steps")).toArray();
    for (const QJsonValue& v : steps) {
        const QJsonObject so = v.toObject();
        Step s;
        const QString op = so.value(QStringLiteral("op")).toString();
        if (op == QLatin1String("delete")) {
            s.kind = MoveKind::Delete;
        } else if (op == QLatin1String("relabel")) {
            s.kind = MoveKind::Relabel;
        } else if (op == QLatin1String("restore")) {
            s.kind = MoveKind::Restore;
        } else if (op == QLatin1String("rename")) {
            s.kind = MoveKind::Rename;
        } else { // never guess what a step does: a wrong guess would move files the wrong way
            *error = QStringLiteral("unknown step '%1'").arg(op.left(40));
            return false;
        }
        s.from = so.value(QStringLiteral("from")).toString();
        s.to = so.value(QStringLiteral("to")).toString();
        s.toClass = so.value(QStringLiteral("class")).toString();
        s.size = fingerprintValue(so.value(QStringLiteral("size")));
        s.mtimeMs = fingerprintValue(so.value(QStringLiteral("mtime")));
        s.sha256 = so.value(QStringLiteral("sha256")).toString();
        s.split = so.value(QStringLiteral("split")).toString();
        // A journal must never make us touch anything outside the root.
        for (const QString& p : { s.from, s.to }) {
            if (p.isEmpty() || p.startsWith(QLatin1Char('/'))
                || p.split(QLatin1Char('/')).contains(QStringLiteral(".."))
                || p.split(QLatin1Char('/')).contains(QString())) {
                *error = QStringLiteral("bad step path '%1'").arg(p);
                return false;
            }
        }
        j->steps << s;
    }
    if (j->id.isEmpty() || j->steps.isEmpty()) {
        *error = QStringLiteral("journal without id or steps");
        return false;
    }
    return true;
}

LogState LogState::parse(const QByteArray& data, int steps)
{
    LogState s;
    s.pos = QList<qint8>(steps, -1);
    s.hasLog = true;
    s.pending = Phase::None;
    s.state = TransactionState::Incomplete;
    bool any = false;
    const QList<QByteArray> lines = data.split('\n');
    // The last element is what follows the final '\n': empty, or a torn line from a crash mid-write.
    for (qsizetype li = 0; li + 1 < lines.size(); ++li) {
        const QByteArray line = lines.at(li).trimmed();
        const int space = int(line.indexOf(' '));
        const QByteArray word = space < 0 ? line : line.left(space);
        const QByteArray arg = space < 0 ? QByteArray() : line.mid(space + 1);
        auto phaseOf = [](const QByteArray& a) {
            if (a == "apply")
                return Phase::Apply;
            if (a == "undo")
                return Phase::Undo;
            if (a == "redo")
                return Phase::Redo;
            return Phase::None;
        };
        if (word == "begin") {
            any = true;
            if (arg == "rollback") {
                s.rollingBack = true;
            } else if (phaseOf(arg) != Phase::None) {
                s.pending = phaseOf(arg);
                s.rollingBack = false;
            }
        } else if (word == "commit") {
            if (arg == "rollback") {
                s.state = s.pending == Phase::Apply ? TransactionState::RolledBack
                    : s.pending == Phase::Undo      ? TransactionState::Applied
                                                    : TransactionState::Undone;
            } else if (phaseOf(arg) != Phase::None) {
                s.state = phaseOf(arg) == Phase::Undo ? TransactionState::Undone : TransactionState::Applied;
            }
            s.pending = Phase::None;
            s.rollingBack = false;
        } else if (word == "fwd" || word == "back") {
            bool ok = false;
            const int i = arg.toInt(&ok);
            if (ok && i >= 0 && i < steps)
                s.pos[i] = word == "fwd" ? 1 : 0;
        } else if (word == "purged") {
            s.purged = true;
        }
    }
    if (!any) { // empty log: the apply was about to begin
        s.pending = Phase::Apply;
        s.hasLog = false;
    }
    return s;
}

} // namespace Winnow::Cleaning::Internal

namespace Winnow {

QString moveKindName(MoveKind k)
{
    switch (k) {
    case MoveKind::Delete:
        return QStringLiteral("delete");
    case MoveKind::Relabel:
        return QStringLiteral("relabel");
    case MoveKind::Restore:
        return QStringLiteral("restore");
    case MoveKind::Rename:
        return QStringLiteral("rename");
    }
    return {};
}

} // namespace Winnow
