// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/commands.h"

#include <QCommandLineParser>
#include <QTextStream>

namespace Winnow::Cli {

std::optional<int> parseArguments(QCommandLineParser& parser, const QString& name, const QStringList& args)
{
    if (!parser.parse(QStringList(QStringLiteral("winnow ") + name) + args)) {
        QTextStream(stderr) << "winnow " << name << ": " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    return std::nullopt;
}

QString csvField(QString s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return s;
}

} // namespace Winnow::Cli
