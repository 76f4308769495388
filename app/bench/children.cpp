// SPDX-License-Identifier: GPL-3.0-or-later
// winnow-bench: the other programs it runs and compares with, winnow_nn_bench and the PyTorch reference
// (app/bench/benchparts.h).
#include <algorithm>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>

#include "app/bench/benchparts.h"

namespace Winnow::Bench {

namespace {

// ---------------------------------------------------------------------------------------------------------------------
// Model-only throughput: winnow_nn_bench (the Qt-free nn layer's own benchmark), run as a child process

QString findNnBench()
{
    const QString env = qEnvironmentVariable("WINNOW_NN_BENCH");
    if (!env.isEmpty())
        return env;
    const QDir appDir(QCoreApplication::applicationDirPath());
    for (const QString& rel : { QStringLiteral("winnow_nn_bench"), QStringLiteral("../core/nn/winnow_nn_bench") }) {
        const QString p = QDir::cleanPath(appDir.filePath(rel));
        if (QFileInfo(p).isExecutable())
            return p;
    }
    return QStandardPaths::findExecutable(QStringLiteral("winnow_nn_bench"));
}

/// Runs a child, forwarding its stderr; returns the last JSON object line of its stdout.
QJsonObject runJsonChild(const QString& program, const QStringList& args, QString* error)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(program, args);
    if (!p.waitForStarted(30000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(program, p.errorString());
        return {};
    }
    p.waitForFinished(-1);
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *error = QStringLiteral("%1 failed (exit code %2)").arg(QFileInfo(program).fileName()).arg(p.exitCode());
        return {};
    }
    QJsonParseError pe {};
    const auto doc = QJsonDocument::fromJson(lines.constLast(), &pe);
    if (!doc.isObject()) {
        *error = QStringLiteral("%1 printed no JSON: %2").arg(QFileInfo(program).fileName(), pe.errorString());
        return {};
    }
    return doc.object();
}

QString defaultReferenceScript()
{
    const QString env = qEnvironmentVariable("WINNOW_BENCH_REFERENCE");
    if (!env.isEmpty())
        return env;
    // The source tree this tool was built from (it is never installed).
    const QString inTree = QStringLiteral(WINNOW_SOURCE_DIR "/tests/bench/reference.py");
    return QFileInfo::exists(inTree) ? inTree : QString();
}

} // namespace

QJsonObject benchModel(const Options& o, int classes)
{
    const QString exe = findNnBench();
    if (exe.isEmpty())
        return { { QStringLiteral("error"),
            QStringLiteral("winnow_nn_bench not found (build it, or set WINNOW_NN_BENCH)") } };
    QString error;
    QJsonObject r = runJsonChild(exe,
        { QStringLiteral("--arch"), o.arch, QStringLiteral("--size"), QString::number(o.size), QStringLiteral("--bs"),
            QString::number(o.bs), QStringLiteral("--steps"), QString::number(o.steps), QStringLiteral("--warmup"),
            QString::number(o.warmup), QStringLiteral("--classes"), QString::number(std::max(2, classes)),
            QStringLiteral("--threads"), QString::number(o.threads), QStringLiteral("--device"), o.device },
        &error);
    if (!error.isEmpty())
        return { { QStringLiteral("error"), error } };
    return r;
}

QJsonObject runReference(const Options& o, const QString& splitFile, const QString& photosDir, QString* error)
{
    const QString script = o.referenceScript.isEmpty() ? defaultReferenceScript() : o.referenceScript;
    if (script.isEmpty() || !QFileInfo::exists(script)) {
        *error = QStringLiteral("reference script not found (give --reference-script tests/bench/reference.py)");
        return {};
    }
    QStringList args { script, QStringLiteral("--dataset"), o.dataset, QStringLiteral("--split-file"), splitFile,
        QStringLiteral("--arch"), o.arch, QStringLiteral("--size"), QString::number(o.size), QStringLiteral("--bs"),
        QString::number(o.bs), QStringLiteral("--threads"), QString::number(o.threads), QStringLiteral("--workers"),
        QString::number(o.refWorkers), QStringLiteral("--epochs"), QString::number(o.epochs),
        QStringLiteral("--freeze-epochs"), QString::number(o.freezeEpochs), QStringLiteral("--steps"),
        QString::number(o.steps), QStringLiteral("--warmup"), QString::number(o.warmup),
        QStringLiteral("--decode-size"), QString::number(o.decodeSize), QStringLiteral("--decode-rounds"),
        QString::number(o.decodeRounds) };
    if (!photosDir.isEmpty())
        args << QStringLiteral("--photos") << photosDir;
    if (!o.weights.isEmpty())
        args << QStringLiteral("--weights") << o.weights;
    note(QStringLiteral("running the PyTorch reference: %1 %2").arg(o.python, args.join(QLatin1Char(' '))));
    return runJsonChild(o.python, args, error);
}

} // namespace Winnow::Bench
