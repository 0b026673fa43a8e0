#!/usr/bin/env bash
# Acceptance of `pandafly fly` against the joined beamline simulator
# (fly_beamline.toml: 256 x 256 frames, 2 ms readout): a fly scan of 361
# projections 0.5 deg apart (71 deg/s) over 0..180 deg with 5 darks and 5
# flats before and after. Checked (scan_check.py): the file is complete and
# read by dxchange.read_aps_32id; the theta of every projection equals the
# stage's true mid-exposure angle of its own frame (the simulator's
# --truth-log) within one encoder count; the PandA's exposure-start positions
# are the planned trigger positions; the stage is back at the start.
# The reconstruction: after dark/flat normalisation, a filtered
# back-projection (skimage iradon) of the middle row at the file's theta has
# an RMS error against the phantom's true slice at most 1.2 x that of the
# reference: the same phantom rendered by the simulator with the same settings
# and noise at the planned angles (beamline_render_reference --noise),
# reconstructed at those angles.
# Usage: fly_scan.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR RENDER_REFERENCE [SPEED]
. "$4/tests/integration/scan_acceptance.sh" "$@"
n=361
write_scan_file $n 0.5 0.004 10000
dry_run fly
grep -q "triggers      361 at 0 … 1800000 counts, step 5000 counts" "$work/plan.txt" || { cat "$work/plan.txt"; fail "dry-run plan"; }
# An online reconstruction's view: a pyzmq subscriber to --live, decoding the
# NDPluginZMQ messages by the reference's rules (scan_harness.sh: live_start).
live_start $n
# A scan that cannot start: every missing PV named at once (exit 3), and a
# plan that cannot work, with its reason (exit 4); nothing moves.
sed 's/^motor = "micos:m1"/motor = "micos:m9"/' "$work/scan.toml" >"$work/bad_motor.toml"
set +e
"$fly_bin" fly "$work/bad_motor.toml" --dry-run >/dev/null 2>"$work/bad_motor.err"
bad_rc=$?
sed 's/^exposure = 0.004/exposure = 0.0001/' "$work/scan.toml" >"$work/bad_plan.toml"
"$fly_bin" fly "$work/bad_plan.toml" --dry-run >/dev/null 2>"$work/bad_plan.err"
plan_rc=$?
set -e
cat "$work/bad_motor.err" "$work/bad_plan.err"
[ "$bad_rc" = 3 ] && grep -q "micos:m9.VAL" "$work/bad_motor.err" && grep -q "micos:m9.MSTA" "$work/bad_motor.err" ||
  fail "a missing motor must be named (exit 3, got $bad_rc)"
[ "$plan_rc" = 4 ] && grep -q "exceeds the motor's VMAX" "$work/bad_plan.err" ||
  fail "a plan above VMAX must be refused with its reason (exit 4, got $plan_rc)"
fly_run --live "tcp://127.0.0.1:$live_port" --live-queue $live_queue
cat "$work/result.json"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly fly exited $rc"; }
rbv=$("$ca_bin" get micos:m1.RBV | awk '{print $2}')
stop_sim 3
/usr/bin/python3 -c "import sys; assert abs(float(sys.argv[1])) < 1e-3, 'the stage is not back at 0: ' + sys.argv[1]" "$rbv"
scan_check --rc 0 --complete --projections $n --darks 10 --flats 10 || fail "scan_check"
live_check $n
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
    start = f["/process/acquisition/theta_exposure_start"][:]
    mn = f["/measurement/panda/INENC1.VAL.Min"][:]
assert np.allclose(planned, np.arange(n) * 0.5), "planned angles"
pos = start - planned
print(f"exposure start - planned trigger position: {pos.min()*1e4:+.3f}..{pos.max()*1e4:+.3f} counts")
assert np.all(np.abs(pos) <= 1e-4 + 1e-9), "the triggers must fire at the planned positions"
assert len(mn) == n and np.allclose(mn, start), "the PandA's own columns are in /measurement/panda"
PY
"$render_bin" "$beamline_config" "$work/ref.raw" --noise --fields 10 --truth-slice "$work/truth.raw" \
  $(/usr/bin/python3 -c "print(' '.join(str(k * 0.5) for k in range($n)))") || fail "render the reference"
/usr/bin/python3 "$src/tests/integration/recon_check.py" "$work" $n 0.5 1.2 || fail "reconstruction"
echo PASS
