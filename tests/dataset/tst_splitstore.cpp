// SPDX-License-Identifier: GPL-3.0-or-later
// The split holds still: golden values of the seeded rule, the .winnow/splits.tsv format, and the split of every file
// across real cleaning applies, undo, redo, restores, files added by hand and training starts.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QTemporaryDir>
#include <QTest>

#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/testhooks.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "core/dataset/demogenerator.h"
#include "core/dataset/splitstore.h"

using namespace Winnow;

namespace {

using SplitMap = QHash<QString, Split>; // relPath -> split, labeled files only

SplitMap labeledSplits(const Dataset& ds)
{
    SplitMap out;
    for (const Sample& s : ds.samples)
        if (s.label >= 0)
            out.insert(s.relPath, s.split);
    return out;
}

Dataset scanOk(const QString& root, quint64 seed = 42, double pct = 0.2)
{
    ScanOptions o;
    o.seed = seed;
    o.validPct = pct;
    o.verifyImages = false;
    const ScanResult r = scanDataset(root, o);
    if (!r.ok()) {
        QTest::qFail(qPrintable(QStringLiteral("scan failed: ") + r.error), __FILE__, __LINE__);
        return {};
    }
    return *r.dataset;
}

/// The seeded rank rule (the behaviour without a saved split) for the labeled files of `ds`.
SplitMap rankRule(const Dataset& ds)
{
    QStringList paths;
    for (const Sample& s : ds.samples)
        if (s.label >= 0)
            paths << s.relPath;
    const QList<Split> splits = assignSplits(paths, ds.options.seed, ds.options.validPct);
    SplitMap out;
    for (int i = 0; i < paths.size(); ++i)
        out.insert(paths.at(i), splits.at(i));
    return out;
}

/// The files (other than `except`) whose split differs between two maps; files in only one map are not compared.
QStringList moved(const SplitMap& before, const SplitMap& after, const QSet<QString>& except = {})
{
    QStringList out;
    for (auto it = before.cbegin(); it != before.cend(); ++it)
        if (!except.contains(it.key()) && after.contains(it.key()) && after.value(it.key()) != it.value())
            out << it.key();
    out.sort();
    return out;
}

QString firstWith(const SplitMap& m, Split split, const QString& prefix = {})
{
    QStringList keys = m.keys();
    keys.sort();
    for (const QString& k : keys)
        if (m.value(k) == split && k.startsWith(prefix))
            return k;
    return {};
}

bool copyFile(const QString& root, const QString& from, const QString& to)
{
    QDir().mkpath(QFileInfo(root + QLatin1Char('/') + to).absolutePath());
    return QFile::copy(root + QLatin1Char('/') + from, root + QLatin1Char('/') + to);
}

/// Every entry under root (hidden ones too) with size and mtime: "the scan wrote nothing" means this is equal.
QStringList treeListing(const QString& root)
{
    QStringList out;
    QDirIterator it(
        root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QFileInfo fi(it.next());
        out << QStringLiteral("%1 %2 %3")
                   .arg(fi.filePath().mid(root.size()))
                   .arg(fi.isDir() ? -1 : fi.size())
                   .arg(fi.lastModified().toMSecsSinceEpoch());
    }
    out.sort();
    return out;
}

QString fileName(const QString& rel)
{
    return rel.section(QLatin1Char('/'), -1);
}

} // namespace

class TestSplitStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void goldenRule();
    void formatRoundTrip();
    void formatErrors_data();
    void formatErrors();

    void firstScanIsTheRankRule();
    void scanNeverWrites();
    void deleteValidFileMovesNobody();
    void relabelledTrainFileStaysTrain();
    void undoRedoRestoreEverySplit();
    void restoreFromTrashKeepsSplit();
    void restoreAfterItsPlaceWasTaken();
    void unlabeledAcceptedGetsPerFileRule();
    void newFileByHandMovesNobody();
    void storeWithOtherSettingsIgnored();
    void applyWithOtherSettingsReplacesStore();
    void malformedStoreWarnsAndFallsBack_data();
    void malformedStoreWarnsAndFallsBack();
    void persistSplitsMergesAndSkipsReadOnly();
    void trainValidLayoutHasNoStore();
    void firstLabelsOfAnUnlabeledFolder();

private:
    QString m_demo; // pristine demo dataset; each test works on its own copy
    QTemporaryDir m_tmp;
    QString m_root; // this test's copy
    int m_copies = 0;
};

