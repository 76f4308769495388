// SPDX-License-Identifier: GPL-3.0-or-later
// The recoverable trash: where Delete puts files, their manifests, listing, restoring and emptying.
#include <algorithm>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"
#include "core/cleaning/transaction.h"
#include "core/cleaning/transaction_p.h"

namespace Winnow {

namespace Cleaning {

using namespace Internal;

namespace Internal {

const QString kTrashPrefix = WinnowDir::trashPrefix();

void pruneTrash(const Context& ctx)
{
    if (!QFileInfo(ctx.trashDir).isDir())
        return;
    QStringList dirs;
    QDirIterator it(ctx.trashDir, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext())
        dirs << it.next();
    std::sort(dirs.begin(), dirs.end(), [](const QString& a, const QString& b) { return a.size() > b.size(); });
    for (const QString& d : std::as_const(dirs))
        Fs::removeEmptyDir(d);
}

void writeManifest(const Context& ctx, const Txn& t)
{
    QJsonArray files;
    for (const Step& s : t.journal.steps) {
        if (s.kind != MoveKind::Delete)
            continue;
        QJsonObject o;
        o.insert(QStringLiteral("file"), s.from);
        o.insert(QStringLiteral("trashed"), s.to);
        o.insert(QStringLiteral("size"), double(s.size));
        o.insert(QStringLiteral("mtime"), double(s.mtimeMs));
        files.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), QStringLiteral("winnow-trash-manifest"));
    root.insert(QStringLiteral("version"), 1);
    root.insert(QStringLiteral("transaction"), t.journal.id);
    root.insert(QStringLiteral("deleted"), t.journal.created.toString(Qt::ISODateWithMs));
    root.insert(QStringLiteral("files"), files);
    QString err;
    if (Fs::makePath(ctx.trashDir, &err))
        Fs::writeFileDurably(ctx.manifestPath(t.journal.id), QJsonDocument(root).toJson(), &err);
}

QString originalOfTrashPath(const QString& path)
{
    if (!path.startsWith(kTrashPrefix))
        return {};
    const qsizetype slash = path.indexOf(QLatin1Char('/'), kTrashPrefix.size());
    return slash < 0 ? QString() : path.mid(slash + 1);
}

QList<TrashEntry> listTrashImpl(const Context& ctx, const History& h)
{
    QList<TrashEntry> out;
    const QDir trash(ctx.trashDir);
    if (!trash.exists())
        return out;
    QHash<QString, QDateTime> created;
    for (const Txn& t : h.txns)
        created.insert(t.journal.id, t.journal.created);
    const QStringList ids = trash.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString& id : ids) {
        const QString base = trash.filePath(id);
        QDirIterator it(
            base, QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        QList<TrashEntry> entries;
        while (it.hasNext()) {
            const QString path = it.next();
            TrashEntry e;
            e.transactionId = id;
            e.originalPath = path.mid(base.size() + 1);
            e.trashPath = kTrashPrefix + id + QLatin1Char('/') + e.originalPath;
            e.size = Fs::lstatPath(path).size;
            e.deleted = created.value(id);
            entries << e;
        }
        std::sort(entries.begin(), entries.end(),
            [](const TrashEntry& a, const TrashEntry& b) { return a.originalPath < b.originalPath; });
        out << entries;
    }
    return out;
}

} // namespace Internal

QList<TrashEntry> listTrash(const QString& root)
{
    const Context ctx(root);
    return listTrashImpl(ctx, loadHistory(ctx));
}

TransactionResult restoreFromTrash(const QString& root, const QStringList& files)
{
    const Context ctx(root);
    TransactionResult res;
    RootLock lock;
    if (!openForWriting(ctx, lock, res))
        return res;
    const History h = loadHistory(ctx);
    const QList<TrashEntry> entries = listTrashImpl(ctx, h);
    QList<TrashEntry> chosen;
    if (files.isEmpty()) {
        chosen = entries;
    } else {
        QSet<QString> taken;
        for (const QString& f : files) {
            const QString want = QDir::cleanPath(f);
            const TrashEntry* match = nullptr;
            for (const TrashEntry& e : entries) {
                if (e.trashPath == want)
                    match = &e;
                else if (e.originalPath == want && (!match || match->originalPath == want))
                    match = &e; // entries are in id order: the last one is the newest deletion
            }
            if (!match)
                res.problems << QStringLiteral("%1 is not in the trash").arg(f);
            else if (!taken.contains(match->trashPath)) {
                taken.insert(match->trashPath);
                chosen << *match;
            }
        }
    }
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("nothing was restored");
        return res;
    }
    if (chosen.isEmpty()) {
        res.error = QStringLiteral("the trash is empty");
        return res;
    }
    Journal j = newJournal(ctx, h, TransactionKind::Restore);
    // The split each file had when it was deleted (recorded by its delete step, else its entry in the saved split).
    const SplitStoreRead stored =
        detectLayout(ctx.root) == Layout::FolderPerClass ? readSplitStore(ctx.root) : SplitStoreRead {};
    QHash<QString, QString> deletedSplit; // trash path -> split name
    if (stored.store) {
        j.split = stored.store->settings;
        for (const Txn& t : h.txns) {
            if (!t.journal.split || !t.journal.split->sameAs(stored.store->settings))
                continue;
            for (const Step& s : t.journal.steps)
                if (s.kind == MoveKind::Delete && !s.split.isEmpty())
                    deletedSplit.insert(s.to, s.split);
        }
    }
    QSet<QString> reserved;
    for (const TrashEntry& e : std::as_const(chosen)) {
        Step s;
        s.kind = MoveKind::Restore;
        s.from = e.trashPath;
        s.to = uniqueDestination(ctx, e.originalPath, reserved);
        const Fs::StatInfo st = Fs::lstatPath(ctx.abs(s.from));
        s.size = st.size;
        s.mtimeMs = st.mtimeMs;
        s.split = deletedSplit.value(e.trashPath);
        if (s.split.isEmpty() && stored.store && stored.store->entries.contains(e.originalPath))
            s.split = splitName(stored.store->entries.value(e.originalPath));
        if (s.to != e.originalPath)
            res.warnings << QStringLiteral("%1 is taken: restoring as %2").arg(e.originalPath, s.to);
        checkSourceFolder(ctx, s.from, &res.problems);
        checkDestinationFolder(ctx, parentOf(s.to), &j.createdDirs, &res.problems);
        j.steps << s;
    }
    for (const Txn& t : h.txns) {
        if (t.state() == TransactionState::Undone && !t.orphaned)
            j.orphans << t.journal.id;
    }
    if (!res.problems.isEmpty()) {
        res.error = QStringLiteral("nothing was restored");
        return res;
    }
    QString err;
    Txn t;
    if (!enoughSpace(ctx, j, &err) || !writeJournal(ctx, j, &t, &err)) {
        res.error = err + QStringLiteral("; nothing was restored");
        return res;
    }
    res.transactionId = j.id;
    crashPoint("journal written");
    if (runPhase(ctx, t, Phase::Apply, nullptr, res))
        res.summary = QStringLiteral("Restored (transaction %1): %2.").arg(j.id, describeMoves(res.moves));
    return res;
}

