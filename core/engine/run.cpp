// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/engine/run.h"

#include <algorithm>
#include <cmath>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/engine/roundhistory.h"
#include "core/metrics/labelissues.h"
#include "core/util/atomicfile.h"

namespace Winnow {

namespace {

QJsonArray toArray(const QStringList& list)
{
    QJsonArray a;
    for (const auto& s : list)
        a.append(s);
    return a;
}

QStringList toStringList(const QJsonValue& v)
{
    QStringList out;
    for (const auto& e : v.toArray())
        out.append(e.toString());
    return out;
}

QJsonObject configToJson(const TrainConfig& c)
{
    return QJsonObject { { QStringLiteral("arch"), c.arch }, { QStringLiteral("weights"), c.weights },
        { QStringLiteral("size"), c.size }, { QStringLiteral("batch_size"), c.batchSize },
        { QStringLiteral("epochs"), c.epochs }, { QStringLiteral("freeze_epochs"), c.freezeEpochs },
        { QStringLiteral("base_lr"), c.baseLr }, { QStringLiteral("valid_pct"), c.validPct },
        { QStringLiteral("seed"), QString::number(c.seed) }, { QStringLiteral("device"), c.device },
        { QStringLiteral("threads"), c.threads }, { QStringLiteral("augment"), c.augment },
        { QStringLiteral("cv_folds"), c.cvFolds }, { QStringLiteral("cv_size"), c.cvSize } };
}

TrainConfig configFromJson(const QJsonObject& o)
{
    TrainConfig c;
    c.arch = o.value(QStringLiteral("arch")).toString(c.arch);
    c.weights = o.value(QStringLiteral("weights")).toString();
    c.size = o.value(QStringLiteral("size")).toInt(c.size);
    c.batchSize = o.value(QStringLiteral("batch_size")).toInt(c.batchSize);
    c.epochs = o.value(QStringLiteral("epochs")).toInt(c.epochs);
    c.freezeEpochs = o.value(QStringLiteral("freeze_epochs")).toInt(c.freezeEpochs);
    c.baseLr = o.value(QStringLiteral("base_lr")).toDouble(c.baseLr);
    c.validPct = o.value(QStringLiteral("valid_pct")).toDouble(c.validPct);
    c.seed = o.value(QStringLiteral("seed")).toString().toULongLong();
    c.device = o.value(QStringLiteral("device")).toString(c.device);
    c.threads = o.value(QStringLiteral("threads")).toInt(0);
    c.augment = o.value(QStringLiteral("augment")).toBool(true);
    c.cvFolds = o.value(QStringLiteral("cv_folds")).toInt(0); // runs written before cross-validation had none
    // Runs written before cv_size trained their cross-validated fine-tunes at the model's size.
    c.cvSize = std::clamp(o.value(QStringLiteral("cv_size")).toInt(c.size), 0, c.size);
    return c;
}

QJsonObject epochToJson(const EpochStats& e)
{
    return QJsonObject { { QStringLiteral("epoch"), e.epoch },
        { QStringLiteral("stage"), e.stage == 0 ? QStringLiteral("frozen") : QStringLiteral("unfrozen") },
        { QStringLiteral("train_loss"), e.trainLoss }, { QStringLiteral("valid_loss"), e.validLoss },
        { QStringLiteral("error_rate"), e.errorRate }, { QStringLiteral("accuracy"), e.accuracy },
        { QStringLiteral("seconds"), e.seconds }, { QStringLiteral("train_samples"), e.trainSamples },
        { QStringLiteral("valid_samples"), e.validSamples } };
}

EpochStats epochFromJson(const QJsonObject& o)
{
    EpochStats e;
    e.epoch = o.value(QStringLiteral("epoch")).toInt();
    e.stage = o.value(QStringLiteral("stage")).toString() == QLatin1String("frozen") ? 0 : 1;
    e.trainLoss = o.value(QStringLiteral("train_loss")).toDouble();
    e.validLoss = o.value(QStringLiteral("valid_loss")).toDouble();
    e.errorRate = o.value(QStringLiteral("error_rate")).toDouble();
    e.accuracy = o.value(QStringLiteral("accuracy")).toDouble();
    e.seconds = o.value(QStringLiteral("seconds")).toDouble();
    e.trainSamples = std::max(0, o.value(QStringLiteral("train_samples")).toInt());
    e.validSamples = std::max(0, o.value(QStringLiteral("valid_samples")).toInt());
    return e;
}

QJsonObject roundToJson(const RoundSummary& r)
{
    return QJsonObject { { QStringLiteral("round"), r.round }, { QStringLiteral("kind"), r.kind },
        { QStringLiteral("error_rate"), r.errorRate }, { QStringLiteral("valid_loss"), r.validLoss },
        { QStringLiteral("files_changed"), r.filesChanged }, { QStringLiteral("seconds"), r.seconds },
        { QStringLiteral("compared"), r.compared },
        { QStringLiteral("previous_error_on_compared"), r.previousErrorOnCompared },
        { QStringLiteral("error_on_compared"), r.errorOnCompared } };
}

RoundSummary roundFromJson(const QJsonObject& o)
{
    RoundSummary r;
    r.round = o.value(QStringLiteral("round")).toInt();
    r.kind = o.value(QStringLiteral("kind")).toString();
    r.errorRate = o.value(QStringLiteral("error_rate")).toDouble();
    r.validLoss = o.value(QStringLiteral("valid_loss")).toDouble();
    r.filesChanged = o.value(QStringLiteral("files_changed")).toInt();
    r.seconds = o.value(QStringLiteral("seconds")).toDouble();
    r.compared = o.value(QStringLiteral("compared")).toInt();
    r.previousErrorOnCompared = o.value(QStringLiteral("previous_error_on_compared")).toDouble();
    r.errorOnCompared = o.value(QStringLiteral("error_on_compared")).toDouble();
    return r;
}

} // namespace

QString scoreKindName(ScoreKind kind)
{
    return kind == ScoreKind::OutOfSample ? QStringLiteral("out-of-sample") : QStringLiteral("in-sample");
}

int cvFoldOf(const QByteArray& contentKey, quint64 seed, int folds)
{
    if (folds < 2 || contentKey.isEmpty())
        return 0;
    // FNV-1a over the key bytes from a seed-dependent basis (the key is already an MD5: no finaliser needed).
    quint64 h = 0xCBF29CE484222325ull ^ (seed * 0x9E3779B97F4A7C15ull);
    for (char c : contentKey) {
        h ^= quint8(c);
        h *= 0x100000001B3ull;
    }
    return int(h % quint64(folds));
}

namespace {

/// The single-bit score sources, in the order names list them: bit, JSON name, words for people. The
/// cross-validation networks (SourceCrossValBase << k: "cv<k>", "cross-validation network <k + 1>") come after the
/// first entry.
struct SourceBit
{
    quint16 bit;
    const char* name;
    const char* words;
};
constexpr SourceBit kSourceBits[] = {
    { SourceModel, "model", "the fine-tuned model" },
    { SourceFrozenKFold, "frozen-kfold", "frozen-feature heads" },
    { SourceNeighbours, "neighbours", "neighbours' labels" },
    { SourceInSample, "in-sample", "a network that trained on it" },
};
constexpr int kMaxCrossVal = 8;

QStringList sourceParts(quint16 source, bool words)
{
    QStringList parts;
    for (const SourceBit& b : kSourceBits) {
        if (source & b.bit)
            parts << QString::fromLatin1(words ? b.words : b.name);
        if (b.bit == SourceModel)
            for (int k = 0; k < kMaxCrossVal; ++k)
                if (source & (SourceCrossValBase << k))
                    parts << (words ? QStringLiteral("cross-validation network %1").arg(k + 1)
                                    : QStringLiteral("cv%1").arg(k));
    }
    return parts;
}

} // namespace

QString scoreSourceName(quint16 source)
{
    return sourceParts(source, false).join(QLatin1Char('+'));
}

QString scoreSourceDescription(quint16 source)
{
    return sourceParts(source, true).join(QStringLiteral(", "));
}

quint16 parseScoreSource(const QString& name)
{
    quint16 source = 0;
    for (const auto& part : name.split(QLatin1Char('+'), Qt::SkipEmptyParts)) {
        for (const SourceBit& b : kSourceBits)
            if (part == QLatin1String(b.name))
                source |= b.bit;
        if (part.size() == 3 && part.startsWith(QLatin1String("cv")) && part.at(2).isDigit()
            && part.at(2).digitValue() < kMaxCrossVal)
            source |= quint16(SourceCrossValBase << part.at(2).digitValue());
    }
    return source;
}

QString scoreMethodName(ScoreOptions::Method m)
{
    switch (m) {
    case ScoreOptions::Method::Honest:
        return QStringLiteral("honest");
    case ScoreOptions::Method::InSample:
        return QStringLiteral("in-sample");
    case ScoreOptions::Method::FastaiFaithful:
        return QStringLiteral("fastai");
    case ScoreOptions::Method::FrozenKFold:
        return QStringLiteral("frozen");
    }
    return {};
}

std::optional<ScoreOptions::Method> parseScoreMethod(const QString& name)
{
    for (auto m : { ScoreOptions::Method::Honest, ScoreOptions::Method::InSample, ScoreOptions::Method::FastaiFaithful,
             ScoreOptions::Method::FrozenKFold })
        if (scoreMethodName(m) == name)
            return m;
    return std::nullopt;
}

bool writeRunInfo(const QString& dir, const RunInfo& info, QString* error)
{
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = QStringLiteral("cannot create run folder %1").arg(QDir::toNativeSeparators(dir));
        return false;
    }
    QJsonArray epochs;
    for (const auto& e : info.epochs)
        epochs.append(epochToJson(e));
    QJsonArray rounds;
    for (const auto& r : info.rounds)
        rounds.append(roundToJson(r));
    const QJsonObject root { { QStringLiteral("format"), QStringLiteral("winnow-run") },
        { QStringLiteral("version"), 1 }, { QStringLiteral("created"), info.created.toString(Qt::ISODate) },
        { QStringLiteral("dataset"), info.datasetRoot },
        { QStringLiteral("layout"),
            info.layout == Layout::TrainValid ? QStringLiteral("train-valid") : QStringLiteral("folder-per-class") },
        { QStringLiteral("config"), configToJson(info.config) }, { QStringLiteral("vocab"), toArray(info.vocab) },
        { QStringLiteral("device"), info.device }, { QStringLiteral("train_seconds"), info.trainSeconds },
        { QStringLiteral("score_method"), info.scoreMethod }, { QStringLiteral("epochs"), epochs },
        { QStringLiteral("cv_models"), info.cvModels }, { QStringLiteral("run_id"), info.runId },
        { QStringLiteral("frozen_c"), info.frozenC }, { QStringLiteral("rounds"), rounds },
        { QStringLiteral("unreadable_files"), toArray(info.unreadableFiles) },
        { QStringLiteral("split"),
            QJsonObject { { QStringLiteral("train"), toArray(info.trainFiles) },
                { QStringLiteral("valid"), toArray(info.validFiles) } } } };
    return writeFileAtomically(QDir(dir).filePath(QLatin1String(kRunFile)), QJsonDocument(root).toJson(), error);
}

