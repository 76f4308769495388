// SPDX-License-Identifier: GPL-3.0-or-later
// Safetensors reader/writer validation and state-dict loading errors.
#include <cstring>
#include <string>

#include <torch/torch.h>

#include <QTemporaryDir>
#include <QTest>

#include "core/nn/weights.h"

using namespace Winnow::nn;

namespace {

// An 8-byte little-endian length, the header text, then `dataBytes` bytes of payload.
std::string makeFile(const std::string& header, size_t dataBytes)
{
    std::string out;
    const uint64_t len = header.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
    out += header;
    out.append(dataBytes, '\0');
    return out;
}

// Runs the parser and returns the error message ("" if it accepted the input).
QString parseError(const std::string& bytes)
{
    try {
        parseSafetensors(bytes.data(), bytes.size(), "test.safetensors");
    } catch (const WeightsError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

QString loadError(torch::nn::Module& module, const TensorMap& tensors, bool strict)
{
    try {
        loadStateDict(module, tensors, strict);
    } catch (const WeightsError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void malformed_data();
    void malformed();
    void truncatedFile();
    void absurdHeaderLength();
    void writerReaderRoundTrip();
    void halfPrecisionRoundTrip();
    void writerRejectsUnsupportedDtype();
    void fileErrors();
    void loadShapeMismatchNamesBothShapes();
    void loadMissingAndUnexpected();
    void loadCopiesValues();
};

void TestSafetensors::malformed_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<int>("dataBytes");
    QTest::addColumn<QString>("expected"); // substring of the error; empty = accepted

    QTest::newRow("valid") << QByteArray(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})") << 8 << QString();
    QTest::newRow("valid-metadata") << QByteArray(
        R"({"__metadata__":{"k":"v"},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})")
                                    << 8 << QString();
    QTest::newRow("not-json") << QByteArray("this is not json") << 0 << QStringLiteral("corrupt header");
    QTest::newRow("unterminated") << QByteArray(R"({"a":{"dtype":"F32")") << 0 << QStringLiteral("corrupt header");
    QTest::newRow("not-object") << QByteArray("[1,2]") << 0 << QStringLiteral("not an object");
    QTest::newRow("trailing") << QByteArray("{} x") << 0 << QStringLiteral("trailing");
    QTest::newRow("unknown-dtype") << QByteArray(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})") << 8
                                   << QStringLiteral("unsupported dtype 'F64'");
    QTest::newRow("size-mismatch") << QByteArray(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})") << 8
                                   << QStringLiteral("needs 12 bytes but data_offsets span 8");
    QTest::newRow("overlap") << QByteArray(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})")
                             << 12 << QStringLiteral("overlapping");
    QTest::newRow("out-of-bounds") << QByteArray(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})") << 8
                                   << QStringLiteral("beyond the data section");
    QTest::newRow("reversed") << QByteArray(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})") << 8
                              << QStringLiteral("reversed");
    QTest::newRow("negative-dim") << QByteArray(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})") << 4
                                  << QStringLiteral("non-negative integers");
    QTest::newRow("missing-offsets") << QByteArray(R"({"a":{"dtype":"F32","shape":[1]}})") << 4
                                     << QStringLiteral("data_offsets");
    QTest::newRow("duplicate") << QByteArray(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})")
                               << 8 << QStringLiteral("duplicate entry 'a'");
    QTest::newRow("overflow-shape") << QByteArray(
        R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})")
                                    << 4 << QStringLiteral("impossible");
    QTest::newRow("metadata-not-string") << QByteArray(R"({"__metadata__":{"k":1}})") << 0
                                         << QStringLiteral("not a string");
}

void TestSafetensors::malformed()
{
    QFETCH(QByteArray, header);
    QFETCH(int, dataBytes);
    QFETCH(QString, expected);
    const QString error = parseError(makeFile(header.toStdString(), static_cast<size_t>(dataBytes)));
    if (expected.isEmpty())
        QCOMPARE(error, QString());
    else
        QVERIFY2(error.contains(expected), qPrintable(QStringLiteral("got: '%1'").arg(error)));
}

void TestSafetensors::truncatedFile()
{
    TensorMap t { { "w", torch::arange(16, torch::kFloat) } };
    std::string bytes = serializeSafetensors(t);
    QVERIFY(parseError(bytes).isEmpty());
    bytes.resize(bytes.size() - 10); // cut into the data
    QVERIFY2(parseError(bytes).contains(QLatin1String("truncated")), qPrintable(parseError(bytes)));
    QVERIFY(parseError(bytes.substr(0, 20)).contains(QLatin1String("truncated"))); // cut into the header
    QVERIFY(parseError(bytes.substr(0, 5)).contains(QLatin1String("too short")));
    QVERIFY(parseError(std::string()).contains(QLatin1String("too short")));
}

void TestSafetensors::absurdHeaderLength()
{
    std::string bytes(64, ' ');
    const uint64_t len = 0x7FFFFFFFFFFFFFFFull;
    std::memcpy(bytes.data(), &len, 8);
    QVERIFY2(parseError(bytes).contains(QLatin1String("not plausible")), qPrintable(parseError(bytes)));
}

