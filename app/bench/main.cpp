// SPDX-License-Identifier: GPL-3.0-or-later
// winnow-bench [OPTIONS]: see app/bench/bench.h.
#include <QCoreApplication>

#include "app/bench/bench.h"
#include "core/nn/allocator.h"

int main(int argc, char** argv)
{
    // As winnow does, before any thread starts (core/nn/allocator.h): the figures are the app's.
    Winnow::nn::tuneAllocatorForTensors();
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Winnow"));
    QCoreApplication::setApplicationName(QStringLiteral("Winnow"));
    QCoreApplication::setApplicationVersion(QStringLiteral(WINNOW_VERSION));
    return Winnow::Bench::run(app.arguments().mid(1));
}
