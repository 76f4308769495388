// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::demo(const QStringList&)
{
    QTextStream(stderr) << "winnow demo: not available in this build yet\n";
    return 1;
}
