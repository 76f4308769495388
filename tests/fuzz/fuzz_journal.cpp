// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: the transaction journal (<id>.json) and its event log (<id>.log), which recovery reads after a crash.
// The first byte picks the reader. An accepted journal never names a path outside the dataset and writes back to
// the same steps; a parsed log has one position per step.
#include <cstdint>
#include <cstdlib>

#include "core/cleaning/journal_p.h"

namespace {

bool insideRoot(const QString& p)
{
    return !p.isEmpty() && !p.startsWith(QLatin1Char('/')) && !p.split(QLatin1Char('/')).contains(QStringLiteral(".."))
        && !p.split(QLatin1Char('/')).contains(QString());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow::Cleaning::Internal;
    if (size < 2)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char*>(data) + 2, qsizetype(size - 2));
    if (data[0] & 1) {
        const int steps = data[1];
        const LogState log = LogState::parse(bytes, steps);
        if (log.pos.size() != steps)
            std::abort();
        return 0;
    }
    Journal j;
    QString error;
    if (!Journal::fromJson(bytes, &j, &error)) {
        if (error.isEmpty())
            std::abort();
        return 0;
    }
    for (const Step& s : j.steps)
        if (!insideRoot(s.from) || !insideRoot(s.to))
            std::abort();
    Journal back;
    QString again;
    if (!Journal::fromJson(j.toJson(), &back, &again) || back.steps.size() != j.steps.size() || back.id != j.id)
        std::abort();
    return 0;
}
