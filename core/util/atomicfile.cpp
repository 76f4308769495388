// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/atomicfile.h"

#include <QByteArray>
#include <QDir>
#include <QSaveFile>

namespace Winnow {

bool writeFileAtomically(const QString& path, const AtomicFileWriter& write, QString* error)
{
    QSaveFile f(path);
    QString reason;
    bool ok = f.open(QIODevice::WriteOnly);
    if (ok && !write(f, &reason)) {
        ok = false;
        if (reason.isEmpty() && f.error() == QFileDevice::NoError)
            reason = QStringLiteral("the content could not be produced");
    }
    if (ok)
        ok = f.commit(); // fails too if any write failed; renames over `path` only on success
    if (!ok) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2")
                         .arg(QDir::toNativeSeparators(path), reason.isEmpty() ? f.errorString() : reason);
        return false; // ~QSaveFile removes an uncommitted temporary file
    }
    return true;
}

bool writeFileAtomically(const QString& path, const QByteArray& bytes, QString* error)
{
    return writeFileAtomically(
        path, [&bytes](QIODevice& out, QString*) { return out.write(bytes) == bytes.size(); }, error);
}

} // namespace Winnow
