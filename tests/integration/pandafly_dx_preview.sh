#!/usr/bin/env bash
# pandafly-dx preview and plots on real simulated scans: `pandafly fly` and
# `pandafly step` against the joined beamline simulator on a 1 000 counts/deg
# encoder (fly_beamline.toml, 256 x 256 frames), 5 darks and 5 flats before
# and after:
#   fly     61 projections 3 deg apart, nothing injected
#   faults  the same with the camera's frame 20 dropped (slot 9 missing),
#           trigger 40 missed (slot 39 missing) and frame 50 sent twice (the
#           copy dropped: an event naming the duplicate)
#   step    13 projections 15 deg apart (no PandA columns)
# preview_check.py decodes every PNG (PIL), checks its size, that it is not
# blank, and each window against percentiles numpy computes from the file;
# plots_check.py checks the plots written and skipped, and that the missing
# slots marked are exactly the file's status-0 slots (h5py).
# Usage: pandafly_dx_preview.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA PANDAFLY_DX SOURCE_DIR
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 dx_bin=$4 src=$5
. "$src/tests/integration/scan_root.sh"

# make NAME KIND N STEP EXPECTED_RC [SIM ARGS...]: a scan into $root/NAME/scan.h5
make_scan() {
  local name=$1 kind=$2 n=$3 step=$4 want=$5
  shift 5
  work="$root/$name"
  mkdir -p "$work"
  echo "== $name"
  beamline_start 10 "$@"
  write_scan_file "$n" "$step" 0.04 1000
  run_scan "$kind"
  stop_sim 1
  [ "$rc" = "$want" ] || { cat "$work/result.json"; fail "pandafly $kind ($name) exited $rc, not $want"; }
}

make_scan fly fly 61 3.0 0
make_scan faults fly 61 3.0 5 --fault drop-frame=20 --fault miss-trigger=40 --fault duplicate-frame=50
make_scan step step 13 15.0 0

check_py="$src/tests/integration"
# preview: defaults on the fly scans; a row, percentiles and --max-size on the step scan.
for name in fly faults; do
  "$dx_bin" preview "$root/$name/scan.h5" --out "$root/$name/preview" --json >"$root/$name/preview.json" ||
    fail "preview $name exited $?"
  /usr/bin/python3 "$check_py/preview_check.py" "$root/$name/scan.h5" "$root/$name/preview.json" 128 0 ||
    fail "preview $name"
done
"$dx_bin" preview "$root/step/scan.h5" --out "$root/step/preview" --row 40 --low 2 --high 98 \
  --json >"$root/step/preview.json" || fail "preview step exited $?"
/usr/bin/python3 "$check_py/preview_check.py" "$root/step/scan.h5" "$root/step/preview.json" 40 0 ||
  fail "preview step --row 40"
"$dx_bin" preview "$root/step/scan.h5" --out "$root/step/small" --max-size 100 \
  --json >"$root/step/small.json" || fail "preview --max-size exited $?"
/usr/bin/python3 "$check_py/preview_check.py" "$root/step/scan.h5" "$root/step/small.json" 128 100 ||
  fail "preview step --max-size 100"

# plots: every plot of a fly scan; the dropped frame, the missed trigger and the
# duplicate marked.
"$dx_bin" plots "$root/fly/scan.h5" --out "$root/fly/plots" --json >"$root/fly/plots.json" ||
  fail "plots fly exited $?"
/usr/bin/python3 "$check_py/plots_check.py" "$root/fly/scan.h5" "$root/fly/plots.json" fly ||
  fail "plots fly"
"$dx_bin" plots "$root/faults/scan.h5" --out "$root/faults/plots" --json >"$root/faults/plots.json" ||
  fail "plots faults exited $?"
/usr/bin/python3 "$check_py/plots_check.py" "$root/faults/scan.h5" "$root/faults/plots.json" fly 9 39 ||
  fail "plots faults"
grep -q '"what":"[^"]*duplicate' "$root/faults/plots.json" || fail "the duplicated frame is not marked"
"$dx_bin" plots "$root/step/scan.h5" --out "$root/step/plots" --json >"$root/step/plots.json" ||
  fail "plots step exited $?"
/usr/bin/python3 "$check_py/plots_check.py" "$root/step/scan.h5" "$root/step/plots.json" step ||
  fail "plots step"

# A bare Data Exchange file (projections and theta only): what can be drawn is,
# the rest is skipped with a reason.
bare_file "$root/bare.h5"
"$dx_bin" preview "$root/bare.h5" --out "$root/bare" --json >"$root/bare_preview.json" || fail "preview bare"
"$dx_bin" plots "$root/bare.h5" --out "$root/bare" --json >"$root/bare_plots.json" || fail "plots bare"
/usr/bin/python3 - "$root" <<'PY' || fail "the bare file"
import json, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
p = json.load(open(f"{root}/bare_preview.json"))
assert sorted(i["name"] for i in p["images"]) == ["projection_first", "projection_last",
                                                  "projection_middle", "sinogram"], p["images"]
assert sorted(s["name"] for s in p["skipped"]) == ["dark", "flat", "normalized"], p["skipped"]
sino = next(i for i in p["images"] if i["name"] == "sinogram")
assert np.asarray(Image.open(sino["file"])).shape == (7, 30) and sino["values"] == "counts (ADU)"
q = json.load(open(f"{root}/bare_plots.json"))
assert [i["name"] for i in q["images"]] == ["theta"], q["images"]
reasons = {s["name"]: s["reason"] for s in q["skipped"]}
assert sorted(reasons) == ["camera_vs_panda", "frames", "theta_error", "time_residual",
                          "trigger_intervals"], reasons
assert all(reasons.values()) and q["slot_status"] is False
print("bare file: drawn", [i["name"] for i in q["images"]], "skipped", reasons)
PY

# Bad input: exit 2 with the file named.
set +e
"$dx_bin" preview "$root/none.h5" --out "$root/none" 2>"$root/none.err"
none_rc=$?
"$dx_bin" preview "$root/fly/scan.h5" --out "$root/none" --row 256 2>"$root/row.err"
row_rc=$?
set -e
[ "$none_rc" = 2 ] && grep -q "none.h5" "$root/none.err" || fail "a missing file: exit $none_rc"
[ "$row_rc" = 2 ] && grep -q "row 256 is outside" "$root/row.err" || fail "a row outside: exit $row_rc"
echo PASS
