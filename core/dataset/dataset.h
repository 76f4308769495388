// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include "core/imaging/filecheck.h"

class QThreadPool;

namespace Winnow {

/// Which part of the data a file belongs to. Unlabeled files (in `unlabeled/` or a user "to label" folder) are never a
/// class, never trained on and never counted in metrics.
enum class Split : quint8 { Train, Valid, Unlabeled };

QString splitName(Split s); ///< "train", "valid", "unlabeled"

/// One image file of a dataset. Paths are relative to the dataset root with '/' separators.
struct Sample
{
    QString relPath;
    int label = -1; ///< index into Dataset::vocab; -1 for unlabeled files
    Split split = Split::Train;
    Unreadable status = Unreadable::None;
    QString detail; ///< extra words for an unreadable file (decoder message), may be empty
    qint64 bytes = 0;
    /// The name has no image extension (`00000090.jpg?1518390504`, `photo`, `x.php?w=1500`, as web scrapes save
    /// them) but the content is an image: used like any other, and listed so the user can rename it.
    bool oddName = false;
    /// MD5 of the file's bytes when the scan read it whole (ScanOptions::verifyImages; readable files), else empty;
    /// the same bytes give the same hash (core/metrics/duplicates.h).
    QByteArray contentHash;
    bool readable() const
    {
        return status == Unreadable::None;
    }
};

enum class Layout : quint8 {
    FolderPerClass, ///< root/<class>/**/*.jpg, split saved in .winnow/splits.tsv or drawn from (relative path, seed)
    TrainValid ///< root/train/<class>/..., root/valid/<class>/... (fastai GrandparentSplitter)
};

QString layoutName(Layout l); ///< "folder-per-class", "train-valid"

struct ScanOptions
{
    /// Fraction of the labeled files of a FolderPerClass dataset that go to valid, clamped to [0, 1]. Ignored by the
    /// TrainValid layout, whose split comes from the folders.
    double validPct = 0.2;
    quint64 seed = 42;
    /// Decode-check every file (header + full decode for truncation). Off: only cheap checks (size, magic bytes,
    /// end-of-image marker near the end of the file).
    bool verifyImages = true;
    /// Folder names (relative to root) holding unlabeled images. `unlabeled` always counts.
    QStringList unlabeledFolders;
};

/// A file in the dataset's folders that is not used because its content is not an image (judged by its bytes: an
/// HTML page, text, a PDF, a video...). Image files that cannot be decoded are Samples with a reason instead.
struct SkippedFile
{
    QString relPath;
    QString kind; ///< "HTML page", "text file", "PDF document", "unknown content (starts with ...)"
};

struct ClassCounts
{
    QString name;
    int train = 0;
    int valid = 0;
};

/// A scanned image-classification dataset. Plain value type; cheap to copy (implicitly shared Qt containers).
struct Dataset
{
    QString root; ///< absolute, cleaned
    Layout layout = Layout::FolderPerClass;
    ScanOptions options; ///< the options actually used (validPct clamped)
    /// Sorted class names. FolderPerClass: class folders holding at least one image file (readable or not).
    /// TrainValid: classes of train/ plus, unlike fastai (which raises a KeyError), classes that only appear in
    /// valid/; such a class gets a line in `warnings` (a model cannot learn it).
    QStringList vocab;
    QList<Sample> samples; ///< sorted by relPath (QString order, independent of filesystem order)
    /// Non-fatal remarks for the user: ignored files directly in the root, folders without images, classes only in
    /// valid/, folders that could not be listed.
    QStringList warnings;
    /// Files without an image extension inside the dataset's folders whose content is not an image (sorted).
    QList<SkippedFile> skipped;
    int oddNames() const; ///< samples whose name has no image extension (Sample::oddName)

