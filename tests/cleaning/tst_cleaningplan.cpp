// SPDX-License-Identifier: GPL-3.0-or-later
// CleaningPlan semantics, class names, JSON/CSV round trips and import validation.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "tests/cleaning/cleaningtestutil.h"

using namespace Winnow;

Q_DECLARE_METATYPE(Winnow::Layout)
Q_DECLARE_METATYPE(Winnow::CleanAction)

class TestCleaningPlan : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classOf_data();
    void classOf();
    void setSemantics_data();
    void setSemantics();
    void relabelDestination_data();
    void relabelDestination();
    void summaryCounts();
    void stableOrder();
    void fingerprintRecorded();
    void jsonRoundTrip_data();
    void jsonRoundTrip();
    void jsonKeepRowsAndOwnClassIgnored();
    void csvExport();
    void malformedJson_data();
    void malformedJson();
    void saveAndLoad();
    void layoutFromDiskWhenMissing();
    void classNames_data();
    void classNames();
    void createClass();
    void createClassTrainValid();
};

void TestCleaningPlan::classOf_data()
{
    QTest::addColumn<Layout>("layout");
    QTest::addColumn<QStringList>("unlabeledFolders");
    QTest::addColumn<QString>("relPath");
    QTest::addColumn<QString>("expected");

    const QStringList none;
    QTest::newRow("fpc class") << Layout::FolderPerClass << none << "cats/a.jpg"
                               << "cats";
    QTest::newRow("fpc nested") << Layout::FolderPerClass << none << "cats/sub/a.jpg"
                                << "cats";
    QTest::newRow("fpc unlabeled") << Layout::FolderPerClass << none << "unlabeled/a.jpg" << QString();
    QTest::newRow("fpc Unlabeled any case") << Layout::FolderPerClass << none << "Unlabeled/a.jpg" << QString();
    QTest::newRow("fpc root file") << Layout::FolderPerClass << none << "a.jpg" << QString();
    QTest::newRow("fpc user unlabeled") << Layout::FolderPerClass << QStringList { "inbox/todo/" } << "inbox/todo/a.jpg"
                                        << QString();
    QTest::newRow("fpc user unlabeled sibling")
        << Layout::FolderPerClass << QStringList { "inbox/todo" } << "inbox/other/a.jpg"
        << "inbox";
    QTest::newRow("tv train") << Layout::TrainValid << none << "train/cats/a.jpg"
                              << "cats";
    QTest::newRow("tv valid nested") << Layout::TrainValid << none << "valid/dogs/x/a.jpg"
                                     << "dogs";
    QTest::newRow("tv unlabeled") << Layout::TrainValid << none << "unlabeled/a.jpg" << QString();
    QTest::newRow("tv loose") << Layout::TrainValid << none << "train/a.jpg" << QString();
    QTest::newRow("tv other top") << Layout::TrainValid << none << "test/cats/a.jpg" << QString();
    QTest::newRow("unicode") << Layout::FolderPerClass << none << QStringLiteral("ours brun/été 1.jpg")
                             << QStringLiteral("ours brun");
}

void TestCleaningPlan::classOf()
{
    QFETCH(Layout, layout);
    QFETCH(QStringList, unlabeledFolders);
    QFETCH(QString, relPath);
    QFETCH(QString, expected);
    const CleaningPlan plan(QString(), layout, unlabeledFolders);
    QCOMPARE(plan.classOf(relPath), expected);
}

