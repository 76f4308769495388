#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One entry point for a fresh Debian bookworm machine:
#   bash packaging/bootstrap.sh run    install dependencies, build, open Winnow on its built-in demo dataset
#   bash packaging/bootstrap.sh test   install dependencies, build, run the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

packages=(cmake ninja-build g++ pkg-config
          qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libqt6svg6
          libtorch-dev libopencv-dev libopenblas0-openmp libhnswlib-dev
          xvfb xauth curl dpkg-dev file clang-format clang-tidy
          clang libclang-rt-14-dev)
# clang + libclang-rt: the libFuzzer harnesses of tests/fuzz (the test mode builds and runs them).
# libopenblas0-openmp: without it Debian's LibTorch runs every matrix product on the reference BLAS (netlib), which
# made the neighbour search 19x and a retrain after cleaning 2x slower. Its OpenMP build shares LibTorch's thread pool.
# libhnswlib-dev: header-only graph search for nearest neighbours in sets too large to search exactly (core/nn/knngraph.h).
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
case "$mode" in
  run)
    cmake --preset release
    cmake --build --preset release -j "$jobs" --target winnow
    exec ./build/release/app/winnow "${@:2}"
    ;;
  test)
    # One build, preset ci: AddressSanitizer + UBSan (-O1 -g, leak detection on, Qt asserts on). Every test of the
    # suite runs under it: core, cleaning, engine, CLI, UI and the slow training tests (README, "Sanitizers").
    cmake --preset ci
    cmake --build --preset ci -j "$jobs"
    ctest --preset ci -j "$jobs" "${@:2}"
    # Lint beyond the format test: clang-tidy's short list (.clang-tidy) on the torch-free sources, ~2 min.
    bash tests/check-tidy.sh build/ci
    # Every parser that reads files from disk, fuzzed with AddressSanitizer + UBSan for FUZZ_SECONDS each
    # (tests/fuzz/README.md). A finding fails the run and is kept in build/fuzz/findings/.
    cmake -S tests/fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
    cmake --build build/fuzz -j "$jobs"
    bash tests/fuzz/run.sh build/fuzz "${FUZZ_SECONDS:-60}"
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
