#!/usr/bin/env bash
# The README's main job, for now: start the PandA simulator on 127.0.0.1 with
# its encoder INENC1 turning (a stand-in for the rotation stage until the
# motor simulator drives it), configure it with pandactl the way a fly scan
# does (encoder-gated PCOMP → PULSE → TTLOUT, PCAP capturing the encoder) and
# save the design back. Then run the hardware side of a fly scan: arm PCAP
# (which enables PCOMP) and run the stage up to the start; the simulated FPGA
# fires one 1 ms exposure per 0.1° and PCAP captures the encoder over each
# (Min/Max/Mean, gate time stamps), 1801 rows from 0° to 180°, ending by
# itself, into an HDF5 file read back with h5py (and written out as an XDI
# position-versus-time table). Then the camera side: the
# camera simulator publishes darks, flats and 361 projections of its 3D
# phantom over ZMQ (ADZMQ), `pandafly-dx record` writes them into a DXfile
# with the data-policy metadata of tools/examples/flyscan.toml, the file is
# validated against its layout, and its middle row is reconstructed and
# compared with the phantom. It grows into the simulated fly scan, where the
# PandA's measured angle of every trigger goes with every frame.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pandactl pandafly-sim pandafly-dx

bin=build/release
out=${PANDAFLY_DEMO_OUT:-build/demo}
mkdir -p "$out"
log="$out/sim.log"
# 360 000 counts/s = 36 °/s with the design's 0.0001 °/count.
"$bin/sim/pandafly-sim" panda --control-port 0 --data-port 0 --command-log "$out/commands.log" \
  --inenc1-velocity 360000 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "control 127.0.0.1:" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*control 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
data_port=$(sed -n 's/.*data 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { echo "demo: the simulator did not start:"; cat "$log"; exit 1; }
pandactl() { "$bin/tools/pandactl" --host 127.0.0.1 --control-port "$port" --data-port "$data_port" "$@"; }

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

# The fly scan's hardware side: PCAP armed by the capture (PCAP.ACTIVE enables
# PCOMP1), the stage run up to 2° before the start (INENC1.SETP stands in for
# the run-up); the acquisition ends by itself after the last exposure.
set -x
pandactl load panda/flyscan.sav
pandactl capture "$out/positions.h5" --arm --force --timeout 10 &
capture=$!
set +x
for _ in $(seq 100); do pandactl get "*PCAP.STATUS" | grep -q Busy && break; sleep 0.1; done
set -x
pandactl put INENC1.SETP=-20000
wait $capture
pandactl get PCOMP1.PRODUCED "*PCAP.CAPTURED" "*PCAP.COMPLETION"
/usr/bin/python3 - "$out/positions.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    for name, d in f.items():
        if isinstance(d, h5py.Dataset):
            print(f"{name:28s} {d.shape[0]:8d} rows  {d.dtype}  {d.attrs.get('units', b'')!r}  first {d[0]!r} last {d[-1]!r}")
    print("end:", {k: f["end"][k][()] for k in f["end"]})
    angle = f["INENC1.VAL.Min"][:]  # each exposure's start: the encoder rises
    mean = f["INENC1.VAL.Mean"][:]
    exposure = f["PCAP.TS_END.Value"][:] - f["PCAP.TS_START.Value"][:]
    steps = np.diff(angle)
    print(f"exposures start at {len(angle)} angles from {angle[0]:.4f} to {angle[-1]:.4f} deg, "
          f"steps {steps.min():.4f}..{steps.max():.4f} deg; mean over each exposure "
          f"+{(mean - angle).min():.4f}..{(mean - angle).max():.4f} deg, exposures "
          f"{exposure.min()*1e3:.6f}..{exposure.max()*1e3:.6f} ms")
    assert len(angle) == 1801 and abs(angle[0]) < 1e-9 and abs(angle[-1] - 180) < 1e-9, "unexpected angles"
PY

# The same positions as an XDI 1.0 position-versus-time table.
"$bin/tools/pandafly-dx" xdi "$out/positions.h5" "$out/positions.xdi" --metadata tools/examples/flyscan.toml --force \
  --angle INENC1.VAL.Mean
head -16 "$out/positions.xdi"

# The camera side: frames over ZMQ into a DXfile, checked by reconstruction.
set +x
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set -x
"$bin/tools/pandafly-dx" record "$out/scan.h5" --zmq "tcp://127.0.0.1:$port" --force \
  --metadata tools/examples/flyscan.toml --frames 381 --expect /exchange/data=361 \
  --expect /exchange/data_dark=10 --expect /exchange/data_white=10 \
  --set DetectorManufacturer=FLIR --set DetectorModel=Oryx --set ExposureTime=0.008 --set FrameRate=100 \
  --set DetectorPixelSize=25 --set BinX=1 --set BinY=1 --set ImagePixelSize=25 --set CameraDistance=100 \
  --set Energy=20 --set RotationStart=0 --set RotationStep=0.5 \
  --set RotationSpeed=50 --set DarkFieldValue=0 --set FlatFieldValue=0 &
record=$!
sleep 0.5
"$bin/sim/pandafly-sim" camera --server-host "tcp://127.0.0.1:$port" --size 255x255 --pixel-mm 0.025 \
  --rate 100 --speed 50 --frames 361 --darks 10 --flats 10 --truth-slice "$out/truth.f32"
wait $record
"$bin/tools/pandafly-dx" validate "$out/scan.h5" --layout layouts/dxfile_fly.xml
/usr/bin/python3 tools/reconstruct.py "$out/scan.h5" --truth "$out/truth.f32" --pixel-mm 0.025 --save "$out/slice.npy"
set +x
echo "demo: the DXfile is $out/scan.h5 (its middle row reconstructed in $out/slice.npy)"
