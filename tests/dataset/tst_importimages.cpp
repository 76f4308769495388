// SPDX-License-Identifier: GPL-3.0-or-later
// importImagesToLabel: copies (never moves, never overwrites) outside images into unlabeled/, skips with reasons, and
// the next scan sees the copies as unlabeled.
#include <unistd.h>

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>

#include "core/dataset/dataset.h"
#include "core/dataset/importimages.h"
#include "tests/cleaning/cleaningtestutil.h"

using namespace Winnow;
using namespace CleaningTest;

namespace {

QByteArray png(int seed)
{
    QImage image(24, 16, QImage::Format_RGB32);
    image.fill(QColor::fromHsv((seed * 47) % 360, 200, 200));
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

} // namespace

class TestImportImages : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_root; // the dataset
    QString m_outside; // the user's new photos

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_tmp.isValid());
        static int n = 0;
        m_root = m_tmp.filePath(QStringLiteral("ds%1").arg(n));
        m_outside = m_tmp.filePath(QStringLiteral("new%1").arg(n++));
        QVERIFY(writeFile(m_root, QStringLiteral("cats/c1.png"), png(1)));
        QVERIFY(writeFile(m_root, QStringLiteral("dogs/d1.png"), png(2)));
        QVERIFY(writeFile(m_root, QStringLiteral("unlabeled/a.png"), png(3))); // taken name
        QVERIFY(writeFile(m_outside, QStringLiteral("a.png"), png(4)));
        QVERIFY(writeFile(m_outside, QStringLiteral("sub/a.png"), png(5)));
        QVERIFY(writeFile(m_outside, QStringLiteral("b.PNG"), png(6)));
        QVERIFY(writeFile(m_outside, QStringLiteral("notes.txt"), "not an image"));
    }

    void copiesWithoutOverwriting()
    {
        const QMap<QString, QByteArray> sourcesBefore = hashTree(m_outside);
        const QMap<QString, QByteArray> datasetBefore = hashTree(m_root);
        const ImportResult r = importImagesToLabel(m_root,
            { m_outside + QStringLiteral("/a.png"), m_outside + QStringLiteral("/sub/a.png"),
                m_outside + QStringLiteral("/b.PNG") });
        QVERIFY2(r.ok(), qPrintable(r.error));
        QCOMPARE(r.copied,
            (QStringList { QStringLiteral("unlabeled/a (2).png"), QStringLiteral("unlabeled/a (3).png"),
                QStringLiteral("unlabeled/b.PNG") }));
        QVERIFY(r.skipped.isEmpty());
        QCOMPARE(hashTree(m_outside), sourcesBefore); // copied, not moved
        const QMap<QString, QByteArray> after = hashTree(m_root);
        QCOMPARE(after.size(), datasetBefore.size() + 3); // no temporary file left behind
        for (auto it = datasetBefore.cbegin(); it != datasetBefore.cend(); ++it)
            QCOMPARE(after.value(it.key()), it.value()); // nothing overwritten
        QCOMPARE(after.value(QStringLiteral("unlabeled/a (2).png")), sourcesBefore.value(QStringLiteral("a.png")));
        QCOMPARE(after.value(QStringLiteral("unlabeled/a (3).png")), sourcesBefore.value(QStringLiteral("sub/a.png")));
        QCOMPARE(after.value(QStringLiteral("unlabeled/b.PNG")), sourcesBefore.value(QStringLiteral("b.PNG")));

        // The next scan: same classes, the copies unlabeled (never train or valid).
        const ScanResult scan = scanDataset(m_root);
        QVERIFY2(scan.ok(), qPrintable(scan.error));
        QCOMPARE(scan.dataset->vocab, (QStringList { QStringLiteral("cats"), QStringLiteral("dogs") }));
        QCOMPARE(scan.dataset->count(Split::Unlabeled), 4);
        for (const Sample& s : scan.dataset->samples)
            if (s.relPath.startsWith(QLatin1String("unlabeled/")))
                QVERIFY(s.split == Split::Unlabeled && s.label == -1 && s.readable());
    }

    void foldersExpandAndBadInputsAreSkipped()
    {
        const ImportResult r = importImagesToLabel(m_root,
            { m_outside, m_outside + QStringLiteral("/notes.txt"), m_outside + QStringLiteral("/missing.png"),
                m_root + QStringLiteral("/cats/c1.png"), m_root });
        QVERIFY2(r.ok(), qPrintable(r.error));
        QCOMPARE(r.copied.size(), 3); // a.png, b.PNG, sub/a.png from the folder; notes.txt inside it is no image
        QCOMPARE(r.skipped.size(), 4);
        QVERIFY(r.skipped.at(0).contains(QLatin1String("not an image")));
        QVERIFY(r.skipped.at(1).contains(QLatin1String("no such file")));
        QVERIFY(r.skipped.at(2).contains(QLatin1String("part of the dataset"))); // folders: when expanding
        QVERIFY(r.skipped.at(3).contains(QLatin1String("already in the dataset"))); // files: when copying
        QVERIFY(QFileInfo::exists(m_root + QStringLiteral("/cats/c1.png"))); // not moved
        QCOMPARE(hashTree(m_root).size(), 3 + 3);
    }

    void otherFolderAndErrors()
    {
        const ImportResult r =
            importImagesToLabel(m_root, { m_outside + QStringLiteral("/a.png") }, QStringLiteral("incoming/week 48"));
        QVERIFY(r.ok());
        QCOMPARE(r.copied, QStringList { QStringLiteral("incoming/week 48/a.png") });
        ScanOptions options;
        options.unlabeledFolders = { QStringLiteral("incoming") };
        const ScanResult scan = scanDataset(m_root, options);
        QVERIFY(scan.ok());
        QCOMPARE(scan.dataset->vocab, (QStringList { QStringLiteral("cats"), QStringLiteral("dogs") }));
        QCOMPARE(scan.dataset->count(Split::Unlabeled), 2);

        QVERIFY(!importImagesToLabel(m_tmp.filePath(QStringLiteral("nope")), { m_outside }).ok());
        QVERIFY(!importImagesToLabel(m_root, { m_outside }, QStringLiteral("../escape")).ok());
        QVERIFY(!QFileInfo::exists(m_tmp.filePath(QStringLiteral("escape"))));

        // The destination cannot be created (here: a file is in the way; as a user, a read-only folder).
        QVERIFY(writeFile(m_root, QStringLiteral("blocked"), "a file, not a folder"));
        const ImportResult blocked = importImagesToLabel(m_root, { m_outside }, QStringLiteral("blocked/new"));
        QVERIFY(!blocked.ok());
        QVERIFY(blocked.error.contains(QLatin1String("cannot create")));
        QVERIFY(blocked.copied.isEmpty());

        std::atomic<bool> cancel { true };
        const ImportResult cancelled = importImagesToLabel(m_root, { m_outside }, QStringLiteral("unlabeled"), &cancel);
        QVERIFY(cancelled.cancelled);
        QVERIFY(cancelled.copied.isEmpty());
    }

    void readOnlyDataset()
    {
        if (::geteuid() == 0)
            QSKIP("root ignores folder permissions");
        QVERIFY(QFile::setPermissions(
            m_root + QStringLiteral("/unlabeled"), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        const ImportResult r = importImagesToLabel(m_root, { m_outside + QStringLiteral("/a.png") });
        QFile::setPermissions(m_root + QStringLiteral("/unlabeled"),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        QCOMPARE(r.copied.size(), 0);
        QCOMPARE(r.skipped.size(), 1);
        QVERIFY(QFileInfo::exists(m_outside + QStringLiteral("/a.png")));
    }
};

QTEST_GUILESS_MAIN(TestImportImages)
#include "tst_importimages.moc"
