# Shared steps of the beamline simulator's shell tests (source it after
# harness.sh, with pandactl_bin, ca_bin, dx_bin, sim_bin, src and work set):
# beamline_start SPEED [ARGS...]  start `pandafly-sim beamline` on $beamline_config
#                                 (default beamline_test.toml)
#                                 (free ports; the camera PUSHes to $zmq_port);
#                                 sets sim, control, data and the EPICS_CA_* settings
# pandactl ARGS...                pandactl against it
# caput ARGS...                   pandafly-ca put, failing the test on an error
# beamline_setup FRAMES [CPD]     the fly-scan design with FRAMES triggers 1 deg apart
#                                 from 0 (CPD encoder counts/deg, default 10 000, as the
#                                 config has it), each gating PCAP for the camera's 4 ms
#                                 exposure, the camera on TTLOUT1 for FRAMES frames,
#                                 the stage at the run-up start (-2 deg)
# beamline_record FRAMES [ARGS...]  pandafly-dx record in the background (pid: record)
# beamline_capture                pandactl capture --arm in the background (pid:
#                                 capture), returning once PCAP is armed (which
#                                 enables PCOMP1: the stage at rest fires nothing)
# beamline_go                     camera acquiring (the scan's start)
# stop_sim [LINES]                SIGTERM the simulator (it prints its counters), show
#                                 the last LINES of its log
pids=()
trap cleanup_work EXIT

stop_sim() {
  kill -TERM "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  tail -"${1:-3}" "$work/sim.log"
}

beamline_start() {
  local speed=$1
  shift
  # The camera's ZMQ plugin PUSHes to the recorder's bound PULL (serverHost
  # "tcp://127.0.0.1:PORT"): frames sent before the recorder binds wait in the
  # PUSH queue, so nothing depends on who starts first.
  zmq_port=$(free_port)
  "$sim_bin" beamline --config "${beamline_config:-$src/tests/integration/beamline_test.toml}" \
    --speed "$speed" \
    --zmq "tcp://127.0.0.1:$zmq_port" --truth-log "$work/truth.jsonl" "$@" >"$work/sim.log" 2>&1 &
  sim=$!
  pids+=("$sim")
  wait_for "$work/sim.log" '^export EPICS_CA' "$sim" || {
    cat "$work/sim.log"
    fail "the beamline simulator did not start"
  }
  cat "$work/sim.log"
  control=$(sed -n 's/.*PandA control 127.0.0.1:\([0-9]*\) .*/\1/p' "$work/sim.log")
  data=$(sed -n 's/.*PandA control .* data 127.0.0.1:\([0-9]*\).*/\1/p' "$work/sim.log")
  eval "$(grep '^export EPICS_CA' "$work/sim.log")"
  export EPICS_CA_ADDR_LIST EPICS_CA_AUTO_ADDR_LIST EPICS_CA_SERVER_PORT EPICS_CA_REPEATER_PORT
}

pandactl() { "$pandactl_bin" --host 127.0.0.1 --control-port "$control" --data-port "$data" "$@"; }
caput() { "$ca_bin" --timeout 30 put "$@" >/dev/null || fail "pandafly-ca put $*"; }

beamline_setup() {
  local frames=$1 cpd=${2:-10000}
  # The PandA: the fly-scan design, FRAMES compare points CPD counts (1 deg) apart from 0.
  pandactl load "$src/panda/flyscan.sav" >/dev/null || fail "pandactl load"
  # PULSE1 (the PandA's exposure gate) as long as the camera's exposure
  # (beamline_test.toml: acquire_time 0.004), so each row covers one exposure.
  pandactl put PCOMP1.STEP="$cpd" PCOMP1.PULSES="$frames" PCOMP1.WIDTH=$((cpd / 2)) \
    INENC1.VAL.SCALE="$(/usr/bin/python3 -c "print(1 / $cpd)")" \
    PULSE1.WIDTH.UNITS=s PULSE1.WIDTH=0.004 >/dev/null ||
    fail "pandactl put"
  # The camera: one frame per TTLOUT1 edge, FRAMES of them, ZMQ plugin on.
  caput FLIR5:cam5:TriggerMode On
  caput FLIR5:cam5:TriggerSource Line0
  caput FLIR5:cam5:ImageMode Multiple
  caput FLIR5:cam5:NumImages "$frames"
  caput FLIR5:ZMQ1:EnableCallbacks Enable
  caput FLIR5:cam5:ArrayCallbacks Enable
  # The run-up start, before anything records.
  caput --wait --wait-timeout 120 micos:m1.VAL -2
}

beamline_record() {
  local frames=$1
  shift
  "$dx_bin" record "$work/scan.h5" --zmq "tcp://127.0.0.1:$zmq_port" --frames "$frames" \
    --quiet --json "$@" >"$work/record.json" 2>"$work/record.err" &
  record=$!
  pids+=("$record")
}

beamline_capture() {
  pandactl capture "$work/positions.h5" --arm --force --timeout 120 >"$work/capture.log" 2>&1 &
  capture=$!
  pids+=("$capture")
  # Polls PCAP until it reports Busy (the event); 30 s is only a guard.
  for _ in $(seq 300); do pandactl get "*PCAP.STATUS" 2>/dev/null | grep -q Busy && return 0; sleep 0.1; done
  fail "PCAP did not arm"
}

beamline_go() {
  caput FLIR5:cam5:Acquire 1
}
