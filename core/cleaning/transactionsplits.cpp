// SPDX-License-Identifier: GPL-3.0-or-later
// The saved split across transactions: every file keeps its train/valid split through apply, undo, redo and
// restore (.winnow/splits.tsv, core/dataset/splitstore.h).
#include <optional>

#include "core/cleaning/fsutil.h"
#include "core/cleaning/journal_p.h"
#include "core/cleaning/testhooks_p.h"
#include "core/cleaning/transaction.h"
#include "core/cleaning/transaction_p.h"

namespace Winnow {

namespace Cleaning {

using namespace Internal;

namespace Internal {

bool splitFromName(const QString& name, Split* split)
{
    if (name == QLatin1String("train"))
        *split = Split::Train;
    else if (name == QLatin1String("valid"))
        *split = Split::Valid;
    else if (name == QLatin1String("unlabeled"))
        *split = Split::Unlabeled;
    else
        return false;
    return true;
}

void prepareSplits(
    const Context& ctx, const CleaningPlan& plan, const ApplyOptions& options, Journal& j, QStringList* warnings)
{
    if (detectLayout(ctx.root) != Layout::FolderPerClass)
        return;
    const SplitStoreRead read = readSplitStore(ctx.root);
    std::optional<SplitStore> store;
    if (read.store && (!options.split || read.store->settings.sameAs(*options.split)))
        store = read.store;
    if (!store) {
        ScanOptions so;
        if (options.split) {
            so.seed = options.split->seed;
            so.validPct = options.split->validPct;
        }
        so.verifyImages = false; // only the paths matter
        so.unlabeledFolders = plan.unlabeledFolders();
        const ScanResult scan = scanDataset(ctx.root, so); // no usable store: the seeded rule, as the user sees it
        if (scan.ok()) {
            store = SplitStore::fromDataset(*scan.dataset);
        } else if (scan.error.startsWith(QLatin1String("No classes found"))) {
            store = SplitStore { SplitSettings { so.seed, so.validPct }, {} }; // nothing labeled yet: nothing to keep
        } else {
            *warnings << QStringLiteral("the split could not be saved (%1): moved files may change between train "
                                        "and valid")
                             .arg(scan.error);
            return;
        }
        QString err;
        if (!writeSplitStore(ctx.root, *store, &err)) {
            *warnings << QStringLiteral("the split could not be saved (%1): moved files may change between train "
                                        "and valid")
                             .arg(err);
            return;
        }
        if (!read.error.isEmpty())
            *warnings << QStringLiteral("the saved split %1 was damaged (%2); it was written anew from the current "
                                        "split")
                             .arg(splitStoreRelPath(), read.error);
    }
    j.split = store->settings;
    for (Step& s : j.steps) {
        Split split = Split::Unlabeled;
        if (!plan.classOf(s.from).isEmpty()) {
            const auto it = store->entries.constFind(s.from);
            split = it != store->entries.cend() ? it.value()
                                                : splitFor(s.from, store->settings.seed, store->settings.validPct);
        }
        s.split = splitName(split);
    }
}

void updateSplitStore(const Context& ctx, const Txn& t, bool forward, QStringList* warnings)
{
    if (detectLayout(ctx.root) != Layout::FolderPerClass)
        return;
    SplitStoreRead read = readSplitStore(ctx.root);
    if (!read.store)
        return;
    SplitStore& store = *read.store;
    // Splits recorded under other settings (the store was replaced since) say nothing about this store.
    const bool useRecorded = t.journal.split && t.journal.split->sameAs(store.settings);
    bool changed = false;
    auto set = [&](const QString& path, Split split) {
        if (split == Split::Unlabeled) {
            changed = store.entries.remove(path) > 0 || changed;
            return;
        }
        const auto it = store.entries.constFind(path);
        if (it == store.entries.cend() || it.value() != split) {
            store.entries.insert(path, split);
            changed = true;
        }
    };
    auto copy = [&](const QString& from, const QString& to) { // journals without recorded splits: by path
        const auto it = store.entries.constFind(from);
        if (it != store.entries.cend())
            set(to, it.value());
    };
    for (const Step& s : t.journal.steps) {
        Split recorded = Split::Unlabeled;
        const bool haveRecorded = useRecorded && splitFromName(s.split, &recorded);
        if (s.kind == MoveKind::Delete) { // the entry stays, for undo and restore
            if (haveRecorded)
                set(s.from, recorded);
        } else if (forward) {
            if (haveRecorded)
                set(s.to, recorded);
            else
                copy(s.kind == MoveKind::Restore ? originalOfTrashPath(s.from) : s.from, s.to);
        } else if (s.kind == MoveKind::Relabel || s.kind == MoveKind::Rename) { // a restore undone: its entry stays
            if (haveRecorded)
                set(s.from, recorded);
            else
                copy(s.to, s.from);
        }
    }
    if (!changed)
        return;
    QString err;
    if (!writeSplitStore(ctx.root, store, &err))
        *warnings << QStringLiteral("could not update the saved split (%1): moved files may change between train and "
                                    "valid at the next scan")
                         .arg(err);
    crashPoint("split updated");
}

} // namespace Internal

} // namespace Cleaning
} // namespace Winnow
