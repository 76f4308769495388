// SPDX-License-Identifier: GPL-3.0-or-later
// Winnow's one atomic writer: every file written whole (run.json, rounds, scores, trained.tsv, exported models, the
// demo dataset, the CLI's reports and overlays) goes through here, so that a reader never sees half a file and a
// failed write never damages the file that was there. Qt Core only; part of winnow_core (winnow_util stays plain C++
// for the torch layer).
//
// Not here: the cleaning layer's Cleaning::Fs::writeFileDurably (core/cleaning/fsutil.h), which also fsyncs the folder,
// fails on a failed fsync and names its temp files so that crash recovery can sweep them; and the weights download
// (core/engine/weightscatalogue.cpp), which streams across network callbacks and checks the finished file before
// renaming it.
#pragma once

#include <functional>

#include <QString>

class QByteArray;
class QIODevice;

namespace Winnow {

/// Writes `bytes` to `path` atomically (QSaveFile): into a temporary file in the same folder, synced to disk (best
/// effort) and renamed over `path` only once all of it is written. On failure `path` is as it was (absent, or the old
/// file whole), no temporary file is left, and `error` (if given) says "cannot write <path>: <reason>" (native
/// separators). The folder must exist. An existing file keeps its permissions.
bool writeFileAtomically(const QString& path, const QByteArray& bytes, QString* error = nullptr);

/// Produces a file's content into `out`; returns false on failure, optionally with `reason` set (otherwise the
/// device's error is reported).
using AtomicFileWriter = std::function<bool(QIODevice& out, QString* reason)>;

/// The same for content that is produced by a writer (a QImage::save, a stream) rather than held in memory: `write`
/// writes into the temporary file; the file is committed only if it returns true and every write succeeded.
bool writeFileAtomically(const QString& path, const AtomicFileWriter& write, QString* error = nullptr);

} // namespace Winnow