    int size() const
    {
        return int(samples.size());
    }
    QString absolutePath(const Sample& s) const;
    QString absolutePath(int index) const
    {
        return absolutePath(samples.at(index));
    }
    std::vector<int> indices(Split split, bool readableOnly = true) const;
    QList<ClassCounts> counts() const; ///< per class in vocab order, readable files only
    int count(Split split, bool readableOnly = true) const;
    QList<const Sample*> unreadable() const; ///< pointers into `samples`: valid while this Dataset is unchanged
    int findSample(const QString& relPath) const; ///< -1 if absent (binary search)
};

/// Error from scanning (root missing, not a directory, no classes). Files that are merely unreadable are not errors.
struct ScanError
{
    QString message;
};

/// Scans a folder-per-class tree (recursive inside a class; hidden files and folders skipped; image extensions matched
/// case-insensitively, and any other file judged by its first bytes: an image is used with Sample::oddName, anything
/// else listed in Dataset::skipped with its kind) or a train/ + valid/ layout (chosen when root holds both a `train`
/// and a `valid` folder). Files directly in root are ignored (with a warning). Never throws; bad files are kept with a
/// reason.
///
/// FolderPerClass split (labeled files, readable or not, so that repairing a file never moves others):
/// - When `<root>/.winnow/splits.tsv` (core/dataset/splitstore.h) exists and was made with this scan's seed and
///   validPct, every file it lists keeps the split it lists, and a file it does not list (added since) gets
///   splitFor(relPath, seed, validPct), a pure function of its own path, so it moves nobody. The store is written by
///   the cleaning transactions (a relabelled or renamed file keeps its split; undo gives every file its old split
///   back; a deletion moves nobody) and when training starts (persistSplits()).
/// - Otherwise (no store, the first scan of a folder: so existing splits do not change on upgrade; or a store made
///   with another seed or validPct, which is ignored because the user asked for a new split) the files are ranked by
///   splitHash(relPath, seed); the first floor(validPct * n) (fastai's `int(valid_pct*n)`) are valid, the rest train,
///   independent of directory listing order. A damaged store is ignored the same way, with a line in `warnings`.
/// The scan only reads the store: it never writes into the dataset. Unlabeled files get Split::Unlabeled and label -1.
///
/// Thread-safe (no shared state); decodes files in parallel; may take seconds on big trees: call it off the GUI
/// thread.
struct ScanResult
{
    std::optional<Dataset> dataset;
    QString error; ///< set when !ok(): root missing, not a directory, unreadable, no classes, or cancelled
    bool ok() const
    {
        return dataset.has_value();
    }
};
ScanResult scanDataset(const QString& root, const ScanOptions& options = {});

/// Progress and cancellation for a long scan.
struct ScanControl
{
    /// Called with (files checked, files total) from worker threads, at most every few files. Must be thread-safe.
    std::function<void(int done, int total)> progress;
    /// Polled between files; when it becomes true the scan stops and returns error "cancelled".
    const std::atomic<bool>* cancel = nullptr;
    /// Pool for the file checks; nullptr = one of the scan's own (idealThreadCount threads). Never pass the pool the
    /// scan itself runs on: the scan waits for its checks there.
    QThreadPool* pool = nullptr;
};
ScanResult scanDataset(const QString& root, const ScanOptions& options, const ScanControl& control);

/// The 64-bit key that orders files for the seeded split: FNV-1a over the UTF-8 bytes of relPath, started from a
/// seed-dependent basis, then a splitmix64 finaliser. Pure and platform-independent.
quint64 splitHash(const QString& relPath, quint64 seed);

/// The rule scanDataset uses for a FolderPerClass dataset without a saved split: the floor(validPct * n) paths with the
/// smallest (splitHash, path) are Valid, the rest Train. Result is parallel to `relPaths`; order of the input does not
/// matter.
QList<Split> assignSplits(const QStringList& relPaths, quint64 seed, double validPct);

/// The split of one file judged on its own: Valid iff splitHash(relPath, seed) / 2^64 < validPct. A pure function of
/// the relative path and the seed, so a file keeps it when others are added or removed; about validPct of files get
/// Valid but not exactly. scanDataset uses it for files that a saved split (.winnow/splits.tsv) does not list; without
/// a saved split it uses the rank rule of assignSplits (exact counts), which agrees with this for all but the files
/// nearest the threshold: use assignSplits to reproduce such a scan. Pinned by golden values in tst_splitstore.
Split splitFor(const QString& relPath, quint64 seed, double validPct);

/// True if `fileName`'s extension is one we treat as an image (case-insensitive): jpg jpeg jfif png bmp gif webp tif
/// tiff ppm pgm pbm.
bool hasImageExtension(const QString& fileName);

/// Image files for a list of command-line or dropped inputs: files are kept as given; folders expand recursively
/// (sorted; hidden entries skipped) to the files with an image extension.
QStringList expandImageInputs(const QStringList& inputs);

} // namespace Winnow