void TestSplitStore::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    Cleaning::TestHooks::setSyncEnabled(false);
    DemoOptions o;
    // 5 x 9 + 3 junk = 48 labeled files: floor(0.2 * 48) = 9 = floor(0.2 * 47), so without a saved split deleting a
    // valid file pulls a train file into valid.
    o.imagesPerClass = 9;
    o.imageSize = 40;
    o.junk = true;
    o.mislabelFraction = 0;
    o.unlabeledImages = 3;
    const DemoResult d = writeDemoDataset(m_tmp.filePath(QStringLiteral("demo")), o);
    QVERIFY2(d.ok(), qPrintable(d.error));
    m_demo = d.root;
    QFile::remove(d.manifestPath);
}

void TestSplitStore::init()
{
    m_root = m_tmp.filePath(QStringLiteral("copy%1").arg(++m_copies));
    QVERIFY(QDir().mkpath(m_root));
    QDirIterator it(m_demo, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString rel = it.next().mid(m_demo.size() + 1);
        QVERIFY(QDir().mkpath(QFileInfo(m_root + QLatin1Char('/') + rel).absolutePath()));
        QVERIFY(QFile::copy(m_demo + QLatin1Char('/') + rel, m_root + QLatin1Char('/') + rel));
    }
}

void TestSplitStore::goldenRule()
{
    // Computed once with the rule as shipped; a change here reshuffles every user's split. Never update these values
    // to make a refactor pass: fix the refactor.
    const QStringList paths = {
        QStringLiteral("black/00000001.jpg"),
        QStringLiteral("black/00000002.jpg"),
        QStringLiteral("black/00000003.jpg"),
        QStringLiteral("black/00000004.jpg"),
        QStringLiteral("black/00000005.jpg"),
        QStringLiteral("black/00000006.jpg"),
        QStringLiteral("black/00000007.jpg"),
        QStringLiteral("grizzly/00000001.jpg"),
        QStringLiteral("grizzly/00000002.jpg"),
        QStringLiteral("grizzly/00000003.jpg"),
        QStringLiteral("grizzly/00000004.jpg"),
        QStringLiteral("grizzly/00000005.jpg"),
        QStringLiteral("grizzly/x (2).jpg"),
        QStringLiteral("teddys/00000001.jpg"),
        QStringLiteral("teddys/00000002.jpg"),
        QStringLiteral("teddys/00000003.jpg"),
        QStringLiteral("teddys/sub/deep.png"),
        QStringLiteral("teddys/Ünïcödé ß.jpeg"),
        QStringLiteral("cats/a b.jpg"),
        QStringLiteral("cats/IMG_0001.JPG"),
    };
    const QList<quint64> hashes = {
        0x82DF834F4CA8C970ull, // black/00000001.jpg
        0xEF470BA2980B82D4ull, // black/00000002.jpg
        0xD8529A40CBAC3AACull, // black/00000003.jpg
        0xDEBE8FB3D0A31B85ull, // black/00000004.jpg
        0x0E8FAD27176A601Eull, // black/00000005.jpg
        0x8858E9C4E42352FFull, // black/00000006.jpg
        0x88FAF66748DDEA5Eull, // black/00000007.jpg
        0xF626B9645362AA29ull, // grizzly/00000001.jpg
        0xA502AFCFBC6F2D9Aull, // grizzly/00000002.jpg
        0x27D5B5D14F3EB556ull, // grizzly/00000003.jpg
        0x3881F422C0E75BD6ull, // grizzly/00000004.jpg
        0xA16C275C834F97D9ull, // grizzly/00000005.jpg
        0x3257E3412652712Bull, // grizzly/x (2).jpg
        0xE4FC3200E1DCED0Aull, // teddys/00000001.jpg
        0xC27F750520E66EBCull, // teddys/00000002.jpg
        0x9B1F664560D3B0ECull, // teddys/00000003.jpg
        0x215E5D29FF14F153ull, // teddys/sub/deep.png
        0x2F7ECBEFE428D5D9ull, // teddys/Ünïcödé ß.jpeg
        0x2FDF6A530D7E4967ull, // cats/a b.jpg
        0x201AD19C9779D65Eull, // cats/IMG_0001.JPG
    };
    const char* rank = "ttttvttttvttttttvttv"; // assignSplits(paths, 42, 0.2): 'v' valid, 't' train
    const char* perFile = "ttttvttttvttvtttvvvv"; // splitFor(path, 42, 0.2)
    QCOMPARE(hashes.size(), paths.size());
    for (int i = 0; i < paths.size(); ++i)
        QCOMPARE(splitHash(paths.at(i), 42), hashes.at(i));
    const QList<Split> ranked = assignSplits(paths, 42, 0.2);
    int valid = 0;
    for (int i = 0; i < paths.size(); ++i) {
        QCOMPARE(ranked.at(i) == Split::Valid ? 'v' : 't', rank[i]);
        QCOMPARE(splitFor(paths.at(i), 42, 0.2) == Split::Valid ? 'v' : 't', perFile[i]);
        valid += ranked.at(i) == Split::Valid;
    }
    QCOMPARE(valid, 4); // floor(0.2 * 20)
    QCOMPARE(splitHash(QString(), 0), quint64(0x5B21F68FFA77F14Cull));
}

