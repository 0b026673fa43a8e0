#!/usr/bin/env bash
# pandafly-dx preview and plots on real simulated scans: `pandafly fly` and
# `pandafly step` against the joined beamline simulator on a 1 000 counts/deg
# encoder (fly_beamline.toml, 256 x 256 frames), 5 darks and 5 flats before
# and after:
#   fly     61 projections 3 deg apart, nothing injected
#   faults  the same with the camera's frame 20 dropped (slot 9 missing) and
#           trigger 40 missed (slot 39 missing)
#   step    13 projections 15 deg apart (no PandA columns)
# preview_check.py decodes every PNG (PIL), checks its size, that it is not
# blank, and each window against percentiles numpy computes from the file;
# plots_check.py checks the plots written and skipped, and that the missing
# slots marked are exactly the file's status-0 slots (h5py).
# Usage: pandafly_dx_preview.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA PANDAFLY_DX SOURCE_DIR
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 dx_bin=$4 src=$5
. "$src/tests/integration/harness.sh"
root=$(mktemp -d)
work=$root
beamline_config=$root/beamline.toml
. "$src/tests/integration/beamline_harness.sh"
. "$src/tests/integration/scan_harness.sh"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${PANDAFLY_KEEP:-}" ] && echo "kept $root" || rm -rf "$root"' EXIT
sed 's/counts_per_unit = 10000.0/counts_per_unit = 1000.0/' \
  "$src/tests/integration/fly_beamline.toml" >"$beamline_config"
grep -q 'counts_per_unit = 1000.0' "$beamline_config" || fail "could not derive the test config"

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
make_scan faults fly 61 3.0 5 --fault drop-frame=20 --fault miss-trigger=40
make_scan step step 13 15.0 0