void TestCleaningPlan::setSemantics_data()
{
    QTest::addColumn<Layout>("layout");
    QTest::addColumn<QString>("file");
    QTest::addColumn<CleanAction>("action");
    QTest::addColumn<QString>("toClass");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<CleanAction>("stored"); // Keep = no decision stored

    const auto F = Layout::FolderPerClass;
    const auto T = Layout::TrainValid;
    QTest::newRow("delete") << F << "cats/a.jpg" << CleanAction::Delete << QString() << true << CleanAction::Delete;
    QTest::newRow("relabel other") << F << "cats/a.jpg" << CleanAction::Relabel << "dogs" << true
                                   << CleanAction::Relabel;
    QTest::newRow("relabel own class = keep")
        << F << "cats/a.jpg" << CleanAction::Relabel << "cats" << true << CleanAction::Keep;
    QTest::newRow("relabel own class nested = keep")
        << F << "cats/x/a.jpg" << CleanAction::Relabel << "cats" << true << CleanAction::Keep;
    QTest::newRow("relabel own class tv = keep")
        << T << "valid/cats/a.jpg" << CleanAction::Relabel << "cats" << true << CleanAction::Keep;
    QTest::newRow("relabel unlabeled = label")
        << F << "unlabeled/a.jpg" << CleanAction::Relabel << "cats" << true << CleanAction::Relabel;
    QTest::newRow("keep") << F << "cats/a.jpg" << CleanAction::Keep << QString() << true << CleanAction::Keep;
    QTest::newRow("class case differs is a relabel")
        << F << "cats/a.jpg" << CleanAction::Relabel << "Cats" << true << CleanAction::Relabel;
    QTest::newRow("bad class slash") << F << "cats/a.jpg" << CleanAction::Relabel << "a/b" << false
                                     << CleanAction::Keep;
    QTest::newRow("bad class reserved") << F << "cats/a.jpg" << CleanAction::Relabel << "unlabeled" << false
                                        << CleanAction::Keep;
    QTest::newRow("bad class empty") << F << "cats/a.jpg" << CleanAction::Relabel << QString() << false
                                     << CleanAction::Keep;
    QTest::newRow("bad path dotdot") << F << "../a.jpg" << CleanAction::Delete << QString() << false
                                     << CleanAction::Keep;
    QTest::newRow("bad path absolute") << F << "/etc/passwd" << CleanAction::Delete << QString() << false
                                       << CleanAction::Keep;
    QTest::newRow("bad path winnow") << F << ".winnow/journal/x.json" << CleanAction::Delete << QString() << false
                                     << CleanAction::Keep;
    QTest::newRow("bad path double slash")
        << F << "cats//a.jpg" << CleanAction::Delete << QString() << false << CleanAction::Keep;
}

void TestCleaningPlan::setSemantics()
{
    QFETCH(Layout, layout);
    QFETCH(QString, file);
    QFETCH(CleanAction, action);
    QFETCH(QString, toClass);
    QFETCH(bool, accepted);
    QFETCH(CleanAction, stored);

    CleaningPlan plan(QString(), layout);
    // A previous decision must be replaced (accepted) or left alone (rejected).
    const QString previous = file.startsWith(QLatin1Char('/')) || file.contains(QLatin1String(".."))
            || file.startsWith(QLatin1String(".winnow")) || file.contains(QLatin1String("//"))
        ? QString()
        : file;
    if (!previous.isEmpty())
        QVERIFY(plan.markDelete(previous));
    QString error;
    QCOMPARE(plan.set(file, action, toClass, &error), accepted);
    QCOMPARE(error.isEmpty(), accepted);
    if (!accepted) {
        QCOMPARE(plan.size(), previous.isEmpty() ? 0 : 1);
        return;
    }
    QCOMPARE(plan.action(file), stored);
    QCOMPARE(plan.contains(file), stored != CleanAction::Keep);
    if (stored == CleanAction::Relabel)
        QCOMPARE(plan.targetClass(file), toClass);
    else
        QVERIFY(plan.targetClass(file).isEmpty());
}

void TestCleaningPlan::relabelDestination_data()
{
    QTest::addColumn<Layout>("layout");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("toClass");
    QTest::addColumn<QString>("expected");
    QTest::newRow("fpc") << Layout::FolderPerClass << "cats/a.jpg"
                         << "dogs"
                         << "dogs/a.jpg";
    QTest::newRow("fpc nested flattens") << Layout::FolderPerClass << "cats/x/y/a.jpg"
                                         << "dogs"
                                         << "dogs/a.jpg";
    QTest::newRow("fpc unlabeled") << Layout::FolderPerClass << "unlabeled/a b.jpg"
                                   << "dogs"
                                   << "dogs/a b.jpg";
    QTest::newRow("tv keeps split") << Layout::TrainValid << "valid/cats/a.jpg"
                                    << "dogs"
                                    << "valid/dogs/a.jpg";
    QTest::newRow("tv unlabeled to train") << Layout::TrainValid << "unlabeled/a.jpg"
                                           << "dogs"
                                           << "train/dogs/a.jpg";
}

void TestCleaningPlan::relabelDestination()
{
    QFETCH(Layout, layout);
    QFETCH(QString, file);
    QFETCH(QString, toClass);
    QFETCH(QString, expected);
    QCOMPARE(CleaningPlan(QString(), layout).relabelDestination(file, toClass), expected);
}

