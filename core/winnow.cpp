// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/winnow.h"

QString Winnow::version()
{
    return QStringLiteral(WINNOW_VERSION);
}
