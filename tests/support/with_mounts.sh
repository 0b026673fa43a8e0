#!/usr/bin/env bash
# Runs the doctest cases that mount small file systems (full-disk tests) where
# they can really run, and otherwise tells ctest they were SKIPPED (exit 77,
# the entry's SKIP_RETURN_CODE) — never "passed" without running.
#   with_mounts.sh tmpfs|ext4 BINARY DOCTEST_ARGS...
# tmpfs: as root, directly; otherwise in an unprivileged user+mount namespace
#        (`unshare -Urm`), where mounting a tmpfs needs no root.
# ext4:  a loop-mounted image needs real root (no loop devices in a user
#        namespace): skipped otherwise.
# Fails when the filter selects no test case (a renamed suite must not turn
# the entry into an empty pass).
set -u
kind=$1
shift
run=("$@")
if [ "$(id -u)" != 0 ]; then
  if [ "$kind" = tmpfs ] && unshare -Urm true 2>/dev/null; then
    run=(unshare -Urm "$@")
  else
    echo "SKIPPED: $kind full-disk tests need root$([ "$kind" = tmpfs ] && echo " or unprivileged user namespaces (unshare -Urm)")"
    exit 77
  fi
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${run[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || exit "$rc"
if ! grep -Eq '^\[doctest\] test cases: *[1-9]' "$out"; then
  echo "FAIL: no test case ran (filter: ${*:2})"
  exit 1
fi