EmptyTrashResult emptyTrash(const QString& root)
{
    const Context ctx(root);
    EmptyTrashResult out;
    TransactionResult res;
    RootLock lock;
    if (!openForWriting(ctx, lock, res)) {
        out.error = res.error;
        out.recovery = res.recovery;
        return out;
    }
    out.recovery = res.recovery;
    History h = loadHistory(ctx);
    const QList<TrashEntry> entries = listTrashImpl(ctx, h);
    QSet<QString> doomed;
    for (const TrashEntry& e : entries)
        doomed.insert(e.trashPath);
    // Mark first, remove after: a crash in between leaves files that can still be restored, never a journal that
    // promises an undo it cannot do.
    for (Txn& t : h.txns) {
        const TransactionState s = t.state();
        if (t.log.purged || (s != TransactionState::Applied && s != TransactionState::Undone))
            continue;
        const bool hit = std::any_of(t.journal.steps.cbegin(), t.journal.steps.cend(),
            [&](const Step& step) { return doomed.contains(s == TransactionState::Applied ? step.to : step.from); });
        if (!hit)
            continue;
        Fs::AppendLog log;
        QString err;
        if (!log.open(t.logPath, &err) || !log.append("purged", &err)) {
            out.error = err;
            return out;
        }
    }
    crashPoint("purge marked");
    for (const TrashEntry& e : entries) {
        if (QFile::remove(ctx.abs(e.trashPath))) {
            ++out.filesRemoved;
            out.bytesFreed += e.size;
        } else {
            out.error = QStringLiteral("cannot remove %1").arg(e.trashPath);
        }
    }
    QDir trash(ctx.trashDir);
    for (const QString& f : trash.entryList(QDir::Files | QDir::Hidden))
        trash.remove(f); // manifests
    pruneTrash(ctx);
    out.ok = out.error.isEmpty();
    return out;
}

} // namespace Cleaning
} // namespace Winnow
