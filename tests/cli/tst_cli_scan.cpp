// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the built `winnow` executable: --version, --help, `scan` (text and JSON) and `demo`.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "tests/testutils.h"

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runWinnow(const QStringList& args, int timeoutMs = 120000)
{
    Run r;
    QProcess p;
    p.setProgram(winnowBinary());
    p.setArguments(args);
    p.start();
    if (!p.waitForStarted(10000)) {
        r.err = "could not start " + winnowBinary().toUtf8();
        return r;
    }
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject parseJson(const QByteArray& bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("invalid JSON (%s): %s", qPrintable(error.errorString()), bytes.left(400).constData());
    return doc.object();
}

QByteArray jpeg(int seed)
{
    cv::Mat img(32, 32, CV_8UC3);
    cv::RNG rng(static_cast<uint64>(seed));
    rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
    std::vector<uchar> buf;
    cv::imencode(".jpg", img, buf);
    return QByteArray(reinterpret_cast<const char*>(buf.data()), qsizetype(buf.size()));
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace

class TestCliScan : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void version();
    void help();
    void mistypedCommand();
    void scanBearsJson();
    void scanBearsText();
    void scanBadFiles();
    void fixExtensions();
    void scanErrors_data();
    void scanErrors();
    void scanNoClasses();
    void demo();
    void issuesCommand();
};

void TestCliScan::initTestCase()
{
    QVERIFY2(QFileInfo(winnowBinary()).isExecutable(), qPrintable("winnow executable not built: " + winnowBinary()));
}

void TestCliScan::version()
{
    const Run r = runWinnow({ "--version" });
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("winnow "), r.out.constData());
    QVERIFY(r.out.contains(WINNOW_VERSION));
}

/// A mistyped command or a missing folder is said, with exit code 2, and never opens (or waits for) a window.
void TestCliScan::mistypedCommand()
{
    const Run typo = runWinnow({ "isues" }, 20000);
    QCOMPARE(typo.exitCode, 2);
    QVERIFY2(typo.err.contains("'isues' is neither a command nor a folder"), typo.err.constData());
    const Run near = runWinnow({ "scna" }, 20000);
    QCOMPARE(near.exitCode, 2);
    QVERIFY2(near.err.contains("did you mean 'winnow scan'"), near.err.constData());
    const Run missing = runWinnow({ "/nonexistent/winnow-test-folder" }, 20000);
    QCOMPARE(missing.exitCode, 2);
    QVERIFY2(missing.err.contains("no such folder: /nonexistent/winnow-test-folder"), missing.err.constData());
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("photo.jpg"));
    QVERIFY(writeFile(file, jpeg(1)));
    const Run notDir = runWinnow({ file }, 20000);
    QCOMPARE(notDir.exitCode, 2);
    QVERIFY2(notDir.err.contains("is not a folder"), notDir.err.constData());
}

void TestCliScan::help()
{
    const Run r = runWinnow({ "--help" });
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("scan"));
    QVERIFY(r.out.contains("demo"));

    const Run scanHelp = runWinnow({ "scan", "--help" });
    QCOMPARE(scanHelp.exitCode, 0);
    QVERIFY2(scanHelp.out.contains("--valid-pct"), scanHelp.out.constData());
    QVERIFY(scanHelp.out.contains("--no-verify"));
    QVERIFY(scanHelp.out.contains("scan"));

    const Run demoHelp = runWinnow({ "demo", "--help" });
    QCOMPARE(demoHelp.exitCode, 0);
    QVERIFY(demoHelp.out.contains("manifest"));
}

