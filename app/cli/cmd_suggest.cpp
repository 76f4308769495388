// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::suggest(const QStringList&)
{
    QTextStream(stderr) << "winnow suggest: not available in this build yet\n";
    return 1;
}
