// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer: the cleaning plan reader (CleaningPlan::fromJson). A plan it accepts names only files inside the
// dataset and valid class names, and writes back to the same plan.
#include <cstdint>
#include <cstdlib>

#include "core/cleaning/cleaningplan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace Winnow;
    const QByteArray json(reinterpret_cast<const char*>(data), qsizetype(size));
    QString error;
    const auto plan = CleaningPlan::fromJson(json, &error);
    if (!plan) {
        if (error.isEmpty())
            std::abort();
        return 0;
    }
    for (const CleanDecision& d : plan->decisions()) {
        if (!validateRelativePath(d.file).isEmpty())
            std::abort();
        if (d.action == CleanAction::Relabel && !validateClassName(d.toClass).isEmpty())
            std::abort();
    }
    QString again;
    const auto back = CleaningPlan::fromJson(plan->toJson(), &again);
    if (!back || !(*back == *plan))
        std::abort();
    return 0;
}
