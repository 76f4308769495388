// SPDX-License-Identifier: GPL-3.0-or-later
// What Winnow keeps inside a dataset folder, named once. Every writer and reader builds its paths here, so the layout
// that users' datasets already carry cannot drift by a typo: tst_layout pins these names.
//
//   <root>/.winnow/                     Winnow's folder (hidden: the scan never takes it for a class)
//   <root>/.winnow/lock                 QLockFile held while anything writes into the dataset (one writer at a time)
//   <root>/.winnow/journal/             cleaning transactions: <id>.json and <id>.log (core/cleaning/transaction.h)
//   <root>/.winnow/trash/<id>/<path>    files deleted by transaction <id>; <id>.json beside them is its manifest
//   <root>/.winnow/splits.tsv           the saved train/valid split (core/dataset/splitstore.h)
//   <root>/.winnow/pending-plan.json    the GUI's decisions not yet applied (ui/cleaningsession.h)
#pragma once

#include <QString>

namespace Winnow::WinnowDir {

/// The folder's name inside a dataset root.
inline QString dirName()
{
    return QStringLiteral(".winnow");
}

/// Root-relative paths (what journals, plans and trash entries record).
inline QString trashPrefix()
{
    return dirName() + QStringLiteral("/trash/");
}
inline QString splitsRelPath()
{
    return dirName() + QStringLiteral("/splits.tsv");
}

/// Absolute paths under `root` (a dataset folder, without a trailing slash).
inline QString dir(const QString& root)
{
    return root + QLatin1Char('/') + dirName();
}
inline QString lockFile(const QString& root)
{
    return dir(root) + QStringLiteral("/lock");
}
inline QString journalDir(const QString& root)
{
    return dir(root) + QStringLiteral("/journal");
}
inline QString trashDir(const QString& root)
{
    return dir(root) + QStringLiteral("/trash");
}
inline QString pendingPlanFile(const QString& root)
{
    return dir(root) + QStringLiteral("/pending-plan.json");
}

} // namespace Winnow::WinnowDir