void TestCliScan::scanBearsJson()
{
    WINNOW_REQUIRE_SHARED(shared);
    const Run r = runWinnow({ "scan", shared + "/datasets/bears-small", "--json" });
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QJsonObject o = parseJson(r.out);
    QCOMPARE(o.value("images").toInt(), 480);
    QCOMPARE(o.value("train").toInt(), 384);
    QCOMPARE(o.value("valid").toInt(), 96);
    QCOMPARE(o.value("unlabeled").toInt(), 0);
    QCOMPARE(o.value("layout").toString(), QStringLiteral("folder-per-class"));
    const QJsonArray classes = o.value("classes").toArray();
    QCOMPARE(classes.size(), 3);
    QStringList names;
    int total = 0;
    for (const auto& c : classes) {
        names << c.toObject().value("name").toString();
        total += c.toObject().value("train").toInt() + c.toObject().value("valid").toInt();
        QCOMPARE(c.toObject().value("train").toInt() + c.toObject().value("valid").toInt(), 160);
    }
    QCOMPARE(names, QStringList({ "black", "grizzly", "teddys" }));
    QCOMPARE(total, 480);
    QCOMPARE(o.value("unreadable").toArray().size(), 0);

    // Another seed moves files but keeps the counts; --no-verify gives the same split.
    const Run other = runWinnow(
        { "scan", shared + "/datasets/bears-small", "--json", "--seed", "1", "--no-verify", "--valid-pct", "0.25" });
    QCOMPARE(other.exitCode, 0);
    const QJsonObject p = parseJson(other.out);
    QCOMPARE(p.value("valid").toInt(), 120);
    QCOMPARE(p.value("train").toInt(), 360);
    QCOMPARE(p.value("verified").toBool(), false);
}

void TestCliScan::scanBearsText()
{
    WINNOW_REQUIRE_SHARED(shared);
    const Run r = runWinnow({ "scan", shared + "/datasets/bears-small" });
    QCOMPARE(r.exitCode, 0);
    const QString text = QString::fromUtf8(r.out);
    QVERIFY2(text.contains("480 (384 train, 96 valid"), qPrintable(text));
    QVERIFY(text.contains("grizzly"));
    QVERIFY(text.contains("Classes (3)"));
    // bears-small holds three byte-identical pairs; one is filed as both black and grizzly (the review file marks the
    // black copy wrong).
    QVERIFY2(text.contains("Exact duplicates (3 groups; 3 files could go, 0 valid copies of train files, 1 group filed "
                           "under different classes)"),
        qPrintable(text));
    QVERIFY2(text.contains("black/00000169.jpg = grizzly/00000122.jpg  [different classes]"), qPrintable(text));
}

void TestCliScan::scanBadFiles()
{
    QTemporaryDir tmp;
    const QString r = tmp.path();
    for (int i = 0; i < 4; ++i)
        QVERIFY(writeFile(r + QStringLiteral("/good/%1.jpg").arg(i), jpeg(i)));
    QVERIFY(writeFile(r + "/good/x.jpg", "<!DOCTYPE html><html><head><title>Not found</title></head></html>"));
    const QByteArray full = jpeg(9);
    QVERIFY(writeFile(r + "/other/cut.jpg", full.left(full.size() / 2)));
    QVERIFY(writeFile(r + "/other/empty.jpeg", QByteArray()));
    QVERIFY(writeFile(r + "/other/fine.png", [] {
        cv::Mat m(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
        std::vector<uchar> b;
        cv::imencode(".png", m, b);
        return QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()));
    }()));

    const Run j = runWinnow({ "scan", r, "--json" });
    QVERIFY2(j.exitCode == 0, j.err.constData());
    const QJsonObject o = parseJson(j.out);
    QCOMPARE(o.value("images").toInt(), 8);
    QCOMPARE(o.value("readable").toInt(), 5);
    QCOMPARE(o.value("train").toInt() + o.value("valid").toInt(), 5);
    QHash<QString, QString> reasons, kinds;
    for (const auto& v : o.value("unreadable").toArray()) {
        reasons.insert(v.toObject().value("file").toString(), v.toObject().value("reason").toString());
        kinds.insert(v.toObject().value("file").toString(), v.toObject().value("kind").toString());
    }
    QCOMPARE(reasons.size(), 3);
    QCOMPARE(kinds.value("good/x.jpg"), QStringLiteral("not-an-image"));
    QCOMPARE(kinds.value("other/cut.jpg"), QStringLiteral("truncated"));
    QCOMPARE(kinds.value("other/empty.jpeg"), QStringLiteral("empty"));
    for (const QString& reason : std::as_const(reasons))
        QVERIFY(!reason.isEmpty());

    const Run t = runWinnow({ "scan", r });
    QCOMPARE(t.exitCode, 0);
    const QString text = QString::fromUtf8(t.out);
    QVERIFY2(text.contains("Unreadable (3)"), qPrintable(text));
    QVERIFY(text.contains("good/x.jpg: not an image"));
    QVERIFY(text.contains("other/cut.jpg: truncated"));
    QVERIFY(text.contains("other/empty.jpeg: empty file"));
}

