#!/usr/bin/env bash
# Acceptance of the joined beamline simulator (`pandafly-sim beamline`), driven
# only by the project's existing tools, as a fly scan would drive real
# hardware: pandactl loads panda/flyscan.sav and sets 181 triggers 1 deg apart,
# pandafly-ca sets the camera to external triggers and moves the stage with
# put-callbacks (run-up to -2 deg, then through 0..180 deg), pandactl captures
# the PandA rows and pandafly-dx records the camera's frames. Checked: PandA
# row k covers exposure k — the encoder at its start is the count of trigger k
# (exactly k * 10 000), 800 counts on at its end (4 ms at 20 deg/s), the mean
# half way, the gate 4 ms long and the acquisition ended by itself (END Ok) —
# there are as many frames as rows, in order, and each frame shows the phantom
# at its row's mean angle (against the simulator's noise-free rendering).
# Usage: sim_beamline.sh PANDACTL PANDAFLY_CA PANDAFLY_DX PANDAFLY_SIM SOURCE_DIR RENDER_REFERENCE [SPEED]
set -euo pipefail
pandactl_bin=$1 ca_bin=$2 dx_bin=$3 sim_bin=$4 src=$5 render_bin=$6 speed=${7:-1}
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
. "$src/tests/integration/beamline_harness.sh"

frames=181
beamline_start "$speed"
beamline_setup $frames
beamline_record $frames --timeout 60 --expect /exchange/data=$frames
beamline_capture
beamline_go
caput --wait --wait-timeout 300 micos:m1.VAL 182
wait "$capture" || { cat "$work/capture.log"; fail "pandactl capture"; }
wait "$record" || {
  cat "$work/record.json" "$work/record.err"
  stop_sim 20
  fail "pandafly-dx record"
}

/usr/bin/python3 - "$work" $frames <<'PY'
import sys
import h5py, numpy as np
work, n = sys.argv[1], int(sys.argv[2])
with h5py.File(f"{work}/positions.h5", "r") as f:
    lo = f["INENC1.VAL.Min"][:]
    hi = f["INENC1.VAL.Max"][:]
    angle = f["INENC1.VAL.Mean"][:]
    ts = f["PCAP.TS_START.Value"][:]  # each exposure's start (the trigger + 2 FPGA ticks)
    gate = f["PCAP.TS_END.Value"][:] - ts
    trig = f["PCAP.TS_TRIG.Value"][:]
    end_ts = f["PCAP.TS_END.Value"][:]
    reason = f["end/reason"][()]
    reason = reason.decode() if isinstance(reason, bytes) else str(reason)
    start = f.attrs["start_time"]
    start = start.decode() if isinstance(start, bytes) else str(start)
with h5py.File(f"{work}/scan.h5", "r") as f:
    frames = f["/exchange/data"].shape[0]
    frame_ts = f["/defaults/NDArrayTimeStamp"][:] if "/defaults/NDArrayTimeStamp" in f else None
