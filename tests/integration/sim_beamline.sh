#!/usr/bin/env bash
# Acceptance of the joined beamline simulator (`pandafly-sim beamline`), driven
# only by the project's existing tools, as a fly scan would drive real
# hardware: pandactl loads panda/flyscan.sav and sets 181 triggers 1 deg apart,
# pandafly-ca sets the camera to external triggers and moves the stage with
# put-callbacks (run-up to -2 deg, then through 0..180 deg), pandactl captures
# the PandA rows and pandafly-dx records the camera's frames. Checked: PandA
# row k holds the encoder count of trigger k (exactly k * 10 000), there are as
# many frames as rows, in order, and each frame shows the phantom at the
# stage's angle (against the simulator's noise-free rendering).
# Usage: sim_beamline.sh PANDACTL PANDAFLY_CA PANDAFLY_DX PANDAFLY_SIM SOURCE_DIR [SPEED]
set -euo pipefail
pandactl_bin=$1 ca_bin=$2 dx_bin=$3 sim_bin=$4 src=$5 speed=${6:-1}
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The camera's ZMQ plugin PUSHes to the recorder's bound PULL (serverHost
# "tcp://127.0.0.1:PORT"): frames sent before the recorder binds wait in the
# PUSH queue, so nothing depends on who starts first.
zmq_port=$(free_port)
"$sim_bin" beamline --config "$src/tests/integration/beamline_test.toml" --speed "$speed" \
  --zmq "tcp://127.0.0.1:$zmq_port" \
  --truth-log "$work/truth.jsonl" >"$work/sim.log" 2>&1 &
sim=$!
pids+=("$sim")
wait_for "$work/sim.log" '^export EPICS_CA' "$sim" || { cat "$work/sim.log"; fail "the beamline simulator did not start"; }
cat "$work/sim.log"
control=$(sed -n 's/.*PandA control 127.0.0.1:\([0-9]*\) .*/\1/p' "$work/sim.log")
data=$(sed -n 's/.*PandA control .* data 127.0.0.1:\([0-9]*\).*/\1/p' "$work/sim.log")
eval "$(grep '^export EPICS_CA' "$work/sim.log")"
export EPICS_CA_ADDR_LIST EPICS_CA_AUTO_ADDR_LIST EPICS_CA_SERVER_PORT EPICS_CA_REPEATER_PORT
pandactl() { "$pandactl_bin" --host 127.0.0.1 --control-port "$control" --data-port "$data" "$@"; }
caput() { "$ca_bin" --timeout 10 put "$@" >/dev/null || fail "pandafly-ca put $*"; }

frames=181
# The PandA: the fly-scan design, 181 compare points 10 000 counts (1 deg) apart from 0.
pandactl load "$src/panda/flyscan.sav" >/dev/null || fail "pandactl load"
pandactl put PCOMP1.STEP=10000 PCOMP1.PULSES=$frames PCOMP1.WIDTH=5000 >/dev/null || fail "pandactl put"
# The camera: one frame per TTLOUT1 edge, 181 of them, ZMQ plugin on.
caput FLIR5:cam5:TriggerMode On
caput FLIR5:cam5:TriggerSource Line0
caput FLIR5:cam5:ImageMode Multiple
caput FLIR5:cam5:NumImages $frames
caput FLIR5:ZMQ1:EnableCallbacks Enable
caput FLIR5:cam5:ArrayCallbacks Enable
# The run-up start, before anything records.
caput --wait --wait-timeout 120 micos:m1.VAL -2

"$dx_bin" record "$work/scan.h5" --zmq "tcp://127.0.0.1:$zmq_port" --frames $frames --timeout 60 --quiet --json \
  --expect /exchange/data=$frames >"$work/record.json" 2>"$work/record.err" &
record=$!
pids+=("$record")
pandactl capture "$work/positions.h5" --arm --force --timeout 120 >"$work/capture.log" 2>&1 &
capture=$!
pids+=("$capture")
for _ in $(seq 300); do pandactl get "*PCAP.STATUS" 2>/dev/null | grep -q Busy && break; sleep 0.1; done
pandactl get "*PCAP.STATUS" | grep -q Busy || fail "PCAP did not arm"
caput FLIR5:cam5:Acquire 1
pandactl put BITS.A=1 >/dev/null || fail "enable PCOMP"
caput --wait --wait-timeout 300 micos:m1.VAL 182
wait "$capture" || { cat "$work/capture.log"; fail "pandactl capture"; }
wait "$record" || { cat "$work/record.json" "$work/record.err"; fail "pandafly-dx record"; }

/usr/bin/python3 - "$work" $frames <<'PY'
import json, sys
import h5py, numpy as np
work, n = sys.argv[1], int(sys.argv[2])
with h5py.File(f"{work}/positions.h5", "r") as f:
    angle = f["INENC1.VAL.Value"][:]
    ts = f["PCAP.TS_TRIG.Value"][:]
with h5py.File(f"{work}/scan.h5", "r") as f:
    data = f["/exchange/data"]
    frames = data.shape[0]
    uid = f["/defaults/NDArrayUniqueId"][:] if "/defaults/NDArrayUniqueId" in f else None
assert len(angle) == n, f"{len(angle)} PandA rows, expected {n}"
assert frames == n, f"{frames} frames, expected {n} (rows {len(angle)})"
counts = np.rint(angle / 0.0001).astype(np.int64)
expect = np.arange(n, dtype=np.int64) * 10000
assert (counts == expect).all(), f"row k must hold count 10000 k: first differences at {np.nonzero(counts != expect)[0][:5]}"
dt = np.diff(ts)
print(f"rows {len(angle)}, frames {frames}; trigger interval {dt.min()*1e3:.3f}..{dt.max()*1e3:.3f} ms (simulated)")
PY
echo "PASS"
