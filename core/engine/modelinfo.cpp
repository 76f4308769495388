// SPDX-License-Identifier: GPL-3.0-or-later
// Model metadata: what a model file says about itself, validated. Torch-free (fuzzed: tests/fuzz/fuzz_modelfile.cpp);
// building and exporting the file is core/engine/modelfile.cpp.
#include <cmath>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include "core/engine/modelfile.h"
#include "core/imaging/loader.h"
#include "core/nn/arch.h"

namespace Winnow {

namespace {

QString fromStd(const std::string& s)
{
    return QString::fromStdString(s);
}

} // namespace

QStringList architectureNames()
{
    QStringList out;
    for (const nn::Arch a : nn::allArchs())
        out << fromStd(nn::archName(a));
    return out;
}

QStringList pretrainedArchitectureNames()
{
    QStringList out = architectureNames();
    out.removeAll(fromStd(nn::archName(nn::Arch::Tiny)));
    return out;
}

namespace {

QJsonArray floatArray(const std::array<float, 3>& v)
{
    return QJsonArray { double(v[0]), double(v[1]), double(v[2]) };
}

/// Parses "[a, b, c]" into three finite floats.
bool parseTriple(const std::string& text, std::array<float, 3>* out)
{
    const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(text));
    if (!doc.isArray() || doc.array().size() != 3)
        return false;
    for (int i = 0; i < 3; ++i) {
        const QJsonValue v = doc.array().at(i);
        // Finite as a float, not just as a double: 0.4E85 would become inf (found by tests/fuzz/fuzz_modelfile).
        if (!v.isDouble() || !std::isfinite(float(v.toDouble())))
            return false;
        (*out)[size_t(i)] = float(v.toDouble());
    }
    return true;
}

bool parseInt(const std::string& text, int* out)
{
    bool ok = false;
    const int v = QString::fromStdString(text).toInt(&ok);
    if (ok)
        *out = v;
    return ok;
}

} // namespace

QString fastaiTransformName(int size)
{
    return QStringLiteral("squish:%1,center_crop:%2").arg(size + validationExtra(size)).arg(size);
}

QJsonObject ModelInfo::toJson() const
{
    QJsonObject o { { QStringLiteral("format"), QLatin1String(kModelFormatName) },
        { QStringLiteral("version"), version }, { QStringLiteral("arch"), arch }, { QStringLiteral("kind"), kind },
        { QStringLiteral("vocab"), QJsonArray::fromStringList(vocab) }, { QStringLiteral("classes"), vocab.size() },
        { QStringLiteral("size"), size }, { QStringLiteral("mean"), floatArray(mean) },
        { QStringLiteral("std"), floatArray(std) }, { QStringLiteral("transform"), transform } };
    if (headHidden > 0)
        o.insert(QStringLiteral("head_hidden"), headHidden);
    if (!provenance.isEmpty())
        o.insert(QStringLiteral("provenance"), provenance);
    return o;
}

