// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::trash(const QStringList&)
{
    QTextStream(stderr) << "winnow trash: not available in this build yet\n";
    return 1;
}
