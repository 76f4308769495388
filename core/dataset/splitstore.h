// SPDX-License-Identifier: GPL-3.0-or-later
// The persisted train/valid split of a folder-per-class dataset: `<root>/.winnow/splits.tsv`.
#pragma once

#include <optional>

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QtGlobal>

#include "core/dataset/dataset.h"

/**
 * @file
 * Why: the seeded rule of scanDataset() ranks every labeled file by splitHash(relPath, seed) and cuts at
 * floor(validPct * n), so deleting one file pulls another across the cut, and a file that moves (relabelled
 * black/x.jpg -> grizzly/x.jpg, or renamed grizzly/x (2).jpg on a name collision) draws a new split: a file the model
 * trained on could become a validation file. The store pins the split of every file it lists.
 *
 * Format (UTF-8, '\n' line ends; full description in core/cleaning/FORMAT.md, section 3.6):
 *
 *     # winnow-splits version=1 seed=42 validPct=0.2
 *     train	black/00000001.jpg
 *     valid	black/00000002.jpg
 *
 * One `train|valid<TAB>relPath` line per file, sorted by path; in paths `\` `TAB` `LF` `CR` are written `\\` `\t` `\n`
 * `\r`. Lines starting with '#' after the header and empty lines are ignored.
 *
 * Who reads and writes it:
 * - scanDataset() reads it (never writes it) when its seed and validPct equal the scan's; see dataset.h.
 * - The cleaning transactions (core/cleaning/transaction.h) write it, so a moved file keeps its split, undo gives
 *   every file its old split back, and deleting a file moves nobody.
 * - persistSplits() writes the split a training run uses (`winnow train`, the Train page's Start).
 *
 * Qt Core only; thread-safe (no shared state).
 */
namespace Winnow {

/// The seed and validation share a split is drawn with (as in ScanOptions).
struct SplitSettings
{
    quint64 seed = 42;
    double validPct = 0.2; ///< clamped to [0, 1] where used

    static SplitSettings of(const ScanOptions& options)
    {
        return { options.seed, options.validPct };
    }
    /// Same seed, and the same validPct (both clamped; equal within 1e-12).
    bool sameAs(const SplitSettings& other) const;
};

/// The contents of `.winnow/splits.tsv`.
struct SplitStore
{
    static constexpr int kVersion = 1;

    SplitSettings settings;
    QHash<QString, Split> entries; ///< relative path ('/' separators) -> Split::Train or Split::Valid

    /// The file's text: header, then one line per entry sorted by path.
    QByteArray serialize() const;
    /// Parses serialize()'s text. On error returns nullopt and a message naming the line ("line 4: unknown split
    /// 'trian' (expected train or valid)").
    static std::optional<SplitStore> parse(const QByteArray& data, QString* error = nullptr);

    /// Every labeled file of a FolderPerClass dataset with its split (settings from dataset.options).
    static SplitStore fromDataset(const Dataset& dataset);
};

/// ".winnow/splits.tsv", relative to a dataset root.
QString splitStoreRelPath();
/// `<root>/.winnow/splits.tsv`.
QString splitStorePath(const QString& root);

/// What readSplitStore() found.
struct SplitStoreRead
{
    bool exists = false; ///< a file is there (readable or not)
    std::optional<SplitStore> store; ///< set when it exists and parses
    QString error; ///< set when it exists but cannot be read or parsed
};
/// Reads `<root>/.winnow/splits.tsv`. Touches nothing.
SplitStoreRead readSplitStore(const QString& root);

/// Writes `<root>/.winnow/splits.tsv` atomically and durably (temp file, fsync, rename, fsync folder), creating
/// `.winnow/` if needed. Does not lock: callers that can race a cleaning transaction take `.winnow/lock` first.
bool writeSplitStore(const QString& root, const SplitStore& store, QString* error = nullptr);

/// Whether Winnow may write into the dataset folder `root`: it (and `.winnow/`, if there) is writable and not marked
/// read-only (no write permission bit at all, which stops even root from writing, e.g. into a shared read-only copy).
bool datasetFolderWritable(const QString& root);

/**
 * Persists the split `dataset` uses (a FolderPerClass dataset; a train/valid dataset takes its split from its folders
 * and is left alone: true, nothing written), so that files added, removed or moved later do not reshuffle it. A store
 * with the same seed and validPct is merged (its other entries, e.g. of files in the trash, stay); one with other
 * settings, a damaged one or none is replaced. Nothing is written when the file would not change. Takes
 * `.winnow/lock` (as the cleaning transactions do). Returns false with `error` set when the folder is read-only, busy
 * or the write fails: callers warn and carry on (the split is then what the next scan computes).
 */
bool persistSplits(const Dataset& dataset, QString* error = nullptr);

} // namespace Winnow
