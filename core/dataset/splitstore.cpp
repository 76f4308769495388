// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dataset/splitstore.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QStringList>

#include "core/cleaning/fsutil.h"
#include "core/util/layout.h"

namespace Winnow {

namespace {

const auto kMagic = QByteArrayLiteral("# winnow-splits");

double clampPct(double p)
{
    if (std::isnan(p))
        return 0.2;
    return std::clamp(p, 0.0, 1.0);
}

/// Shortest text that reads back as the same double ("0.2", not "0.20000000000000001").
QByteArray formatDouble(double v)
{
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return r.ec == std::errc() ? QByteArray(buf, int(r.ptr - buf)) : QByteArray::number(v, 'g', 17);
}

QByteArray escapePath(const QString& path)
{
    const QByteArray utf8 = path.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (const char c : utf8) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += c;
        }
    }
    return out;
}

bool unescapePath(const QByteArray& in, QString* out)
{
    QByteArray bytes;
    bytes.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in.at(i);
        if (c != '\\') {
            bytes += c;
            continue;
        }
        if (++i >= in.size())
            return false;
        switch (in.at(i)) {
        case '\\':
            bytes += '\\';
            break;
        case 't':
            bytes += '\t';
            break;
        case 'n':
            bytes += '\n';
            break;
        case 'r':
            bytes += '\r';
            break;
        default:
            return false;
        }
    }
    *out = QString::fromUtf8(bytes);
    return true;
}

bool goodRelPath(const QString& p)
{
    if (p.isEmpty() || p.startsWith(QLatin1Char('/')))
        return false;
    const QStringList parts = p.split(QLatin1Char('/'));
    return !parts.contains(QString()) && !parts.contains(QStringLiteral("..")) && !parts.contains(QStringLiteral("."));
}

} // namespace

bool SplitSettings::sameAs(const SplitSettings& other) const
{
    return seed == other.seed && std::abs(clampPct(validPct) - clampPct(other.validPct)) <= 1e-12;
}

QByteArray SplitStore::serialize() const
{
    QStringList paths;
    paths.reserve(entries.size());
    for (auto it = entries.cbegin(); it != entries.cend(); ++it)
        if (it.value() == Split::Train || it.value() == Split::Valid)
            paths << it.key();
    std::sort(paths.begin(), paths.end());
    QByteArray out = kMagic + " version=" + QByteArray::number(kVersion) + " seed=" + QByteArray::number(settings.seed)
        + " validPct=" + formatDouble(clampPct(settings.validPct)) + '\n';
    out.reserve(out.size() + paths.size() * 32);
    for (const QString& p : std::as_const(paths)) {
        out += entries.value(p) == Split::Valid ? "valid\t" : "train\t";
        out += escapePath(p);
        out += '\n';
    }
    return out;
}

std::optional<SplitStore> SplitStore::parse(const QByteArray& data, QString* error)
{
    auto fail = [&](int line, const QString& why) -> std::optional<SplitStore> {
        if (error)
            *error = line > 0 ? QStringLiteral("line %1: %2").arg(line).arg(why) : why;
        return std::nullopt;
    };
    const QList<QByteArray> lines = data.split('\n');
    QByteArray header = lines.value(0);
    if (header.endsWith('\r'))
        header.chop(1);
    if (header != kMagic && !header.startsWith(QByteArray(kMagic + ' ')))
        return fail(
            1, QStringLiteral("not a Winnow split file (it must start with \"%1\")").arg(QString::fromLatin1(kMagic)));
    SplitStore store;
    bool haveVersion = false, haveSeed = false, havePct = false;
    for (const QByteArray& token : header.mid(kMagic.size()).split(' ')) {
        if (token.isEmpty())
            continue;
        const qsizetype eq = token.indexOf('=');
        const QByteArray key = eq < 0 ? token : token.left(eq);
        const QByteArray value = eq < 0 ? QByteArray() : token.mid(eq + 1);
        bool ok = false;
        if (key == "version") {
            const int v = value.toInt(&ok);
            if (!ok || v < 1)
                return fail(1, QStringLiteral("bad version '%1'").arg(QString::fromUtf8(value)));
            if (v > kVersion)
                return fail(1,
                    QStringLiteral("version %1 was written by a newer Winnow (this one reads version %2)")
                        .arg(v)
                        .arg(kVersion));
            haveVersion = true;
        } else if (key == "seed") {
            store.settings.seed = value.toULongLong(&ok);
            if (!ok)
                return fail(1, QStringLiteral("bad seed '%1'").arg(QString::fromUtf8(value)));
            haveSeed = true;
        } else if (key == "validPct") {
            store.settings.validPct = value.toDouble(&ok);
            if (!ok || !(store.settings.validPct >= 0.0 && store.settings.validPct <= 1.0))
                return fail(1, QStringLiteral("bad validPct '%1'").arg(QString::fromUtf8(value)));
            havePct = true;
        } // other keys: added by a later version 1 writer, ignored
    }
    if (!haveVersion || !haveSeed || !havePct)
        return fail(1, QStringLiteral("the header needs version=, seed= and validPct="));

    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const int n = int(i) + 1;
        const qsizetype tab = line.indexOf('\t');
        if (tab < 0)
            return fail(n, QStringLiteral("expected \"train\" or \"valid\", a tab, then the file's path"));
        const QByteArray word = line.left(tab);
        Split split;
        if (word == "train")
            split = Split::Train;
        else if (word == "valid")
            split = Split::Valid;
        else
            return fail(n, QStringLiteral("unknown split '%1' (expected train or valid)").arg(QString::fromUtf8(word)));
        QString path;
        if (!unescapePath(line.mid(tab + 1), &path))
            return fail(n, QStringLiteral("bad escape in the path (only \\\\ \\t \\n \\r are allowed)"));
        if (!goodRelPath(path))
            return fail(n, QStringLiteral("'%1' is not a relative path inside the dataset").arg(path));
        if (store.entries.contains(path))
            return fail(n, QStringLiteral("'%1' is listed twice").arg(path));
        store.entries.insert(path, split);
    }
    return store;
}

