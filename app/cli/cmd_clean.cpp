// SPDX-License-Identifier: GPL-3.0-or-later
// `winnow clean DIR (--plan PLAN.json (--apply | --dry-run) | --undo | --redo | --status)`
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/cleaning/cleaningplan.h"
#include "core/cleaning/transaction.h"

namespace {

using namespace Winnow;

void printMoves(QTextStream& out, const QList<FileMove>& moves)
{
    for (const FileMove& m : moves)
        out << "  " << moveKindName(m.kind).leftJustified(8) << ' ' << m.from << "  ->  " << m.to << '\n';
}

/// Runs recovery and says what it did. False if it could not recover (the caller stops).
bool recoverFirst(const QString& dir, QTextStream& err)
{
    const RecoveryReport rep = Cleaning::recover(dir);
    if (rep.busy) { // not interrupted: another Winnow is at work on this dataset right now
        err << "winnow clean: " << rep.error << '\n';
        return false;
    }
    if (rep.acted() || !rep.error.isEmpty())
        err << "winnow: recovery: " << rep.message() << '\n';
    if (!rep.ok()) {
        err << "winnow clean: an interrupted transaction could not be recovered; nothing else was done\n";
        return false;
    }
    return true;
}

int printStatus(const QString& dir, bool json, QTextStream& out)
{
    const HistoryStatus st = Cleaning::status(dir);
    if (json) {
        QJsonArray txns;
        for (const TransactionInfo& t : st.transactions) {
            QJsonObject o;
            o.insert(QStringLiteral("id"), t.id);
            o.insert(QStringLiteral("time"), t.created.toString(Qt::ISODate));
            o.insert(QStringLiteral("kind"), t.kind == TransactionKind::Restore ? "restore" : "apply");
            o.insert(QStringLiteral("deletes"), t.deletes);
            o.insert(QStringLiteral("moves"), t.moves);
            o.insert(QStringLiteral("restores"), t.restores);
            o.insert(QStringLiteral("renames"), t.renames);
            o.insert(QStringLiteral("state"), transactionStateName(t.state));
            if (!t.pendingPhase.isEmpty())
                o.insert(QStringLiteral("pendingPhase"), t.pendingPhase);
            o.insert(QStringLiteral("purged"), t.purged);
            o.insert(QStringLiteral("orphaned"), t.orphaned);
            txns.append(o);
        }
        QJsonObject root;
        root.insert(QStringLiteral("dataset"), QFileInfo(dir).absoluteFilePath());
        root.insert(QStringLiteral("transactions"), txns);
        root.insert(QStringLiteral("undo"), st.undoTarget);
        root.insert(QStringLiteral("redo"), st.redoTarget);
        root.insert(QStringLiteral("incomplete"), st.hasIncomplete);
        root.insert(QStringLiteral("trashFiles"), st.trashFiles);
        root.insert(QStringLiteral("trashBytes"), double(st.trashBytes));
        root.insert(QStringLiteral("errors"), QJsonArray::fromStringList(st.errors));
        out << QJsonDocument(root).toJson(QJsonDocument::Indented);
        return st.errors.isEmpty() ? 0 : 1;
    }
    if (st.transactions.isEmpty()) {
        out << "No cleaning transactions in " << QFileInfo(dir).absoluteFilePath() << ".\n";
    } else {
        out << "Transactions in " << QFileInfo(dir).absoluteFilePath() << " (oldest first):\n";
        out << "  " << QStringLiteral("ID").leftJustified(24) << QStringLiteral("TIME (UTC)").leftJustified(21)
            << QStringLiteral("KIND").leftJustified(9) << QStringLiteral("DELETES").leftJustified(9)
            << QStringLiteral("MOVES").leftJustified(7) << QStringLiteral("RESTORES").leftJustified(10)
            << QStringLiteral("RENAMES").leftJustified(9) << "STATE\n";
        for (const TransactionInfo& t : st.transactions) {
            QString state = transactionStateName(t.state);
            if (!t.pendingPhase.isEmpty())
                state += QStringLiteral(" (%1)").arg(t.pendingPhase);
            if (t.purged)
                state += QStringLiteral(", trash emptied");
            if (t.orphaned && t.state == TransactionState::Undone)
                state += QStringLiteral(", cannot be redone");
            out << "  " << t.id.leftJustified(24)
                << t.created.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")).leftJustified(21)
                << (t.kind == TransactionKind::Restore ? QStringLiteral("restore") : QStringLiteral("apply"))
                       .leftJustified(9)
                << QString::number(t.deletes).leftJustified(9) << QString::number(t.moves).leftJustified(7)
                << QString::number(t.restores).leftJustified(10) << QString::number(t.renames).leftJustified(9) << state
                << '\n';
        }
    }
    auto target = [&](const QString& id, const char* none) -> QString {
        if (id.isEmpty())
            return QString::fromLatin1(none);
        for (const TransactionInfo& t : st.transactions) {
            if (t.id == id && t.purged)
                return id + QStringLiteral(" (not possible: the trash was emptied since)");
        }
        return id;
    };
    out << "Undo: " << target(st.undoTarget, "nothing to undo") << '\n';
    out << "Redo: " << target(st.redoTarget, "nothing to redo") << '\n';
    out << "Trash: " << st.trashFiles << " file(s), " << QLocale::c().formattedDataSize(st.trashBytes) << '\n';
    for (const QString& e : st.errors)
        out << "error: " << e << '\n';
    return st.errors.isEmpty() ? 0 : 1;
}

} // namespace