void TestCleaningPlan::summaryCounts()
{
    CleaningPlan plan;
    QCOMPARE(plan.summary().text(), QStringLiteral("nothing to do"));
    QVERIFY(plan.markDelete("cats/1.jpg"));
    QVERIFY(plan.markDelete("dogs/2.jpg"));
    QVERIFY(plan.relabel("cats/3.jpg", "dogs"));
    QVERIFY(plan.relabel("unlabeled/4.jpg", "dogs"));
    QVERIFY(plan.relabel("unlabeled/5.jpg", "cats"));
    QVERIFY(plan.relabel("cats/6.jpg", "cats")); // keep: not counted
    PlanSummary s = plan.summary();
    QCOMPARE(s.deletes, 2);
    QCOMPARE(s.relabels, 1);
    QCOMPARE(s.labels, 2);
    QCOMPARE(s.moves(), 3);
    QCOMPARE(s.total(), 5);
    QCOMPARE(s.text(), QStringLiteral("2 to delete, 3 to move (2 newly labelled)"));
    // Changing a decision moves it between counts; clearing removes it.
    QVERIFY(plan.relabel("cats/1.jpg", "dogs"));
    QVERIFY(plan.remove("unlabeled/4.jpg"));
    QVERIFY(!plan.remove("unlabeled/4.jpg"));
    s = plan.summary();
    QCOMPARE(s.deletes, 1);
    QCOMPARE(s.relabels, 2);
    QCOMPARE(s.labels, 1);
    QCOMPARE(s.text(), QStringLiteral("1 to delete, 3 to move (1 newly labelled)"));
    plan.clear();
    QVERIFY(plan.isEmpty());
    QCOMPARE(plan.summary().total(), 0);
}

void TestCleaningPlan::stableOrder()
{
    QStringList files;
    for (int i = 0; i < 50; ++i)
        files << QStringLiteral("c%1/f%2.jpg").arg(i % 3).arg(i);
    QStringList shuffled = files;
    QRandomGenerator rng(7);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    CleaningPlan a, b;
    for (const QString& f : files)
        QVERIFY(a.markDelete(f));
    for (const QString& f : shuffled)
        QVERIFY(b.markDelete(f));
    QStringList order;
    for (const CleanDecision& d : a.decisions())
        order << d.file;
    QStringList sorted = files;
    std::sort(sorted.begin(), sorted.end());
    QCOMPARE(order, sorted);
    QCOMPARE(a.decisions(), b.decisions());
    QCOMPARE(a.toJson(), b.toJson());
}

void TestCleaningPlan::fingerprintRecorded()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(CleaningTest::writeFile(dir.path(), "cats/a.jpg", "12345"));
    CleaningPlan plan(dir.path());
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.markDelete("cats/missing.jpg")); // allowed; apply reports it
    const auto d = plan.decision("cats/a.jpg");
    QVERIFY(d.has_value());
    QCOMPARE(d->size, 5);
    QCOMPARE(d->mtimeMs, QFileInfo(dir.filePath("cats/a.jpg")).lastModified().toMSecsSinceEpoch());
    QCOMPARE(plan.decision("cats/missing.jpg")->size, -1);
    QVERIFY(!plan.decision("cats/other.jpg").has_value());
}

void TestCleaningPlan::jsonRoundTrip_data()
{
    QTest::addColumn<Layout>("layout");
    QTest::addColumn<QStringList>("unlabeledFolders");
    QTest::newRow("folder-per-class") << Layout::FolderPerClass << QStringList();
    QTest::newRow("train-valid + folders") << Layout::TrainValid << QStringList { "inbox" };
}

