#!/usr/bin/env bash
# pandafly-dx slice (and normalize) on real simulated fly scans: `pandafly
# fly` against the joined beamline simulator (fly_beamline.toml, 256 x 256
# frames), 361 projections 0.5 deg apart (as fly_scan.sh) over 0..180 deg, 5 darks and 5 flats
# before and after.
#  1. The built-in (centred) phantom: the slice of the middle row matches the
#     simulator's true slice with an RMS error at most 1.2 x the reference of
#     the fly-scan acceptance (recon_check.py's reference: the phantom
#     rendered at the planned angles, reconstructed by skimage iradon), the
#     centre estimate within one pixel of the axis; normalize of the same
#     file against numpy (normalize_check.py).
#  2. An off-centre phantom on an axis shifted by 6.3 pixels ([phantom]
#     axis_offset_px): the centre estimate within one pixel of the shifted
#     axis, and the slice against the reference reconstructed about that axis.
# Usage: pandafly_dx_slice.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA PANDAFLY_DX SOURCE_DIR RENDER_REFERENCE
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 dx_bin=$4 src=$5 render_bin=$6
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
. "$src/tests/integration/beamline_harness.sh"
. "$src/tests/integration/scan_harness.sh"
n=361
step=0.5

# scan NAME CONFIG: a fly scan into $work/NAME/ with the truth and the reference.
scan() {
  local name=$1
  beamline_config=$2
  mkdir -p "$work/$name"
  fly_out="$work/$name/scan.h5"
  beamline_start 10
  write_scan_file $n $step 0.004 10000
  fly_run
  [ "$rc" = 0 ] || { cat "$work/result.json"; stop_sim 30; fail "pandafly fly exited $rc"; }
  stop_sim 3
  "$render_bin" "$beamline_config" "$work/$name/ref.raw" --noise --fields 10 \
    --truth-slice "$work/$name/truth.raw" \
    $(/usr/bin/python3 -c "print(' '.join(str(k * $step) for k in range($n)))") ||
    fail "render the reference"
}

slice() {
  local dir=$1
  "$dx_bin" slice "$dir/scan.h5" --out "$dir/slice.png" --json >"$dir/slice.json" ||
    fail "pandafly-dx slice exited $?"
  cat "$dir/slice.json"
}

# 1. The acceptance beamline.
scan centred "$src/tests/integration/fly_beamline.toml"
slice "$work/centred"
/usr/bin/python3 "$src/tests/integration/recon_check.py" "$work/centred" $n $step 1.2 | tee "$work/recon.txt"
ref=$(sed -n 's/.*reference \([0-9.]*\)\/mm.*/\1/p' "$work/recon.txt")
[ -n "$ref" ] || fail "no reference figure from recon_check.py"
/usr/bin/python3 "$src/tests/integration/slice_check.py" "$work/centred" $n $step 0 "$ref" ||
  fail "the centred slice"
# The given centre is used as given; a filter and the direct method by name.
"$dx_bin" slice "$work/centred/scan.h5" --out "$work/centred/given.png" --centre 120.25 \
  --filter shepp-logan --method direct --row 100 --json >"$work/given.json" || fail "slice --centre"
grep -q '"centre":120.25,"centre_estimated":false' "$work/given.json" &&
  grep -q '"row":100' "$work/given.json" || { cat "$work/given.json"; fail "slice --centre/--row"; }
# An existing output is kept without --force (exit 2).
set +e
"$dx_bin" slice "$work/centred/scan.h5" --out "$work/centred/slice.png" 2>"$work/exists.err"
exists_rc=$?
set -e
[ "$exists_rc" = 2 ] && grep -q "exists" "$work/exists.err" || fail "existing output: exit $exists_rc"
# normalize on the real scan (flats before and after, interpolated by time).
"$dx_bin" normalize "$work/centred/scan.h5" "$work/centred/norm.h5" --gain 2 --read-noise 3 \
  --minus-log --json | tee "$work/norm.json"
grep -q '"flats_interpolated":true' "$work/norm.json" || fail "the scan's flats interpolated"
/usr/bin/python3 "$src/tests/integration/normalize_check.py" "$work/centred/scan.h5" \
  "$work/centred/norm.h5" 2 3 mean 1 1.0 | tee "$work/normcheck.txt"
grep -q "[1-9][0-9]* with flats interpolated" "$work/normcheck.txt" || fail "no projection interpolated"

# 2. An off-centre phantom on a shifted axis.
shifted="$work/shifted_beamline.toml"
cat "$src/tests/integration/fly_beamline.toml" - >"$shifted" <<'TOML'

[phantom]
axis_offset_px = 6.3
[[phantom.ellipsoid]]
x = 0.12
y = 0.05
a = 0.5
b = 0.4
c = 2.0
phi_deg = 20.0
mu = 0.4
[[phantom.ellipsoid]]
x = 0.3
y = -0.1
a = 0.1
b = 0.18
c = 2.0
mu = 0.8
[[phantom.ellipsoid]]
x = -0.15
y = 0.2
a = 0.07
b = 0.07
c = 2.0
mu = 1.2
TOML
scan shifted "$shifted"
slice "$work/shifted"
/usr/bin/python3 "$src/tests/integration/slice_check.py" "$work/shifted" $n $step 6.3 - ||
  fail "the shifted-axis slice"
echo PASS
