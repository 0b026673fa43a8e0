#!/usr/bin/env bash
# Acceptance of `pandafly cont` against the joined beamline simulator
# (fly_beamline.toml: 256 x 256 frames, 2 ms readout), without the PandA: the
# camera free-runs at the rate it reports (4 ms exposure: 1/7 ms) while the
# stage turns at 0.5 deg per frame; 361 projections over 0..180 deg, 5 darks
# and 5 flats before and after, from the same scan file a fly scan reads.
# Checked: the file is complete and dxchange.read_aps_32id reads it; every
# projection's theta is within its recorded uncertainty
# (/process/acquisition/theta_uncertainty) of the stage's true mid-exposure
# angle of the very frame stored in its slot (the simulator's --truth-log),
# the errors and bounds reported; the reconstruction is within 1.5 x the
# reference's RMS error (recon_check.py, the reference at the planned angles).
# The dry run shows the time-stamp conventions the angles assume
# (camera.timestamp, rotation.rbv_stamp_lag) and the file records them
# (/process/acquisition/camera_timestamp, rbv_stamp_lag). With --live, a
# pyzmq subscriber gets every projection once with the file's theta
# (scan_harness.sh: live_start, live_check).
# Usage: cont_scan.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR RENDER_REFERENCE [SPEED]
. "$4/tests/integration/scan_acceptance.sh" "$@"
n=361
write_scan_file $n 0.5 0.004 10000
dry_run cont
grep -q "marks its readout_end (camera.timestamp): mid-exposure = stamp − readout − exposure/2 = stamp − 0.004 s; an RBV update's stamp lags its reading by ≤ 0 s" "$work/plan.txt" ||
  fail "the dry run must show the time-stamp conventions"
live_start $n
run_scan cont --live "tcp://127.0.0.1:$live_port" --live-queue $live_queue
cat "$work/result.json"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly cont exited $rc"; }
stop_sim 3
/usr/bin/python3 - "$work" $n <<'PY'
import json, sys, logging, warnings
import numpy as np, h5py
work, n = sys.argv[1], int(sys.argv[2])
mid = {}
for line in open(f"{work}/truth.jsonl"):
    j = json.loads(line)
    if j["kind"] == "projection":
        mid[j["unique_id"]] = j["angle_mid_deg"]
with h5py.File(f"{work}/scan.h5", "r") as f:
    theta = f["/exchange/theta"][:]
    bound = f["/process/acquisition/theta_uncertainty"][:]
    status = f["/process/acquisition/theta_status"][:]
    pst = f["/process/acquisition/projection_status"]
    first = int(pst.attrs["ndattribute_row_first"])
    uid = f["/defaults/NDArrayUniqueId"][:]
    assert "/measurement/panda" not in f, "a continuous scan has no PandA columns"
    assert f["/process/acquisition/camera_timestamp"][0] == b"readout_end"
    assert f["/process/acquisition/rbv_stamp_lag"][0] == 0.0
assert theta.shape == (n,)
err = np.array([theta[k] - mid[int(uid[first + k])] for k in range(n)])
print(f"theta - true mid-exposure angle: {err.min():+.5f}..{err.max():+.5f} deg; "
      f"bound {np.nanmin(bound):.5f}..{np.nanmax(bound):.5f} deg; "
      f"interpolated {int(np.sum(status == 0))} of {n}")
assert np.all(np.isfinite(bound)), "every angle has a finite bound"
over = np.abs(err) > bound + 1e-9
assert not over.any(), f"{int(over.sum())} angles outside their bound, e.g. slot {int(np.argmax(over))}"
assert np.all(np.diff(theta) > 0), "the angles increase"
logging.disable(logging.WARNING); warnings.simplefilter("ignore")
import dxchange
proj, flat, dark, th = dxchange.read_aps_32id(f"{work}/scan.h5")
assert proj.shape == (n, 256, 256) and flat.shape[0] == 10 and dark.shape[0] == 10
PY
live_check $n
"$render_bin" "$beamline_config" "$work/ref.raw" --noise --fields 10 --truth-slice "$work/truth.raw" \
  $(/usr/bin/python3 -c "print(' '.join(str(k * 0.5) for k in range($n)))") || fail "render the reference"
/usr/bin/python3 "$src/tests/integration/recon_check.py" "$work" $n 0.5 1.5 || fail "reconstruction"
echo PASS
