#!/usr/bin/env bash
# Every long-running tool ends cleanly on SIGINT, SIGTERM and SIGHUP, sent once
# or twice in a row (util::SignalWatch): the simulators exit 0 (pandafly-sim
# panda writes its --persist file), `pandafly-dx record` closes a DXfile that
# h5py opens without SWMR and says which signal ended it. (`pandactl capture`
# is covered in pandactl_capture.sh.) Before SignalWatch a second signal, or
# any SIGHUP, killed the program with its files still open.
# Usage: tool_signals.sh PANDAFLY_SIM PANDAFLY_DX
set -u
SIM=$1
DX=$2
T=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/harness.sh"  # fail, free_port, wait_for
# send PID SIGNALS...: the signals back to back, then the exit code in $rc
send() {
  local pid=$1
  shift
  for s in "$@"; do kill -s "$s" "$pid"; done
  wait "$pid"
  rc=$?
}

for sigs in "TERM TERM" "INT INT" "HUP" "HUP HUP"; do
  name=${sigs// /_}
  # ------------------------------------------------ pandafly-sim panda --persist
  : >"$T/panda.out"
  "$SIM" panda --control-port 0 --data-port 0 --persist "$T/$name.sav" >"$T/panda.out" 2>&1 &
  p=$!
  pids+=($p)
  wait_for "$T/panda.out" "control 127.0.0.1:" $p || fail "panda $sigs: did not start: $(cat "$T/panda.out")"
  send $p $sigs
  [ $rc = 0 ] || fail "panda $sigs: exit $rc: $(cat "$T/panda.out")"
  grep -q "^PCAP.TRIG=" "$T/$name.sav" || fail "panda $sigs: --persist file not written"

  # ------------------------------------------------ pandafly-sim ca
  : >"$T/ca.out"
  "$SIM" ca --port "$(free_port)" --repeater-port "$(free_port)" >"$T/ca.out" 2>&1 &
  p=$!
  pids+=($p)
  wait_for "$T/ca.out" "PVs" $p || fail "ca $sigs: did not start: $(cat "$T/ca.out")"
  send $p $sigs
  [ $rc = 0 ] || fail "ca $sigs: exit $rc: $(cat "$T/ca.out")"

  # ------------------------------------------------ pandafly-dx record <- pandafly-sim camera
  port=$(free_port)
  : >"$T/rec.err"
  "$DX" record "$T/$name.h5" --zmq "tcp://127.0.0.1:$port" --json >"$T/rec.json" 2>"$T/rec.err" &
  rec=$!
  pids+=($rec)
  : >"$T/cam.out"
  "$SIM" camera --server-host "tcp://127.0.0.1:$port" --size 64x8 --rate 100 --no-noise >"$T/cam.out" 2>&1 &
  cam=$!
  pids+=($cam)
  wait_for "$T/rec.err" "^record: [1-9][0-9]* frames received" $rec ||
    fail "record $sigs: no frames: $(cat "$T/rec.err")"
  send $rec $sigs
  [ $rc = 3 ] || fail "record $sigs: exit $rc: $(cat "$T/rec.err" "$T/rec.json")"
  grep -q "\"reason\":\"interrupted by SIG${sigs%% *}\"" "$T/rec.json" ||
    fail "record $sigs: reason: $(cat "$T/rec.json")"
  /usr/bin/python3 -c '
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:  # no SWMR: fails on a file still marked open for write
    n = f["/exchange/data"].shape[0]
    assert n > 0 and f["/process/acquisition/pandafly_end/frames_written"][()] == n, n
' "$T/$name.h5" || fail "record $sigs: the file"
  send $cam $sigs
  [ $rc = 0 ] || fail "camera $sigs: exit $rc: $(cat "$T/cam.out")"
  grep -q "frames sent" "$T/cam.out" || fail "camera $sigs: no summary: $(cat "$T/cam.out")"
  echo "$sigs: panda, ca, camera, record ok"
done
echo "tool signals: all checks passed"