void TestCliScan::fixExtensions()
{
    // A web scrape's names: photos named like URLs are renamed to their format's extension, undoably; a page is left.
    QTemporaryDir tmp;
    const QString r = tmp.path();
    for (int i = 0; i < 3; ++i)
        QVERIFY(writeFile(r + QStringLiteral("/a/%1.jpg").arg(i), jpeg(i)));
    QVERIFY(writeFile(r + "/a/00000090.jpg?1518390504", jpeg(5)));
    QVERIFY(writeFile(r + "/b/photo", jpeg(6)));
    QVERIFY(writeFile(r + "/b/photo.jpg", jpeg(7)));
    QVERIFY(writeFile(r + "/b/page.php?id=3", "<html><body>gone</body></html>"));
    for (int i = 0; i < 3; ++i)
        QVERIFY(writeFile(r + QStringLiteral("/b/%1.jpg").arg(i), jpeg(10 + i)));

    const Run before = runWinnow({ "scan", r });
    QVERIFY2(before.out.contains("--fix-extensions"), before.out.constData());
    const Run j = runWinnow({ "scan", r, "--json", "--fix-extensions" });
    QVERIFY2(j.exitCode == 0, j.err.constData());
    const QJsonObject o = parseJson(j.out);
    QCOMPARE(o.value("odd_names").toArray().size(), 0);
    QHash<QString, QString> renamed;
    for (const auto& v : o.value("renamed").toArray())
        renamed.insert(v.toObject().value("from").toString(), v.toObject().value("to").toString());
    QCOMPARE(renamed.value("a/00000090.jpg?1518390504"), QStringLiteral("a/00000090.jpg"));
    QCOMPARE(renamed.value("b/photo"), QStringLiteral("b/photo (1).jpg")); // photo.jpg was taken
    QCOMPARE(renamed.size(), 2);
    QVERIFY(QFileInfo::exists(r + "/b/page.php?id=3")); // not an image: reported, never renamed
    QCOMPARE(o.value("skipped").toArray().size(), 1);
    QCOMPARE(o.value("images").toInt(), 9);

    const Run undo = runWinnow({ "clean", r, "--undo" });
    QVERIFY2(undo.exitCode == 0, undo.err.constData());
    QVERIFY(QFileInfo::exists(r + "/a/00000090.jpg?1518390504"));
    QVERIFY(QFileInfo::exists(r + "/b/photo"));
    QVERIFY(!QFileInfo::exists(r + "/b/photo (1).jpg"));
}

void TestCliScan::scanErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing") << QStringList { "scan", "/nonexistent/winnow/dataset" } << 2
                             << QStringLiteral("no such folder: /nonexistent/winnow/dataset");
    QTest::newRow("no dir") << QStringList { "scan" } << 2 << QStringLiteral("expected exactly one");
    QTest::newRow("bad pct") << QStringList { "scan", ".", "--valid-pct", "2" } << 2 << QStringLiteral("--valid-pct");
    QTest::newRow("bad seed") << QStringList { "scan", ".", "--seed", "abc" } << 2 << QStringLiteral("--seed");
    QTest::newRow("bad option") << QStringList { "scan", ".", "--frobnicate" } << 2 << QStringLiteral("frobnicate");
}

void TestCliScan::scanErrors()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run r = runWinnow(args);
    QCOMPARE(r.exitCode, exitCode);
    QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
}

void TestCliScan::scanNoClasses()
{
    // A folder with no class folders, and a file instead of a folder.
    QTemporaryDir tmp;
    QVERIFY(writeFile(tmp.path() + "/loose.jpg", jpeg(1)));
    const Run none = runWinnow({ "scan", tmp.path() });
    QCOMPARE(none.exitCode, 1);
    QVERIFY2(none.err.contains("No classes"), none.err.constData());
    const Run file = runWinnow({ "scan", tmp.path() + "/loose.jpg" });
    QCOMPARE(file.exitCode, 2);
    QVERIFY2(file.err.contains("not a folder"), file.err.constData());
}

