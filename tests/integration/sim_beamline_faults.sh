#!/usr/bin/env bash
# Faults on demand in the joined beamline simulator (`pandafly-sim beamline
# --fault ...`), each shown by its effect on the streams the tools see, in
# scans like sim_beamline.sh's (181 triggers 1 deg apart) at --speed 10:
#   camera   drop frame 5, swap frames 10/11, send frame 20 twice, miss trigger
#            30: 181 PandA rows, 179 frames (ids 1..180 without 5), the
#            receiver counts 1 missing, 1 reorder, 1 duplicate
#   stall    the camera stalls 1 s from frame 50: the triggers meanwhile are
#            missed (counted), fewer frames than rows
#   PandA    the data connection closes after row 100: pandactl capture ends
#            with an error and keeps the 100 rows; the frames still all come
#   motor    a jam at 90.5 deg: the move's put-callback does not complete, RBV
#            stays, MSTA SLIP_STALL|PROBLEM, 91 rows; STOP releases it
#   limit    a hard limit at 120 deg: the move completes at the switch (HLS 1)
#            short of its target, rows stop with the axis
#   IOC      a restart 30 s (simulated) into the run, 30 s down: CA reads fail
#            meanwhile and work again after
# Every fault is logged by the simulator when it fires.
# Usage: sim_beamline_faults.sh PANDACTL PANDAFLY_CA PANDAFLY_DX PANDAFLY_SIM SOURCE_DIR
set -euo pipefail
pandactl_bin=$1 ca_bin=$2 dx_bin=$3 sim_bin=$4 src=$5
. "$src/tests/integration/harness.sh"
root=$(mktemp -d)
work=$root
. "$src/tests/integration/beamline_harness.sh"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${PANDAFLY_KEEP:-}" ] && echo "kept $root" || rm -rf "$root"' EXIT
frames=181
# A 1 000 counts/deg encoder: a tenth of the FPGA events of beamline_test.toml's,
# so six scans stay quick on a loaded machine in a debug or ASan build.
beamline_config=$root/beamline.toml
sed 's/counts_per_unit = 10000.0/counts_per_unit = 1000.0/' \
  "$src/tests/integration/beamline_test.toml" >"$beamline_config"
grep -q 'counts_per_unit = 1000.0' "$beamline_config" || fail "could not derive the test config"
caget() { "$ca_bin" --timeout 30 get "$@" | awk '{print $2}'; }
rows_in() { /usr/bin/python3 -c 'import h5py,sys; print(len(h5py.File(sys.argv[1],"r")["INENC1.VAL.Mean"]))' "$1"; }
logged() { grep -q "$1" "$work/sim.log" || { cat "$work/sim.log"; fail "not logged: $1"; }; }
scenario() {
  work="$root/$1"
  mkdir -p "$work"
  echo "== $1"
}

# ---------------------------------------------------------------- camera
scenario camera
beamline_start 10 --fault drop-frame=5 --fault swap-frames=10 --fault duplicate-frame=20 \
  --fault miss-trigger=30
beamline_setup $frames 1000
beamline_record 179 --timeout 20
beamline_capture
beamline_go
caput --wait --wait-timeout 300 micos:m1.VAL 182
wait "$capture" || { cat "$work/capture.log"; fail "pandactl capture"; }
wait "$record" || true  # exit 3: frames lost, as injected
stop_sim 1
for f in "dropped frame 5" "frame 20" "frames 10" "trigger 30"; do logged "$f"; done
/usr/bin/python3 - "$work" <<'PY'
import json, sys, h5py
work = sys.argv[1]
r = json.load(open(f"{work}/record.json"))
rx = r["receiver"]
print("record:", r["frames_received"], "frames;", rx)
with h5py.File(f"{work}/positions.h5") as f:
    assert len(f["INENC1.VAL.Mean"]) == 181, "the PandA still captures every trigger"
with h5py.File(f"{work}/scan.h5") as f:
    ids = list(f["/defaults/NDArrayUniqueId"][:])
# Trigger 30 started no exposure: the camera made 180 frames; 5 was dropped,
# 20 sent twice (the receiver drops the copy), 10 and 11 swapped.
assert ids == [i for i in range(1, 10) if i != 5] + [11, 10] + list(range(12, 181)), ids[:15]
assert rx["missing"] == 1 and rx["reorders"] == 1 and rx["duplicates"] == 1, rx
assert not r["complete"], "a file with a lost frame is not complete"
truth = [json.loads(l) for l in open(f"{work}/truth.jsonl")]
assert len(truth) == 180 and [t["unique_id"] for t in truth] == list(range(1, 181))
assert [t["published"] for t in truth].count(False) == 1 and not truth[4]["published"]
PY