assert len(angle) == n, f"{len(angle)} PandA rows, expected {n}"
assert frames == n, f"{frames} frames, expected {n} (rows {len(angle)})"
assert reason.startswith("Ok"), f"the acquisition must end by itself with END Ok, not {reason!r}"
counts = np.rint(lo / 0.0001).astype(np.int64)
expect = np.arange(n, dtype=np.int64) * 10000
assert (counts == expect).all(), f"exposure k must start at count 10000 k: first differences at {np.nonzero(counts != expect)[0][:5]}"
# 4 ms at 20 deg/s = 0.08 deg = 800 counts per exposure; the mean half way
# (of whole counts: 399.5), each within a count — but for the first and last
# exposures: the move (ACCL 0.2 s, 2 deg each way) reaches speed at 0 deg and
# starts braking at 180 deg, a few counts short (100 deg/s^2 over 4 ms).
inner = slice(1, n - 1)
span, half = hi - lo, angle - lo
assert np.all(np.abs(span[inner] - 0.08) <= 0.0001 + 1e-9), f"exposure spans {span[inner].min()}..{span[inner].max()} deg"
assert np.all(np.abs(half[inner] - 0.04) <= 0.0001 + 1e-9), f"mean - start {half[inner].min()}..{half[inner].max()} deg"
assert np.all(np.abs(span - 0.08) <= 0.002) and np.all(np.abs(half - 0.04) <= 0.001), (span[[0, -1]], half[[0, -1]])
print(f"exposures span {span.min():.4f}..{span.max():.4f} deg, mean {half.min():.5f}..{half.max():.5f} deg on")
assert np.all(np.abs(gate - 0.004) < 1e-8), f"the gate must be the 4 ms exposure: {gate.min()}..{gate.max()}"
assert np.array_equal(trig, end_ts), "PCAP captures at each exposure's end"
dt = np.diff(ts)
print(f"rows {len(angle)}, frames {frames}; trigger interval {dt.min()*1e3:.6f}..{dt.max()*1e3:.6f} ms (simulated)")
# 1 deg at 20 deg/s: the triggers are 50 ms apart in simulated time at any --speed.
assert np.all(np.abs(dt - 0.05) < 1e-6), "triggers must be 50 ms apart (simulated)"
# One clock: each frame's time stamp (EPICS epoch, the end of its exposure)
# against its trigger's (PandA start_time + TS_START, 16 ns after the trigger).
import datetime
day, frac = start.rstrip("Z").split(".")
t0 = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
trig_epics = t0 + ts - 631152000.0
assert frame_ts is not None and len(frame_ts) == n, "the DXfile has no frame time stamps"
lag = frame_ts - trig_epics
print(f"frame time stamp - trigger time: {lag.min()*1e3:.6f}..{lag.max()*1e3:.6f} ms")
# Exposure 4 ms + readout 2 ms (beamline_test.toml): the PandA's and the
# camera's time stamps come from one clock (float64 EPICS seconds: ~0.2 us).
assert np.all(np.abs(lag - 0.006) < 2e-6), "frame time stamps must be 6 ms after their triggers"
with open(f"{work}/angles.txt", "w") as out:
    out.write(" ".join(f"{a:.6f}" for a in angle))
PY
# The simulator's own noise-free frames at each row's measured angle and 1 deg
# either side: frame k must match its row's angle, and better than its neighbours'.
for shift in 0 -1 1; do
  "$render_bin" "$src/tests/integration/beamline_test.toml" "$work/ref$shift.raw" \
    $(/usr/bin/python3 -c "import sys; print(' '.join(str(float(a) + $shift) for a in open(sys.argv[1]).read().split()))" "$work/angles.txt") ||
    fail "render the references"
done
/usr/bin/python3 - "$work" $frames <<'PY'
import sys
import h5py, numpy as np
work, n = sys.argv[1], int(sys.argv[2])
with h5py.File(f"{work}/scan.h5", "r") as f:
    data = f["/exchange/data"][:].astype(np.float64)
h, w = data.shape[1:]
refs = {s: np.fromfile(f"{work}/ref{s}.raw", dtype=np.uint16).reshape(n, h, w).astype(np.float64)
        for s in (0, -1, 1)}
# Each frame's own angle, measured from its pixels: the least-squares offset
# from the row's angle along the references' derivative (ref(+1) - ref(-1)) / 2
# per degree, noise-weighted (Poisson + read); and the frame's chi (RMS of the
# difference from ref(0) in noise units), which is ~1 when it is the phantom.
def measured(k):
    r0 = refs[0][k]
    var = r0 + 4.0
    d = (refs[1][k] - refs[-1][k]) / 2
    offset = float(np.sum((data[k] - r0) * d / var) / np.sum(d * d / var))
    sigma = float(1 / np.sqrt(np.sum(d * d / var)))
    chi = float(np.sqrt(np.mean((data[k] - r0) ** 2 / var)))
    return offset, sigma, chi
m = [measured(k) for k in range(n)]
offsets = np.array([o for o, _, _ in m])
print(f"frame angle - row angle, measured from the pixels: {offsets.min():+.4f}..{offsets.max():+.4f} deg "
      f"(noise {max(s for _, s, _ in m):.4f} deg); chi {min(c for *_, c in m):.3f}..{max(c for *_, c in m):.3f}")
# One frame 1 deg off would measure ~1 deg; the noise allows ~0.07 deg a frame.
assert abs(offsets.mean()) < 0.05, f"the frames show the phantom {offsets.mean():+.3f} deg from their rows' angles on average"
for k, (o, sigma, c) in enumerate(m):
    assert abs(o) < 0.1 + 5 * sigma, f"frame {k} shows the phantom {o:+.3f} deg from row {k}'s angle"
    assert c < 1.5, f"frame {k} is not the phantom at row {k}'s angle: chi {c:.3f}"
PY
stop_sim 1
echo "PASS"
