// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::score(const QStringList&)
{
    QTextStream(stderr) << "winnow score: not available in this build yet\n";
    return 1;
}