# ---------------------------------------------------------------- camera stall
scenario stall
beamline_start 10 --fault stall-camera=50:1.0
beamline_setup $frames 1000
beamline_record $frames --timeout 20
beamline_capture
beamline_go
caput --wait --wait-timeout 300 micos:m1.VAL 182
wait "$capture" || { cat "$work/capture.log"; fail "pandactl capture"; }
wait "$record" || true
stop_sim 1 >"$work/summary"
cat "$work/summary"
logged "stall"
/usr/bin/python3 - "$work" <<'PY'
import json, re, sys, h5py
work = sys.argv[1]
r = json.load(open(f"{work}/record.json"))
missed = int(re.search(r"(\d+) missed while busy", open(f"{work}/summary").read()).group(1))
with h5py.File(f"{work}/positions.h5") as f:
    rows = len(f["INENC1.VAL.Mean"])
print(f"rows {rows}, frames {r['frames_received']}, triggers missed while stalled {missed}")
# 1 s of stall at 20 triggers/s: ~20 triggers missed, one frame fewer each.
assert rows == 181 and 18 <= missed <= 21, (rows, missed)
assert r["frames_received"] == rows - missed, (r["frames_received"], rows, missed)
PY

# ---------------------------------------------------------------- PandA data connection
scenario panda
beamline_start 10 --fault close-panda-data=100
beamline_setup $frames 1000
beamline_record $frames --timeout 20
beamline_capture
beamline_go
caput --wait --wait-timeout 300 micos:m1.VAL 182
if wait "$capture"; then cat "$work/capture.log"; fail "capture must fail when the data connection closes"; fi
cat "$work/capture.log"
wait "$record" || { cat "$work/record.json"; fail "the camera side must be unaffected"; }
stop_sim 1
logged "closed the PandA data connections after row 100"
[ "$(rows_in "$work/positions.h5")" = 100 ] || fail "the 100 rows received must be in the file"

# ---------------------------------------------------------------- motor stall
scenario motor
beamline_start 10 --fault motor-stall=90.5
beamline_setup $frames 1000
beamline_capture
beamline_go
"$ca_bin" --timeout 10 put --wait --wait-timeout 300 micos:m1.VAL 182 >"$work/move.log" 2>&1 &
move=$!
pids+=("$move")
# Waits on the event (MSTA SLIP_STALL); 600 s is only a guard.
for _ in $(seq 6000); do
  msta=$(caget micos:m1.MSTA)
  (( ${msta%.*} & 64 )) && break
  sleep 0.1
done
rbv=$(caget micos:m1.RBV)
msta=$(caget micos:m1.MSTA)
dmov=$(caget micos:m1.DMOV)
echo "jammed: RBV $rbv MSTA $msta DMOV $dmov"
/usr/bin/python3 -c "import sys; r, m, d = float(sys.argv[1]), int(float(sys.argv[2])), int(sys.argv[3]); assert abs(r - 90.5) < 1e-3 and m & 64 and m & 512 and d == 0, (r, m, d)" "$rbv" "$msta" "$dmov"
kill -0 "$move" 2>/dev/null || { cat "$work/move.log"; fail "the move's put-callback must stay pending while jammed"; }
caput micos:m1.STOP 1
wait "$move" || { cat "$work/move.log"; fail "STOP must complete the jammed move's put-callback"; }
[ "$(caget micos:m1.DMOV)" = 1 ] || fail "STOP must release the jammed axis"
pandactl put "*PCAP.DISARM=" >/dev/null
wait "$capture" || true
stop_sim 1
logged "stalled"
[ "$(rows_in "$work/positions.h5")" = 91 ] || fail "rows must stop at the jam (0..90 deg: 91)"

# ---------------------------------------------------------------- hard limit
scenario limit
beamline_start 10 --fault hard-limit=120
beamline_setup $frames 1000
beamline_capture
beamline_go
caput --wait --wait-timeout 300 micos:m1.VAL 182
rbv=$(caget micos:m1.RBV)
hls=$(caget micos:m1.HLS)
echo "at the limit: RBV $rbv HLS $hls"
/usr/bin/python3 -c "import sys; r, h = float(sys.argv[1]), int(sys.argv[2]); assert 120 <= r < 125 and h == 1, (r, h)" "$rbv" "$hls"
pandactl put "*PCAP.DISARM=" >/dev/null
wait "$capture" || true
stop_sim 1
logged "limit"
rows=$(rows_in "$work/positions.h5")
/usr/bin/python3 -c "import sys; r, rbv = int(sys.argv[1]), float(sys.argv[2]); assert r == int(rbv) + 1, (r, rbv)" "$rows" "$rbv"

# ---------------------------------------------------------------- IOC restart
scenario ioc
beamline_start 10 --fault ca-restart=30:30
[ "$(caget micos:m1.DMOV)" = 1 ] || fail "CA must work before the restart"
wait_for "$work/sim.log" "fault: CA server restart" "$sim" || fail "the restart did not fire"
if "$ca_bin" --timeout 1 get micos:m1.RBV >/dev/null 2>&1; then fail "CA must be down during the restart"; fi
wait_for "$work/sim.log" "CA server back" "$sim" || fail "the IOC did not come back"
[ "$(caget micos:m1.DMOV)" = 1 ] || fail "CA must work again after the restart"
stop_sim 1
echo "PASS"
