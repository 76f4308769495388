// SPDX-License-Identifier: GPL-3.0-or-later
// winnow scan DIR: classes, split sizes and unreadable files of a dataset folder, as text or JSON.
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTextStream>

#include "app/cli/commands.h"
#include "core/cleaning/transaction.h"
#include "core/dataset/dataset.h"
#include "core/dataset/splitstore.h"
#include "core/metrics/duplicates.h"

namespace {

// QCommandLineParser names only the executable; say which subcommand.
QString helpText(const QCommandLineParser& parser)
{
    QString help = parser.helpText();
    help.replace(QRegularExpression(QStringLiteral("^Usage: (\\S+)")), QStringLiteral("Usage: \\1 scan"));
    return help;
}

QJsonObject toJson(const Winnow::Dataset& ds, double seconds)
{
    using namespace Winnow;
    QJsonArray classes;
    for (const ClassCounts& c : ds.counts())
        classes.append(QJsonObject { { QStringLiteral("name"), c.name }, { QStringLiteral("train"), c.train },
            { QStringLiteral("valid"), c.valid } });
    QJsonArray unreadable;
    for (const Sample* s : ds.unreadable()) {
        QJsonObject o { { QStringLiteral("file"), s->relPath },
            { QStringLiteral("reason"), unreadableReason(s->status) },
            { QStringLiteral("kind"), unreadableKey(s->status) } };
        if (!s->detail.isEmpty())
            o.insert(QStringLiteral("detail"), s->detail);
        unreadable.append(o);
    }
    QJsonArray skipped;
    for (const SkippedFile& f : ds.skipped)
        skipped.append(QJsonObject { { QStringLiteral("file"), f.relPath }, { QStringLiteral("kind"), f.kind } });
    QJsonArray oddNames;
    for (const Sample& s : ds.samples)
        if (s.oddName)
            oddNames.append(s.relPath);
    const DuplicateReport dups = findExactDuplicates(ds);
    QJsonArray groups;
    for (const DuplicateGroup& g : dups.groups)
        groups.append(QJsonObject { { QStringLiteral("files"), QJsonArray::fromStringList(g.files) },
            { QStringLiteral("keep"), g.files.first() }, { QStringLiteral("across_split"), g.acrossSplit },
            { QStringLiteral("conflicting_labels"), g.conflictingLabels } });
    QJsonObject o {
        { QStringLiteral("root"), ds.root },
        { QStringLiteral("layout"), layoutName(ds.layout) },
        { QStringLiteral("images"), ds.size() },
        { QStringLiteral("readable"), ds.size() - int(unreadable.size()) },
        { QStringLiteral("train"), ds.count(Split::Train) },
        { QStringLiteral("valid"), ds.count(Split::Valid) },
        { QStringLiteral("unlabeled"), ds.count(Split::Unlabeled) },
        { QStringLiteral("classes"), classes },
        { QStringLiteral("unreadable"), unreadable },
        { QStringLiteral("skipped"), skipped },
        { QStringLiteral("odd_names"), oddNames },
        { QStringLiteral("duplicates"),
            dups.checked ? QJsonValue(QJsonObject { { QStringLiteral("groups"), groups },
                { QStringLiteral("redundant"), dups.redundant }, { QStringLiteral("leaked_valid"), dups.leakedValid },
                { QStringLiteral("conflicting"), dups.conflicting } })
                         : QJsonValue() },
        { QStringLiteral("warnings"), QJsonArray::fromStringList(ds.warnings) },
        { QStringLiteral("verified"), ds.options.verifyImages },
        { QStringLiteral("seconds"), seconds },
    };
    if (ds.layout == Layout::FolderPerClass) {
        o.insert(QStringLiteral("valid_pct"), ds.options.validPct);
        o.insert(QStringLiteral("seed"), double(ds.options.seed));
    }
    return o;
}

void printText(QTextStream& out, const Winnow::Dataset& ds, double seconds)
{
    using namespace Winnow;
    out << "Dataset:  " << ds.root << '\n';
    if (ds.layout == Layout::FolderPerClass)
        out << "Layout:   one folder per class; seeded split, " << ds.options.validPct * 100 << "% valid, seed "
            << ds.options.seed << '\n';
    else
        out << "Layout:   train/ and valid/ folders (split from the folders)\n";
    const int bad = int(ds.unreadable().size());
    out << "Images:   " << ds.size() << " (" << ds.count(Split::Train) << " train, " << ds.count(Split::Valid)
        << " valid, " << ds.count(Split::Unlabeled) << " unlabeled, " << bad << " unreadable)";
    out << (ds.options.verifyImages ? ", every file decoded" : ", cheap checks only") << ", "
        << QString::number(seconds, 'f', 2) << " s\n\n";

    int width = 5;
    for (const QString& c : ds.vocab)
        width = std::max(width, int(c.size()));
    out << "Classes (" << ds.vocab.size() << "):\n";
    out << "  " << QStringLiteral("class").leftJustified(width) << "  " << QStringLiteral("train").rightJustified(6)
        << "  " << QStringLiteral("valid").rightJustified(6) << "  " << QStringLiteral("total").rightJustified(6)
        << '\n';
    for (const ClassCounts& c : ds.counts())
        out << "  " << c.name.leftJustified(width) << "  " << QString::number(c.train).rightJustified(6) << "  "
            << QString::number(c.valid).rightJustified(6) << "  "
            << QString::number(c.train + c.valid).rightJustified(6) << '\n';

    if (bad > 0) {
        out << "\nUnreadable (" << bad << "):\n";
        for (const Sample* s : ds.unreadable()) {
            out << "  " << s->relPath << ": " << unreadableReason(s->status);
            if (!s->detail.isEmpty())
                out << " (" << s->detail << ')';
            out << '\n';
        }
    }
    if (!ds.skipped.isEmpty()) {
        out << "\nSkipped, not images (" << ds.skipped.size() << "):\n";
        for (const SkippedFile& f : ds.skipped)
            out << "  " << f.relPath << ": " << f.kind << '\n';
    }
    if (const int odd = ds.oddNames(); odd > 0) {
        out << "\nImages without an image extension, used (" << odd << "):\n";
        for (const Sample& s : ds.samples)
            if (s.oddName)
                out << "  " << s.relPath << '\n';
        out << "  (winnow scan --fix-extensions renames them, undoably)\n";
    }
    const DuplicateReport dups = findExactDuplicates(ds);
    if (!dups.groups.isEmpty()) {
        auto n = [](qsizetype count, const char* one, const char* many) -> QString {
            return QString::number(count) + QLatin1Char(' ') + QLatin1String(count == 1 ? one : many);
        };
        out << "\nExact duplicates (" << n(dups.groups.size(), "group", "groups") << "; "
            << n(dups.redundant, "file", "files") << " could go, " << n(dups.leakedValid, "valid copy", "valid copies")
            << " of train files, " << n(dups.conflicting, "group", "groups") << " filed under different classes):\n";
        for (const DuplicateGroup& g : dups.groups) {
            out << "  " << g.files.join(QStringLiteral(" = "));
            if (g.conflictingLabels)
                out << "  [different classes]";
            if (g.acrossSplit)
                out << "  [train and valid]";
            out << '\n';
        }
    }
    if (!ds.warnings.isEmpty()) {
        out << "\nWarnings:\n";
        for (const QString& w : ds.warnings)
            out << "  " << w << '\n';
    }
}

} // namespace

