#!/usr/bin/env bash
# The beamline simulator's image1:ArrayData carries the rendered frames: N
# software-triggered frames (projections, a dark, a flat), each received over
# ZMQ and over Channel Access (ArrayData after its UniqueId_RBV update), must
# be equal pixel for pixel, never the camera's test gradient
# (sim_beamline_ca_frames.py).
# Usage: sim_beamline_ca_frames.sh PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR [SPEED]
#   SPEED: the simulator's --speed (default 10).
set -euo pipefail
sim_bin=$1 ca_bin=$2 src=$3 speed=${4:-10}
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
beamline_config="$src/tests/integration/fly_beamline.toml"
. "$src/tests/integration/beamline_harness.sh"

beamline_start "$speed"
set +e
/usr/bin/python3 "$src/tests/integration/sim_beamline_ca_frames.py" "$zmq_port" 6
rc=$?
set -e
stop_sim 5
[ "$rc" = 0 ] || fail "CA frames differ from ZMQ frames (exit $rc)"
echo PASS