void TestSafetensors::writerReaderRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("w.safetensors")).toStdString();
    torch::manual_seed(1);
    TensorMap in { { "layer.weight", torch::randn({ 3, 4, 2 }) },
        { "layer.num_batches_tracked", torch::tensor(int64_t(7)) }, { "empty", torch::zeros({ 0, 5 }) },
        { "strided", torch::randn({ 4, 6 }).t() } };
    writeSafetensors(path, in, { { "arch", "resnet18" }, { "vocab", "a\nb \"quoted\"" } });
    const SafetensorsFile out = readSafetensorsFile(path);
    QCOMPARE(out.tensors.size(), in.size());
    for (const auto& [name, t] : in) {
        const auto it = out.tensors.find(name);
        QVERIFY2(it != out.tensors.end(), name.c_str());
        QCOMPARE(it->second.scalar_type(), t.scalar_type());
        QCOMPARE(it->second.sizes(), t.sizes());
        QVERIFY(torch::equal(it->second, t));
    }
    QCOMPARE(out.metadata.at("arch"), std::string("resnet18"));
    QCOMPARE(out.metadata.at("vocab"), std::string("a\nb \"quoted\""));
    QCOMPARE(out.tensors.at("layer.num_batches_tracked").dim(), int64_t(0));
}

void TestSafetensors::halfPrecisionRoundTrip()
{
    torch::manual_seed(2);
    const auto ref = torch::randn({ 5, 7 });
    TensorMap in { { "h", ref.to(torch::kHalf) }, { "b", ref.to(torch::kBFloat16) } };
    const std::string bytes = serializeSafetensors(in);
    const auto out = parseSafetensors(bytes.data(), bytes.size()).tensors;
    QCOMPARE(out.at("h").scalar_type(), torch::kHalf);
    QCOMPARE(out.at("b").scalar_type(), torch::kBFloat16);
    QVERIFY(torch::equal(out.at("h"), in.at("h")));
    QVERIFY(torch::equal(out.at("b"), in.at("b")));
    QVERIFY(torch::allclose(out.at("h").to(torch::kFloat), ref, 1e-2, 1e-3));
    QVERIFY(torch::allclose(out.at("b").to(torch::kFloat), ref, 2e-2, 1e-2));
    // Loading converts to the module's float32.
    auto lin = torch::nn::Linear(7, 5);
    loadStateDict(*lin, { { "weight", in.at("b") }, { "bias", torch::zeros({ 5 }, torch::kHalf) } });
    QCOMPARE(lin->weight.scalar_type(), torch::kFloat);
    QVERIFY(torch::equal(lin->weight, in.at("b").to(torch::kFloat)));
}

void TestSafetensors::writerRejectsUnsupportedDtype()
{
    bool threw = false;
    try {
        serializeSafetensors({ { "d", torch::zeros({ 2 }, torch::kDouble) } });
    } catch (const WeightsError& e) {
        threw = QString::fromLatin1(e.what()).contains(QLatin1String("'d'"));
    }
    QVERIFY(threw);
}

void TestSafetensors::fileErrors()
{
    QTemporaryDir dir;
    const std::string missing = dir.filePath(QStringLiteral("nope.safetensors")).toStdString();
    try {
        readSafetensors(missing);
        QFAIL("no exception for a missing file");
    } catch (const WeightsError& e) {
        QVERIFY(QString::fromStdString(e.what()).contains(QString::fromStdString(missing)));
    }
    // An unwritable destination fails cleanly and leaves nothing behind.
    const std::string bad = dir.filePath(QStringLiteral("no/such/dir/w.safetensors")).toStdString();
    QVERIFY_THROWS_EXCEPTION(WeightsError, writeSafetensors(bad, { { "a", torch::zeros({ 1 }) } }));
}

void TestSafetensors::loadShapeMismatchNamesBothShapes()
{
    auto lin = torch::nn::Linear(4, 3);
    const auto before = lin->bias.clone();
    const QString error =
        loadError(*lin, { { "weight", torch::zeros({ 3, 5 }) }, { "bias", torch::ones({ 3 }) } }, true);
    QVERIFY2(error.contains(QLatin1String("'weight'")), qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("[3, 5]")), qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("[3, 4]")), qPrintable(error));
    QVERIFY(torch::equal(lin->bias, before)); // nothing modified on failure
}

void TestSafetensors::loadMissingAndUnexpected()
{
    auto lin = torch::nn::Linear(4, 3);
    const TensorMap tensors { { "weight", torch::zeros({ 3, 4 }) }, { "extra.thing", torch::zeros({ 1 }) } };
    const QString error = loadError(*lin, tensors, true);
    QVERIFY2(error.contains(QLatin1String("missing 1 key(s): 'bias'")), qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("unexpected 1 key(s): 'extra.thing'")), qPrintable(error));

    const LoadReport report = loadStateDict(*lin, tensors, false);
    QCOMPARE(report.loaded, size_t(1));
    QCOMPARE(report.missing, std::vector<std::string> { "bias" });
    QCOMPARE(report.unexpected, std::vector<std::string> { "extra.thing" });
    QVERIFY(torch::equal(lin->weight, torch::zeros({ 3, 4 })));
}

void TestSafetensors::loadCopiesValues()
{
    auto bn = torch::nn::BatchNorm2d(3);
    TensorMap source = stateDict(*bn);
    QCOMPARE(source.size(), size_t(5)); // weight, bias, running_mean, running_var, num_batches_tracked
    QCOMPARE(source.at("num_batches_tracked").scalar_type(), torch::kLong);
    source["running_mean"] = torch::tensor({ 1.f, 2.f, 3.f });
    source["num_batches_tracked"] = torch::tensor(int64_t(42));
    auto other = torch::nn::BatchNorm2d(3);
    const auto report = loadStateDict(*other, source);
    QCOMPARE(report.loaded, size_t(5));
    QVERIFY(torch::equal(other->running_mean, torch::tensor({ 1.f, 2.f, 3.f })));
    QCOMPARE(other->num_batches_tracked.item<int64_t>(), int64_t(42));
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
