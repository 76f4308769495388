// SPDX-License-Identifier: GPL-3.0-or-later
// The one atomic writer (core/util/atomicfile.h): a file is written whole or not at all, an old file survives any
// failure, the error names the path, and no temporary file is left behind, whether the write succeeds or fails.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QIODevice>
#include <QTemporaryDir>
#include <QTest>

#include "core/util/atomicfile.h"

using namespace Winnow;

namespace {

/// Every entry of `dir`, hidden ones included: what a leftover temporary file would show up in.
QStringList entries(const QString& dir)
{
    QStringList list =
        QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
    return list;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return QByteArray("<unreadable>");
    return f.readAll();
}

bool writePlain(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size() && f.flush();
}

} // namespace

class TestAtomicFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesAFileThatReadsBack()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("run.json"));
        QByteArray bytes;
        for (int i = 0; i < 100000; ++i)
            bytes += char(i * 7);
        QString error = QStringLiteral("untouched");
        QVERIFY(writeFileAtomically(path, bytes, &error));
        QCOMPARE(error, QStringLiteral("untouched")); // success says nothing
        QCOMPARE(readAll(path), bytes);
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("run.json") });
    }

    void writesAnEmptyFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("empty"));
        QVERIFY(writeFileAtomically(path, QByteArray()));
        QVERIFY(QFile::exists(path));
        QCOMPARE(QFileInfo(path).size(), 0);
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("empty") });
    }

    void replacesAnExistingFileWhole()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("scores.jsonl"));
        QVERIFY(writePlain(path, QByteArray("an old content, much longer than the new one\n").repeated(50)));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner)); // 0600, not a new file's 0644
        const QFile::Permissions before = QFile::permissions(path);
        QVERIFY(writeFileAtomically(path, QByteArray("new\n")));
        QCOMPARE(readAll(path), QByteArray("new\n")); // not "new\n" followed by the old file's tail
        QCOMPARE(QFile::permissions(path), before); // the old file's permissions are kept
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("scores.jsonl") });
    }

    void streamsThroughAWriter()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("overlay.png"));
        QVERIFY(writePlain(path, QByteArray("old")));
        const AtomicFileWriter writer = [](QIODevice& out, QString*) {
            for (int i = 0; i < 10; ++i)
                if (out.write(QByteArray::number(i)) != 1)
                    return false;
            return true;
        };
        QString error;
        QVERIFY2(writeFileAtomically(path, writer, &error), qPrintable(error));
        QCOMPARE(readAll(path), QByteArray("0123456789"));
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("overlay.png") });
    }

    void aFailingWriterLeavesTheOldFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("trained.tsv"));
        QVERIFY(writePlain(path, QByteArray("old content\n")));
        QString error;
        // Half the content written, then the writer gives up: nothing of it may reach `path`.
        QVERIFY(!writeFileAtomically(
            path,
            [](QIODevice& out, QString* reason) {
                out.write("half of the new con");
                *reason = QStringLiteral("the encoder failed");
                return false;
            },
            &error));
        QVERIFY2(error.contains(QDir::toNativeSeparators(path)), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("the encoder failed")), qPrintable(error));
        QCOMPARE(readAll(path), QByteArray("old content\n"));
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("trained.tsv") });

        // A writer that fails without a reason still gets an error naming the path.
        error.clear();
        QVERIFY(!writeFileAtomically(
            path, [](QIODevice&, QString*) { return false; }, &error));
        QVERIFY2(
            error.startsWith(QStringLiteral("cannot write ") + QDir::toNativeSeparators(path) + QStringLiteral(": ")),
            qPrintable(error));
        QVERIFY2(
            error.size() > (QStringLiteral("cannot write ") + path + QStringLiteral(": ")).size(), qPrintable(error));
        QCOMPARE(readAll(path), QByteArray("old content\n"));
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("trained.tsv") });
    }

    void aMissingFolderFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("no/such/folder/run.json"));
        QString error;
        QVERIFY(!writeFileAtomically(path, QByteArray("x"), &error));
        QVERIFY2(
            error.startsWith(QStringLiteral("cannot write ") + QDir::toNativeSeparators(path) + QStringLiteral(": ")),
            qPrintable(error));
        QVERIFY(!QFile::exists(path));
        QVERIFY(entries(dir.path()).isEmpty()); // the folder is not created, and no temporary file appears
        QVERIFY(!writeFileAtomically(path, QByteArray("x"))); // without an error string: no crash
    }

    void aFileInPlaceOfTheFolderFails()
    {
        // Fails for root too (ENOTDIR), unlike a read-only folder.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString notADir = dir.filePath(QStringLiteral("model.winnow"));
        QVERIFY(writePlain(notADir, QByteArray("a file")));
        const QString path = notADir + QStringLiteral("/run.json");
        QString error;
        QVERIFY(!writeFileAtomically(path, QByteArray("x"), &error));
        QVERIFY2(error.contains(QDir::toNativeSeparators(path)), qPrintable(error));
        QCOMPARE(readAll(notADir), QByteArray("a file"));
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("model.winnow") });
    }

    void aFolderInPlaceOfTheFileFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("out"));
        QVERIFY(QDir().mkdir(path));
        QVERIFY(writePlain(path + QStringLiteral("/inside"), QByteArray("kept")));
        QString error;
        QVERIFY(!writeFileAtomically(path, QByteArray("x"), &error));
        QVERIFY2(error.contains(QDir::toNativeSeparators(path)), qPrintable(error));
        QVERIFY(QFileInfo(path).isDir());
        QCOMPARE(readAll(path + QStringLiteral("/inside")), QByteArray("kept"));
        QCOMPARE(entries(dir.path()), QStringList { QStringLiteral("out") });
        QCOMPARE(entries(path), QStringList { QStringLiteral("inside") });
    }

    void aReadOnlyFolderFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString folder = dir.filePath(QStringLiteral("ro"));
        QVERIFY(QDir().mkdir(folder));
        const QString path = folder + QStringLiteral("/run.json");
        QVERIFY(writePlain(path, QByteArray("old run\n")));
        const QFile::Permissions rx = QFile::ReadOwner | QFile::ExeOwner | QFile::ReadUser | QFile::ExeUser;
        QVERIFY(QFile::setPermissions(folder, rx));
        // Root (a container's CI user) may write into any folder whatever its mode: then there is nothing to test.
        const bool stillWritable = writePlain(folder + QStringLiteral("/probe"), "p");
        QString error;
        const bool ok = stillWritable ? false : writeFileAtomically(path, QByteArray("new run\n"), &error);
        QVERIFY(QFile::setPermissions(folder, rx | QFile::WriteOwner | QFile::WriteUser)); // so that cleanup works
        if (stillWritable)
            QSKIP("this user may write into a read-only folder (root)");
        QVERIFY(!ok);
        QVERIFY2(
            error.startsWith(QStringLiteral("cannot write ") + QDir::toNativeSeparators(path) + QStringLiteral(": ")),
            qPrintable(error));
        QCOMPARE(readAll(path), QByteArray("old run\n"));
        QCOMPARE(entries(folder), QStringList { QStringLiteral("run.json") });
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomicfile.moc"