bool writeRoundHistory(const QString& dir, const QVector<RoundSummary>& rounds, QString* error)
{
    QJsonArray list;
    for (const auto& r : rounds)
        list.append(roundToJson(r));
    const QJsonObject root { { QStringLiteral("format"), QStringLiteral("winnow-rounds") },
        { QStringLiteral("version"), 1 }, { QStringLiteral("rounds"), list } };
    return writeFileAtomically(QDir(dir).filePath(QLatin1String(kRoundsFile)), QJsonDocument(root).toJson(), error);
}

std::optional<QVector<RoundSummary>> readRoundHistory(const QString& dir, QString* error)
{
    const QString path = QDir(dir).filePath(QLatin1String(kRoundsFile));
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(path), f.errorString());
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &parseError);
    const QJsonObject root = doc.object();
    if (parseError.error != QJsonParseError::NoError
        || root.value(QStringLiteral("format")).toString() != QLatin1String("winnow-rounds")) {
        if (error)
            *error = QStringLiteral("%1 is not a winnow-rounds file").arg(QDir::toNativeSeparators(path));
        return std::nullopt;
    }
    QVector<RoundSummary> rounds;
    for (const auto& r : root.value(QStringLiteral("rounds")).toArray())
        rounds.append(roundFromJson(r.toObject()));
    return rounds;
}

