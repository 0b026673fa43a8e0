#!/usr/bin/env bash
# The README's main job: a simulated fly scan, end to end.
#   1. install what is needed (tools/setup.sh) and build the release tools;
#   2. start the simulated beamline (`pandafly-sim beamline`, devices in
#      tools/examples/beamline.toml): the PandA, the rotation stage's motor
#      record turning the PandA's encoder, the FLIR camera over Channel Access
#      and its frames over ZMQ, the shutter and the sample stage, all on
#      127.0.0.1, at 5 simulated seconds per wall second;
#   3. `pandafly fly` with tools/examples/flyscan.toml (361 projections over
#      0..180 deg, 10 darks and 10 flats before and after) pointed at it: the
#      plan first (--dry-run), then the scan — the PandA fires the camera at
#      exact encoder positions and measures the angle over every exposure,
#      pandafly merges rows and frames into a DXfile;
#   4. check the file (`pandafly-dx validate`) and reconstruct its middle row
#      (tools/reconstruct.py) against the phantom's true slice;
#   5. a first look as a scientist would take it: the scan's report
#      (`--report`: one HTML page with the outcome, counts, data-policy fields,
#      previews, a slice and plots), then `pandafly-dx slice` (the middle row
#      at the measured angles, centre of rotation estimated), `preview`
#      (projections, a dark, a flat, normalised, a sinogram) and `plots`
#      (angles, encoder jitter, trigger intervals, time stamps, slots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pandafly pandafly-sim pandafly-dx

bin=build/release
out=${PANDAFLY_DEMO_OUT:-build/demo}
mkdir -p "$out"
log="$out/sim.log"
"$bin/sim/pandafly-sim" beamline --config tools/examples/beamline.toml --speed 5 \
  --panda-design panda/flyscan.sav --truth-slice "$out/truth.f32" >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q '^export EPICS_CA' "$log" && break; sleep 0.1; done
grep -q '^export EPICS_CA' "$log" || { echo "demo: the simulator did not start:"; cat "$log"; exit 1; }
cat "$log"
eval "$(grep '^export EPICS_CA' "$log")"
control=$(sed -n 's/.*PandA control 127.0.0.1:\([0-9]*\) .*/\1/p' "$log")
data=$(sed -n 's/.*PandA control .* data 127.0.0.1:\([0-9]*\).*/\1/p' "$log")
zmq=$(sed -n 's/.*camera ZMQ PUB bind \(tcp:[^ ]*\).*/\1/p' "$log")

# The example scan file, pointed at this simulator's ports and at $out.
sed -e "s|^control_port = .*|control_port = $control|" -e "s|^data_port = .*|data_port = $data|" \
  -e "s|^design = .*|design = \"$PWD/panda/flyscan.sav\"|" -e "s|^zmq = .*|zmq = \"$zmq PUB\"|" \
  -e "s|^file = .*|file = \"$out/flyscan.h5\"|" -e "s|^overwrite = .*|overwrite = true|" \
  tools/examples/flyscan.toml >"$out/flyscan.toml"

set -x
"$bin/tools/pandafly" fly "$out/flyscan.toml" --dry-run
"$bin/tools/pandafly" fly "$out/flyscan.toml" --report
"$bin/tools/pandafly-dx" validate "$out/flyscan.h5" --layout layouts/dxfile_fly.xml
/usr/bin/python3 tools/reconstruct.py "$out/flyscan.h5" --truth "$out/truth.f32" --pixel-mm 0.0065 \
  --save "$out/slice.npy"
"$bin/tools/pandafly-dx" slice "$out/flyscan.h5" --out "$out/slice.png" --force --json
"$bin/tools/pandafly-dx" preview "$out/flyscan.h5" --out "$out/preview"
"$bin/tools/pandafly-dx" plots "$out/flyscan.h5" --out "$out/plots"
set +x
echo "demo: the DXfile is $out/flyscan.h5, its report $out/flyscan.html (open it in a browser);"
echo "      its middle row reconstructed in $out/slice.npy and $out/slice.png; previews in"
echo "      $out/preview, plots in $out/plots"
