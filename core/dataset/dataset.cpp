// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dataset/dataset.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include "core/dataset/splitstore.h"
#include "core/util/mix.h"

namespace Winnow {

QString splitName(Split s)
{
    switch (s) {
    case Split::Train:
        return QStringLiteral("train");
    case Split::Valid:
        return QStringLiteral("valid");
    case Split::Unlabeled:
        return QStringLiteral("unlabeled");
    }
    return {};
}

QString layoutName(Layout l)
{
    return l == Layout::TrainValid ? QStringLiteral("train-valid") : QStringLiteral("folder-per-class");
}

// ---------------------------------------------------------------------------------------------------------------
// Dataset accessors

QString Dataset::absolutePath(const Sample& s) const
{
    return root + QLatin1Char('/') + s.relPath;
}

std::vector<int> Dataset::indices(Split split, bool readableOnly) const
{
    std::vector<int> out;
    for (int i = 0; i < samples.size(); ++i) {
        const Sample& s = samples.at(i);
        if (s.split == split && (!readableOnly || s.readable()))
            out.push_back(i);
    }
    return out;
}

QList<ClassCounts> Dataset::counts() const
{
    QList<ClassCounts> out;
    out.reserve(vocab.size());
    for (const QString& name : vocab)
        out.append(ClassCounts { name, 0, 0 });
    for (const Sample& s : samples) {
        if (!s.readable() || s.label < 0 || s.label >= out.size())
            continue;
        if (s.split == Split::Train)
            ++out[s.label].train;
        else if (s.split == Split::Valid)
            ++out[s.label].valid;
    }
    return out;
}

int Dataset::count(Split split, bool readableOnly) const
{
    return int(std::count_if(samples.cbegin(), samples.cend(),
        [&](const Sample& s) { return s.split == split && (!readableOnly || s.readable()); }));
}

int Dataset::oddNames() const
{
    return int(std::count_if(samples.cbegin(), samples.cend(), [](const Sample& s) { return s.oddName; }));
}

QList<const Sample*> Dataset::unreadable() const
{
    QList<const Sample*> out;
    for (const Sample& s : samples)
        if (!s.readable())
            out.append(&s);
    return out;
}

int Dataset::findSample(const QString& relPath) const
{
    const auto it = std::lower_bound(
        samples.cbegin(), samples.cend(), relPath, [](const Sample& s, const QString& p) { return s.relPath < p; });
    if (it == samples.cend() || it->relPath != relPath)
        return -1;
    return int(it - samples.cbegin());
}

// ---------------------------------------------------------------------------------------------------------------
// Split

namespace {

int validCount(double validPct, qsizetype n)
{
    if (!(validPct > 0.0)) // also catches NaN
        return 0;
    if (validPct >= 1.0)
        return int(n);
    return int(std::floor(validPct * double(n))); // fastai: int(valid_pct * n)
}

double clampPct(double p)
{
    if (std::isnan(p))
        return 0.2;
    return std::clamp(p, 0.0, 1.0);
}

} // namespace

quint64 splitHash(const QString& relPath, quint64 seed)
{
    quint64 h = 0xCBF29CE484222325ull ^ splitmix64(seed);
    const QByteArray bytes = relPath.toUtf8();
    for (const char c : bytes) {
        h ^= quint8(c);
        h *= 0x100000001B3ull;
    }
    return splitmix64(h);
}

QList<Split> assignSplits(const QStringList& relPaths, quint64 seed, double validPct)
{
    const qsizetype n = relPaths.size();
    std::vector<std::pair<quint64, int>> keyed;
    keyed.reserve(size_t(n));
    for (int i = 0; i < n; ++i)
        keyed.emplace_back(splitHash(relPaths.at(i), seed), i);
    std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first)
            return a.first < b.first;
        return relPaths.at(a.second) < relPaths.at(b.second);
    });
    QList<Split> out(n, Split::Train);
    const int cut = validCount(clampPct(validPct), n);
    for (int r = 0; r < cut; ++r)
        out[keyed[size_t(r)].second] = Split::Valid;
    return out;
}

Split splitFor(const QString& relPath, quint64 seed, double validPct)
{
    validPct = clampPct(validPct);
    if (validPct >= 1.0)
        return Split::Valid;
    // Top 53 bits as a double in [0, 1).
    const double u = double(splitHash(relPath, seed) >> 11) * (1.0 / 9007199254740992.0);
    return u < validPct ? Split::Valid : Split::Train;
}