int Winnow::Cli::clean(const QStringList& args)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Apply a cleaning plan to a dataset folder as one undoable transaction, or undo/redo/inspect "
                       "the transactions. Deleted files go to DIR/.winnow/trash (see 'winnow trash')."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("The dataset folder."));
    const QCommandLineOption planOpt(
        QStringLiteral("plan"), QStringLiteral("The plan (winnow-plan JSON)."), QStringLiteral("PLAN.json"));
    const QCommandLineOption applyOpt(QStringLiteral("apply"), QStringLiteral("Apply the plan."));
    const QCommandLineOption dryOpt(
        QStringLiteral("dry-run"), QStringLiteral("Print what applying the plan would do; change nothing."));
    const QCommandLineOption hashOpt(
        QStringLiteral("verify-hash"), QStringLiteral("Record each file's SHA-256 in the journal (reads every file)."));
    const QCommandLineOption undoOpt(QStringLiteral("undo"), QStringLiteral("Undo the last applied transaction."));
    const QCommandLineOption redoOpt(QStringLiteral("redo"), QStringLiteral("Redo the last undone transaction."));
    const QCommandLineOption statusOpt(
        QStringLiteral("status"), QStringLiteral("List the transactions, what undo/redo would do, the trash."));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("With --status: print JSON."));
    const QCommandLineOption seedOpt(QStringLiteral("seed"),
        QStringLiteral("With --apply: the seed of the train/valid split you train with (as for 'winnow train'); moved "
                       "files keep their split in DIR/.winnow/splits.tsv. Default: the saved split's, else 42."),
        QStringLiteral("S"));
    const QCommandLineOption validPctOpt(QStringLiteral("valid-pct"),
        QStringLiteral("With --apply: the validation share of that split. Default: the saved split's, else 0.2."),
        QStringLiteral("P"));
    parser.addOptions(
        { planOpt, applyOpt, dryOpt, hashOpt, undoOpt, redoOpt, statusOpt, jsonOpt, seedOpt, validPctOpt });

    if (!parser.parse(QStringList { QStringLiteral("winnow clean") } + args)) {
        err << "winnow clean: " << parser.errorText() << "\nTry 'winnow clean --help'.\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        // Qt puts argv[0] in the usage line; say the subcommand instead.
        QString help = parser.helpText();
        help.replace(
            QStringLiteral("Usage: ") + QCoreApplication::arguments().value(0), QStringLiteral("Usage: winnow clean"));
        out << help;
        out << "\nExamples:\n"
               "  winnow clean bears --plan plan.json --dry-run\n"
               "  winnow clean bears --plan plan.json --apply\n"
               "  winnow clean bears --undo\n"
               "  winnow clean bears --status\n";
        return 0;
    }
    const QStringList pos = parser.positionalArguments();
    const int actions = int(parser.isSet(applyOpt)) + int(parser.isSet(dryOpt)) + int(parser.isSet(undoOpt))
        + int(parser.isSet(redoOpt)) + int(parser.isSet(statusOpt));
    if (pos.size() != 1 || actions != 1) {
        err << "winnow clean: give one dataset folder and exactly one of --apply, --dry-run, --undo, --redo, "
               "--status\nTry 'winnow clean --help'.\n";
        return 2;
    }
    if ((parser.isSet(applyOpt) || parser.isSet(dryOpt)) != parser.isSet(planOpt)) {
        err << "winnow clean: --plan goes with --apply or --dry-run (and they need it)\n";
        return 2;
    }
    std::optional<SplitSettings> split;
    if (parser.isSet(seedOpt) || parser.isSet(validPctOpt)) {
        if (!parser.isSet(applyOpt)) {
            err << "winnow clean: --seed and --valid-pct go with --apply\n";
            return 2;
        }
        split = SplitSettings {};
        bool ok = true;
        if (parser.isSet(seedOpt))
            split->seed = parser.value(seedOpt).toULongLong(&ok);
        if (!ok) {
            err << "winnow clean: --seed must be a non-negative integer, got '" << parser.value(seedOpt) << "'\n";
            return 2;
        }
        if (parser.isSet(validPctOpt))
            split->validPct = parser.value(validPctOpt).toDouble(&ok);
        if (!ok || split->validPct < 0.0 || split->validPct > 1.0) {
            err << "winnow clean: --valid-pct must be a number between 0 and 1, got '" << parser.value(validPctOpt)
                << "'\n";
            return 2;
        }
    }
    const QString& dir = pos.first();
    if (!QFileInfo(dir).isDir()) {
        err << "winnow clean: " << dir << " is not a folder\n";
        return 1;
    }

    std::optional<CleaningPlan> plan;
    if (parser.isSet(planOpt)) {
        const QString planPath = parser.value(planOpt);
        QString error;
        plan = CleaningPlan::load(planPath, &error);
        if (!plan) {
            err << "winnow clean: " << error << '\n';
            return 1;
        }
        // A plan without "layout" is for whatever this folder is.
        QFile f(planPath);
        if (f.open(QIODevice::ReadOnly) && !QJsonDocument::fromJson(f.readAll()).object().contains("layout"))
            plan->setLayout(detectLayout(dir));
        if (plan->isEmpty()) {
            err << "winnow clean: the plan has no decisions: nothing to do\n";
            return 1;
        }
    }

    if (parser.isSet(dryOpt)) { // changes nothing, recovery included
        const TransactionResult r = Cleaning::preview(dir, *plan);
        out << "Plan: " << plan->summary().text() << '\n';
        printMoves(out, r.moves);
        for (const QString& w : r.warnings)
            err << "warning: " << w << '\n';
        if (!r.ok) {
            err << "winnow clean: " << r.message() << '\n';
            return 1;
        }
        out << r.summary << " Nothing was changed (dry run).\n";
        return 0;
    }

    if (!recoverFirst(dir, err))
        return 1;
    if (parser.isSet(statusOpt))
        return printStatus(dir, parser.isSet(jsonOpt), out);

    TransactionResult r;
    if (parser.isSet(applyOpt)) {
        ApplyOptions options;
        options.verifyHash = parser.isSet(hashOpt);
        options.split = split;
        r = Cleaning::applyPlan(dir, *plan, options);
    } else if (parser.isSet(undoOpt)) {
        r = Cleaning::undoLast(dir);
    } else {
        r = Cleaning::redo(dir);
    }
    if (!r.ok) {
        err << "winnow clean: " << r.message() << '\n';
        return 1;
    }
    printMoves(out, r.moves);
    out << r.summary << '\n';
    for (const QString& w : r.warnings)
        err << "warning: " << w << '\n';
    if (parser.isSet(applyOpt))
        out << "Undo with: winnow clean " << dir << " --undo\n";
    return 0;
}
