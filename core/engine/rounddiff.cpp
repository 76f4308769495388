// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/rounddiff.h"

#include <QHash>

namespace Winnow {

namespace {

int errors(const ScoreSet& set)
{
    int n = 0;
    for (const ScoreRecord& r : set.records)
        n += r.given >= 0 && r.predicted >= 0 && r.predicted != r.given;
    return n;
}

void addConfusion(QVector<int>& m, int classes, const ScoreSet& set, int sign)
{
    for (const ScoreRecord& r : set.records)
        if (r.given >= 0 && r.given < classes && r.predicted >= 0 && r.predicted < classes)
            m[r.given * classes + r.predicted] += sign;
}

} // namespace

QString RoundDiff::text() const
{
    QString s = QStringLiteral("%1 prediction%2 changed (%3 fixed, %4 broken); errors %5 -> %6")
                    .arg(changed.size())
                    .arg(changed.size() == 1 ? QString() : QStringLiteral("s"))
                    .arg(fixed.size())
                    .arg(broken.size())
                    .arg(errorsBefore)
                    .arg(errorsAfter);
    if (filesChanged() > 0) {
        QStringList parts;
        if (removed - moved > 0)
            parts << QStringLiteral("%1 removed").arg(removed - moved);
        if (moved > 0)
            parts << QStringLiteral("%1 moved").arg(moved);
        if (added - moved > 0)
            parts << QStringLiteral("%1 added").arg(added - moved);
        s += QStringLiteral("; %1 file%2 changed (%3)")
                 .arg(filesChanged())
                 .arg(filesChanged() == 1 ? QString() : QStringLiteral("s"))
                 .arg(parts.join(QStringLiteral(", ")));
    }
    return s;
}

namespace {

/// The name a moved file is matched by: its file name without the " (2)" that a collision-safe move adds before the
/// extension (bears/black/00000012.jpg relabelled to grizzly, where that name is taken, becomes 00000012 (1).jpg).
QString moveKey(const QString& relPath)
{
    QString name = relPath.section(QLatin1Char('/'), -1);
    const int dot = name.lastIndexOf(QLatin1Char('.'));
    const int stemEnd = dot > 0 ? dot : int(name.size());
    if (stemEnd >= 4 && name.at(stemEnd - 1) == QLatin1Char(')')) {
        int open = stemEnd - 2;
        while (open >= 0 && name.at(open).isDigit())
            --open;
        if (open >= 1 && open < stemEnd - 2 && name.at(open) == QLatin1Char('(')
            && name.at(open - 1) == QLatin1Char(' '))
            name.remove(open - 1, stemEnd - open + 1);
    }
    return name;
}

} // namespace

RoundDiff compareRounds(const ScoreSet& before, const ScoreSet& after)
{
    RoundDiff d;
    QHash<QString, int> addedNames; ///< file name -> how many added files carry it
    QHash<QString, const ScoreRecord*> old;
    old.reserve(before.records.size());
    for (const ScoreRecord& r : before.records)
        old.insert(r.file, &r);
    for (const ScoreRecord& r : after.records) {
        const ScoreRecord* o = old.take(r.file);
        if (!o) {
            ++d.added;
            ++addedNames[moveKey(r.file)];
            continue;
        }
        ++d.compared;
        // Compare class names, so a changed vocabulary (a class added) still compares the same class.
        const QString was = before.vocab.value(o->predicted);
        const QString now = after.vocab.value(r.predicted);
        if (was == now)
            continue;
        d.changed << r.file;
        if (r.given >= 0) {
            const QString given = after.vocab.value(r.given);
            if (was != given && now == given)
                d.fixed << r.file;
            else if (was == given && now != given)
                d.broken << r.file;
        }
    }
    d.removed = int(old.size());
    for (auto it = old.cbegin(); it != old.cend(); ++it) {
        auto name = addedNames.find(moveKey(it.key()));
        if (name != addedNames.end() && name.value() > 0) {
            --name.value();
            ++d.moved;
        }
    }
    d.changed.sort();
    d.fixed.sort();
    d.broken.sort();
    d.vocab = after.vocab;
    d.errorsBefore = errors(before);
    d.errorsAfter = errors(after);
    if (before.vocab == after.vocab && !after.vocab.isEmpty()) {
        d.classes = int(after.vocab.size());
        d.confusionDelta = QVector<int>(d.classes * d.classes, 0);
        addConfusion(d.confusionDelta, d.classes, after, +1);
        addConfusion(d.confusionDelta, d.classes, before, -1);
    }
    return d;
}

} // namespace Winnow
