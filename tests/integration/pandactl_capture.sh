#!/usr/bin/env bash
# `pandactl capture` end to end against panda_stream_peer on 127.0.0.1:
# a complete capture read back by h5py, --json, --num, no overwrite without
# --force, acquisitions left before their END, real signals mid-capture; with
# the argument disk-full, only a full 1 MiB tmpfs (as root, else re-run in an
# unprivileged user+mount namespace; exit 77 = skipped where neither works).
# Usage: pandactl_capture.sh PANDACTL PANDA_STREAM_PEER SCRIPTS_DIR [disk-full]
set -eu  # no pipefail: `cmd | grep -q` may stop reading early
pandactl_bin=$1
peer_bin=$2
check="/usr/bin/python3 $3/check_panda_hdf.py"
mode=${4:-}
if [ "$mode" = disk-full ] && [ "$(id -u)" != 0 ]; then
  unshare -Urm true 2>/dev/null || { echo "SKIPPED: full disk needs root or unshare -Urm"; exit 77; }
  exec unshare -Urm /bin/bash "$0" "$@"
fi
work=$(mktemp -d)
peer=""
cleanup() {
  [ -n "$peer" ] && { kill "$peer" 2>/dev/null || true; wait "$peer" 2>/dev/null || true; }
  mountpoint -q "$work/tiny" 2>/dev/null && umount "$work/tiny"
  rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/harness.sh"  # fail, free_port, wait_for

start_peer() {  # start_peer ARGS...: sets $peer and $data_port
  [ -n "$peer" ] && { kill "$peer" 2>/dev/null || true; wait "$peer" 2>/dev/null || true; }
  : >"$work/peer.out"  # emptied here, not by the child's redirect: the wait below must not see the last peer's line
  "$peer_bin" "$@" >"$work/peer.out" 2>&1 &
  peer=$!
  for _ in $(seq 100); do grep -q "data 127.0.0.1:" "$work/peer.out" && break; sleep 0.1; done
  data_port=$(sed -n 's/.*data 127.0.0.1:\([0-9]*\).*/\1/p' "$work/peer.out")
  [ -n "$data_port" ] || { cat "$work/peer.out"; fail "peer did not start"; }
}
capture() { "$pandactl_bin" --host 127.0.0.1 --data-port "$data_port" capture "$@"; }
value() {  # value FILE KEY [FLAGS]: one key=value line of check_panda_hdf.py
  $check "$1" ${3:-} | sed -n "s/^$2=//p"
}

full_disk() {  # a full 1 MiB tmpfs: exit 5, the file readable, the reason recorded
  mkdir "$work/tiny"
  mount -t tmpfs -o size=1m tmpfs "$work/tiny" || fail "cannot mount a tmpfs (uid $(id -u))"
  start_peer --rows 400000
  set +e; capture "$work/tiny/full.h5" --quiet --timeout 20 --chunk-rows 1024 --flush-period 0.05 \
    2>"$work/full.err"; rc=$?; set -e
  [ "$rc" = 5 ] || { cat "$work/full.err"; fail "full disk: exit $rc"; }
  reason=$(value "$work/tiny/full.h5" end.reason)
  case "$reason" in *"disk full"*) ;; *) fail "full disk reason: $reason";; esac
  rows=$(value "$work/tiny/full.h5" rows.INENC1.VAL.Value)
  [ "$rows" -gt 0 ] || fail "full disk: no rows kept"
  lost=$(value "$work/tiny/full.h5" end.rows_lost)
  echo "full disk: $rows rows kept, $lost lost, reason: $reason"
  echo "pandactl capture: full-disk checks passed"
}
if [ "$mode" = disk-full ]; then
  full_disk
  exit 0
fi

"$pandactl_bin" capture --help | grep -q -- "--flush-period" || fail "capture --help"

# 1. A complete acquisition: every row, END Ok, exit 0, the values as sent.
start_peer --rows 50000
capture "$work/a.h5" --quiet --timeout 20 || fail "capture exited $?"
[ "$(value "$work/a.h5" rows.INENC1.VAL.Value)" = 50000 ] || fail "rows: $($check "$work/a.h5")"
[ "$(value "$work/a.h5" end.reason)" = Ok ] || fail "end.reason"
[ "$(value "$work/a.h5" end.complete)" = 1 ] || fail "end.complete"
/usr/bin/python3 - "$work/a.h5" <<'PY' || fail "values"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
i = np.arange(50000)
assert (f["PCAP.BITS0.Value"][:] == i).all()
assert np.allclose(f["INENC1.VAL.Value"][:], (8 * i - 1000) * 0.000125 + 0.5)
assert np.allclose(f["INENC1.VAL.Mean"][:], (8 * i - 1000) * 0.000125 + 0.5)
assert np.allclose(f["PCAP.TS_TRIG.Value"][:], i * 1000 * 8e-9)
PY

# 2. No overwrite without --force (exit 2, the file untouched).
start_peer --rows 10
set +e; capture "$work/a.h5" --quiet --timeout 5 2>"$work/err"; rc=$?; set -e
[ "$rc" = 2 ] || fail "overwrite: exit $rc"
grep -q "exists" "$work/err" || fail "overwrite message: $(cat "$work/err")"
[ "$(value "$work/a.h5" rows.INENC1.VAL.Value)" = 50000 ] || fail "file changed"

# 3. --num 2 and --json: two numbered files.
start_peer --rows 3000 --acquisitions 2
capture "$work/n.h5" --num 2 --quiet --timeout 20 >/dev/null 2>&1 || fail "--num exited $?"
for k in 0001 0002; do
  [ "$(value "$work/n_$k.h5" rows.PCAP.BITS0.Value)" = 3000 ] || fail "n_$k.h5"
