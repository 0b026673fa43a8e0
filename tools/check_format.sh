#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (our .clang-format) makes of it.
# With --fix, reformats the files in place. The files: git's tracked *.cpp/*.hpp
# in a git checkout; elsewhere (a source tarball) every *.cpp/*.hpp found
# outside build trees. Finding no file at all is a failure, not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  source="git"
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
else
  source="find (no git checkout)"
  mapfile -t files < <(find . \( -path ./build -o -path './build-*' -o -path ./.git \) -prune -o \
    -type f \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "format: no C++ files found by $source in $(pwd): nothing checked" >&2
  exit 1
fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files clean (listed by $source)"