std::optional<ModelInfo> parseModelMetadata(const std::map<std::string, std::string>& md, QString* error)
{
    auto fail = [&](const QString& msg) -> std::optional<ModelInfo> {
        if (error)
            *error = msg;
        return std::nullopt;
    };
    auto corrupt = [&](const QString& msg) { return fail(QStringLiteral("corrupt Winnow model file: ") + msg); };
    auto value = [&](const char* key, std::string* out) {
        const auto it = md.find(key);
        if (it == md.end())
            return false;
        *out = it->second;
        return true;
    };

    std::string format, text;
    if (!value("format", &format))
        return fail(QStringLiteral("not a Winnow model file (a safetensors file without Winnow metadata, e.g. plain "
                                   "pretrained weights: predict with those via --arch/--weights/--labels)"));
    if (format != kModelFormatName)
        return fail(QStringLiteral("not a Winnow model file (format \"%1\")").arg(fromStd(format).left(60)));
    if (!value("version", &text))
        return fail(QStringLiteral("not an exported Winnow model: this looks like a run folder's model.safetensors; "
                                   "export the run first with 'winnow export RUN_DIR --out MODEL_FILE'"));
    ModelInfo info;
    if (!parseInt(text, &info.version))
        return corrupt(QStringLiteral("version \"%1\" is not a number").arg(fromStd(text).left(40)));
    if (info.version != kModelFormatVersion)
        return fail(QStringLiteral("unsupported Winnow model version %1 (this Winnow reads version %2%3)")
                        .arg(info.version)
                        .arg(kModelFormatVersion)
                        .arg(info.version > kModelFormatVersion ? QStringLiteral("; the file is from a newer Winnow")
                                                                : QString()));

    if (!value("arch", &text))
        return corrupt(QStringLiteral("no architecture (metadata \"arch\")"));
    const auto arch = nn::parseArch(text);
    if (!arch)
        return corrupt(QStringLiteral("unknown architecture \"%1\"").arg(fromStd(text).left(60)));
    info.arch = fromStd(nn::archName(*arch));

    if (!value("kind", &text))
        return corrupt(QStringLiteral("no model kind (metadata \"kind\")"));
    info.kind = fromStd(text);
    if (info.kind != QLatin1String("fastai") && info.kind != QLatin1String("linear-probe"))
        return corrupt(QStringLiteral("unknown model kind \"%1\"").arg(info.kind.left(60)));

    if (!value("vocab", &text))
        return corrupt(QStringLiteral("no class list (metadata \"vocab\")"));
    const auto vocabDoc = QJsonDocument::fromJson(QByteArray::fromStdString(text));
    if (!vocabDoc.isArray())
        return corrupt(QStringLiteral("the class list is not a JSON array"));
    QSet<QString> seen;
    for (const auto& v : vocabDoc.array()) {
        if (!v.isString() || v.toString().isEmpty())
            return corrupt(QStringLiteral("the class list holds an empty or non-string name"));
        if (seen.contains(v.toString()))
            return corrupt(QStringLiteral("class \"%1\" appears twice").arg(v.toString()));
        seen.insert(v.toString());
        info.vocab.append(v.toString());
    }
    if (info.vocab.size() < 2)
        return corrupt(QStringLiteral("%1 classes (a classifier needs at least 2)").arg(info.vocab.size()));

    if (!value("size", &text) || !parseInt(text, &info.size))
        return corrupt(QStringLiteral("no valid input size (metadata \"size\")"));
    if (info.size < 16 || info.size > 2048)
        return corrupt(QStringLiteral("input size %1 is out of range (16..2048)").arg(info.size));

    if (!value("mean", &text) || !parseTriple(text, &info.mean))
        return corrupt(QStringLiteral("no valid normalisation mean (metadata \"mean\": 3 numbers)"));
    if (!value("std", &text) || !parseTriple(text, &info.std))
        return corrupt(QStringLiteral("no valid normalisation std (metadata \"std\": 3 numbers)"));
    for (float s : info.std)
        if (!(s > 0))
            return corrupt(QStringLiteral("normalisation std must be positive"));

    if (!value("transform", &text))
        return corrupt(QStringLiteral("no inference transform (metadata \"transform\")"));
    info.transform = fromStd(text);
    if (info.transform != fastaiTransformName(info.size))
        return fail(QStringLiteral("unsupported inference transform \"%1\" (this Winnow applies \"%2\" at size %3)")
                        .arg(info.transform.left(80), fastaiTransformName(info.size))
                        .arg(info.size));

    if (info.kind == QLatin1String("fastai")) {
        if (!value("head_hidden", &text) || !parseInt(text, &info.headHidden) || info.headHidden <= 0)
            return corrupt(QStringLiteral("no valid head width (metadata \"head_hidden\")"));
    }
    if (value("provenance", &text)) {
        const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(text));
        if (!doc.isObject())
            return corrupt(QStringLiteral("provenance is not a JSON object"));
        info.provenance = doc.object();
    }
    return info;
}

std::map<std::string, std::string> modelMetadata(const ModelInfo& info)
{
    auto json = [](const auto& v) { return QJsonDocument(v).toJson(QJsonDocument::Compact).toStdString(); };
    std::map<std::string, std::string> md {
        { "format", kModelFormatName },
        { "version", std::to_string(info.version) },
        { "arch", info.arch.toStdString() },
        { "kind", info.kind.toStdString() },
        { "vocab", json(QJsonArray::fromStringList(info.vocab)) },
        { "size", std::to_string(info.size) },
        { "mean", json(floatArray(info.mean)) },
        { "std", json(floatArray(info.std)) },
        { "transform", info.transform.toStdString() },
    };
    if (info.headHidden > 0)
        md["head_hidden"] = std::to_string(info.headHidden);
    if (!info.provenance.isEmpty())
        md["provenance"] = json(info.provenance);
    return md;
}

} // namespace Winnow
