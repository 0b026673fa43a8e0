# Shared steps of the fly-scan acceptance tests (source it after harness.sh
# and beamline_harness.sh, with fly_bin, src and work set):
# fly_scan_file N STEP EXPOSURE CPD [EXTRA]  writes $work/scan.toml: N projections
#                         from 0 deg STEP apart against the running simulator
#                         (beamline_start), 5 darks and 5 flats before and after,
#                         the file ${fly_out:-$work/scan.h5}; CPD encoder counts/deg; EXTRA
#                         lines appended to [scan]
# fly_run [ARGS...]       pandafly fly $work/scan.toml --json --quiet ARGS; sets rc,
#                         the summary in $work/result.json, stderr in $work/fly.err
# fly_check MODE ARGS...  fly_check.py over the file, the truth log and the summary
fly_scan_file() {
  local n=$1 step=$2 exposure=$3 cpd=$4 extra=${5:-}
  cat >"$work/scan.toml" <<TOML
[panda]
host = "127.0.0.1"
control_port = $control
data_port = $data
design = "$src/panda/flyscan.sav"
[rotation]
motor = "micos:m1"
encoder = "INENC1"
counts_per_degree = $cpd
encoder_is_motor = $([ "$cpd" = 10000 ] && echo true || echo false)
[camera]
zmq = "tcp://127.0.0.1:$zmq_port"
readout_time = 0.002
readout_margin = 0.001
[scan]
start = 0.0
end = $(/usr/bin/python3 -c "print(($n - 1) * $step)")
step = $step
exposure = $exposure
$extra
[darks]
count = 5
when = "both"
[flats]
count = 5
when = "both"
sample_motor = "micos:m2"
sample_out = 10.0
[output]
file = "${fly_out:-$work/scan.h5}"
[metadata]
proposal_id = "20261042"
principal_investigator = "R. Haddad"
TOML
}

fly_run() {
  set +e
  "$fly_bin" fly "$work/scan.toml" --json --quiet "$@" >"$work/result.json" 2>"$work/fly.err"
  rc=$?
  set -e
  cat "$work/fly.err"
}

fly_check() { /usr/bin/python3 "$src/tests/integration/fly_check.py" "$work" "$@"; }
