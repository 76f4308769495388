#!/usr/bin/env bash
# Lint: clang-tidy with the repository's .clang-tidy (a short list of bug-finding checks) on every translation unit of
# core/, ui/ and app/ that does not include LibTorch (those take ~25 s each to parse; the torch layer is covered by
# the sanitizers and the fuzzers instead). Needs a configured and built tree for compile_commands.json and moc.
#   tests/check-tidy.sh build/ci
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: tests/check-tidy.sh BUILD_DIR}
if ! command -v clang-tidy >/dev/null; then
  echo "clang-tidy is not installed: apt-get install clang-tidy" >&2
  exit 1
fi
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json: configure $build first" >&2; exit 1; }
mapfile -t files < <(git ls-files 'core/*.cpp' 'ui/*.cpp' 'app/*.cpp' | grep -v '^core/nn/' |
  xargs grep -L -E '#include (<torch/|<ATen/|"core/nn/(models|trainer|gradcam|logistic|weights|device)\.h"|"core/engine/engine_p\.h")')
echo "tidy: ${#files[@]} files" >&2
# GCC-only options of the compile database are taken out of a copy of it (clang refuses them).
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
sed -e 's/ -fvect-cost-model=dynamic//g' "$build/compile_commands.json" > "$db/compile_commands.json"
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$db" --quiet --extra-arg=-Wno-unknown-warning-option \
    --extra-arg=-Wno-unused-command-line-argument 2>/dev/null > "$build/tidy.log" || status=$?
if grep -q -E 'warning:|error:' "$build/tidy.log"; then
  grep -E -A3 'warning:|error:' "$build/tidy.log" >&2
  echo "tidy: findings above (fix them, or say why in a NOLINT comment)" >&2
  exit 1
fi
if [ "${status:-0}" -ne 0 ]; then
  cat "$build/tidy.log" >&2
  echo "tidy: clang-tidy failed (status ${status})" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files, no findings"
