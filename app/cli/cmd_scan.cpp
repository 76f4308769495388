// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::scan(const QStringList&)
{
    QTextStream(stderr) << "winnow scan: not available in this build yet\n";
    return 1;
}
