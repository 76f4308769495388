// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow clean` and `winnow trash` end to end: exit codes, messages, and what happens to the files.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "tests/cleaning/cleaningtestutil.h"
#include "tests/testutils.h"

using namespace Winnow;
using CleaningTest::hashTree;

namespace {

struct Run
{
    int code = -1;
    QString out;
    QString err;
};

Run winnow(const QStringList& args)
{
    QProcess p;
    p.setStandardInputFile(QProcess::nullDevice()); // never a terminal: --empty must not prompt
    p.start(winnowBinary(), args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

void makeTree(const QString& root)
{
    for (const char* f : { "cats/a.jpg", "cats/b.jpg", "dogs/a.jpg", "unlabeled/u.jpg" })
        QVERIFY(CleaningTest::writeFile(root, QString::fromLatin1(f), QByteArray("bytes of ") + f));
}

QString writePlan(const QString& dir, const QString& root)
{
    CleaningPlan plan(root);
    plan.relabel(QStringLiteral("cats/a.jpg"), QStringLiteral("dogs"));
    plan.markDelete(QStringLiteral("cats/b.jpg"));
    plan.relabel(QStringLiteral("unlabeled/u.jpg"), QStringLiteral("birds"));
    const QString path = dir + QStringLiteral("/plan.json");
    plan.save(path);
    return path;
}

} // namespace

class TestCleanCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void usageErrors_data();
    void usageErrors();
    void dryRunChangesNothing();
    void applyUndoRedoStatus();
    void badPlan();
    void trashCommands();
    void recoveryIsReported();
    void applySavesTheSplit();

private:
    QTemporaryDir m_tmp;
};

void TestCleanCli::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    if (!QFileInfo::exists(winnowBinary()))
        QSKIP("the winnow executable was not built");
}

void TestCleanCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("no dir") << QStringList { "clean" } << 2 << "exactly one of";
    QTest::newRow("no action") << QStringList { "clean", "." } << 2 << "exactly one of";
    QTest::newRow("two actions") << QStringList { "clean", ".", "--undo", "--redo" } << 2 << "exactly one of";
    QTest::newRow("apply without plan") << QStringList { "clean", ".", "--apply" } << 2 << "--plan";
    QTest::newRow("unknown option") << QStringList { "clean", ".", "--frobnicate" } << 2 << "frobnicate";
    QTest::newRow("missing dir") << QStringList { "clean", "/nonexistent/x", "--status" } << 1 << "not a folder";
    QTest::newRow("seed without apply") << QStringList { "clean", ".", "--undo", "--seed", "7" } << 2
                                        << "--seed and --valid-pct go with --apply";
    QTest::newRow("bad valid-pct") << QStringList { "clean", ".", "--plan", "p.json", "--apply", "--valid-pct", "2" }
                                   << 2 << "--valid-pct must be a number between 0 and 1";
    QTest::newRow("trash no action") << QStringList { "trash", "." } << 2 << "exactly one of";
    QTest::newRow("trash files without restore")
        << QStringList { "trash", ".", "--list", "x" } << 2 << "exactly one of";
}

void TestCleanCli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    const Run r = winnow(args);
    QCOMPARE(r.code, code);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
}

void TestCleanCli::dryRunChangesNothing()
{
    const QString root = m_tmp.filePath("dry");
    makeTree(root);
    const auto before = hashTree(root);
    const QString plan = writePlan(m_tmp.path(), root);
    const Run r = winnow({ "clean", root, "--plan", plan, "--dry-run" });
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("cats/a.jpg  ->  dogs/a (1).jpg"), qPrintable(r.out));
    QVERIFY(r.out.contains("1 to delete, 2 to move (1 newly labelled)"));
    QVERIFY(r.out.contains("dry run"));
    QCOMPARE(hashTree(root), before);
    QVERIFY(!QFileInfo::exists(root + "/.winnow"));
}

void TestCleanCli::applyUndoRedoStatus()
{
    const QString root = m_tmp.filePath("apply");
    makeTree(root);
    const auto s0 = hashTree(root);
    const QString plan = writePlan(m_tmp.path(), root);
    Run r = winnow({ "clean", root, "--plan", plan, "--apply" });
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("Applied transaction"));
    QVERIFY(QFileInfo::exists(root + "/dogs/a (1).jpg"));
    QVERIFY(QFileInfo::exists(root + "/birds/u.jpg"));
    const auto s1 = hashTree(root);

    r = winnow({ "clean", root, "--status", "--json" });
    QCOMPARE(r.code, 0);
    const QJsonObject st = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(st.value("transactions").toArray().size(), 1);
    const QJsonObject t = st.value("transactions").toArray().at(0).toObject();
    QCOMPARE(t.value("state").toString(), QStringLiteral("applied"));
    QCOMPARE(t.value("deletes").toInt(), 1);
    QCOMPARE(t.value("moves").toInt(), 2);
    QCOMPARE(st.value("undo").toString(), t.value("id").toString());
    QCOMPARE(st.value("trashFiles").toInt(), 1);

    // Applying the same plan again fails cleanly: its files moved.
    r = winnow({ "clean", root, "--plan", plan, "--apply" });
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("no longer exists"), qPrintable(r.err));
    QCOMPARE(hashTree(root), s1);

    r = winnow({ "clean", root, "--undo" });
    QCOMPARE(r.code, 0);
    QCOMPARE(hashTree(root), s0);
    r = winnow({ "clean", root, "--undo" });
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("nothing to undo"));
    r = winnow({ "clean", root, "--redo" });
    QCOMPARE(r.code, 0);
    QCOMPARE(hashTree(root), s1);
    r = winnow({ "clean", root, "--status" });
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("applied"));
    QVERIFY(r.out.contains("Redo: nothing to redo"));
}