void TestCliScan::demo()
{
    QTemporaryDir tmp;
    const QString dir = tmp.path() + "/shapes";
    const Run r = runWinnow({ "demo", dir, "--per-class", "12" });
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QString text = QString::fromUtf8(r.out);
    QVERIFY2(text.contains(dir), qPrintable(text));
    QVERIFY(text.contains(dir + ".manifest.json"));
    QVERIFY(QFileInfo::exists(dir + ".manifest.json"));

    const Run scan = runWinnow({ "scan", dir, "--json" });
    QCOMPARE(scan.exitCode, 0);
    const QJsonObject o = parseJson(scan.out);
    QCOMPARE(o.value("classes").toArray().size(), 5);
    QCOMPARE(o.value("train").toInt() + o.value("valid").toInt(), 5 * 12 + 3);
    QCOMPARE(o.value("unlabeled").toInt(), 10);
    QCOMPARE(o.value("unreadable").toArray().size(), 0);

    // Running it again regenerates the previous demo; a foreign non-empty folder is refused and left alone.
    const Run again = runWinnow({ "demo", dir, "--per-class", "12" });
    QCOMPARE(again.exitCode, 0);
    QVERIFY(again.out.contains("Regenerated"));
    QVERIFY(writeFile(tmp.path() + "/mine/photo.jpg", jpeg(3)));
    const Run refused = runWinnow({ "demo", tmp.path() + "/mine" });
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("not a Winnow demo"), refused.err.constData());
    QVERIFY(QFileInfo::exists(tmp.path() + "/mine/photo.jpg"));
    QCOMPARE(QDir(tmp.path() + "/mine").entryList(QDir::AllEntries | QDir::NoDotAndDotDot).size(), 1);
}