std::optional<RunInfo> readRunInfo(const QString& dir, QString* error)
{
    auto fail = [&](const QString& msg) -> std::optional<RunInfo> {
        if (error)
            *error = msg;
        return std::nullopt;
    };
    const QString path = QDir(dir).filePath(QLatin1String(kRunFile));
    QFile f(path);
    if (!f.exists())
        return fail(QStringLiteral("%1 is not a Winnow run folder (no %2)")
                        .arg(QDir::toNativeSeparators(dir), QLatin1String(kRunFile)));
    if (!f.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(path), f.errorString()));
    QJsonParseError perr;
    const auto doc = QJsonDocument::fromJson(f.readAll(), &perr);
    if (doc.isNull() || !doc.isObject())
        return fail(QStringLiteral("%1 is not valid JSON: %2").arg(QDir::toNativeSeparators(path), perr.errorString()));
    const auto o = doc.object();
    if (o.value(QStringLiteral("format")).toString() != QLatin1String("winnow-run"))
        return fail(QStringLiteral("%1 is not a Winnow run file").arg(QDir::toNativeSeparators(path)));
    if (o.value(QStringLiteral("version")).toInt() != 1)
        return fail(QStringLiteral("%1 has unsupported version %2")
                        .arg(QDir::toNativeSeparators(path))
                        .arg(o.value(QStringLiteral("version")).toInt()));
    RunInfo info;
    info.created = QDateTime::fromString(o.value(QStringLiteral("created")).toString(), Qt::ISODate);
    info.datasetRoot = o.value(QStringLiteral("dataset")).toString();
    info.layout = o.value(QStringLiteral("layout")).toString() == QLatin1String("train-valid") ? Layout::TrainValid
                                                                                               : Layout::FolderPerClass;
    info.config = configFromJson(o.value(QStringLiteral("config")).toObject());
    info.vocab = toStringList(o.value(QStringLiteral("vocab")));
    info.device = o.value(QStringLiteral("device")).toString();
    info.trainSeconds = o.value(QStringLiteral("train_seconds")).toDouble();
    info.scoreMethod = o.value(QStringLiteral("score_method")).toString();
    info.cvModels = std::clamp(o.value(QStringLiteral("cv_models")).toInt(), 0, 8);
    info.runId = o.value(QStringLiteral("run_id")).toString();
    info.frozenC = std::clamp(o.value(QStringLiteral("frozen_c")).toDouble(), 0.0, 1e6);
    for (const auto& e : o.value(QStringLiteral("epochs")).toArray())
        info.epochs.append(epochFromJson(e.toObject()));
    for (const auto& r : o.value(QStringLiteral("rounds")).toArray())
        info.rounds.append(roundFromJson(r.toObject()));
    const auto split = o.value(QStringLiteral("split")).toObject();
    info.trainFiles = toStringList(split.value(QStringLiteral("train")));
    info.validFiles = toStringList(split.value(QStringLiteral("valid")));
    info.unreadableFiles = toStringList(o.value(QStringLiteral("unreadable_files")));
    if (info.vocab.isEmpty())
        return fail(QStringLiteral("%1 has no class vocabulary").arg(QDir::toNativeSeparators(path)));
    return info;
}

