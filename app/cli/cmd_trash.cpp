// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow trash DIR (--list | --restore [FILE...] | --empty [--yes])`
#include <cstdio>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/cleaning/transaction.h"

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace {

bool stdinIsTerminal()
{
#ifdef Q_OS_UNIX
    return ::isatty(STDIN_FILENO) == 1;
#else
    return false;
#endif
}

} // namespace

int Winnow::Cli::trash(const QStringList& args)
{
    using namespace Winnow;
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("List, restore or permanently empty a dataset's trash (DIR/.winnow/trash), where 'winnow "
                       "clean' puts deleted files."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("The dataset folder."));
    parser.addPositionalArgument(QStringLiteral("FILE"),
        QStringLiteral("With --restore: files to restore, by original path (cats/x.jpg) or "
                       "trash path; none restores everything."),
        QStringLiteral("[FILE...]"));
    const QCommandLineOption listOpt(QStringLiteral("list"), QStringLiteral("List the files in the trash."));
    const QCommandLineOption restoreOpt(QStringLiteral("restore"),
        QStringLiteral("Put files back where they were (undoable with 'winnow clean "
                       "DIR --undo')."));
    const QCommandLineOption emptyOpt(
        QStringLiteral("empty"), QStringLiteral("Delete everything in the trash for good (cannot be undone)."));
    const QCommandLineOption yesOpt(QStringLiteral("yes"), QStringLiteral("With --empty: do not ask."));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("With --list: print JSON."));
    parser.addOptions({ listOpt, restoreOpt, emptyOpt, yesOpt, jsonOpt });

    if (!parser.parse(QStringList { QStringLiteral("winnow trash") } + args)) {
        err << "winnow trash: " << parser.errorText() << "\nTry 'winnow trash --help'.\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        // Qt puts argv[0] in the usage line; say the subcommand instead.
        QString help = parser.helpText();
        help.replace(
            QStringLiteral("Usage: ") + QCoreApplication::arguments().value(0), QStringLiteral("Usage: winnow trash"));
        out << help;
        return 0;
    }
    const QStringList pos = parser.positionalArguments();
    const int actions = int(parser.isSet(listOpt)) + int(parser.isSet(restoreOpt)) + int(parser.isSet(emptyOpt));
    if (pos.isEmpty() || actions != 1 || (pos.size() > 1 && !parser.isSet(restoreOpt))) {
        err << "winnow trash: give one dataset folder and exactly one of --list, --restore [FILE...], --empty\n"
               "Try 'winnow trash --help'.\n";
        return 2;
    }
    const QString& dir = pos.first();
    if (!QFileInfo(dir).isDir()) {
        err << "winnow trash: " << dir << " is not a folder\n";
        return 1;
    }
    const RecoveryReport rep = Cleaning::recover(dir);
    if (rep.acted() || !rep.error.isEmpty())
        err << "winnow: recovery: " << rep.message() << '\n';
    if (!rep.ok()) {
        err << "winnow trash: an interrupted transaction could not be recovered; nothing else was done\n";
        return 1;
    }

    const QList<TrashEntry> entries = Cleaning::listTrash(dir);
    qint64 bytes = 0;
    for (const TrashEntry& e : entries)
        bytes += e.size;

    if (parser.isSet(listOpt)) {
        if (parser.isSet(jsonOpt)) {
            QJsonArray arr;
            for (const TrashEntry& e : entries) {
                QJsonObject o;
                o.insert(QStringLiteral("file"), e.originalPath);
                o.insert(QStringLiteral("trashPath"), e.trashPath);
                o.insert(QStringLiteral("transaction"), e.transactionId);
                o.insert(QStringLiteral("size"), double(e.size));
                o.insert(QStringLiteral("deleted"), e.deleted.toString(Qt::ISODate));
                arr.append(o);
            }
            out << QJsonDocument(arr).toJson(QJsonDocument::Indented);
            return 0;
        }
        if (entries.isEmpty()) {
            out << "The trash is empty.\n";
            return 0;
        }
        out << "  " << QStringLiteral("DELETED (UTC)").leftJustified(21)
            << QStringLiteral("TRANSACTION").leftJustified(24) << QStringLiteral("SIZE").leftJustified(11) << "FILE\n";
        for (const TrashEntry& e : entries)
            out << "  " << e.deleted.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")).leftJustified(21)
                << e.transactionId.leftJustified(24) << QLocale::c().formattedDataSize(e.size).leftJustified(11)
                << e.originalPath << '\n';
        out << entries.size() << " file(s), " << QLocale::c().formattedDataSize(bytes) << ".\n";
        return 0;
    }

    if (parser.isSet(restoreOpt)) {
        const TransactionResult r = Cleaning::restoreFromTrash(dir, pos.mid(1));
        if (!r.ok) {
            err << "winnow trash: " << r.message() << '\n';
            return 1;
        }
        for (const FileMove& m : r.moves)
            out << "  restored " << m.to << '\n';
        for (const QString& w : r.warnings)
            err << "warning: " << w << '\n';
        out << r.summary << "\nUndo with: winnow clean " << dir << " --undo\n";
        return 0;
    }

    // --empty
    if (entries.isEmpty()) {
        out << "The trash is already empty.\n";
        return 0;
    }
    if (!parser.isSet(yesOpt)) {
        if (!stdinIsTerminal()) {
            err << "winnow trash: refusing to delete " << entries.size() << " file(s) ("
                << QLocale::c().formattedDataSize(bytes) << ") for good without --yes\n";
            return 1;
        }
        out << "Permanently delete " << entries.size() << " file(s) (" << QLocale::c().formattedDataSize(bytes)
            << ")? This cannot be undone. [y/N] ";
        out.flush();
        QTextStream in(stdin);
        const QString answer = in.readLine().trimmed().toLower();
        if (answer != QLatin1String("y") && answer != QLatin1String("yes")) {
            out << "Nothing was deleted.\n";
            return 1;
        }
    }
    const EmptyTrashResult r = Cleaning::emptyTrash(dir);
    if (!r.ok) {
        err << "winnow trash: " << r.error << " (" << r.filesRemoved << " file(s) were removed)\n";
        return 1;
    }
    out << "Deleted " << r.filesRemoved << " file(s) for good, " << QLocale::c().formattedDataSize(r.bytesFreed)
        << " freed.\n";
    return 0;
}
