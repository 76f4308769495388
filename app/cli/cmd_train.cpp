// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QTextStream>

int Winnow::Cli::train(const QStringList&)
{
    QTextStream(stderr) << "winnow train: not available in this build yet\n";
    return 1;
}