void TestSplitStore::formatRoundTrip()
{
    SplitStore s;
    s.settings = { 18446744073709551615ull, 0.2 };
    s.entries.insert(QStringLiteral("b/x.jpg"), Split::Valid);
    s.entries.insert(QStringLiteral("a/with\ttab and\nnewline\\back\rcr.jpg"), Split::Train);
    s.entries.insert(QStringLiteral("a/Ünïcödé (2).jpg"), Split::Valid);
    const QByteArray text = s.serialize();
    QVERIFY2(text.startsWith("# winnow-splits version=1 seed=18446744073709551615 validPct=0.2\n"), text.constData());
    QCOMPARE(text.count('\n'), 4); // header + 3 lines: the newline in the name is escaped
    QVERIFY(text.indexOf("a/with\\ttab and\\nnewline\\\\back\\rcr.jpg") > 0);
    QVERIFY(text.indexOf("train\ta/with") < text.indexOf("valid\tb/x.jpg")); // sorted by path
    QString error;
    const auto back = SplitStore::parse(text, &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->settings.seed, s.settings.seed);
    QCOMPARE(back->settings.validPct, 0.2);
    QCOMPARE(back->entries, s.entries);
    QCOMPARE(back->serialize(), text);

    // CRLF line ends (edited on Windows), comments and blank lines are fine; unknown header keys are ignored.
    const auto crlf = SplitStore::parse("# winnow-splits version=1 seed=7 validPct=0.25 writer=x\r\n# note\r\n\r\n"
                                        "valid\tc/d.jpg\r\n");
    QVERIFY(crlf);
    QCOMPARE(crlf->settings.seed, quint64(7));
    QCOMPARE(crlf->settings.validPct, 0.25);
    QCOMPARE(crlf->entries.value(QStringLiteral("c/d.jpg")), Split::Valid);
    QVERIFY(SplitSettings({ 7, 0.25 }).sameAs({ 7, 0.25 }));
    QVERIFY(!SplitSettings({ 7, 0.25 }).sameAs({ 8, 0.25 }));
    QVERIFY(!SplitSettings({ 7, 0.25 }).sameAs({ 7, 0.2 }));
}

void TestSplitStore::formatErrors_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << QByteArray() << "line 1: not a Winnow split file";
    QTest::newRow("binary") << QByteArray("\x89PNG\r\n\x1a\n\0\0", 10) << "line 1: not a Winnow split file";
    QTest::newRow("no settings") << QByteArray("# winnow-splits version=1\n") << "needs version=, seed= and validPct=";
    QTest::newRow("newer") << QByteArray("# winnow-splits version=2 seed=1 validPct=0.2\n") << "newer Winnow";
    QTest::newRow("bad seed") << QByteArray("# winnow-splits version=1 seed=-1 validPct=0.2\n") << "bad seed";
    QTest::newRow("bad pct") << QByteArray("# winnow-splits version=1 seed=1 validPct=2\n") << "bad validPct";
    const QByteArray h("# winnow-splits version=1 seed=1 validPct=0.2\n");
    QTest::newRow("no tab") << h + "train a/b.jpg\n"
                            << "line 2: expected";
    QTest::newRow("unknown split") << h + "train\ta/b.jpg\ntrian\ta/c.jpg\n"
                                   << "line 3: unknown split 'trian'";
    QTest::newRow("bad escape") << h + "train\ta\\x.jpg\n"
                                << "line 2: bad escape";
    QTest::newRow("dotdot") << h + "train\t../etc/passwd\n"
                            << "line 2: '../etc/passwd' is not a relative path";
    QTest::newRow("absolute") << h + "train\t/a/b.jpg\n"
                              << "is not a relative path";
    QTest::newRow("empty path") << h + "valid\t\n"
                                << "line 2: '' is not a relative path";
    QTest::newRow("twice") << h + "valid\ta/b.jpg\ntrain\ta/b.jpg\n"
                           << "line 3: 'a/b.jpg' is listed twice";
}

