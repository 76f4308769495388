#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The one command that reproduces Winnow's performance figures:
#   tests/bench/run.sh [extra `winnow-bench` options, e.g. --quick or --epochs 2]
# 1. installs Debian's python3-torch and python3-torchvision if /usr/bin/python3 cannot import them (sudo when not
#    root), 2. builds the release preset, 3. runs `winnow-bench --reference` on ../shared/datasets/bears-small (or
#    $WINNOW_SHARED/datasets/bears-small) with the shared ImageNet weights, 4. prints the JSON and saves it as
#    build/release/bench.json (override with $WINNOW_BENCH_OUT).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${WINNOW_SHARED:-$(cd "$repo/.." && pwd)/shared}"
python=/usr/bin/python3
dataset="$shared/datasets/bears-small"
weights="$shared/weights/mobilenet_v2-imagenet.safetensors"
out="${WINNOW_BENCH_OUT:-$repo/build/release/bench.json}"

# 1. The reference's dependencies: Debian packages only (the same LibTorch build as winnow's libtorch-dev).
if ! "$python" -c 'import torch, torchvision, PIL' 2>/dev/null; then
    echo "run.sh: installing python3-torch python3-torchvision" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-torchvision python3-pil
fi

# 2. Release build of the benchmark and the model-only benchmark.
cd "$repo"
cmake --preset release >/dev/null
cmake --build --preset release --target winnow-bench winnow_nn_bench

# 3. The benchmark, with the reference in the same run.
if [ ! -d "$dataset" ]; then
    echo "run.sh: $dataset not found (set WINNOW_SHARED); using a generated demo dataset" >&2
    dataset_args=()
else
    dataset_args=(--dataset "$dataset")
    [ -f "$weights" ] && dataset_args+=(--weights "$weights")
fi
mkdir -p "$(dirname "$out")"
QT_QPA_PLATFORM=offscreen "$repo/build/release/app/winnow-bench" --reference \
    --python "$python" --reference-script "$here/reference.py" \
    "${dataset_args[@]}" --out "$out" "$@"
echo "run.sh: saved $out" >&2
