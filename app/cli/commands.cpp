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

void warnUnreadable(QTextStream& err, const QString& command, const QStringList& files, const QString& what)
{
    if (files.isEmpty())
        return;
    constexpr int kShown = 5;
    QString list = files.mid(0, kShown).join(QStringLiteral(", "));
    if (files.size() > kShown)
        list += QStringLiteral(" (and %1 more)").arg(files.size() - kShown);
    err << "winnow " << command << ": warning: " << files.size() << " file(s) could not be read " << what
        << " and were left out: " << list << '\n';
}

QString csvField(QString s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return s;
}

} // namespace Winnow::Cli
