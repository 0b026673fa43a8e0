# The set-up shared by the scan acceptance tests (fly_scan.sh, step_scan.sh,
# cont_scan.sh); source it with their own arguments:
#   . "$4/tests/integration/scan_acceptance.sh" "$@"
# Arguments: PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR RENDER_REFERENCE [SPEED].
# Sets fly_bin, sim_bin, ca_bin, src, render_bin, speed (default 10) and work
# (a new temporary directory, removed at exit), sources harness.sh,
# beamline_harness.sh and scan_harness.sh on the acceptance beamline
# (fly_beamline.toml) and starts it at SPEED.
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 src=$4 render_bin=$5 speed=${6:-10}
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
beamline_config="$src/tests/integration/fly_beamline.toml"
. "$src/tests/integration/beamline_harness.sh"
. "$src/tests/integration/scan_harness.sh"
beamline_start "$speed"
