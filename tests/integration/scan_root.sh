# Set-up shared by the scripts that run several scans, each in its own
# directory under one $root (fly_scan_faults.sh, soft_scan_faults.sh,
# pandafly_dx_preview.sh, pandafly_dx_report.sh; source it with src set):
# harness.sh, beamline_harness.sh and scan_harness.sh sourced; root a fresh
# directory (work starts there), removed at exit with the simulators stopped
# (kept, and said, when PANDAFLY_KEEP is set); beamline_config
# $root/beamline.toml, the test beamline (fly_beamline.toml) on a
# 1 000 counts/deg encoder.
# bare_file PATH  writes a bare Data Exchange file: /exchange/data (7 uint16
#                 projections of 20 x 30) and /exchange/theta, nothing else.
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
bare_file() {
  /usr/bin/python3 - "$1" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(1)
with h5py.File(sys.argv[1], "w") as f:
    f["/exchange/data"] = rng.integers(100, 4000, size=(7, 20, 30), dtype=np.uint16)
    f["/exchange/theta"] = np.linspace(0, 180, 7)
PY
}