void TestSplitStore::formatErrors()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!SplitStore::parse(text, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestSplitStore::firstScanIsTheRankRule()
{
    const Dataset ds = scanOk(m_root);
    QCOMPARE(ds.count(Split::Train, false) + ds.count(Split::Valid, false), 48);
    QCOMPARE(ds.count(Split::Valid, false), 9);
    QCOMPARE(labeledSplits(ds), rankRule(ds));
    QCOMPARE(ds.count(Split::Unlabeled, false), 3);
}

void TestSplitStore::scanNeverWrites()
{
    const QStringList before = treeListing(m_root);
    scanOk(m_root);
    QCOMPARE(treeListing(m_root), before);
    QVERIFY(!QFileInfo::exists(m_root + QStringLiteral("/.winnow")));

    QVERIFY(persistSplits(scanOk(m_root)));
    QVERIFY(copyFile(m_root, firstWith(labeledSplits(scanOk(m_root)), Split::Train), QStringLiteral("ring/new.jpg")));
    const QStringList withStore = treeListing(m_root);
    const Dataset ds = scanOk(m_root); // a file the store does not list: still nothing written
    QVERIFY(ds.findSample(QStringLiteral("ring/new.jpg")) >= 0);
    scanOk(m_root, 7, 0.3);
    QCOMPARE(treeListing(m_root), withStore);
}

void TestSplitStore::deleteValidFileMovesNobody()
{
    const Dataset before = scanOk(m_root);
    const SplitMap s0 = labeledSplits(before);
    const QString victim = firstWith(s0, Split::Valid);
    QVERIFY(!victim.isEmpty());

    // Without a saved split, the rank rule pulls a train file into valid (the bug this guards against).
    SplitMap rest = s0;
    rest.remove(victim);
    QStringList paths = rest.keys();
    paths.sort();
    const QList<Split> rule = assignSplits(paths, 42, 0.2);
    int pulled = 0;
    for (int i = 0; i < paths.size(); ++i)
        pulled += rule.at(i) != rest.value(paths.at(i));
    QCOMPARE(pulled, 1);

    CleaningPlan plan = CleaningPlan::forDataset(before);
    QVERIFY(plan.markDelete(victim));
    ApplyOptions options;
    options.split = SplitSettings::of(before.options);
    const TransactionResult r = Cleaning::applyPlan(m_root, plan, options);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QVERIFY(QFileInfo::exists(splitStorePath(m_root)));

    const Dataset after = scanOk(m_root);
    QVERIFY(after.findSample(victim) < 0);
    QCOMPARE(after.warnings, before.warnings);
    QCOMPARE(moved(s0, labeledSplits(after)), QStringList());
    QCOMPARE(labeledSplits(after).size(), s0.size() - 1);
}

void TestSplitStore::relabelledTrainFileStaysTrain()
{
    const Dataset before = scanOk(m_root);
    const SplitMap s0 = labeledSplits(before);
    // Train files that the rule would make valid at their new path: the cases that used to leak into validation.
    QString plain, collide;
    QStringList keys = s0.keys();
    keys.sort();
    for (const QString& k : std::as_const(keys)) {
        if (s0.value(k) != Split::Train || k.startsWith(QLatin1String("square/")))
            continue;
        const QString name = fileName(k);
        const int dot = int(name.lastIndexOf(QLatin1Char('.')));
        if (plain.isEmpty() && splitFor(QStringLiteral("square/") + name, 42, 0.2) == Split::Valid)
            plain = k;
        else if (collide.isEmpty() && k != plain
            && splitFor(QStringLiteral("square/") + name.left(dot) + QStringLiteral(" (1)") + name.mid(dot), 42, 0.2)
                == Split::Valid)
            collide = k;
    }
    QVERIFY(!plain.isEmpty());
    QVERIFY(!collide.isEmpty());
    // A name collision in the target class: square/<name> is taken, so the file lands as square/<name> (1).jpg.
    QVERIFY(
        copyFile(m_root, QStringLiteral("square/") + fileName(firstWith(s0, Split::Train, QStringLiteral("square/"))),
            QStringLiteral("square/") + fileName(collide)));
    const Dataset withCopy = scanOk(m_root); // the copy is a file of the dataset like any other
    const SplitMap s1 = labeledSplits(withCopy);

    CleaningPlan plan = CleaningPlan::forDataset(withCopy);
    QVERIFY(plan.relabel(plain, QStringLiteral("square")));
    QVERIFY(plan.relabel(collide, QStringLiteral("square")));
    ApplyOptions options;
    options.split = SplitSettings::of(withCopy.options);
    const TransactionResult r = Cleaning::applyPlan(m_root, plan, options);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QString collidedTo;
    for (const FileMove& m : r.moves)
        if (m.from == collide)
            collidedTo = m.to;
    const QString name = fileName(collide);
    QCOMPARE(collidedTo,
        QStringLiteral("square/") + name.left(name.lastIndexOf('.')) + QStringLiteral(" (1)")
            + name.mid(name.lastIndexOf('.')));

    const SplitMap after = labeledSplits(scanOk(m_root));
    QCOMPARE(after.value(QStringLiteral("square/") + fileName(plain)), Split::Train);
    QCOMPARE(after.value(collidedTo), Split::Train);
    QCOMPARE(moved(s1, after), QStringList());
    QCOMPARE(after.size(), s1.size());
}

void TestSplitStore::undoRedoRestoreEverySplit()
{
    const Dataset before = scanOk(m_root);
    const SplitMap s0 = labeledSplits(before);
    CleaningPlan plan = CleaningPlan::forDataset(before);
    QVERIFY(plan.markDelete(firstWith(s0, Split::Valid, QStringLiteral("circle/"))));
    QVERIFY(plan.markDelete(firstWith(s0, Split::Train, QStringLiteral("ring/"))));
    QVERIFY(plan.relabel(firstWith(s0, Split::Train, QStringLiteral("star/")), QStringLiteral("circle")));
    QVERIFY(plan.relabel(firstWith(s0, Split::Valid, QStringLiteral("triangle/")), QStringLiteral("new class")));
    QStringList unlabeled;
    for (const Sample& s : before.samples)
        if (s.split == Split::Unlabeled)
            unlabeled << s.relPath;
    QVERIFY(plan.relabel(unlabeled.value(0), QStringLiteral("ring")));
    ApplyOptions options;
    options.split = SplitSettings::of(before.options);
    const TransactionResult a = Cleaning::applyPlan(m_root, plan, options);
    QVERIFY2(a.ok, qPrintable(a.message()));
    const SplitMap s1 = labeledSplits(scanOk(m_root));

    const TransactionResult u = Cleaning::undoLast(m_root);
    QVERIFY2(u.ok, qPrintable(u.message()));
    QCOMPARE(labeledSplits(scanOk(m_root)), s0); // every file, its old split

    const TransactionResult r = Cleaning::redo(m_root);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QCOMPARE(labeledSplits(scanOk(m_root)), s1);
    QVERIFY2(Cleaning::undoLast(m_root).ok, "second undo");
    QCOMPARE(labeledSplits(scanOk(m_root)), s0);
}

void TestSplitStore::restoreFromTrashKeepsSplit()
{
    const Dataset before = scanOk(m_root);
    const SplitMap s0 = labeledSplits(before);
    const QString a = firstWith(s0, Split::Valid), b = firstWith(s0, Split::Train);
    CleaningPlan plan = CleaningPlan::forDataset(before);
    QVERIFY(plan.markDelete(a));
    QVERIFY(plan.markDelete(b));
    QVERIFY(Cleaning::applyPlan(m_root, plan).ok);
    // A file added by hand takes b's name meanwhile: b comes back as "<name> (1).jpg", with its own split.
    QVERIFY(QFile::copy(m_demo + QLatin1Char('/') + b, m_root + QLatin1Char('/') + b));
    const SplitMap s1 = labeledSplits(scanOk(m_root));
    const TransactionResult r = Cleaning::restoreFromTrash(m_root);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QString bTo;
    for (const FileMove& m : r.moves)
        if (m.to.startsWith(b.left(b.lastIndexOf('.'))) && m.to != b)
            bTo = m.to;
    QVERIFY2(!bTo.isEmpty(), "b should have been renamed");
    const SplitMap s2 = labeledSplits(scanOk(m_root));
    QCOMPARE(s2.value(a), Split::Valid);
    QCOMPARE(s2.value(bTo), Split::Train);
    QCOMPARE(moved(s1, s2), QStringList());

    // Undoing the restore puts both back in the trash; nobody else moves, and restoring again gives the same.
    QVERIFY(Cleaning::undoLast(m_root).ok);
    QCOMPARE(labeledSplits(scanOk(m_root)), s1);
    QVERIFY(Cleaning::redo(m_root).ok);
    QCOMPARE(labeledSplits(scanOk(m_root)), s2);
}

void TestSplitStore::restoreAfterItsPlaceWasTaken()
{
    // A valid file d is deleted; another file relabelled into d's class takes d's name (and d's old entry in the
    // saved split); restoring d renames it "<name> (1).jpg": it must still be valid (its delete step recorded it).
    const Dataset before = scanOk(m_root);
    QVERIFY(persistSplits(before));
    const SplitMap s0 = labeledSplits(before);
    QString d, cls;
    QStringList keys = s0.keys();
    keys.sort();
    for (const QString& k : std::as_const(keys)) {
        const QString c = k.section(QLatin1Char('/'), 0, 0), name = fileName(k);
        const QString other = c == QLatin1String("ring") ? QStringLiteral("star/") : QStringLiteral("ring/");
        const QString renamed = c + QLatin1Char('/') + name.left(name.lastIndexOf(QLatin1Char('.')))
            + QStringLiteral(" (1)") + name.mid(name.lastIndexOf(QLatin1Char('.')));
        if (s0.value(k) == Split::Valid && splitFor(other + name, 42, 0.2) == Split::Train
            && splitFor(renamed, 42, 0.2) == Split::Train) {
            d = k;
            cls = other.chopped(1);
            break;
        }
    }
    QVERIFY(!d.isEmpty());
    const QString intruder = cls + QLatin1Char('/') + fileName(d); // added by hand: per-file rule, train
    QVERIFY(QFile::copy(m_demo + QLatin1Char('/') + d, m_root + QLatin1Char('/') + intruder));

    CleaningPlan del = CleaningPlan::forDataset(before);
    QVERIFY(del.markDelete(d));
    QVERIFY(Cleaning::applyPlan(m_root, del).ok);
    const Dataset mid = scanOk(m_root);
    CleaningPlan rel = CleaningPlan::forDataset(mid);
    QVERIFY(rel.relabel(intruder, d.section(QLatin1Char('/'), 0, 0)));
    const TransactionResult r1 = Cleaning::applyPlan(m_root, rel);
    QVERIFY2(r1.ok, qPrintable(r1.message()));
    QCOMPARE(r1.moves.value(0).to, d); // the intruder now has d's name, and keeps its own split
    QCOMPARE(labeledSplits(scanOk(m_root)).value(d), Split::Train);

    const TransactionResult r2 = Cleaning::restoreFromTrash(m_root);
    QVERIFY2(r2.ok, qPrintable(r2.message()));
    const QString back = r2.moves.value(0).to;
    QVERIFY2(back != d && back.startsWith(d.left(d.lastIndexOf(QLatin1Char('.')))), qPrintable(back));
    const SplitMap after = labeledSplits(scanOk(m_root));
    QCOMPARE(after.value(back), Split::Valid);
    QCOMPARE(after.value(d), Split::Train);
    QCOMPARE(moved(s0, after, { d }), QStringList());
}

void TestSplitStore::unlabeledAcceptedGetsPerFileRule()
{
    const Dataset before = scanOk(m_root);
    const SplitMap s0 = labeledSplits(before);
    CleaningPlan plan = CleaningPlan::forDataset(before);
    QStringList targets;
    for (const Sample& s : before.samples) {
        if (s.split != Split::Unlabeled)
            continue;
        QVERIFY(plan.relabel(s.relPath, QStringLiteral("star")));
        targets << QStringLiteral("star/") + fileName(s.relPath);
    }
    QCOMPARE(targets.size(), 3);
    QVERIFY(Cleaning::applyPlan(m_root, plan).ok);
    const SplitMap s1 = labeledSplits(scanOk(m_root));
    for (const QString& t : std::as_const(targets)) {
        QVERIFY2(s1.contains(t), qPrintable(t));
        QCOMPARE(s1.value(t), splitFor(t, 42, 0.2));
    }
    QCOMPARE(moved(s0, s1), QStringList());
    // Undo sends them back to unlabeled/, and nothing of theirs stays in the saved split.
    QVERIFY(Cleaning::undoLast(m_root).ok);
    QCOMPARE(labeledSplits(scanOk(m_root)), s0);
    const SplitStoreRead stored = readSplitStore(m_root);
    QVERIFY(stored.store);
    for (const QString& k : stored.store->entries.keys())
        QVERIFY2(!k.startsWith(QLatin1String("unlabeled/")), qPrintable(k));
}

void TestSplitStore::newFileByHandMovesNobody()
{
    const Dataset before = scanOk(m_root);
    QVERIFY(persistSplits(before));
    const SplitMap s0 = labeledSplits(before);
    QCOMPARE(labeledSplits(scanOk(m_root)), s0);
    QStringList added;
    for (int i = 0; i < 12; ++i) {
        const QString rel = QStringLiteral("triangle/hand-%1.jpg").arg(i);
        QVERIFY(copyFile(m_root, firstWith(s0, Split::Train), rel));
        added << rel;
    }
    const Dataset after = scanOk(m_root);
    const SplitMap s1 = labeledSplits(after);
    QCOMPARE(moved(s0, s1), QStringList());
    int validAdded = 0;
    for (const QString& rel : std::as_const(added)) {
        QCOMPARE(s1.value(rel), splitFor(rel, 42, 0.2));
        validAdded += s1.value(rel) == Split::Valid;
    }
    QVERIFY(validAdded > 0); // both splits occur among the added files, so the per-file rule is what was used
    QVERIFY(validAdded < added.size());
    // The rank rule would have moved files that were there before.
    QVERIFY(!moved(s0, rankRule(after)).isEmpty());
    // A training start pins the new files too; later removals of files by hand move nobody.
    QVERIFY(persistSplits(after));
    QVERIFY(QFile::remove(m_root + QLatin1Char('/') + firstWith(s0, Split::Valid)));
    QCOMPARE(moved(s1, labeledSplits(scanOk(m_root))), QStringList());
}

void TestSplitStore::storeWithOtherSettingsIgnored()
{
    const Dataset ds = scanOk(m_root);
    // A store that flips every split: used when its settings match, ignored otherwise.
    SplitStore flipped = SplitStore::fromDataset(ds);
    for (auto it = flipped.entries.begin(); it != flipped.entries.end(); ++it)
        it.value() = it.value() == Split::Valid ? Split::Train : Split::Valid;
    QVERIFY(writeSplitStore(m_root, flipped));
    const Dataset same = scanOk(m_root);
    QCOMPARE(labeledSplits(same), flipped.entries);
    QVERIFY(same.warnings.isEmpty());

    const Dataset seed7 = scanOk(m_root, 7, 0.2);
    QCOMPARE(labeledSplits(seed7), rankRule(seed7));
    QVERIFY(seed7.warnings.isEmpty()); // the user asked for a new split: nothing to warn about
    const Dataset pct3 = scanOk(m_root, 42, 0.3);
    QCOMPARE(labeledSplits(pct3), rankRule(pct3));
    QCOMPARE(pct3.count(Split::Valid, false), 14); // floor(0.3 * 48)
}

void TestSplitStore::applyWithOtherSettingsReplacesStore()
{
    QVERIFY(persistSplits(scanOk(m_root))); // seed 42
    const Dataset ds7 = scanOk(m_root, 7, 0.25);
    const SplitMap s0 = labeledSplits(ds7);
    CleaningPlan plan = CleaningPlan::forDataset(ds7);
    const QString victim = firstWith(s0, Split::Train, QStringLiteral("ring/"));
    QVERIFY(plan.relabel(victim, QStringLiteral("star")));

    // With the caller's settings, the store is made anew for them before the first move.
    ApplyOptions options;
    options.split = SplitSettings::of(ds7.options);
    QVERIFY(Cleaning::applyPlan(m_root, plan, options).ok);
    const SplitStoreRead stored = readSplitStore(m_root);
    QVERIFY(stored.store);
    QCOMPARE(stored.store->settings.seed, quint64(7));
    QCOMPARE(stored.store->settings.validPct, 0.25);
    const SplitMap s1 = labeledSplits(scanOk(m_root, 7, 0.25));
    QCOMPARE(s1.value(QStringLiteral("star/") + fileName(victim)), Split::Train);
    QCOMPARE(moved(s0, s1), QStringList());

    // Without settings an existing store is used whatever its settings: a seed-42 scan now gets the rank rule.
    plan = CleaningPlan::forDataset(ds7);
    QVERIFY(plan.markDelete(firstWith(s1, Split::Valid)));
    QVERIFY(Cleaning::applyPlan(m_root, plan).ok);
    QCOMPARE(readSplitStore(m_root).store->settings.seed, quint64(7));
}

void TestSplitStore::malformedStoreWarnsAndFallsBack_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("garbage") << QByteArray("\xff\xfe\x00garbage\n\n\t\t", 14);
    QTest::newRow("bad line") << QByteArray(
        "# winnow-splits version=1 seed=42 validPct=0.2\nvalid\tcircle/x.jpg\nbogus\n");
    QTest::newRow("newer") << QByteArray("# winnow-splits version=9 seed=42 validPct=0.2\n");
}