bool hasImageExtension(const QString& fileName)
{
    const qsizetype dot = fileName.lastIndexOf(QLatin1Char('.'));
    if (dot < 0 || dot == fileName.size() - 1)
        return false;
    const QString ext = fileName.mid(dot + 1).toLower();
    static const QSet<QString> kExtensions = {
        QStringLiteral("jpg"),
        QStringLiteral("jpeg"),
        QStringLiteral("jfif"),
        QStringLiteral("png"),
        QStringLiteral("bmp"),
        QStringLiteral("gif"),
        QStringLiteral("webp"),
        QStringLiteral("tif"),
        QStringLiteral("tiff"),
        QStringLiteral("jp2"),
        QStringLiteral("j2k"),
        QStringLiteral("ppm"),
        QStringLiteral("pgm"),
        QStringLiteral("pbm"),
    };
    return kExtensions.contains(ext);
}

QStringList expandImageInputs(const QStringList& inputs)
{
    QStringList files;
    for (const QString& in : inputs) {
        if (!QFileInfo(in).isDir()) {
            files << in;
            continue;
        }
        QStringList found;
        QDirIterator it(in, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString f = it.next();
            if (hasImageExtension(f))
                found << f;
        }
        std::sort(found.begin(), found.end());
        files << found;
    }
    return files;
}

// ---------------------------------------------------------------------------------------------------------------
// Scan

namespace {

const QString kUnlabeled = QStringLiteral("unlabeled");

struct Walker
{
    QStringList files; // relative paths
    QStringList others; // relative paths of regular files without an image extension
    QStringList warnings;
    QSet<QString> visited; // canonical dirs, against symlink loops

    void walk(const QString& absDir, const QString& relDir, int depth)
    {
        if (depth > 64)
            return;
        const QDir dir(absDir);
        if (!dir.isReadable()) {
            warnings << QStringLiteral("Could not list folder '%1'; its files were skipped.").arg(relDir);
            return;
        }
        const QFileInfoList entries = dir.entryInfoList(
            QDir::Dirs | QDir::Files | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System, QDir::NoSort);
        for (const QFileInfo& fi : entries) {
            const QString name = fi.fileName();
            if (name.startsWith(QLatin1Char('.')))
                continue;
            const QString rel = relDir.isEmpty() ? name : relDir + QLatin1Char('/') + name;
            if (fi.isDir()) {
                const QString canonical = fi.canonicalFilePath();
                if (canonical.isEmpty() || visited.contains(canonical))
                    continue;
                visited.insert(canonical);
                walk(fi.absoluteFilePath(), rel, depth + 1);
            } else if (hasImageExtension(name)) {
                files << rel;
            } else if (fi.isFile()) {
                others << rel;
            }
        }
    }
};

QString firstComponent(const QString& rel)
{
    const qsizetype slash = rel.indexOf(QLatin1Char('/'));
    return slash < 0 ? QString() : rel.left(slash);
}

} // namespace

ScanResult scanDataset(const QString& root, const ScanOptions& options)
{
    return scanDataset(root, options, ScanControl {});
}

