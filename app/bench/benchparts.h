// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The parts of winnow-bench (app/bench/bench.h): the options, what each measurement returns and the helpers that
// turn figures into the report. bench.cpp parses the command line, runs the phases in order and prints the JSON;
// measure.cpp measures Winnow (decode, engine, grid); children.cpp runs the other programs (winnow_nn_bench and the
// PyTorch reference); support.cpp holds the numbers, the machine and the report's shapes.

#include <vector>

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include "core/dataset/dataset.h"

class QElapsedTimer;

namespace Winnow::Bench {

struct Options
{
    QString dataset;
    QString arch = QStringLiteral("mobilenet_v2");
    QString weights;
    QString device = QStringLiteral("cpu");
    int size = 128;
    int bs = 32;
    int threads = 0;
    int epochs = 1;
    int freezeEpochs = 1;
    int steps = 10; ///< model-only timed steps
    int warmup = 2;
    int photos = 12; ///< full-size photos for the decode benchmark
    int photoWidth = 3000;
    int photoHeight = 2000;
    int decodeSize = 224;
    int decodeRounds = 2;
    int gridItems = 100000;
    int retrainRounds = 3;
    bool reference = false;
    QString python = QStringLiteral("/usr/bin/python3");
    QString referenceScript;
    int refWorkers = 0;
    bool quick = false;
    QString out;
};

// --- support.cpp --------------------------------------------------------------------------------------------------
void note(const QString& what); ///< a progress line on stderr ("bench: ...")
double seconds(const QElapsedTimer& t);
double round3(double v);
double median(std::vector<double> v);
QString cpuModel();
double totalMemoryGb();
/// The number at `path` in `o` (0 when missing).
double num(const QJsonObject& o, const QStringList& path);
/// {winnow, pytorch, ratio}, or empty when either figure is missing.
QJsonObject ratio(double ours, double theirs);
/// A target line of the report: what, the goal, the value and whether it is met (null when not measured).
QJsonObject target(const QString& what, double value, double goal, bool atLeast, const QString& unit);

// --- measure.cpp --------------------------------------------------------------------------------------------------
/// Writes o.photos photo-sized JPEGs made from the dataset's images into `dir`.
QStringList makePhotos(const Dataset& ds, const QString& dir, const Options& o, QString* error);
/// Decode + resize of full-size photos on one thread, page cache warm.
QJsonObject benchDecode(const QStringList& files, const Options& o);
/// Writes the split winnow uses (relative path, label, split) so that the reference trains on the same files.
bool writeSplitFile(const Dataset& ds, const QString& path);
struct TrainBench
{
    QJsonObject train;
    QJsonObject score;
    QJsonObject retrain;
    QString error;
};
/// Fine-tune, score (cold and from the caches) and retrain after simulated cleaning rounds, through the Engine.
TrainBench benchEngine(const Dataset& ds, const Options& o, const QString& tmp);
/// Grid model reset with `items` items, raw and through the sorted proxy.
QJsonObject benchGrid(int items);

// --- children.cpp -------------------------------------------------------------------------------------------------
/// Model-only throughput: winnow_nn_bench (the Qt-free nn layer's own benchmark) as a child process.
QJsonObject benchModel(const Options& o, int classes);
/// tests/bench/reference.py (PyTorch + torchvision) on the same files and photos.
QJsonObject runReference(const Options& o, const QString& splitFile, const QString& photosDir, QString* error);

} // namespace Winnow::Bench
