// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>

#include <QString>
#include <QStringList>

namespace Winnow {

/// What importImagesToLabel() did.
struct ImportResult
{
    QStringList copied; ///< the new files, relative to the dataset root, in input order
    QStringList skipped; ///< "<input path>: <reason>", one per input that was not copied
    QString error; ///< set when nothing could be done (no dataset root, destination not writable)
    bool cancelled = false;
    bool ok() const
    {
        return error.isEmpty();
    }
};

/**
 * Copies images from outside a dataset into its `<root>/<folder>` ("unlabeled" by default), where the next scan finds
 * them as unlabeled: what dropping photos on the window or File > Add Images to Label does.
 *
 * - Copies, never moves: the sources are left as they were.
 * - Never overwrites: a name already taken becomes `name (2).ext`, `name (3).ext`, ... Each file is first copied to
 *   a hidden temporary name in the destination and then renamed, so a crash leaves no half-written image in the
 *   dataset, and a rename refused because the name appeared meanwhile moves on to the next free name.
 * - Folders expand recursively to their images (hidden entries skipped). Inputs that are not image files (by
 *   extension), files that are already inside the dataset, and unreadable files are skipped with a reason.
 * - `cancel` (optional) stops between files; what was copied stays and is listed.
 */
ImportResult importImagesToLabel(const QString& root, const QStringList& inputs,
    const QString& folder = QStringLiteral("unlabeled"), const std::atomic<bool>* cancel = nullptr);

} // namespace Winnow