void completeScore(ScoreRecord& r)
{
    const int n = int(r.probs.size());
    int best = -1;
    double pBest = -1;
    double entropy = 0;
    for (int i = 0; i < n; ++i) {
        const double p = r.probs[i];
        if (p > pBest) {
            pBest = p;
            best = i;
        }
        if (p > 0)
            entropy -= p * std::log(p);
    }
    r.predicted = best;
    r.pPredicted = std::max(0.0, pBest);
    r.entropy = entropy;
    // The label under scrutiny: the given one, or for unlabeled files the suggestion.
    const int ref = (r.given >= 0 && r.given < n) ? r.given : best;
    r.pGiven = (r.given >= 0 && r.given < n) ? double(r.probs[r.given]) : 0.0;
    double otherMax = 0;
    for (int i = 0; i < n; ++i)
        if (i != ref)
            otherMax = std::max(otherMax, double(r.probs[i]));
    r.margin = (ref >= 0 ? double(r.probs[ref]) : 0.0) - otherMax;
    constexpr double kMinP = 1e-12;
    r.loss = r.given >= 0 ? -std::log(std::max(kMinP, r.pGiven)) : 0.0;
}

QVector<ScoreRecord> sortedByLoss(QVector<ScoreRecord> records)
{
    std::stable_sort(records.begin(), records.end(), [](const ScoreRecord& a, const ScoreRecord& b) {
        const bool au = a.given < 0, bu = b.given < 0;
        if (au != bu)
            return bu; // labeled first
        if (au)
            return a.margin < b.margin;
        if (a.loss != b.loss)
            return a.loss > b.loss;
        return a.file < b.file;
    });
    return records;
}

