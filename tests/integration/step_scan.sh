#!/usr/bin/env bash
# Acceptance of `pandafly step` against the joined beamline simulator
# (fly_beamline.toml: 256 x 256 frames, 2 ms readout), without the PandA: 91
# points 2 deg apart over 0..180 deg, 5 darks and 5 flats before and after,
# from the same scan file a fly scan reads ([panda] is not used). Per point
# the stage moves (put-callback), the camera is software-triggered and that
# frame is stored with the motor's readback. Checked (scan_check.py): the file
# is complete; every projection's theta is the stage's true angle during its
# own frame's exposure (the simulator's --truth-log) within one motor step;
# the stage is back at the start; dxchange.read_aps_32id reads the file; the
# position-versus-time scan.xdi passes libxdifile's rules (xdi_check.py); its
# reconstruction is within 1.2 x the reference's RMS error (recon_check.py).
# Also: the dry run, a missing motor (exit 3), a point beyond a soft limit
# (exit 4).
# Usage: step_scan.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR RENDER_REFERENCE [SPEED]
. "$4/tests/integration/scan_acceptance.sh" "$@"
n=91
write_scan_file $n 2.0 0.004 10000
dry_run step
grep -q "projections   91 from 0° to 180° in steps of 2°" "$work/plan.txt" || fail "dry-run plan"
grep -q "^step scan plan" "$work/plan.txt" || fail "dry-run: not a step plan"
# Nothing moved in the dry run; a missing motor is named (exit 3); a point
# beyond the rotation's soft limit is refused with its reason (exit 4).
sed 's/^motor = "micos:m1"/motor = "micos:m9"/' "$work/scan.toml" >"$work/bad_motor.toml"
sed 's/^end = 180.0$/end = 400.0/' "$work/scan.toml" >"$work/bad_plan.toml"
set +e
"$fly_bin" step "$work/bad_motor.toml" --dry-run >/dev/null 2>"$work/bad_motor.err"
bad_rc=$?
"$ca_bin" put micos:m1.HLM 190 >/dev/null
"$fly_bin" step "$work/bad_plan.toml" --dry-run >/dev/null 2>"$work/bad_plan.err"
plan_rc=$?
set -e
cat "$work/bad_motor.err" "$work/bad_plan.err"
[ "$bad_rc" = 3 ] && grep -q "micos:m9.VAL" "$work/bad_motor.err" ||
  fail "a missing motor must be named (exit 3, got $bad_rc)"
[ "$plan_rc" = 4 ] && grep -q "step scan refused" "$work/bad_plan.err" &&
  grep -q "last point 400° is above the high soft limit HLM 190°" "$work/bad_plan.err" ||
  fail "a point beyond HLM must be refused with its reason (exit 4, got $plan_rc)"

run_scan step
cat "$work/result.json"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly step exited $rc"; }
rbv=$("$ca_bin" get micos:m1.RBV | awk '{print $2}')
/usr/bin/python3 -c "import sys; assert abs(float(sys.argv[1])) < 1e-3, 'the stage is not back at 0: ' + sys.argv[1]" "$rbv"
scan_check --rc 0 --complete --projections $n --darks 10 --flats 10 || fail "scan_check"
/usr/bin/python3 - "$work" $n <<'PY'
import sys, logging, warnings
import numpy as np, h5py
work, n = sys.argv[1], int(sys.argv[2])
logging.disable(logging.WARNING); warnings.simplefilter("ignore")
import dxchange
proj, flat, dark, theta = dxchange.read_aps_32id(f"{work}/scan.h5")
assert proj.shape == (n, 256, 256), proj.shape
assert flat.shape[0] == 10 and dark.shape[0] == 10, (flat.shape, dark.shape)
with h5py.File(f"{work}/scan.h5", "r") as f:
    planned = f["/process/acquisition/planned_theta"][:]
    assert "/measurement/panda" not in f, "a step scan has no PandA columns"
assert np.allclose(planned, np.arange(n) * 2.0), "planned angles"
d = np.rad2deg(theta) - planned
print(f"readback - planned: {d.min():+.5f}..{d.max():+.5f} deg")
assert np.all(np.abs(d) <= 0.01), "every point within the move's tolerance of its target"
PY
# The position-versus-time file next to it: libxdifile's rules (file-formats.md
# §4) give only warning 105 (Column.1 is a rotation, not energy or angle); its
# rows are the file's angles in order, their time stamps those of the frames.
/usr/bin/python3 "$src/tests/integration/xdi_check.py" "$work/scan.xdi" --expect-warning 105 ||
  { cat "$work/scan.xdi"; fail "scan.xdi"; }
