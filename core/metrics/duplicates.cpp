// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/metrics/duplicates.h"

#include <algorithm>

#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QSet>

namespace Winnow {

namespace {

int splitRank(Split s)
{
    return s == Split::Train ? 0 : s == Split::Valid ? 1 : 2;
}

} // namespace

CopySpread copySpread(const Dataset& dataset, const QList<int>& samples)
{
    CopySpread out;
    QSet<int> labels;
    for (int i : samples) {
        const Sample& s = dataset.samples.at(i);
        out.train = out.train || s.split == Split::Train;
        out.valid = out.valid || s.split == Split::Valid;
        if (s.label >= 0)
            labels.insert(s.label);
    }
    out.acrossSplit = out.train && out.valid;
    out.conflictingLabels = labels.size() > 1;
    return out;
}

DuplicateReport findExactDuplicates(const Dataset& dataset)
{
    DuplicateReport report;
    QHash<QByteArray, QList<int>> byHash;
    bool anyHash = false;
    for (int i = 0; i < dataset.size(); ++i) {
        const Sample& s = dataset.samples.at(i);
        if (!s.readable() || s.contentHash.isEmpty())
            continue;
        anyHash = true;
        byHash[s.contentHash].append(i);
    }
    report.checked = anyHash || dataset.samples.isEmpty();
    for (auto it = byHash.cbegin(); it != byHash.cend(); ++it) {
        QList<int> members = it.value();
        if (members.size() < 2)
            continue;
        // Read once: a comparator must not see a value change during the sort.
        QHash<int, qint64> modified;
        for (int i : members)
            modified.insert(i, QFileInfo(dataset.absolutePath(i)).lastModified().toMSecsSinceEpoch());
        std::sort(members.begin(), members.end(), [&](int a, int b) {
            const Sample& x = dataset.samples.at(a);
            const Sample& y = dataset.samples.at(b);
            if (splitRank(x.split) != splitRank(y.split))
                return splitRank(x.split) < splitRank(y.split);
            const qint64 mx = modified.value(a), my = modified.value(b);
            if (mx != my)
                return mx < my; // the first one saved; a copy is newer
            return x.relPath < y.relPath;
        });
        DuplicateGroup g;
        for (int i : members)
            g.files << dataset.samples.at(i).relPath;
        const CopySpread spread = copySpread(dataset, members);
        g.acrossSplit = spread.acrossSplit;
        g.conflictingLabels = spread.conflictingLabels;
        report.redundant += int(members.size()) - 1;
        if (spread.train)
            for (int i : members)
                report.leakedValid += dataset.samples.at(i).split == Split::Valid;
        report.conflicting += g.conflictingLabels;
        report.groups.append(g);
    }
    std::sort(report.groups.begin(), report.groups.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
        if (a.files.size() != b.files.size())
            return a.files.size() > b.files.size();
        return a.files.first() < b.files.first();
    });
    return report;
}

} // namespace Winnow
