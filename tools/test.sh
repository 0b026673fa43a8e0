#!/usr/bin/env bash
# The README's test command: installs packages, builds, runs every test.
#   1. dev build (g++, -Werror): unit, integration (simulator on 127.0.0.1),
#      the core-is-sans-IO check and the fuzz corpus replay;
#   2. asan build (AddressSanitizer + UBSan): the same tests;
#   3. clang-format check of every C++ file.
# Idempotent; run from anywhere. PANDAFLY_SKIP_ASAN=1 skips step 2 (local use only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

jobs=$(nproc)
run_preset() {
  echo "== build and test: $1"
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
  ctest --preset "$1" -j "$jobs"
}
run_preset dev
if [ "${PANDAFLY_SKIP_ASAN:-0}" != 1 ]; then
  run_preset asan
fi
echo "== format check"
bash tools/check_format.sh
echo "== all tests passed"
