#!/usr/bin/env bash
# Acceptance of `pandafly fly` against the joined beamline simulator
# (fly_beamline.toml: 256 x 256 frames, 2 ms readout): a fly scan of 361
# projections (0.5 deg apart, 71 deg/s) over 0..180 deg with 5 darks and 5 flats before and after.
# Checked: the file is complete and read by dxchange.read_aps_32id; the
# theta of every projection equals the stage's true mid-exposure angle (the
# simulator's --truth-log) within one encoder count (1e-4 deg); the PandA's
# exposure-start positions are the planned trigger positions; darks and flats
# are where they belong; the stage is back at the start.
# Usage: fly_scan.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR [SPEED]
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 src=$4 speed=${5:-10}
pandactl_bin=/bin/false dx_bin=/bin/false
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
beamline_config="$src/tests/integration/fly_beamline.toml"
. "$src/tests/integration/beamline_harness.sh"

beamline_start "$speed"

n=361
cat >"$work/scan.toml" <<TOML
[panda]
host = "127.0.0.1"
control_port = $control
data_port = $data
design = "$src/panda/flyscan.sav"
[rotation]
motor = "micos:m1"
encoder = "INENC1"
counts_per_degree = 10000.0
[camera]
zmq = "tcp://127.0.0.1:$zmq_port"
trigger_source = "Line0"
readout_time = 0.002
readout_margin = 0.001
[scan]
start = 0.0
end = 180.0
projections = $n
exposure = 0.004
[darks]
count = 5
when = "both"
[flats]
count = 5
when = "both"
sample_motor = "micos:m2"
sample_out = 10.0
[output]
file = "$work/scan.h5"
[metadata]
proposal_id = "20261042"
principal_investigator = "R. Haddad"
TOML

"$fly_bin" fly "$work/scan.toml" --dry-run >"$work/plan.txt" || { cat "$work/plan.txt"; fail "dry run"; }
cat "$work/plan.txt"
set +e
"$fly_bin" fly "$work/scan.toml" --json --quiet >"$work/result.json" 2>"$work/fly.err"
rc=$?
set -e
cat "$work/result.json" "$work/fly.err"
[ "$rc" = 0 ] || { stop_sim 30; fail "pandafly fly exited $rc"; }
stop_sim 3

/usr/bin/python3 - "$work" $n <<'PY'
import json, sys, logging, warnings
import numpy as np, h5py
work, n = sys.argv[1], int(sys.argv[2])
logging.disable(logging.WARNING); warnings.simplefilter("ignore")
import dxchange
r = json.load(open(f"{work}/result.json"))
assert r["complete"], r
proj, flat, dark, theta = dxchange.read_aps_32id(f"{work}/scan.h5")
assert proj.shape == (n, 256, 256), proj.shape
assert flat.shape[0] == 10 and dark.shape[0] == 10, (flat.shape, dark.shape)
theta = np.degrees(theta) if np.max(np.abs(theta)) < 7 else theta
with h5py.File(f"{work}/scan.h5", "r") as f:
    t = f["/exchange/theta"][:]
    planned = f["/process/acquisition/planned_theta"][:]
    start = f["/process/acquisition/theta_exposure_start"][:]
    status = f["/process/acquisition/projection_status"][:]
assert (status == 1).all(), f"status not all ok: {np.unique(status, return_counts=True)}"
truth = [json.loads(l) for l in open(f"{work}/truth.jsonl")]
mid = np.array([x["angle_mid_deg"] for x in truth if x["kind"] == "projection"])
assert len(mid) == n, f"{len(mid)} projections exposed, {n} planned"
err = t - mid
print(f"theta - true mid-exposure angle: {err.min()*1e4:+.3f}..{err.max()*1e4:+.3f} counts")
assert np.all(np.abs(err) <= 1e-4 + 1e-9), "theta must be within one encoder count of the true angle"
assert np.allclose(planned, np.arange(n) * 0.5), "planned angles"
pos = start - planned
print(f"exposure start - planned trigger position: {pos.min()*1e4:+.3f}..{pos.max()*1e4:+.3f} counts")
assert np.all(np.abs(pos) <= 1e-4 + 1e-9), "the triggers must fire at the planned positions"
PY
echo PASS
