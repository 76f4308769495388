// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <optional>
#include <vector>

namespace Winnow {

/// Which part of the data a file belongs to. Unlabeled files (in `unlabeled/` or a user "to label" folder) are never a
/// class, never trained on and never counted in metrics.
enum class Split : quint8 { Train, Valid, Unlabeled };

QString splitName(Split s); ///< "train", "valid", "unlabeled"

/// Why a file cannot be used. Readable files carry `None`.
enum class Unreadable : quint8 { None, Empty, NotAnImage, Truncated, Unsupported, IoError };

QString unreadableReason(Unreadable r); ///< human-readable: "empty file", "not an image", ...

/// One image file of a dataset. Paths are relative to the dataset root with '/' separators.
struct Sample
{
    QString relPath;
    int label = -1; ///< index into Dataset::vocab; -1 for unlabeled files
    Split split = Split::Train;
    Unreadable status = Unreadable::None;
    QString detail; ///< extra words for an unreadable file (decoder message), may be empty
    qint64 bytes = 0;
    bool readable() const { return status == Unreadable::None; }
};

enum class Layout : quint8 {
    FolderPerClass, ///< root/<class>/**/*.jpg, split drawn from (relative path, seed)
    TrainValid ///< root/train/<class>/..., root/valid/<class>/... (fastai GrandparentSplitter)
};

struct ScanOptions
{
    double validPct = 0.2;
    quint64 seed = 42;
    /// Decode-check every file (header + full decode for truncation). Off: only cheap checks (size, magic bytes).
    bool verifyImages = true;
    /// Folder names (relative to root) holding unlabeled images. `unlabeled` always counts.
    QStringList unlabeledFolders;
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
    ScanOptions options;
    QStringList vocab; ///< sorted class names
    QList<Sample> samples; ///< sorted by relPath (independent of filesystem order)

    int size() const { return int(samples.size()); }
    QString absolutePath(const Sample& s) const;
    std::vector<int> indices(Split split, bool readableOnly = true) const;
    QList<ClassCounts> counts() const; ///< per class, readable files only
    int count(Split split, bool readableOnly = true) const;
    QList<const Sample*> unreadable() const;
    int findSample(const QString& relPath) const; ///< -1 if absent (binary search)
};

/// Error from scanning (root missing, not a directory, no classes). Files that are merely unreadable are not errors.
struct ScanError
{
    QString message;
};

/// Scans a folder-per-class tree (recursive inside a class; hidden files and folders skipped; image extensions matched
/// case-insensitively) or a train/ + valid/ layout. Never throws; bad files are kept with a reason.
/// Thread-safe (no shared state); may take a while on big trees: call it off the GUI thread.
struct ScanResult
{
    std::optional<Dataset> dataset;
    QString error;
    bool ok() const { return dataset.has_value(); }
};
ScanResult scanDataset(const QString& root, const ScanOptions& options = {});

/// The split of one file in a FolderPerClass dataset: a pure function of the relative path and the seed, so a file
/// keeps its split when others are added or removed.
Split splitFor(const QString& relPath, quint64 seed, double validPct);

/// True if `fileName`'s extension is one we treat as an image (case-insensitive).
bool hasImageExtension(const QString& fileName);

} // namespace Winnow