SplitStore SplitStore::fromDataset(const Dataset& dataset)
{
    SplitStore store;
    store.settings = SplitSettings::of(dataset.options);
    for (const Sample& s : dataset.samples)
        if (s.label >= 0 && (s.split == Split::Train || s.split == Split::Valid))
            store.entries.insert(s.relPath, s.split);
    return store;
}

QString splitStoreRelPath()
{
    return WinnowDir::splitsRelPath();
}

QString splitStorePath(const QString& root)
{
    return QDir::cleanPath(root) + QLatin1Char('/') + splitStoreRelPath();
}

SplitStoreRead readSplitStore(const QString& root)
{
    SplitStoreRead r;
    const QString path = splitStorePath(root);
    const QFileInfo fi(path);
    if (!fi.exists() && !fi.isSymLink())
        return r;
    r.exists = true;
    QFile f(path);
    if (!fi.isFile() || !f.open(QIODevice::ReadOnly)) {
        r.error = fi.isFile() ? QStringLiteral("cannot read it (%1)").arg(f.errorString())
                              : QStringLiteral("it is not a regular file");
        return r;
    }
    const QByteArray data = f.readAll();
    if (f.error() != QFileDevice::NoError) {
        r.error = QStringLiteral("cannot read it (%1)").arg(f.errorString());
        return r;
    }
    r.store = SplitStore::parse(data, &r.error);
    return r;
}

bool writeSplitStore(const QString& root, const SplitStore& store, QString* error)
{
    const QString path = splitStorePath(root);
    QString err;
    if (!Cleaning::Fs::makePath(QFileInfo(path).absolutePath(), &err)
        || !Cleaning::Fs::writeFileDurably(path, store.serialize(), &err)) {
        if (error)
            *error = err;
        return false;
    }
    return true;
}

bool datasetFolderWritable(const QString& root)
{
    constexpr auto kAnyWrite = QFileDevice::WriteOwner | QFileDevice::WriteGroup | QFileDevice::WriteOther;
    for (const QString& dir : QStringList { root, WinnowDir::dir(root) }) {
        const QFileInfo fi(dir);
        if (dir != root && !fi.exists())
            continue;
        if (!fi.isDir() || !Cleaning::Fs::isWritableDir(dir) || !(fi.permissions() & kAnyWrite))
            return false;
    }
    return true;
}

bool persistSplits(const Dataset& dataset, QString* error)
{
    auto fail = [&](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (dataset.layout != Layout::FolderPerClass)
        return true;
    const QString root = dataset.root;
    if (!datasetFolderWritable(root))
        return fail(QStringLiteral("the dataset folder %1 is read-only, so its split was not saved").arg(root));

    QString err;
    if (!Cleaning::Fs::makePath(WinnowDir::dir(root), &err))
        return fail(QStringLiteral("cannot save the split: %1").arg(err));
    QLockFile lock(WinnowDir::lockFile(root));
    lock.setStaleLockTime(0); // as the cleaning transactions: stale only when its process is gone
    if (!lock.tryLock(2000))
        return fail(QStringLiteral("the split was not saved: another Winnow process is changing the dataset"));

    const SplitStoreRead old = readSplitStore(root);
    SplitStore store = SplitStore::fromDataset(dataset);
    if (old.store && old.store->settings.sameAs(store.settings)) {
        SplitStore merged = *old.store;
        merged.settings = store.settings;
        for (auto it = store.entries.cbegin(); it != store.entries.cend(); ++it)
            merged.entries.insert(it.key(), it.value());
        store = std::move(merged);
    }
    const QByteArray text = store.serialize();
    if (old.store) {
        QFile f(splitStorePath(root));
        if (f.open(QIODevice::ReadOnly) && f.readAll() == text)
            return true; // unchanged
    }
    if (!Cleaning::Fs::writeFileDurably(splitStorePath(root), text, &err))
        return fail(QStringLiteral("cannot save the split: %1").arg(err));
    return true;
}

} // namespace Winnow