/usr/bin/python3 - "$work" $n <<'PY'
import sys, h5py, numpy as np
work, n = sys.argv[1], int(sys.argv[2])
rows = np.array([[float(x) for x in l.split()] for l in open(f"{work}/scan.xdi") if l.strip() and not l.startswith("#")])
with h5py.File(f"{work}/scan.h5", "r") as f:
    theta = f["/exchange/theta"][:]  # degrees (dxchange converts to radians)
assert rows.shape == (n, 3), rows.shape
assert np.allclose(rows[:, 0], theta, atol=5e-7), "xdi angles = the file's theta (6 decimals)"
assert np.all(np.diff(rows[:, 1]) > 0) and np.all(np.diff(rows[:, 2]) > 0), "time runs forward"
print(f"scan.xdi: {n} rows, angles = the file's theta")
PY
"$render_bin" "$beamline_config" "$work/ref.raw" --noise --fields 10 --truth-slice "$work/truth.raw" \
  $(/usr/bin/python3 -c "print(' '.join(str(k * 2.0) for k in range($n)))") || fail "render the reference"
/usr/bin/python3 "$src/tests/integration/recon_check.py" "$work" $n 2.0 1.2 || fail "reconstruction"

# The runs below work in subdirectories of $work; the trap cleans up the parent.
parent=$work
trap 'work=$parent; cleanup_work' EXIT

# A single image per point (camera.step_trigger = "single": ImageMode Single,
# one Acquire put-callback per frame, the frame itself awaited), the seed's
# alternative to the software trigger: 11 points, complete, every theta true,
# the camera left in ImageMode Single (darks and flats before only: they
# free-run in Multiple as usual, the projections come last).
work="$parent/single"
mkdir -p "$work"
write_scan_file 11 10.0 0.004 10000
sed -i 's/^\[camera\]$/[camera]\nstep_trigger = "single"/' "$work/scan.toml"
sed -i 's/^when = "both"$/when = "before"/' "$work/scan.toml"
grep -q '^step_trigger = "single"' "$work/scan.toml" && ! grep -q '^when = "both"' "$work/scan.toml" ||
  fail "could not write step_trigger, darks/flats before"
"$fly_bin" step "$work/scan.toml" --dry-run | grep -q "acquire a single image" || fail "dry run (single)"
run_scan step
cat "$work/result.json"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly step (single images) exited $rc"; }
[ "$("$ca_bin" get FLIR5:cam5:ImageMode | awk '{print $2}')" = Single ] || fail "ImageMode is not Single"
cp "$parent/truth.jsonl" "$work/truth.jsonl"
scan_check --rc 0 --complete --projections 11 --darks 5 --flats 5 || fail "scan_check (single images)"
work=$parent

# Frames over Channel Access (camera.frames = "ca"): the same 91 points, each
# frame read from image1:ArrayData after its UniqueId_RBV update (the
# simulator's image1 carries the rendered frame ZMQ1 sends); complete, every
# theta true, the darks and flats where the frame type said, and the
# reconstruction within 1.2 x the reference's RMS error as above (same
# reference: same angles). A fly scan file asking for them is refused (ZMQ
# only).
zmq_seconds=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$work/result.json")
work="$parent/ca"
mkdir -p "$work"
write_scan_file $n 2.0 0.004 10000
sed -i 's/^\[camera\]$/[camera]\nframes = "ca"/' "$work/scan.toml"
grep -q '^frames = "ca"' "$work/scan.toml" || fail "could not write frames = ca"
set +e
"$fly_bin" fly "$work/scan.toml" --dry-run >/dev/null 2>"$work/fly_ca.err"
fly_ca_rc=$?
set -e
[ "$fly_ca_rc" = 4 ] && grep -q 'camera.frames = "ca": a fly scan takes its frames over ZMQ' "$work/fly_ca.err" ||
  { cat "$work/fly_ca.err"; fail "a fly scan with frames over CA must be refused (exit 4, got $fly_ca_rc)"; }
run_scan step
cat "$work/result.json"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly step (frames over CA) exited $rc"; }
cp "$parent/truth.jsonl" "$work/truth.jsonl"
scan_check --rc 0 --complete --projections $n --darks 10 --flats 10 || fail "scan_check (frames over CA)"
/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["seconds"]; z=float(sys.argv[2]); n=int(sys.argv[3]); print(f"frames over CA: {n} points + 20 fields in {s:.2f} s wall, over ZMQ {z:.2f} s ({(s - z) / n * 1000:.1f} ms more per point, the 20 fields included)")' \
  "$work/result.json" "$zmq_seconds" $n
for f in ref.raw ref.raw.flat ref.raw.dark truth.raw; do ln -s "$parent/$f" "$work/$f"; done
/usr/bin/python3 "$src/tests/integration/recon_check.py" "$work" $n 2.0 1.2 || fail "reconstruction (frames over CA)"

echo PASS