void TestSplitStore::malformedStoreWarnsAndFallsBack()
{
    QFETCH(QByteArray, text);
    QVERIFY(QDir(m_root).mkpath(QStringLiteral(".winnow")));
    QFile f(splitStorePath(m_root));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
    f.close();
    const Dataset ds = scanOk(m_root);
    QCOMPARE(labeledSplits(ds), rankRule(ds));
    QCOMPARE(ds.warnings.size(), 1);
    QVERIFY2(
        ds.warnings.first().contains(QLatin1String(".winnow/splits.tsv is damaged")), qPrintable(ds.warnings.first()));

    // The next apply writes it anew (with a warning), and from then on the split holds.
    const SplitMap s0 = labeledSplits(ds);
    CleaningPlan plan = CleaningPlan::forDataset(ds);
    QVERIFY(plan.markDelete(firstWith(s0, Split::Valid)));
    const TransactionResult r = Cleaning::applyPlan(m_root, plan);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QVERIFY2(r.warnings.join('\n').contains(QLatin1String("was damaged")), qPrintable(r.warnings.join('\n')));
    const Dataset after = scanOk(m_root);
    QVERIFY(after.warnings.isEmpty());
    QCOMPARE(moved(s0, labeledSplits(after)), QStringList());
}

void TestSplitStore::persistSplitsMergesAndSkipsReadOnly()
{
    const Dataset ds = scanOk(m_root);
    QString error;
    QVERIFY2(persistSplits(ds, &error), qPrintable(error));
    SplitStoreRead stored = readSplitStore(m_root);
    QVERIFY(stored.store);
    QCOMPARE(stored.store->entries, labeledSplits(ds));
    const QDateTime written = QFileInfo(splitStorePath(m_root)).lastModified();

    // Same dataset again: nothing to write.
    QTest::qWait(20);
    QVERIFY(persistSplits(ds));
    QCOMPARE(QFileInfo(splitStorePath(m_root)).lastModified(), written);

    // Entries of files no longer there (deleted by hand here) stay: a restore gives them their split back.
    const QString gone = firstWith(labeledSplits(ds), Split::Valid);
    QVERIFY(QFile::remove(m_root + QLatin1Char('/') + gone));
    QVERIFY(persistSplits(scanOk(m_root)));
    QCOMPARE(readSplitStore(m_root).store->entries.value(gone), Split::Valid);

    // Other settings replace it.
    const Dataset ds7 = scanOk(m_root, 7, 0.2);
    QVERIFY(persistSplits(ds7));
    stored = readSplitStore(m_root);
    QCOMPARE(stored.store->settings.seed, quint64(7));
    QCOMPARE(stored.store->entries, labeledSplits(ds7));

    // A read-only dataset folder (no write bit: even root is kept out) is left alone, with a reason.
    QTemporaryDir ro;
    const QString image = m_demo + QLatin1Char('/') + firstWith(labeledSplits(ds), Split::Train);
    for (const char* f : { "a/x.jpg", "b/y.jpg" }) {
        QVERIFY(QDir().mkpath(QFileInfo(ro.filePath(QString::fromLatin1(f))).absolutePath()));
        QVERIFY(QFile::copy(image, ro.filePath(QString::fromLatin1(f))));
    }
    const Dataset roDs = scanOk(ro.path());
    QVERIFY(QFile::setPermissions(ro.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    error.clear();
    const bool ok = persistSplits(roDs, &error);
    QVERIFY(QFile::setPermissions(ro.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
    QVERIFY(!ok);
    QVERIFY2(error.contains(QLatin1String("read-only")), qPrintable(error));
    QVERIFY(!QFileInfo::exists(ro.path() + QStringLiteral("/.winnow")));
}

void TestSplitStore::trainValidLayoutHasNoStore()
{
    QTemporaryDir tv;
    const QString any = m_root + QLatin1Char('/') + firstWith(labeledSplits(scanOk(m_root)), Split::Train);
    for (const char* f : { "train/a/1.jpg", "train/a/2.jpg", "train/b/3.jpg", "valid/a/4.jpg", "valid/b/5.jpg" }) {
        QVERIFY(QDir().mkpath(QFileInfo(tv.filePath(QString::fromLatin1(f))).absolutePath()));
        QVERIFY(QFile::copy(any, tv.filePath(QString::fromLatin1(f))));
    }
    const Dataset ds = scanOk(tv.path());
    QCOMPARE(ds.layout, Layout::TrainValid);
    QVERIFY(persistSplits(ds));
    CleaningPlan plan = CleaningPlan::forDataset(ds);
    QVERIFY(plan.relabel(QStringLiteral("train/a/1.jpg"), QStringLiteral("b")));
    QVERIFY(Cleaning::applyPlan(tv.path(), plan).ok);
    QVERIFY(Cleaning::undoLast(tv.path()).ok);
    QVERIFY(!QFileInfo::exists(splitStorePath(tv.path())));
}

void TestSplitStore::firstLabelsOfAnUnlabeledFolder()
{
    // Only unlabeled/ so far (no class, so no scan result): labelling the first files saves an empty split, and the
    // new files get the per-file rule.
    QTemporaryDir dir;
    const QString any = m_demo + QLatin1Char('/') + firstWith(labeledSplits(scanOk(m_root)), Split::Train);
    QStringList targets;
    CleaningPlan plan(dir.path());
    for (int i = 0; i < 6; ++i) {
        const QString rel = QStringLiteral("unlabeled/u%1.jpg").arg(i);
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("unlabeled"))));
        QVERIFY(QFile::copy(any, dir.filePath(rel)));
        QVERIFY(plan.relabel(rel, i % 2 ? QStringLiteral("a") : QStringLiteral("b")));
        targets << (i % 2 ? QStringLiteral("a/") : QStringLiteral("b/")) + fileName(rel);
    }
    const TransactionResult r = Cleaning::applyPlan(dir.path(), plan);
    QVERIFY2(r.ok, qPrintable(r.message()));
    QVERIFY2(r.warnings.isEmpty(), qPrintable(r.warnings.join('\n')));
    const SplitStoreRead stored = readSplitStore(dir.path());
    QVERIFY(stored.store);
    QVERIFY(stored.store->entries.isEmpty());
    const SplitMap s = labeledSplits(scanOk(dir.path()));
    QCOMPARE(s.size(), 6);
    for (const QString& t : std::as_const(targets))
        QCOMPARE(s.value(t), splitFor(t, 42, 0.2));
}

QTEST_GUILESS_MAIN(TestSplitStore)
#include "tst_splitstore.moc"
