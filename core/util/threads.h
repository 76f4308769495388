// SPDX-License-Identifier: GPL-3.0-or-later
// Winnow's one thread policy: how many threads each kind of work gets, decided here and nowhere else.
// Plain C++ (no Qt, no LibTorch), so the torch layer (core/nn), the Qt core and the apps share it.
//
// Who runs what (docs/ARCHITECTURE.md, "Threads"):
//   compute    LibTorch's process-wide intra-op pool: training, scoring, features, predict, Grad-CAM.
//              Set once per process by nn::setCpuThreads (core/nn/device.h), which Engine and the CLI call.
//   loader     decode + augment workers of the training/scoring batch loader (core/imaging/loader.h).
//   thumbnails the GUI's thumbnail decoders (core/thumbnail).
//   one model  a worker that runs a network one request at a time beside the GUI or the server: the Explainer's
//              Grad-CAM thread, `winnow serve`'s inference thread.
//   jobs       one-off file work the GUI must not wait for (scan, apply, import, export, loading a model, the Predict
//              page's predictions) runs on Qt's global pool (QtConcurrent::run) and reports through a
//              QFutureWatcher: never a nested event loop. The training/scoring job has its own QThread (Engine).
#pragma once

namespace Winnow::threads {

/// The CPUs this process may run on (its affinity mask on Linux, std::thread::hardware_concurrency elsewhere), >= 1.
int logicalCpus();

/// Physical cores among logicalCpus() (distinct (physical id, core id) pairs of /proc/cpuinfo on Linux), >= 1.
int physicalCores();

/// Size of LibTorch's intra-op pool: `requested` when > 0, otherwise physicalCores(). A second hyper-thread on a
/// core slows convolutions and matrix products down rather than up.
int computeThreads(int requested = 0);

/// Decode + augment workers of the batch loader for a machine with `cpus` CPUs: 1 on two CPUs or fewer (the compute
/// pool needs them), otherwise half of them, at most 8 (JPEG decoding of a 224 px batch saturates there).
int loaderThreads(int cpus);
/// loaderThreads(logicalCpus()).
int loaderThreads();

/// Thumbnail decoders of the GUI, on any machine: enough to keep a scrolling grid fed, few enough that a training run
/// beside it keeps its cores.
constexpr int kThumbnailThreads = 2;

/// Workers that run a network one request at a time (Grad-CAM maps, the HTTP server's inference): one, so requests
/// never compete with each other for the compute pool and a model is never used from two threads at once.
constexpr int kModelWorkerThreads = 1;

} // namespace Winnow::threads