int Winnow::Cli::scan(const QStringList& args)
{
    QTextStream out(stdout);
    QTextStream err(stderr);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Scan a dataset folder (one folder per class, or train/ and valid/): list its classes, "
                       "train/valid sizes and the files that cannot be used, with the reason."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("the dataset folder"));
    const QCommandLineOption validPct(QStringLiteral("valid-pct"),
        QStringLiteral("share of images held out for validation, 0-1 (default 0.2)"), QStringLiteral("P"),
        QStringLiteral("0.2"));
    const QCommandLineOption seed(QStringLiteral("seed"), QStringLiteral("seed of the train/valid split (default 42)"),
        QStringLiteral("S"), QStringLiteral("42"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("print one JSON object instead of text"));
    const QCommandLineOption noVerify(QStringLiteral("no-verify"),
        QStringLiteral("skip decoding every image (only size, magic bytes and end "
                       "markers are checked)"));
    const QCommandLineOption unlabeled(QStringLiteral("unlabeled"),
        QStringLiteral("another folder (relative to DIR) holding unlabeled images; "
                       "repeatable. 'unlabeled' always counts"),
        QStringLiteral("FOLDER"));
    const QCommandLineOption fixExtensions(QStringLiteral("fix-extensions"),
        QStringLiteral("rename the images whose names lack their format's extension (00000090.jpg?1518390504, photo) "
                       "to one that has it, as one transaction ('winnow clean DIR --undo' undoes it), then scan"));
    parser.addOptions({ validPct, seed, json, noVerify, unlabeled, fixExtensions });

    QStringList argv = args;
    argv.prepend(QStringLiteral("winnow scan"));
    if (!parser.parse(argv)) {
        err << "winnow scan: " << parser.errorText() << "\n\n" << helpText(parser);
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << helpText(parser);
        return 0;
    }
    const QStringList pos = parser.positionalArguments();
    if (pos.size() != 1) {
        err << "winnow scan: expected exactly one dataset folder\n\n" << helpText(parser);
        return 2;
    }

    ScanOptions options;
    bool ok = false;
    options.validPct = parser.value(validPct).toDouble(&ok);
    if (!ok || options.validPct < 0.0 || options.validPct > 1.0) {
        err << "winnow scan: --valid-pct must be a number between 0 and 1, got '" << parser.value(validPct) << "'\n";
        return 2;
    }
    options.seed = parser.value(seed).toULongLong(&ok);
    if (!ok) {
        err << "winnow scan: --seed must be a non-negative integer, got '" << parser.value(seed) << "'\n";
        return 2;
    }
    options.verifyImages = !parser.isSet(noVerify);
    options.unlabeledFolders = parser.values(unlabeled);

    const QFileInfo rootInfo(pos.first());
    if (!rootInfo.isDir()) {
        err << "winnow scan: " << (rootInfo.exists() ? "not a folder: " : "no such folder: ") << pos.first() << '\n';
        return 2;
    }

    QElapsedTimer timer;
    timer.start();
    ScanResult result = scanDataset(pos.first(), options);
    if (!result.ok()) {
        err << "winnow scan: " << result.error << '\n';
        return 1;
    }
    QJsonArray renamed;
    if (parser.isSet(fixExtensions) && result.dataset->oddNames() > 0) {
        const Dataset& ds = *result.dataset;
        QList<Cleaning::FileRename> renames;
        for (const Sample& s : ds.samples) {
            if (!s.oddName)
                continue;
            QFile f(ds.absolutePath(s));
            const ContentSniff sniff =
                f.open(QIODevice::ReadOnly) ? sniffContent(f.read(kSniffBytes)) : ContentSniff {};
            const QString name = s.relPath.section(QLatin1Char('/'), -1);
            const QString proper = properImageName(name, sniff.format);
            if (sniff.isImage() && proper != name)
                renames.append({ s.relPath, proper });
        }
        // The split to keep: a saved one as it is, unless --seed or --valid-pct ask for another (as clean --apply).
        ApplyOptions keepSplit;
        if (parser.isSet(seed) || parser.isSet(validPct))
            keepSplit.split = SplitSettings::of(ds.options);
        TransactionResult r;
        r.ok = true; // nothing that needs a new name: nothing to do
        if (!renames.isEmpty())
            r = Cleaning::renameFiles(ds.root, renames, keepSplit, ds.options.unlabeledFolders);
        if (!r.ok) {
            err << "winnow scan: could not rename: " << r.message() << '\n';
            return 1;
        }
        for (const FileMove& m : r.moves)
            renamed.append(QJsonObject { { QStringLiteral("from"), m.from }, { QStringLiteral("to"), m.to } });
        if (!renames.isEmpty())
            (parser.isSet(json) ? err : out) << r.summary << " Undo: winnow clean " << ds.root << " --undo\n";
        result = scanDataset(ds.root, options);
        if (!result.ok()) {
            err << "winnow scan: " << result.error << '\n';
            return 1;
        }
    }
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    if (parser.isSet(json)) {
        QJsonObject o = toJson(*result.dataset, seconds);
        if (parser.isSet(fixExtensions))
            o.insert(QStringLiteral("renamed"), renamed);
        out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    } else {
        printText(out, *result.dataset, seconds);
    }
    return 0;
}