void TestCleaningPlan::jsonRoundTrip()
{
    QFETCH(Layout, layout);
    QFETCH(QStringList, unlabeledFolders);
    const QString pre = layout == Layout::TrainValid ? QStringLiteral("train/") : QString();
    CleaningPlan plan(QStringLiteral("/data/bears"), layout, unlabeledFolders);
    QVERIFY(plan.markDelete(pre + "grizzly/00000059.png"));
    QVERIFY(plan.relabel(pre + QStringLiteral("black/été, \"quoted\" 1.jpg"), QStringLiteral("ours brun")));
    QVERIFY(plan.relabel("unlabeled/日本 写真.jpg", "teddy"));
    QVERIFY(plan.insert({ pre + "black/x.jpg", CleanAction::Delete, {}, 1234, 1700000000123 }));

    QString error;
    const auto back = CleaningPlan::fromJson(plan.toJson(), &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QCOMPARE(*back, plan);
    QCOMPARE(back->decision(pre + "black/x.jpg")->mtimeMs, 1700000000123);
    QCOMPARE(back->layout(), layout);

    const QJsonDocument doc = QJsonDocument::fromJson(plan.toJson());
    QCOMPARE(doc.object().value("format").toString(), QStringLiteral("winnow-plan"));
    QCOMPARE(doc.object().value("version").toInt(), 1);
    QCOMPARE(doc.object().value("dataset").toString(), QStringLiteral("/data/bears"));
    QCOMPARE(doc.object().value("decisions").toArray().size(), 4);
}

void TestCleaningPlan::jsonKeepRowsAndOwnClassIgnored()
{
    const QByteArray json = R"({"format":"winnow-plan","version":1,"dataset":"","layout":"folder-per-class",
        "decisions":[{"file":"cats/a.jpg","action":"keep"},
                     {"file":"cats/b.jpg","action":"relabel","to":"cats"},
                     {"file":"cats/c.jpg","action":"delete","to":""},
                     {"file":"cats/d.jpg","action":"relabel","to":"dogs"}]})";
    QString error;
    const auto plan = CleaningPlan::fromJson(json, &error);
    QVERIFY2(plan.has_value(), qPrintable(error));
    QCOMPARE(plan->size(), 2);
    QCOMPARE(plan->action("cats/c.jpg"), CleanAction::Delete);
    QCOMPARE(plan->targetClass("cats/d.jpg"), QStringLiteral("dogs"));
}

void TestCleaningPlan::csvExport()
{
    CleaningPlan plan;
    QVERIFY(plan.markDelete("cats/a.jpg"));
    QVERIFY(plan.relabel("cats/b, c.jpg", "dogs"));
    QVERIFY(plan.relabel("cats/say \"hi\".jpg", "big dogs"));
    const QByteArray expected = "file,action,to\n"
                                "cats/a.jpg,delete,\n"
                                "\"cats/b, c.jpg\",relabel,dogs\n"
                                "\"cats/say \"\"hi\"\".jpg\",relabel,big dogs\n";
    QCOMPARE(plan.toCsv(), expected);
    QCOMPARE(CleaningPlan().toCsv(), QByteArray("file,action,to\n"));
}

void TestCleaningPlan::malformedJson_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not json") << QByteArray("{\"format\": \"winnow-plan\",\n  \"version\": 1,,}") << "line 2";
    QTest::newRow("array") << QByteArray("[]") << "JSON object";
    QTest::newRow("wrong format") << QByteArray(R"({"format":"other","version":1,"decisions":[]})")
                                  << "not a Winnow plan";
    QTest::newRow("no version") << QByteArray(R"({"format":"winnow-plan","decisions":[]})") << "\"version\"";
    QTest::newRow("future version") << QByteArray(R"({"format":"winnow-plan","version":2,"decisions":[]})") << "newer";
    QTest::newRow("no decisions") << QByteArray(R"({"format":"winnow-plan","version":1})") << "\"decisions\"";
    QTest::newRow("bad layout") << QByteArray(R"({"format":"winnow-plan","version":1,"layout":"x","decisions":[]})")
                                << "layout";
    QTest::newRow("bad action") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"remove"}]})")
                                << "decisions[0]: unknown action 'remove'";
    QTest::newRow("missing file") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"action":"delete"}]})")
                                  << "decisions[0]: \"file\"";
    QTest::newRow("relabel without to") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"relabel"}]})")
                                        << "decisions[0]: a relabel needs";
    QTest::newRow("bad class") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"relabel","to":".x"}]})")
                               << "decisions[0]: class name '.x'";
    QTest::newRow("escaping path") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"delete"},{"file":"../x","action":"delete"}]})")
                                   << "decisions[1]:";
    QTest::newRow("duplicate") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"delete"},{"file":"a/b.jpg","action":"keep"}]})")
                               << "more than once";
    QTest::newRow("bad size") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"delete","size":-3}]})")
                              << "\"size\"";
    // Found by tests/fuzz/fuzz_plan (UBSan: a double beyond qint64 was converted to it).
    QTest::newRow("huge size") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"delete","size":48E213}]})")
                               << "\"size\"";
    QTest::newRow("huge mtime") << QByteArray(
        R"({"format":"winnow-plan","version":1,"decisions":[{"file":"a/b.jpg","action":"delete","mtime":1e19}]})")
                                << "\"mtime\"";
}

