#!/usr/bin/env bash
# `pandafly fly` with each fault the beamline simulator injects, one scan per
# scenario: 121 projections 1 deg apart (10 ms exposures, 77 deg/s) on a
# 1 000 counts/deg encoder, 5 darks and 5 flats before and after, so camera
# frame numbers 1-5 are darks, 6-10 flats and projection slot k is frame
# 11 + k when nothing is lost. Each scan must leave a readable file that says
# exactly what happened (scan_check.py: every stored projection keeps its own
# frame's true angle within one count), and the exit code that says so:
#   camera   drop frame 20 (slot 9: frame_missing), swap frames 30/31 (slot
#            19's frame arrives late: reordered, put back), frame 40 twice (slot 29:
#            duplicate_dropped, or "frame 40 dropped: duplicate" when the
#            copy came after the slot was decided), trigger 50 missed (slot 49: missed_trigger):
#            incomplete, exit 5
#   stall    the camera stalls 0.2 s at frame 41 (slot 30): the triggers
#            meanwhile are missed, and frame 41 itself comes 0.2 s late, its
#            time stamp (the simulator stamps at delivery) fitting no trigger:
#            the merger cannot tell it from an extra frame and does not store
#            it — so the slots empty are the missed triggers the simulator
#            counted plus slot 30; incomplete, exit 5
#   panda    the PandA data connection closes after row 60: slots 60.. keep
#            their frames but have no angle (NaN); incomplete, exit 5
#   motor    the stage jams at 60.5 deg: stopped, disarmed, file closed with
#            the reason; exit 6
#   limit    a hard limit at 80.5 deg: the same, naming the switch; exit 6
#   sigint   Ctrl-C mid-scan: exit 7, the file closed, "interrupted by SIGINT"
# With the argument disk-full, only this (root, or an unprivileged user+mount
# namespace; exit 77 = skipped where neither works):
#   disk     the file on a 6 MiB tmpfs that fills after about 25 projections:
#            the scan stops (exit 6), the file is readable, says why, and every
#            projection stored keeps its true angle
# Usage: fly_scan_faults.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR [disk-full]
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 src=$4 mode=${5:-}
if [ "$mode" = disk-full ] && [ "$(id -u)" != 0 ]; then
  unshare -Urm true 2>/dev/null || { echo "SKIPPED: full disk needs root or unshare -Urm"; exit 77; }
  exec unshare -Urm /bin/bash "$0" "$@"
fi
. "$src/tests/integration/scan_root.sh"
fault_scans fly

if [ "$mode" = disk-full ]; then
  disk_full_scan --ok-before 10
  echo PASS
  exit 0
fi

scenario camera --fault drop-frame=20 --fault swap-frames=30 --fault duplicate-frame=40 --fault miss-trigger=50
fly_run
stop_sim 1
check --rc 5 --incomplete --missing 9 49 --event 9:frame_missing --event 49:missed_trigger \
  --event 29:duplicate --event 19:reordered --darks 10 --flats 10

scenario stall --fault stall-camera=41:0.2
fly_run
stop_sim 1
missed=$(sed -n 's/.*camera flir5: [0-9]* triggers, \([0-9]*\) missed while busy.*/\1/p' "$work/sim.log")
[ -n "$missed" ] && [ "$missed" -gt 5 ] || fail "the stall missed ${missed:-no} triggers"
check --rc 5 --incomplete --missing-count $((missed + 1)) --ok-before 30 --event 30:missed_trigger

scenario panda --fault close-panda-data=60
fly_run
stop_sim 1
check --rc 5 --incomplete --no-angle-from 60 --ok-before 60 --event 60:row_missing

scenario motor --fault motor-stall=60.5
fly_run
stop_sim 1
grep -q "stalled" "$work/fly.err" || fail "no stall reported"
check --rc 6 --incomplete --reason "stalled" --ok-before 61

scenario limit --fault hard-limit=80.5
fly_run
stop_sim 1
check --rc 6 --incomplete --reason "high limit switch" --ok-before 81

scenario sigint
run_kind_interrupted
stop_sim 1
check --rc 7 --incomplete --reason "interrupted by SIGINT" --ok-before 30
[ "$rc" = 7 ] || fail "exit $rc after SIGINT"
echo PASS