ScanResult scanDataset(const QString& rootIn, const ScanOptions& optionsIn, const ScanControl& control)
{
    ScanResult result;
    if (rootIn.trimmed().isEmpty()) {
        result.error = QStringLiteral("No dataset folder given.");
        return result;
    }
    const QFileInfo rootInfo(rootIn);
    if (!rootInfo.exists()) {
        result.error = QStringLiteral("Folder does not exist: %1").arg(rootIn);
        return result;
    }
    if (!rootInfo.isDir()) {
        result.error = QStringLiteral("Not a folder: %1").arg(rootIn);
        return result;
    }
    const QString root = QDir::cleanPath(rootInfo.absoluteFilePath());
    if (!QDir(root).isReadable()) {
        result.error = QStringLiteral("Cannot read folder: %1").arg(root);
        return result;
    }

    Dataset ds;
    ds.root = root;
    ds.options = optionsIn;
    ds.options.validPct = clampPct(optionsIn.validPct);

    const QFileInfo trainInfo(root + QStringLiteral("/train"));
    const QFileInfo validInfo(root + QStringLiteral("/valid"));
    ds.layout = trainInfo.isDir() && validInfo.isDir() ? Layout::TrainValid : Layout::FolderPerClass;

    // Unlabeled prefixes: the built-in top-level folder (any case) plus the user's folders.
    QStringList unlabeledPrefixes;
    for (const QString& f : optionsIn.unlabeledFolders) {
        QString p = QDir::cleanPath(QDir::fromNativeSeparators(f));
        while (p.startsWith(QLatin1Char('/')))
            p.remove(0, 1);
        while (p.endsWith(QLatin1Char('/')))
            p.chop(1);
        if (!p.isEmpty() && p != QLatin1String("."))
            unlabeledPrefixes << p + QLatin1Char('/');
    }
    const auto isUnlabeled = [&](const QString& rel) {
        if (firstComponent(rel).compare(kUnlabeled, Qt::CaseInsensitive) == 0)
            return true;
        return std::any_of(
            unlabeledPrefixes.cbegin(), unlabeledPrefixes.cend(), [&](const QString& p) { return rel.startsWith(p); });
    };

    // Top-level folders, for the "no images" and "ignored" warnings.
    QStringList topDirs;
    {
        const QFileInfoList top =
            QDir(root).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System, QDir::Name);
        for (const QFileInfo& fi : top)
            if (!fi.fileName().startsWith(QLatin1Char('.')))
                topDirs << fi.fileName();
    }

    Walker walker;
    walker.visited.insert(QFileInfo(root).canonicalFilePath());
    walker.walk(root, QString(), 0);
    ds.warnings << walker.warnings;
    QStringList files = walker.files;
    // Files without an image extension are judged by their first bytes (web scrapes name photos
    // `00000090.jpg?1518390504` or `x.php?w=1500` and save HTML error pages too). Files directly in the root are
    // never part of the dataset, whatever they hold.
    QSet<QString> oddNames;
    for (const QString& rel : std::as_const(walker.others)) {
        if (!rel.contains(QLatin1Char('/')))
            continue;
        if (ds.layout == Layout::TrainValid && !isUnlabeled(rel)) {
            const QString top = firstComponent(rel);
            if (top != QLatin1String("train") && top != QLatin1String("valid"))
                continue; // an ignored folder (already warned about)
        }
        QFile f(root + QLatin1Char('/') + rel);
        if (!f.open(QIODevice::ReadOnly)) {
            ds.skipped.append({ rel, QStringLiteral("could not be read: %1").arg(f.errorString()) });
            continue;
        }
        const QByteArray head = f.read(kSniffBytes);
        if (head.isEmpty()) {
            ds.skipped.append({ rel, QStringLiteral("empty file") });
            continue;
        }
        const ContentSniff sn = sniffContent(head);
        if (sn.isImage()) {
            files << rel;
            oddNames.insert(rel);
        } else {
            ds.skipped.append({ rel, sn.kind });
        }
    }
    std::sort(files.begin(), files.end());
    std::sort(ds.skipped.begin(), ds.skipped.end(),
        [](const SkippedFile& a, const SkippedFile& b) { return a.relPath < b.relPath; });

    // Classify every file: unlabeled, labeled (class + split source) or ignored.
    QList<Sample> samples;
    samples.reserve(files.size());
    QList<QString> sampleClass; // parallel to samples; empty = unlabeled
    int rootFiles = 0;
    int looseTrainValid = 0;
    QSet<QString> ignoredTop;
    QSet<QString> trainClasses, validClasses;
    for (const QString& rel : std::as_const(files)) {
        Sample s;
        s.relPath = rel;
        s.oddName = oddNames.contains(rel);
        if (!rel.contains(QLatin1Char('/'))) {
            ++rootFiles;
            continue;
        }
        if (isUnlabeled(rel)) {
            s.split = Split::Unlabeled;
            samples.append(s);
            sampleClass.append(QString());
            continue;
        }
        const QStringList parts = rel.split(QLatin1Char('/'));
        if (ds.layout == Layout::FolderPerClass) {
            s.split = Split::Train; // decided below
            samples.append(s);
            sampleClass.append(parts.at(0));
            continue;
        }
        const QString& top = parts.at(0);
        if (top != QLatin1String("train") && top != QLatin1String("valid")) {
            ignoredTop.insert(top);
            continue;
        }
        if (parts.size() < 3) {
            ++looseTrainValid;
            continue;
        }
        s.split = top == QLatin1String("train") ? Split::Train : Split::Valid;
        (s.split == Split::Train ? trainClasses : validClasses).insert(parts.at(1));
        samples.append(s);
        sampleClass.append(parts.at(1));
    }

    // Vocabulary.
    QSet<QString> classSet;
    for (const QString& c : std::as_const(sampleClass))
        if (!c.isEmpty())
            classSet.insert(c);
    ds.vocab = QStringList(classSet.cbegin(), classSet.cend());
    std::sort(ds.vocab.begin(), ds.vocab.end());
    QHash<QString, int> labelOf;
    for (int i = 0; i < ds.vocab.size(); ++i)
        labelOf.insert(ds.vocab.at(i), i);
    for (int i = 0; i < samples.size(); ++i)
        samples[i].label = sampleClass.at(i).isEmpty() ? -1 : labelOf.value(sampleClass.at(i), -1);

    // Warnings.
    if (rootFiles > 0)
        ds.warnings << QStringLiteral("%1 image file(s) directly in the dataset folder were ignored: put them in a "
                                      "class folder (or in unlabeled/).")
                           .arg(rootFiles);
    if (ds.layout == Layout::FolderPerClass) {
        for (const QString& d : std::as_const(topDirs))
            if (!classSet.contains(d) && d.compare(kUnlabeled, Qt::CaseInsensitive) != 0
                && !unlabeledPrefixes.contains(d + QLatin1Char('/')))
                ds.warnings << QStringLiteral("Folder '%1' holds no image files, so it is not a class.").arg(d);
    } else {
        QStringList ignored(ignoredTop.cbegin(), ignoredTop.cend());
        std::sort(ignored.begin(), ignored.end());
        for (const QString& d : std::as_const(ignored))
            ds.warnings << QStringLiteral("Folder '%1' was ignored: a train/valid dataset uses only train/, valid/ "
                                          "and unlabeled/.")
                               .arg(d);
        if (looseTrainValid > 0)
            ds.warnings << QStringLiteral("%1 image file(s) directly in train/ or valid/ were ignored: put them in a "
                                          "class folder.")
                               .arg(looseTrainValid);
        QStringList validOnly;
        for (const QString& c : std::as_const(validClasses))
            if (!trainClasses.contains(c))
                validOnly << c;
        std::sort(validOnly.begin(), validOnly.end());
        for (const QString& c : std::as_const(validOnly))
            ds.warnings << QStringLiteral("Class '%1' has images only in valid/: a model cannot learn it.").arg(c);
    }

    if (ds.vocab.isEmpty()) {
        result.error = ds.layout == Layout::TrainValid
            ? QStringLiteral("No classes found in %1: train/ and valid/ hold no class folders with image files "
                             "(expected %1/train/<class>/<image>).")
                  .arg(root)
            : QStringLiteral("No classes found in %1: expected one folder per class with image files inside "
                             "(%1/<class>/<image>).")
                  .arg(root);
        return result;
    }

    // Seeded split (FolderPerClass): rank labeled files by hash, independent of listing order and of readability.
    if (ds.layout == Layout::FolderPerClass) {
        QStringList labeled;
        QList<int> labeledIndex;
        for (int i = 0; i < samples.size(); ++i)
            if (samples.at(i).label >= 0) {
                labeled << samples.at(i).relPath;
                labeledIndex << i;
            }
        // A saved split made with the same seed and validPct pins every file it lists; files it does not list (added
        // since) get the per-file rule, which moves nobody. No usable store: the rank rule, as before stores existed.
        const SplitStoreRead stored = readSplitStore(root);
        if (!stored.error.isEmpty())
            ds.warnings << QStringLiteral("The saved split %1 is damaged (%2) and was not used: the split was drawn by "
                                          "the seeded rule, so it may differ from earlier runs. Training again or "
                                          "applying cleaning decisions rewrites it.")
                               .arg(splitStoreRelPath(), stored.error);
        if (stored.store && stored.store->settings.sameAs(SplitSettings::of(ds.options))) {
            const QHash<QString, Split>& kept = stored.store->entries;
            for (int k = 0; k < labeledIndex.size(); ++k) {
                const QString& rel = labeled.at(k);
                const auto it = kept.constFind(rel);
                samples[labeledIndex.at(k)].split =
                    it != kept.cend() ? it.value() : splitFor(rel, ds.options.seed, ds.options.validPct);
            }
        } else {
            const QList<Split> splits = assignSplits(labeled, ds.options.seed, ds.options.validPct);
            for (int k = 0; k < labeledIndex.size(); ++k)
                samples[labeledIndex.at(k)].split = splits.at(k);
        }
    }

    // Check every file, in parallel.
    std::atomic<int> done { 0 };
    std::atomic<bool> cancelled { false };
    const int total = int(samples.size());
    const bool verify = ds.options.verifyImages;
    const auto check = [&](Sample& s) {
        if (cancelled.load(std::memory_order_relaxed))
            return;
        if (control.cancel && control.cancel->load(std::memory_order_relaxed)) {
            cancelled.store(true);
            return;
        }
        const FileCheck c = checkImageFile(root + QLatin1Char('/') + s.relPath, verify);
        s.status = c.status;
        s.detail = c.detail;
        s.bytes = c.bytes;
        s.contentHash = c.contentHash;
        const int d = done.fetch_add(1) + 1;
        if (control.progress && (d % 16 == 0 || d == total))
            control.progress(d, total);
    };
    // Not the global pool: a scan runs as a task of it (the GUI's scans do), and blockingMap only waits, so two scans
    // on a two-thread global pool each waited for checks queued behind the other, for ever.
    QThreadPool own;
    own.setMaxThreadCount(QThread::idealThreadCount());
    QThreadPool* pool = control.pool ? control.pool : &own;
    QtConcurrent::blockingMap(pool, samples, check);
    if (cancelled.load() || (control.cancel && control.cancel->load())) {
        result.error = QStringLiteral("cancelled");
        return result;
    }

    ds.samples = std::move(samples);
    result.dataset = std::move(ds);
    return result;
}

} // namespace Winnow
