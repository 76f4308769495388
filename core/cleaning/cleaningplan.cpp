// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cleaning/cleaningplan.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QSet>

#include "core/cleaning/fsutil.h"
#include "core/util/layout.h"

namespace Winnow {

namespace {

constexpr int kPlanVersion = 1;
const auto kPlanFormat = QStringLiteral("winnow-plan");
const QString kWinnowDir = WinnowDir::dirName();

QString planLayoutName(Layout l)
{
    return l == Layout::TrainValid ? QStringLiteral("train-valid") : QStringLiteral("folder-per-class");
}

QString csvField(const QString& s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n'))
        && !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

// "line L, column C" for a byte offset into the JSON text.
QString jsonPosition(const QByteArray& json, int offset)
{
    int line = 1;
    int column = 1;
    for (int i = 0; i < offset && i < json.size(); ++i) {
        if (json.at(i) == '\n') {
            ++line;
            column = 1;
        } else if ((uchar(json.at(i)) & 0xC0) != 0x80) {
            ++column;
        }
    }
    return QStringLiteral("line %1, column %2").arg(line).arg(column);
}

bool readInt64(const QJsonValue& v, qint64* out)
{
    if (v.isUndefined() || v.isNull()) {
        *out = -1;
        return true;
    }
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    // 2^63 and beyond (and NaN) do not fit: converting them would be undefined behaviour.
    if (!(d >= 0 && d < 9223372036854775808.0) || d != double(qint64(d)))
        return false;
    *out = qint64(d);
    return true;
}

} // namespace

QString cleanActionName(CleanAction a)
{
    switch (a) {
    case CleanAction::Keep:
        return QStringLiteral("keep");
    case CleanAction::Delete:
        return QStringLiteral("delete");
    case CleanAction::Relabel:
        return QStringLiteral("relabel");
    }
    return {};
}

QString PlanSummary::text() const
{
    if (total() == 0)
        return QStringLiteral("nothing to do");
    QString s = QStringLiteral("%1 to delete, %2 to move").arg(deletes).arg(moves());
    if (labels > 0)
        s += QStringLiteral(" (%1 newly labelled)").arg(labels);
    return s;
}

QString validateRelativePath(const QString& relPath)
{
    if (relPath.isEmpty())
        return QStringLiteral("empty file path");
    if (relPath.startsWith(QLatin1Char('/')) || QDir::isAbsolutePath(relPath))
        return QStringLiteral("'%1' is absolute; paths must be relative to the dataset folder").arg(relPath);
    if (relPath.contains(QLatin1Char('\\')))
        return QStringLiteral("'%1' contains '\\'; use '/' separators").arg(relPath);
    if (relPath.contains(QChar(0)))
        return QStringLiteral("'%1' contains a NUL character").arg(relPath);
    const QStringList parts = relPath.split(QLatin1Char('/'));
    for (const QString& p : parts) {
        if (p.isEmpty() || p == QLatin1String(".") || p == QLatin1String(".."))
            return QStringLiteral("'%1' is not a clean relative path (empty, '.' or '..' component)").arg(relPath);
    }
    if (parts.first() == kWinnowDir)
        return QStringLiteral("'%1' is inside Winnow's own .winnow folder").arg(relPath);
    return {};
}

QString validateClassName(const QString& name)
{
    if (name.isEmpty())
        return QStringLiteral("the class name is empty");
    if (name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\')))
        return QStringLiteral("class name '%1' contains a path separator").arg(name);
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            return QStringLiteral("class name '%1' contains a control character").arg(name);
    }
    if (name.trimmed() != name)
        return QStringLiteral("class name '%1' starts or ends with a space").arg(name);
    if (name.startsWith(QLatin1Char('.')))
        return QStringLiteral("class name '%1' starts with '.', which makes a hidden folder").arg(name);
    for (const char* reserved : { "unlabeled", "train", "valid" }) {
        if (name.compare(QLatin1String(reserved), Qt::CaseInsensitive) == 0)
            return QStringLiteral("'%1' is a reserved folder name, not a class").arg(name);
    }
    if (name.toUtf8().size() > 255)
        return QStringLiteral("class name is longer than 255 bytes");
    return {};
}

Layout detectLayout(const QString& root)
{
    const QDir dir(root);
    return QFileInfo(dir.filePath(QStringLiteral("train"))).isDir()
            && QFileInfo(dir.filePath(QStringLiteral("valid"))).isDir()
        ? Layout::TrainValid
        : Layout::FolderPerClass;
}

bool createClass(const QString& root, const QString& name, QString* error, Layout layout)
{
    auto fail = [&](const QString& msg) {
        if (error)
            *error = msg;
        return false;
    };
    if (const QString bad = validateClassName(name); !bad.isEmpty())
        return fail(bad);
    if (!QFileInfo(root).isDir())
        return fail(QStringLiteral("dataset folder %1 does not exist").arg(root));
    const QDir rootDir(root);
    const QStringList parents = layout == Layout::TrainValid
        ? QStringList { QStringLiteral("train"), QStringLiteral("valid") }
        : QStringList { QString() };
    for (const QString& parent : parents) {
        const QDir dir(parent.isEmpty() ? root : rootDir.filePath(parent));
        if (!dir.exists())
            continue;
        const QStringList existing = dir.entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        for (const QString& e : existing) {
            if (e == name)
                return fail(QStringLiteral("class '%1' already exists").arg(name));
            if (e.compare(name, Qt::CaseInsensitive) == 0)
                return fail(QStringLiteral("'%1' already exists (the names differ only in case)").arg(e));
        }
    }
    const QString path =
        layout == Layout::TrainValid ? rootDir.filePath(QStringLiteral("train/") + name) : rootDir.filePath(name);
    QString err;
    if (!Cleaning::Fs::makePath(path, &err))
        return fail(err);
    return true;
}

CleaningPlan::CleaningPlan(const QString& root, Layout layout, const QStringList& unlabeledFolders)
    : m_root(root)
    , m_layout(layout)
    , m_unlabeledFolders(unlabeledFolders)
{ }

CleaningPlan CleaningPlan::forDataset(const Dataset& dataset)
{
    return CleaningPlan(dataset.root, dataset.layout, dataset.options.unlabeledFolders);
}

bool CleaningPlan::isUnlabeledPath(const QString& relPath) const
{
    // Same rule as scanDataset(): a top-level "unlabeled" folder (any case) or one of the user's folders.
    if (relPath.section(QLatin1Char('/'), 0, 0).compare(QLatin1String("unlabeled"), Qt::CaseInsensitive) == 0
        && relPath.contains(QLatin1Char('/')))
        return true;
    for (const QString& folder : m_unlabeledFolders) {
        QString f = QDir::cleanPath(QDir::fromNativeSeparators(folder));
        while (f.startsWith(QLatin1Char('/')))
            f.remove(0, 1);
        while (f.endsWith(QLatin1Char('/')))
            f.chop(1);
        if (!f.isEmpty() && f != QLatin1String(".") && relPath.startsWith(f + QLatin1Char('/')))
            return true;
    }
    return false;
}

QString CleaningPlan::classOf(const QString& relPath) const
{
    if (isUnlabeledPath(relPath))
        return {};
    const QStringList parts = relPath.split(QLatin1Char('/'));
    if (m_layout == Layout::TrainValid) {
        if (parts.size() >= 3 && (parts[0] == QLatin1String("train") || parts[0] == QLatin1String("valid")))
            return parts[1];
        return {};
    }
    return parts.size() >= 2 ? parts[0] : QString();
}

QString CleaningPlan::splitOf(const QString& relPath) const
{
    if (m_layout != Layout::TrainValid)
        return {};
    const QStringList parts = relPath.split(QLatin1Char('/'));
    if (parts.size() >= 3 && (parts[0] == QLatin1String("train") || parts[0] == QLatin1String("valid")))
        return parts[0];
    return {};
}

QString CleaningPlan::relabelDestination(const QString& relPath, const QString& className) const
{
    const QString name = relPath.section(QLatin1Char('/'), -1);
    if (m_layout == Layout::TrainValid) {
        QString split = classOf(relPath).isEmpty() ? QString() : splitOf(relPath);
        if (split.isEmpty())
            split = QStringLiteral("train");
        return split + QLatin1Char('/') + className + QLatin1Char('/') + name;
    }
    return className + QLatin1Char('/') + name;
}

bool CleaningPlan::insert(const CleanDecision& decision, QString* error)
{
    auto fail = [&](const QString& msg) {
        if (error)
            *error = msg;
        return false;
    };
    if (const QString bad = validateRelativePath(decision.file); !bad.isEmpty())
        return fail(bad);
    if (decision.action == CleanAction::Keep) {
        m_decisions.remove(decision.file);
        return true;
    }
    if (decision.action == CleanAction::Relabel) {
        if (const QString bad = validateClassName(decision.toClass); !bad.isEmpty())
            return fail(bad);
        if (classOf(decision.file) == decision.toClass) {
            m_decisions.remove(decision.file);
            return true;
        }
    }
    CleanDecision d = decision;
    if (d.action != CleanAction::Relabel)
        d.toClass.clear();
    m_decisions.insert(d.file, d);
    return true;
}

bool CleaningPlan::set(const QString& relPath, CleanAction action, const QString& toClass, QString* error)
{
    CleanDecision d;
    d.file = relPath;
    d.action = action;
    d.toClass = toClass;
    if (!m_root.isEmpty() && action != CleanAction::Keep) {
        const auto st = Cleaning::Fs::lstatPath(QDir(m_root).filePath(relPath));
        if (st.exists && !st.isDir) {
            d.size = st.size;
            d.mtimeMs = st.mtimeMs;
        }
    }
    return insert(d, error);
}

bool CleaningPlan::remove(const QString& relPath)
{
    return m_decisions.remove(relPath) > 0;
}

CleanAction CleaningPlan::action(const QString& relPath) const
{
    const auto it = m_decisions.constFind(relPath);
    return it == m_decisions.cend() ? CleanAction::Keep : it->action;
}

QString CleaningPlan::targetClass(const QString& relPath) const
{
    const auto it = m_decisions.constFind(relPath);
    return it == m_decisions.cend() ? QString() : it->toClass;
}

std::optional<CleanDecision> CleaningPlan::decision(const QString& relPath) const
{
    const auto it = m_decisions.constFind(relPath);
    if (it == m_decisions.cend())
        return std::nullopt;
    return *it;
}

PlanSummary CleaningPlan::summary() const
{
    PlanSummary s;
    for (const CleanDecision& d : m_decisions) {
        if (d.action == CleanAction::Delete)
            ++s.deletes;
        else if (d.action == CleanAction::Relabel)
            ++(classOf(d.file).isEmpty() ? s.labels : s.relabels);
    }
    return s;
}

QByteArray CleaningPlan::toJson() const
{
    QJsonArray decisions;
    for (const CleanDecision& d : m_decisions) {
        QJsonObject o;
        o.insert(QStringLiteral("file"), d.file);
        o.insert(QStringLiteral("action"), cleanActionName(d.action));
        if (d.action == CleanAction::Relabel)
            o.insert(QStringLiteral("to"), d.toClass);
        if (d.size >= 0)
            o.insert(QStringLiteral("size"), double(d.size));
        if (d.mtimeMs >= 0)
            o.insert(QStringLiteral("mtime"), double(d.mtimeMs));
        decisions.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), kPlanFormat);
    root.insert(QStringLiteral("version"), kPlanVersion);
    root.insert(QStringLiteral("dataset"), m_root);
    root.insert(QStringLiteral("layout"), planLayoutName(m_layout));
    if (!m_unlabeledFolders.isEmpty())
        root.insert(QStringLiteral("unlabeledFolders"), QJsonArray::fromStringList(m_unlabeledFolders));
    root.insert(QStringLiteral("decisions"), decisions);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

QByteArray CleaningPlan::toCsv() const
{
    QString out = QStringLiteral("file,action,to\n");
    for (const CleanDecision& d : m_decisions)
        out += csvField(d.file) + QLatin1Char(',') + cleanActionName(d.action) + QLatin1Char(',') + csvField(d.toClass)
            + QLatin1Char('\n');
    return out.toUtf8();
}

std::optional<CleaningPlan> CleaningPlan::fromJson(const QByteArray& json, QString* error)
{
    auto fail = [&](const QString& msg) -> std::optional<CleaningPlan> {
        if (error)
            *error = msg;
        return std::nullopt;
    };
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &perr);
    if (perr.error != QJsonParseError::NoError)
        return fail(QStringLiteral("not valid JSON (%1: %2)").arg(jsonPosition(json, perr.offset), perr.errorString()));
    if (!doc.isObject())
        return fail(QStringLiteral("a plan must be a JSON object"));
    const QJsonObject root = doc.object();
    if (root.value(QStringLiteral("format")).toString() != kPlanFormat)
        return fail(QStringLiteral("not a Winnow plan (expected \"format\": \"winnow-plan\")"));
    const QJsonValue version = root.value(QStringLiteral("version"));
    if (!version.isDouble() || version.toDouble() != double(version.toInt()) || version.toInt() < 1)
        return fail(QStringLiteral("\"version\" must be a positive integer"));
    if (version.toInt() > kPlanVersion)
        return fail(QStringLiteral("plan version %1 is newer than this Winnow understands (%2)")
                        .arg(version.toInt())
                        .arg(kPlanVersion));
    const QJsonValue dataset = root.value(QStringLiteral("dataset"));
    if (!dataset.isUndefined() && !dataset.isNull() && !dataset.isString())
        return fail(QStringLiteral("\"dataset\" must be a string (the dataset folder)"));

