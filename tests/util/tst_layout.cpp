// SPDX-License-Identifier: GPL-3.0-or-later
// The names Winnow keeps inside a dataset folder (core/util/layout.h) are what users' datasets already carry: a
// change here would hide their trash, journals and saved split. This pins them, and checks that the writers use them.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "core/dataset/splitstore.h"
#include "core/util/layout.h"

using namespace Winnow;

class TestLayout : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void namesArePinned()
    {
        QCOMPARE(WinnowDir::dirName(), QStringLiteral(".winnow"));
        QCOMPARE(WinnowDir::trashPrefix(), QStringLiteral(".winnow/trash/"));
        QCOMPARE(WinnowDir::splitsRelPath(), QStringLiteral(".winnow/splits.tsv"));
        const QString root = QStringLiteral("/data/bears");
        QCOMPARE(WinnowDir::dir(root), QStringLiteral("/data/bears/.winnow"));
        QCOMPARE(WinnowDir::lockFile(root), QStringLiteral("/data/bears/.winnow/lock"));
        QCOMPARE(WinnowDir::journalDir(root), QStringLiteral("/data/bears/.winnow/journal"));
        QCOMPARE(WinnowDir::trashDir(root), QStringLiteral("/data/bears/.winnow/trash"));
        QCOMPARE(WinnowDir::pendingPlanFile(root), QStringLiteral("/data/bears/.winnow/pending-plan.json"));
        QCOMPARE(Cleaning::winnowDirName(), WinnowDir::dirName());
        QCOMPARE(splitStoreRelPath(), WinnowDir::splitsRelPath());
    }

    void writersUseThem()
    {
        // A delete applied to a real folder lands where the layout says, with its journal and the saved split.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString root = dir.path();
        for (const char* cls : { "a", "b" }) {
            QVERIFY(QDir(root).mkpath(QLatin1String(cls)));
            for (int i = 0; i < 3; ++i) {
                QFile f(QStringLiteral("%1/%2/%3.jpg").arg(root, QLatin1String(cls)).arg(i));
                QVERIFY(f.open(QIODevice::WriteOnly));
                f.write(QByteArray("x").repeated(10 + i));
            }
        }
        CleaningPlan plan(root);
        QVERIFY(plan.markDelete(QStringLiteral("a/0.jpg")));
        const TransactionResult r = Cleaning::applyPlan(root, plan);
        QVERIFY2(r.ok, qPrintable(r.message()));
        QVERIFY(!QFile::exists(root + QStringLiteral("/a/0.jpg")));
        const QList<TrashEntry> trash = Cleaning::listTrash(root);
        QCOMPARE(trash.size(), 1);
        QVERIFY2(trash.first().trashPath.startsWith(WinnowDir::trashPrefix()), qPrintable(trash.first().trashPath));
        QVERIFY(QFile::exists(root + QLatin1Char('/') + trash.first().trashPath));
        QVERIFY(!QDir(WinnowDir::journalDir(root)).entryList(QDir::Files).isEmpty());
        QVERIFY(QFile::exists(root + QLatin1Char('/') + WinnowDir::splitsRelPath()));
    }
};

QTEST_GUILESS_MAIN(TestLayout)
#include "tst_layout.moc"
