#!/usr/bin/env bash
# The README's main job, for now: start the PandA simulator on 127.0.0.1 and
# configure it with pandactl the way a fly scan does (encoder-gated PCOMP →
# PULSE → TTLOUT, PCAP capturing the encoder), then save the design back.
# Then capture one acquisition of PandA position rows from the data port into
# an HDF5 file and read it back with h5py. (Until the simulator's PCAP block
# fires on its own, a test peer streams the acquisition: the simulator with a
# script that sends a known sequence.) It grows into the simulated fly scan
# producing a DXfile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pandactl pandafly-sim panda_stream_peer

bin=build/release
out=${PANDAFLY_DEMO_OUT:-build/demo}
mkdir -p "$out"
log="$out/sim.log"
"$bin/sim/pandafly-sim" panda --control-port 0 --data-port 0 --command-log "$out/commands.log" >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "control 127.0.0.1:" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*control 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { echo "demo: the simulator did not start:"; cat "$log"; exit 1; }
pandactl() { "$bin/tools/pandactl" --host 127.0.0.1 --control-port "$port" "$@"; }

set -x
pandactl idn
pandactl blocks | head -8
pandactl fields PCOMP
pandactl load panda/flyscan.sav
pandactl get PCOMP1.INP PCOMP1.START PCOMP1.STEP PCOMP1.PULSES PULSE1.TRIG TTLOUT1.VAL PCAP.TRIG INENC1.VAL.CAPTURE
pandactl put PCOMP1.PULSES=901 PCOMP1.STEP=2000   # someone changed two fields by hand ...
pandactl load panda/flyscan.sav
pandactl table put SEQ1.TABLE - <<ROWS
REPEATS=1 TRIGGER=POSA>=POSITION POSITION=-2000 TIME1=50 TIME2=50 OUTA1=1
REPEATS=1800 TRIGGER=Immediate TIME1=100 TIME2=400 OUTA1=1
ROWS
pandactl table get SEQ1.TABLE
pandactl --json get "*PCAP.STATUS" "*PCAP.CAPTURED"
pandactl save "$out/flyscan-readback.sav"
set +x
echo "demo: the design the simulator holds now is in $out/flyscan-readback.sav"

# Capture: 1 M rows at 200 k rows/s from the data port into HDF5.
"$bin/tests/panda_stream_peer" --rows 1000000 --rate 200000 >"$out/peer.log" 2>&1 &
peer=$!
trap 'kill $sim $peer 2>/dev/null; wait $sim $peer 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "data 127.0.0.1:" "$out/peer.log" && break; sleep 0.1; done
data_port=$(sed -n 's/.*data 127.0.0.1:\([0-9]*\).*/\1/p' "$out/peer.log")
set -x
"$bin/tools/pandactl" --host 127.0.0.1 --data-port "$data_port" capture "$out/positions.h5" --force --timeout 10
/usr/bin/python3 - "$out/positions.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    for name, d in f.items():
        if isinstance(d, h5py.Dataset):
            print(f"{name:28s} {d.shape[0]:8d} rows  {d.dtype}  {d.attrs.get('units', b'')!r}  first {d[0]!r} last {d[-1]!r}")
    print("end:", {k: f["end"][k][()] for k in f["end"]})
PY
