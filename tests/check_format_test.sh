#!/usr/bin/env bash
# tools/check_format.sh outside a git checkout (a source tarball): it lists
# the files itself, fails when it finds none, fails on a badly formatted file
# and passes a clean one. Usage: check_format_test.sh SOURCE_DIR
set -u
src=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
tree() {  # tree NAME: a tree with the script and the project's .clang-format, no .git
  mkdir -p "$T/$1/tools" "$T/$1/src"
  cp "$src/tools/check_format.sh" "$T/$1/tools/"
  cp "$src/.clang-format" "$T/$1/"
}
tree empty
out=$(bash "$T/empty/tools/check_format.sh" 2>&1) && fail "no files, yet it passed: $out"
case "$out" in *"no C++ files found"*) ;; *) fail "no files: $out";; esac
tree clean
printf 'int f() { return 1; }\n' >"$T/clean/src/a.cpp"
clang-format -i "$T/clean/src/a.cpp"  # clean by construction, whatever the style
out=$(bash "$T/clean/tools/check_format.sh" 2>&1) || fail "a clean file: $out"
case "$out" in *"1 files clean (listed by find"*) ;; *) fail "clean: $out";; esac
mkdir -p "$T/clean/build/dev"  # build trees are not the project's files
printf 'int   g( ) {return 2;}\n' >"$T/clean/build/dev/gen.cpp"
bash "$T/clean/tools/check_format.sh" >/dev/null 2>&1 || fail "it checked a build tree"
printf 'int   g( ) {return 2;}\n' >"$T/clean/src/b.hpp"
out=$(bash "$T/clean/tools/check_format.sh" 2>&1) && fail "a badly formatted file passed: $out"
echo "check_format.sh: fails with nothing to check and on bad formatting without git"