    CleaningPlan plan;
    plan.m_root = dataset.toString();
    const QJsonValue layout = root.value(QStringLiteral("layout"));
    if (layout.isUndefined() || layout.isNull()) {
        plan.m_layout = !plan.m_root.isEmpty() && QFileInfo(plan.m_root).isDir() ? detectLayout(plan.m_root)
                                                                                 : Layout::FolderPerClass;
    } else if (layout.toString() == planLayoutName(Layout::TrainValid)) {
        plan.m_layout = Layout::TrainValid;
    } else if (layout.toString() == planLayoutName(Layout::FolderPerClass)) {
        plan.m_layout = Layout::FolderPerClass;
    } else {
        return fail(QStringLiteral("unknown \"layout\" (expected \"folder-per-class\" or \"train-valid\")"));
    }
    const QJsonValue folders = root.value(QStringLiteral("unlabeledFolders"));
    if (!folders.isUndefined() && !folders.isNull()) {
        if (!folders.isArray())
            return fail(QStringLiteral("\"unlabeledFolders\" must be an array of strings"));
        for (const QJsonValue& f : folders.toArray()) {
            if (!f.isString() || !validateRelativePath(f.toString()).isEmpty())
                return fail(QStringLiteral("\"unlabeledFolders\" must hold relative folder paths"));
            plan.m_unlabeledFolders.append(f.toString());
        }
    }
    const QJsonValue decisions = root.value(QStringLiteral("decisions"));
    if (!decisions.isArray())
        return fail(QStringLiteral("\"decisions\" must be an array"));
    QSet<QString> seen;
    const QJsonArray arr = decisions.toArray();
    for (qsizetype i = 0; i < arr.size(); ++i) {
        const QString where = QStringLiteral("decisions[%1]").arg(i);
        if (!arr.at(i).isObject())
            return fail(where + QStringLiteral(": must be an object"));
        const QJsonObject o = arr.at(i).toObject();
        CleanDecision d;
        const QJsonValue file = o.value(QStringLiteral("file"));
        if (!file.isString())
            return fail(where + QStringLiteral(": \"file\" must be a string"));
        d.file = file.toString();
        if (const QString bad = validateRelativePath(d.file); !bad.isEmpty())
            return fail(where + QStringLiteral(": ") + bad);
        if (seen.contains(d.file))
            return fail(where + QStringLiteral(": '%1' appears more than once").arg(d.file));
        seen.insert(d.file);
        const QString action = o.value(QStringLiteral("action")).toString();
        if (action == QLatin1String("delete")) {
            d.action = CleanAction::Delete;
        } else if (action == QLatin1String("relabel")) {
            d.action = CleanAction::Relabel;
            const QJsonValue to = o.value(QStringLiteral("to"));
            if (!to.isString())
                return fail(where + QStringLiteral(": a relabel needs \"to\": the class name"));
            d.toClass = to.toString();
        } else if (action == QLatin1String("keep")) {
            continue;
        } else {
            return fail(where
                + QStringLiteral(": unknown action '%1' (expected delete, relabel or keep)")
                      .arg(o.value(QStringLiteral("action")).toVariant().toString()));
        }
        if (!readInt64(o.value(QStringLiteral("size")), &d.size))
            return fail(where + QStringLiteral(": \"size\" must be a non-negative integer"));
        if (!readInt64(o.value(QStringLiteral("mtime")), &d.mtimeMs))
            return fail(where + QStringLiteral(": \"mtime\" must be a non-negative integer (ms since epoch)"));
        QString err;
        if (!plan.insert(d, &err))
            return fail(where + QStringLiteral(": ") + err);
    }
    return plan;
}

bool CleaningPlan::save(const QString& path, QString* error) const
{
    return Cleaning::Fs::writeFileDurably(path, toJson(), error);
}

bool CleaningPlan::saveCsv(const QString& path, QString* error) const
{
    return Cleaning::Fs::writeFileDurably(path, toCsv(), error);
}

std::optional<CleaningPlan> CleaningPlan::load(const QString& path, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read plan %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    QString err;
    auto plan = fromJson(f.readAll(), &err);
    if (!plan && error)
        *error = QStringLiteral("%1: %2").arg(path, err);
    return plan;
}

} // namespace Winnow
