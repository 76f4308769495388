// SPDX-License-Identifier: GPL-3.0-or-later
// Seeded random dataset trees and cleaning plans, for the randomised cleaning tests (tst_apply_property,
// tst_apply_kill).
#pragma once

#include <algorithm>

#include <QByteArray>
#include <QDir>
#include <QList>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>

#include "core/cleaning/cleaningplan.h"
#include "core/dataset/dataset.h"
#include "tests/cleaning/cleaningtestutil.h"

namespace CleaningTest::RandomTree {

inline QString pick(QRandomGenerator& rng, const QStringList& list)
{
    return list.at(int(rng.bounded(quint32(list.size()))));
}

struct Generated
{
    Winnow::Layout layout = Winnow::Layout::FolderPerClass;
    QStringList classes;
    QStringList files;
};

inline Generated generateTree(QRandomGenerator& rng, const QString& root)
{
    static const QStringList kClassPool = { QStringLiteral("cats"), QStringLiteral("dogs"), QStringLiteral("ours brun"),
        QStringLiteral("кошки"), QStringLiteral("b"), QStringLiteral("x (1)") };
    static const QStringList kNamePool = { QStringLiteral("a.jpg"), QStringLiteral("b.jpg"),
        QStringLiteral("a (1).jpg"), QStringLiteral("x y.png"), QStringLiteral("é.jpg"), QStringLiteral("noext"),
        QStringLiteral("c.JPG"), QStringLiteral("a.b.c.jpeg") };
    Generated g;
    g.layout = rng.bounded(4) == 0 ? Winnow::Layout::TrainValid : Winnow::Layout::FolderPerClass;
    QStringList pool = kClassPool;
    std::shuffle(pool.begin(), pool.end(), rng);
    g.classes = pool.mid(0, 2 + int(rng.bounded(3)));
    if (g.layout == Winnow::Layout::TrainValid) { // both split folders must exist for the layout to be detected
        QDir(root).mkpath(QStringLiteral("train/") + g.classes.first());
        QDir(root).mkpath(QStringLiteral("valid/") + g.classes.first());
    }
    const int n = 3 + int(rng.bounded(12));
    QList<QByteArray> contents;
    for (int i = 0; i < n; ++i) {
        QString folder;
        if (rng.bounded(5) == 0)
            folder = QStringLiteral("unlabeled");
        else if (g.layout == Winnow::Layout::TrainValid)
            folder = (rng.bounded(2) ? QStringLiteral("train/") : QStringLiteral("valid/")) + pick(rng, g.classes);
        else
            folder = pick(rng, g.classes) + (rng.bounded(6) == 0 ? QStringLiteral("/nested") : QString());
        const QString rel = folder + QLatin1Char('/') + pick(rng, kNamePool);
        if (g.files.contains(rel))
            continue;
        QByteArray content;
        if (!contents.isEmpty() && rng.bounded(8) == 0) {
            content = contents.at(int(rng.bounded(quint32(contents.size())))); // duplicate content on purpose
        } else {
            content.resize(1 + int(rng.bounded(64)));
            for (char& c : content)
                c = char(rng.bounded(256));
        }
        contents << content;
        CleaningTest::writeFile(root, rel, content);
        g.files << rel;
    }
    return g;
}

inline Winnow::CleaningPlan randomPlan(QRandomGenerator& rng, const QString& root, const Generated& g)
{
    Winnow::CleaningPlan plan(root, g.layout);
    const QStringList targets = g.classes + QStringList { QStringLiteral("new class"), QStringLiteral("новый") };
    for (const QString& f : g.files) {
        const int r = int(rng.bounded(100));
        if (r < 25)
            plan.markDelete(f);
        else if (r < 65)
            plan.relabel(f, pick(rng, targets)); // sometimes its own class: a Keep
    }
    return plan;
}

} // namespace CleaningTest::RandomTree