/// `winnow issues --dataset DIR`: cleanlab's columns per file, the summary on stderr, usage errors with exit code 2.
void TestCliScan::issuesCommand()
{
    QTemporaryDir dir;
    const QString root = dir.path();
    // 64 px noise photos (sharp, colourful), an exact copy and one nearly black.
    auto photo = [](int seed, double gain) {
        cv::Mat img(64, 64, CV_8UC3);
        cv::RNG rng(static_cast<uint64>(seed));
        rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(30), cv::Scalar::all(220));
        img.convertTo(img, -1, gain, 0);
        std::vector<uchar> buf;
        cv::imencode(".png", img, buf);
        return QByteArray(reinterpret_cast<const char*>(buf.data()), qsizetype(buf.size()));
    };
    for (int i = 0; i < 4; ++i) {
        QVERIFY(writeFile(root + QStringLiteral("/a/a%1.png").arg(i), photo(i, 1.0)));
        QVERIFY(writeFile(root + QStringLiteral("/b/b%1.png").arg(i), photo(10 + i, 1.0)));
    }
    // A browser's second download: the same bytes, saved later, under a name that sorts first.
    QVERIFY(writeFile(root + QStringLiteral("/a/a0 copy.png"), photo(0, 1.0)));
    {
        QFile copy(root + QStringLiteral("/a/a0 copy.png"));
        QVERIFY(copy.open(QIODevice::ReadWrite));
        QVERIFY(copy.setFileTime(QDateTime::currentDateTime().addSecs(60), QFileDevice::FileModificationTime));
    }
    QVERIFY(writeFile(root + QStringLiteral("/b/dark.png"), photo(20, 0.1)));

    const Run json = runWinnow({ "issues", "--dataset", root, "--no-features", "--json" });
    QCOMPARE(json.exitCode, 0);
    const QList<QByteArray> lines = json.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3); // only the flagged files: the two copies and the dark one
    QSet<QString> exact, dark;
    for (const QByteArray& line : lines) {
        const QJsonObject o = parseJson(line);
        QVERIFY(o.contains(QStringLiteral("outlier_score")));
        if (o.value(QStringLiteral("is_exact_duplicate")).toBool())
            exact << o.value(QStringLiteral("file")).toString();
        if (o.value(QStringLiteral("is_dark")).toBool())
            dark << o.value(QStringLiteral("file")).toString();
    }
    QCOMPARE(exact, (QSet<QString> { QStringLiteral("a/a0.png"), QStringLiteral("a/a0 copy.png") }));
    QCOMPARE(dark, QSet<QString> { QStringLiteral("b/dark.png") });
    const QJsonObject summary = parseJson(json.err.trimmed().split('\n').constLast());
    QCOMPARE(summary.value(QStringLiteral("files")).toInt(), 10);
    QCOMPARE(summary.value(QStringLiteral("flagged_files")).toInt(), 3);
    const QJsonArray groups = summary.value(QStringLiteral("groups")).toArray();
    QCOMPARE(groups.size(), 1);
    QCOMPARE(
        groups.at(0).toObject().value(QStringLiteral("files")).toArray().at(0).toString(), QStringLiteral("a/a0.png"));

    const Run csv = runWinnow({ "issues", "--dataset", root, "--no-features", "--csv", "--all" });
    QCOMPARE(csv.exitCode, 0);
    QVERIFY2(csv.out.startsWith("file,split,label,is_exact_duplicate,exact_duplicate_score,"),
        csv.out.left(200).constData());
    QCOMPARE(csv.out.trimmed().split('\n').size(), 11); // header + every file

    const Run text = runWinnow({ "issues", "--dataset", root, "--no-features" });
    QCOMPARE(text.exitCode, 0);
    QVERIFY2(text.out.contains("Exact duplicates"), text.out.constData());
    QVERIFY2(text.out.contains("b/dark.png  dark"), text.out.constData());

    // From a run folder (the tiny test network, 64 px, one epoch): the run's own body gives the features, so near
    // copies and outliers are checked too; the summary says what each phase took and which threshold blur used.
    const QString runDir = dir.filePath(QStringLiteral("run"));
    const Run train = runWinnow({ "train", root, "--arch", "tiny", "--weights", "", "--size", "64", "--epochs", "1",
                                    "--freeze-epochs", "0", "--cv-folds", "0", "--out", runDir },
        300000);
    QVERIFY2(train.exitCode == 0, train.err.constData());
    const Run fromRun = runWinnow({ "issues", runDir, "--json", "--all" }, 300000);
    QVERIFY2(fromRun.exitCode == 0, fromRun.err.constData());
    QCOMPARE(fromRun.out.trimmed().split('\n').size(), 10); // every file
    const QJsonObject runSummary = parseJson(fromRun.err.trimmed().split('\n').constLast());
    for (const QJsonValue& v : runSummary.value(QStringLiteral("issues")).toArray())
        QVERIFY2(v.toObject().value(QStringLiteral("checked")).toBool(),
            qPrintable(v.toObject().value(QStringLiteral("type")).toString())); // features and pixels both used
    const QJsonObject phases = runSummary.value(QStringLiteral("phase_seconds")).toObject();
    for (const char* phase : { "scan", "pixels", "features", "detectors" })
        QVERIFY2(phases.value(QLatin1String(phase)).toDouble(-1) >= 0, phase);
    QVERIFY(runSummary.value(QStringLiteral("blurry_threshold")).toDouble() > 0);
    int exactInRun = 0;
    for (const QByteArray& line : fromRun.out.trimmed().split('\n'))
        exactInRun += parseJson(line).value(QStringLiteral("is_exact_duplicate")).toBool() ? 1 : 0;
    QCOMPARE(exactInRun, 2); // the copy and its original, found from the run too

    QCOMPARE(runWinnow({ "issues" }).exitCode, 2);
    QCOMPARE(runWinnow({ "issues", "--dataset", root, "--json", "--csv" }).exitCode, 2);
    const Run noRun = runWinnow({ "issues", dir.filePath(QStringLiteral("no-such-run")) });
    QCOMPARE(noRun.exitCode, 1);
    QVERIFY(!noRun.err.isEmpty());
}

QTEST_APPLESS_MAIN(TestCliScan)
#include "tst_cli_scan.moc"
