#!/usr/bin/env bash
# `pandafly step` or `pandafly cont` (KIND) with the faults the beamline
# simulator injects, one scan per scenario, as fly_scan_faults.sh does for the
# fly scan: 121 projections 1 deg apart (10 ms exposures), 5 darks and 5
# flats before and after, so camera frames 1-5 are darks, 6-10 flats and
# projection slot k is frame 11 + k. Each scan must leave a readable file,
# closed and marked incomplete with the reason, every stored projection keeping
# its own frame's true angle (scan_check.py, within one count of a 1 000
# counts/deg scale, 0.001 deg), the motion stopped, and the exit code saying so:
#   motor    the stage jams at 60.5 deg: exit 6, "stalled"
#   limit    a hard limit at 80.5 deg: exit 6, "high limit switch"
#   sigint   Ctrl-C mid-scan: exit 7, "interrupted by SIGINT"
#   duplicate (cont) frame 40 (slot 29) sent twice: the copy dropped and noted
#            at slot 29, the file complete, exit 0
#   stall    (step) the camera stalls 120 s (simulated: 12 s at --speed 10)
#            at frame 41 (point 30): the point's frame does not come within
#            its deadline (exposure + frame time + 10 s): exit 6, the point
#            named, points 0..29 stored
#   stall    (cont) the camera stalls 1 s (simulated) at frame 41 (slot 30)
#            while it free-runs at 77 frames/s and the stage turns at 77
#            deg/s: all 121 frames still come, so every slot is filled, but
#            ~77 deg have no projection and the last frames come after the
#            scan move's constant speed (1 s is twice the run-down's 0.5 s
#            camera-start allowance, so slot 120 is surely past it): exit 5,
#            the file incomplete naming the stall, slot 30 noted with the
#            gap, slot 120 noted as exposed beyond the constant speed, the
#            --json summary counting 1 gap and the frames beyond, and every
#            theta true within its bound (slot 30's is half the gap's travel)
# With the argument disk-full, only (root or an unprivileged user+mount
# namespace; exit 77 = skipped otherwise):
#   disk     the file on a 6 MiB tmpfs that fills after about 25 projections:
#            exit 6, the file readable, says why, what is stored true
# Usage: soft_scan_faults.sh KIND PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR [disk-full]
set -euo pipefail
kind=$1 fly_bin=$2 sim_bin=$3 ca_bin=$4 src=$5 mode=${6:-}
if [ "$mode" = disk-full ] && [ "$(id -u)" != 0 ]; then
  unshare -Urm true 2>/dev/null || { echo "SKIPPED: full disk needs root or unshare -Urm"; exit 77; }
  exec unshare -Urm /bin/bash "$0" "$@"
fi
. "$src/tests/integration/scan_root.sh"
fault_scans "$kind"

if [ "$mode" = disk-full ]; then
  disk_full_scan
  echo PASS
  exit 0
fi

scenario motor --fault motor-stall=60.5
run_kind
stopped
stop_sim 1
grep -q "stalled" "$work/fly.err" || fail "no stall reported"
check --rc 6 --incomplete --reason "stalled"

scenario limit --fault hard-limit=80.5
run_kind
stopped
stop_sim 1
check --rc 6 --incomplete --reason "high limit switch"

scenario sigint
run_kind_interrupted
stopped
stop_sim 1
check --rc 7 --incomplete --reason "interrupted by SIGINT"
[ "$rc" = 7 ] || fail "exit $rc after SIGINT"

if [ "$kind" = cont ]; then
  scenario duplicate --fault duplicate-frame=40
  run_kind
  stop_sim 1
  check --rc 0 --complete --event 29:duplicate --darks 10 --flats 10
fi

if [ "$kind" = cont ]; then
  scenario stall --fault stall-camera=41:1
  run_kind
  stopped
  stop_sim 1
  check --rc 5 --incomplete --reason "camera stall: no frame for 1.0" --event "30:camera stall" \
    --event "120:exposed beyond" --darks 10 --flats 10
  /usr/bin/python3 - "$work/result.json" <<'PY' || fail "cont stall: the summary"
import json, sys
p = json.load(open(sys.argv[1]))["projections"]
print(f"summary: {p['camera_gaps']} camera gap, {p['beyond_range']} beyond the constant speed")
assert p["camera_gaps"] == 1 and p["beyond_range"] >= 1 and p["complete"] == 121, p
PY
fi

if [ "$kind" = step ]; then
  scenario stall --fault stall-camera=41:120
  run_kind
  stopped
  stop_sim 1
  check --rc 6 --incomplete --reason "point 30: the frame" --ok-before 30
fi
echo PASS