void TestCleaningPlan::malformedJson()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    QString error;
    const auto plan = CleaningPlan::fromJson(json, &error);
    QVERIFY(!plan.has_value());
    QVERIFY2(error.contains(expected), qPrintable(QStringLiteral("error was: ") + error));
}

void TestCleaningPlan::saveAndLoad()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CleaningPlan plan(dir.path());
    QVERIFY(plan.relabel("unlabeled/a.jpg", "cats"));
    QString error;
    const QString path = dir.filePath("plan.json");
    QVERIFY2(plan.save(path, &error), qPrintable(error));
    const auto back = CleaningPlan::load(path, &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QCOMPARE(*back, plan);
    QVERIFY(plan.saveCsv(dir.filePath("plan.csv"), &error));
    QCOMPARE(CleaningTest::readFile(dir.filePath("plan.csv")), plan.toCsv());
    QVERIFY(!CleaningPlan::load(dir.filePath("missing.json"), &error).has_value());
    QVERIFY(error.contains("missing.json"));
    // No temp files left behind by the durable write.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 2);
}

void TestCleaningPlan::layoutFromDiskWhenMissing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkpath("train/cats"));
    QVERIFY(QDir(dir.path()).mkpath("valid/cats"));
    QCOMPARE(detectLayout(dir.path()), Layout::TrainValid);
    const QByteArray json = QStringLiteral(R"({"format":"winnow-plan","version":1,"dataset":"%1","decisions":[]})")
                                .arg(dir.path())
                                .toUtf8();
    const auto plan = CleaningPlan::fromJson(json);
    QVERIFY(plan.has_value());
    QCOMPARE(plan->layout(), Layout::TrainValid);
    QVERIFY(QDir(dir.filePath("valid")).removeRecursively());
    QCOMPARE(detectLayout(dir.path()), Layout::FolderPerClass);
}

void TestCleaningPlan::classNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("plain") << "grizzly" << true;
    QTest::newRow("space inside") << "ours brun" << true;
    QTest::newRow("unicode") << QStringLiteral("熊") << true;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("slash") << "a/b" << false;
    QTest::newRow("backslash") << "a\\b" << false;
    QTest::newRow("hidden") << ".cache" << false;
    QTest::newRow("dot") << "." << false;
    QTest::newRow("dotdot") << ".." << false;
    QTest::newRow("unlabeled") << "unlabeled" << false;
    QTest::newRow("Train") << "Train" << false;
    QTest::newRow("valid") << "valid" << false;
    QTest::newRow("leading space") << " x" << false;
    QTest::newRow("control") << QStringLiteral("a\tb") << false;
    QTest::newRow("too long") << QString(256, QLatin1Char('x')) << false;
}

void TestCleaningPlan::classNames()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(validateClassName(name).isEmpty(), valid);
}

void TestCleaningPlan::createClass()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkpath("cats"));
    QString error;
    QVERIFY2(Winnow::createClass(dir.path(), "dogs", &error), qPrintable(error));
    QVERIFY(QFileInfo(dir.filePath("dogs")).isDir());
    QVERIFY(!Winnow::createClass(dir.path(), "dogs", &error));
    QVERIFY(error.contains("already exists"));
    QVERIFY(!Winnow::createClass(dir.path(), "Cats", &error));
    QVERIFY(error.contains("case"));
    QVERIFY(!Winnow::createClass(dir.path(), "unlabeled", &error));
    QVERIFY(!Winnow::createClass(dir.path(), ".hidden", &error));
    QVERIFY(!Winnow::createClass(dir.path(), "a/b", &error));
    QVERIFY(!QFileInfo(dir.filePath("a")).exists());
    QVERIFY(!Winnow::createClass(dir.filePath("nope"), "x", &error));
    QVERIFY(!QFileInfo(dir.filePath("nope")).exists());
}

void TestCleaningPlan::createClassTrainValid()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkpath("train/cats"));
    QVERIFY(QDir(dir.path()).mkpath("valid/dogs"));
    QString error;
    QVERIFY(!Winnow::createClass(dir.path(), "dogs", &error, Layout::TrainValid)); // exists in valid/
    QVERIFY2(Winnow::createClass(dir.path(), "bears", &error, Layout::TrainValid), qPrintable(error));
    QVERIFY(QFileInfo(dir.filePath("train/bears")).isDir());
}

QTEST_APPLESS_MAIN(TestCleaningPlan)
#include "tst_cleaningplan.moc"
