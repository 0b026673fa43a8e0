# Set-up shared by the scripts that run several scans, each in its own
# directory under one $root (fly_scan_faults.sh, soft_scan_faults.sh,
# pandafly_dx_preview.sh, pandafly_dx_report.sh; source it with src set):
# harness.sh, beamline_harness.sh and scan_harness.sh sourced; root a fresh
# directory (work starts there), removed at exit with the simulators stopped
# (kept, and said, when PANDAFLY_KEEP is set); beamline_config
# $root/beamline.toml, the test beamline (fly_beamline.toml) on a
# 1 000 counts/deg encoder.
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