QJsonObject scoreToJson(const ScoreRecord& r, const QStringList& vocab, bool withProbs)
{
    auto name = [&](int i) { return (i >= 0 && i < vocab.size()) ? QJsonValue(vocab.at(i)) : QJsonValue(); };
    QJsonObject o { { QStringLiteral("file"), r.file }, { QStringLiteral("split"), splitName(r.split) },
        { QStringLiteral("given"), name(r.given) }, { QStringLiteral("predicted"), name(r.predicted) },
        { QStringLiteral("loss"), r.loss }, { QStringLiteral("p_predicted"), r.pPredicted },
        { QStringLiteral("p_given"), r.pGiven }, { QStringLiteral("margin"), r.margin },
        { QStringLiteral("entropy"), r.entropy }, { QStringLiteral("score"), scoreKindName(r.kind) },
        { QStringLiteral("issue"), r.issue }, { QStringLiteral("suggested"), name(r.suggested) } };
    if (r.source)
        o.insert(QStringLiteral("scored_by"), scoreSourceName(r.source));
    if (withProbs) {
        QJsonObject probs;
        for (int i = 0; i < r.probs.size() && i < vocab.size(); ++i)
            probs.insert(vocab.at(i), double(r.probs[i]));
        o.insert(QStringLiteral("probabilities"), probs);
    }
    return o;
}

bool writeScores(const QString& dir, const ScoreSet& scores, QString* error)
{
    QByteArray out;
    for (const auto& r : sortedByLoss(scores.records)) {
        out += QJsonDocument(scoreToJson(r, scores.vocab)).toJson(QJsonDocument::Compact);
        out += '\n';
    }
    return writeFileAtomically(QDir(dir).filePath(QLatin1String(kScoresFile)), out, error);
}

std::optional<ScoreSet> readScores(const QString& dir, QString* error)
{
    QString runError;
    const auto info = readRunInfo(dir, &runError);
    if (!info) {
        if (error)
            *error = runError;
        return std::nullopt;
    }
    QFile f(QDir(dir).filePath(QLatin1String(kScoresFile)));
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("run %1 has no scores yet").arg(QDir::toNativeSeparators(dir));
        return std::nullopt;
    }
    ScoreSet set;
    set.datasetRoot = info->datasetRoot;
    set.vocab = info->vocab;
    set.runDir = dir;
    set.round = info->rounds.isEmpty() ? 0 : info->rounds.constLast().round;
    int lineNo = 0;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        const auto doc = QJsonDocument::fromJson(line);
        if (!doc.isObject()) {
            if (error)
                *error = QStringLiteral("%1 line %2 is not a JSON object").arg(QLatin1String(kScoresFile)).arg(lineNo);
            return std::nullopt;
        }
        const auto o = doc.object();
        ScoreRecord r;
        r.file = o.value(QStringLiteral("file")).toString();
        const QString split = o.value(QStringLiteral("split")).toString();
        r.split = split == QLatin1String("valid") ? Split::Valid
            : split == QLatin1String("unlabeled") ? Split::Unlabeled
                                                  : Split::Train;
        r.given = int(set.vocab.indexOf(o.value(QStringLiteral("given")).toString()));
        r.kind = o.value(QStringLiteral("score")).toString() == QLatin1String("in-sample") ? ScoreKind::InSample
                                                                                           : ScoreKind::OutOfSample;
        r.source = parseScoreSource(o.value(QStringLiteral("scored_by")).toString());
        const auto probs = o.value(QStringLiteral("probabilities")).toObject();
        r.probs.resize(set.vocab.size());
        for (int i = 0; i < set.vocab.size(); ++i)
            r.probs[i] = float(probs.value(set.vocab.at(i)).toDouble());
        completeScore(r);
        set.records.append(r);
    }
    flagLabelIssues(set); // derived from the probabilities, so never trusted from the file
    return set;
}

} // namespace Winnow