void TestCleanCli::badPlan()
{
    const QString root = m_tmp.filePath("bad");
    makeTree(root);
    const QString path = m_tmp.filePath("bad.json");
    QVERIFY(CleaningTest::writeFile(m_tmp.path(), "bad.json", "{\"format\": \"winnow-plan\", \"version\": 1,"));
    Run r = winnow({ "clean", root, "--plan", path, "--apply" });
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("not valid JSON"), qPrintable(r.err));
    r = winnow({ "clean", root, "--plan", m_tmp.filePath("missing.json"), "--dry-run" });
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("cannot read plan"));
    QVERIFY(!QFileInfo::exists(root + "/.winnow"));
}

void TestCleanCli::trashCommands()
{
    const QString root = m_tmp.filePath("trash");
    makeTree(root);
    const QString plan = writePlan(m_tmp.path(), root);
    QCOMPARE(winnow({ "clean", root, "--plan", plan, "--apply" }).code, 0);

    Run r = winnow({ "trash", root, "--list" });
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("cats/b.jpg"));
    QVERIFY(r.out.contains("1 file(s)"));
    r = winnow({ "trash", root, "--list", "--json" });
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array().size(), 1);

    r = winnow({ "trash", root, "--restore", "cats/nope.jpg" });
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("not in the trash"));
    r = winnow({ "trash", root, "--restore", "cats/b.jpg" });
    QCOMPARE(r.code, 0);
    QVERIFY(QFileInfo::exists(root + "/cats/b.jpg"));
    QCOMPARE(winnow({ "clean", root, "--undo" }).code, 0); // the restore is undoable
    QVERIFY(!QFileInfo::exists(root + "/cats/b.jpg"));

    const auto before = hashTree(root, true);
    r = winnow({ "trash", root, "--empty" }); // stdin is not a terminal: refuse
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("--yes"), qPrintable(r.err));
    QCOMPARE(hashTree(root, true), before);
    r = winnow({ "trash", root, "--empty", "--yes" });
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("Deleted 1 file(s)"));
    QVERIFY(winnow({ "trash", root, "--list" }).out.contains("empty"));
    r = winnow({ "clean", root, "--undo" });
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("trash was emptied"));
}

void TestCleanCli::recoveryIsReported()
{
    const QString root = m_tmp.filePath("recover");
    makeTree(root);
    const auto before = hashTree(root);
    CleaningPlan plan(root);
    plan.markDelete("cats/a.jpg");
    plan.markDelete("cats/b.jpg");
    plan.markDelete("dogs/a.jpg");
    Cleaning::TestHooks::setFailingMoves({ 3, 4 }); // leaves an incomplete transaction behind
    const TransactionResult t = Cleaning::applyPlan(root, plan);
    Cleaning::TestHooks::reset();
    QVERIFY(t.incomplete);
    const Run r = winnow({ "clean", root, "--status" });
    QCOMPARE(r.code, 0);
    QVERIFY2(r.err.contains("recovery") && r.err.contains("rolled back"), qPrintable(r.err));
    QCOMPARE(hashTree(root), before);
    QVERIFY(r.out.contains("rolled back"));
    QVERIFY(winnow({ "clean", root, "--status" }).err.isEmpty()); // nothing left to say
}

void TestCleanCli::applySavesTheSplit()
{
    const QString root = m_tmp.filePath("split");
    makeTree(root);
    const QString plan = writePlan(m_tmp.path(), root);
    const Run r = winnow({ "clean", root, "--plan", plan, "--apply", "--seed", "7", "--valid-pct", "0.5" });
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QFile f(root + "/.winnow/splits.tsv");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    QVERIFY2(text.startsWith("# winnow-splits version=1 seed=7 validPct=0.5\n"), text.constData());
    // The relabelled file is listed at its new path with the split it had; the deleted one keeps its entry.
    QVERIFY2(text.contains("\tdogs/a (1).jpg\n"), text.constData());
    QVERIFY2(text.contains("\tcats/b.jpg\n"), text.constData());
    QVERIFY2(!text.contains("birds/u.jpg"), text.constData()); // newly labelled: the per-file rule
}

QTEST_GUILESS_MAIN(TestCleanCli)
#include "tst_clean_cli.moc"