done
start_peer --rows 100
"$pandactl_bin" --json --host 127.0.0.1 --data-port "$data_port" capture "$work/j.h5" --quiet --timeout 20 >"$work/j.json"
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1]))[0]; assert r['rows_written']==100 and r['complete'], r" "$work/j.json" || fail "--json"

# 3b. An acquisition left before its END (a pause longer than --timeout):
# the next one skips that acquisition's rest and starts at its own header
# (it used to decode the rest as its own rows without a header: SIGSEGV, exit 139).
start_peer --rows 4000 --acquisitions 2 --pause-at 2000 --pause 3
set +e; capture "$work/p.h5" --num 2 --quiet --timeout 2 2>"$work/p.err"; rc=$?; set -e
[ "$rc" = 5 ] || { cat "$work/p.err"; fail "--num 2 after a timeout: exit $rc"; }
[ "$(value "$work/p_0001.h5" rows.PCAP.BITS0.Value)" = 2000 ] || fail "p_0001 rows: $($check "$work/p_0001.h5")"
case "$(value "$work/p_0001.h5" end.reason)" in "timed out"*) ;; *) fail "p_0001 reason";; esac
[ "$(value "$work/p_0002.h5" end.complete)" = 1 ] || fail "p_0002: $($check "$work/p_0002.h5")"
grep -q "skipped the rest of an earlier acquisition: 2000 rows and its END" "$work/p.err" ||
  { cat "$work/p.err"; fail "skip summary"; }
/usr/bin/python3 - "$work/p_0002.h5" <<'PY' || fail "p_0002 values: not the second acquisition from its start"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert (f["PCAP.BITS0.Value"][:] == np.arange(4000)).all()
PY
# ... and when no header follows the rest (no second acquisition), a clear error, no file.
start_peer --rows 4000 --pause-at 2000 --pause 3 --linger 30
set +e; capture "$work/q.h5" --num 2 --quiet --timeout 2 2>"$work/q.err"; rc=$?; set -e
[ "$rc" = 5 ] || { cat "$work/q.err"; fail "--num 2, one acquisition: exit $rc"; }
grep -q "no acquisition started: timed out: no data for 2.0 s and no header, after skipping the rest of an earlier acquisition (2000 rows and its END)" \
  "$work/q.err" || { cat "$work/q.err"; fail "no-header message"; }
[ ! -e "$work/q_0002.h5" ] || fail "q_0002.h5 made without a header"

# Waits (guard: 60 s) until pandactl's progress lines in FILE report rows.
wait_for_rows() { wait_for "$1" "^capture: [1-9][0-9]* rows" "$2"; }

# 4. A real SIGINT mid-capture: exit 5, a closed file that says so, rows kept.
start_peer --rows 1000000 --rate 20000
# the binary itself in the background ($! of a shell function would be a subshell)
: >"$work/int.err"
"$pandactl_bin" --host 127.0.0.1 --data-port "$data_port" capture "$work/int.h5" \
  --flush-period 0.2 --timeout 20 2>>"$work/int.err" &
cap=$!
wait_for_rows "$work/int.err" $cap || { cat "$work/int.err"; fail "no rows before SIGINT"; }
kill -INT $cap
set +e; wait $cap; rc=$?; set -e
[ "$rc" = 5 ] || { cat "$work/int.err"; fail "SIGINT: exit $rc"; }
grep -q "INCOMPLETE" "$work/int.err" || fail "SIGINT summary"
grep -q "rows/s" "$work/int.err" || fail "progress lines"
[ "$(value "$work/int.h5" end.reason)" = "interrupted by SIGINT" ] || fail "SIGINT reason: $($check "$work/int.h5")"
rows=$(value "$work/int.h5" rows.INENC1.VAL.Value)
[ "$rows" -gt 0 ] || fail "SIGINT rows $rows"
[ "$(value "$work/int.h5" end.rows_written)" = "$rows" ] || fail "SIGINT rows_written"

# 4b. SIGTERM twice, SIGINT twice, SIGHUP: exit 5 and a closed file that h5py
# opens without SWMR, saying which signal ended it. (The second one used to kill the program
# with the file still open for writing: "already open for write".)
for sigs in "TERM TERM" "INT INT" "HUP"; do
  start_peer --rows 1000000 --rate 20000
  f="$work/sig_${sigs// /_}.h5"
  : >"$work/sig.err"
  "$pandactl_bin" --host 127.0.0.1 --data-port "$data_port" \
    capture "$f" --flush-period 0.2 --timeout 20 2>>"$work/sig.err" &
  cap=$!
  wait_for_rows "$work/sig.err" $cap || {
    set +e; wait $cap; echo "pandactl exit $?"; cat "$work/sig.err" "$work/peer.out"; ls -l "$work"
    fail "$sigs: no rows"
  }
  for sig in $sigs; do kill -s "$sig" $cap; done
  set +e; wait $cap; rc=$?; set -e
  [ "$rc" = 5 ] || { cat "$work/sig.err"; fail "$sigs: exit $rc"; }
  first=${sigs%% *}
  /usr/bin/python3 - "$f" <<'PY' || { cat "$work/sig.err"; fail "$sigs: file"; }
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:  # no SWMR: fails on a file still marked open for write
    assert len(f.keys()) > 0
PY
  reason=$(value "$f" end.reason)
  case "$reason" in "interrupted by SIG$first"*) ;; *) fail "$sigs: reason '$reason'";; esac
  [ "$(value "$f" rows.INENC1.VAL.Value)" -gt 0 ] || fail "$sigs: no rows kept"
done

echo "pandactl capture: all checks passed"
