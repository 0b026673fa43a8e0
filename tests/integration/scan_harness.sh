# Shared steps of the scan acceptance tests (fly, step, cont; source it after
# harness.sh and beamline_harness.sh, with fly_bin, src and work set):
# write_scan_file N STEP EXPOSURE CPD [EXTRA]  writes $work/scan.toml: N projections
#                         from 0 deg STEP apart against the running simulator
#                         (beamline_start), 5 darks and 5 flats before and after,
#                         the file ${fly_out:-$work/scan.h5}; CPD encoder counts/deg; EXTRA
#                         lines appended to [scan]
# run_scan KIND [ARGS...] pandafly KIND $work/scan.toml --json --quiet ARGS; sets rc,
#                         the summary in $work/result.json, stderr in $work/fly.err
#                         (printed); fly_run = run_scan fly
# dry_run KIND            pandafly KIND $work/scan.toml --dry-run into $work/plan.txt,
#                         printed; fails the test if the dry run fails
# scan_check MODE ARGS...  scan_check.py over the file, the truth log and the summary
write_scan_file() {
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

run_scan() {
  local what=$1
  shift
  set +e
  "$fly_bin" "$what" "$work/scan.toml" --json --quiet "$@" >"$work/result.json" 2>"$work/fly.err"
  rc=$?
  set -e
  cat "$work/fly.err"
}
fly_run() { run_scan fly "$@"; }
dry_run() {
  "$fly_bin" "$1" "$work/scan.toml" --dry-run >"$work/plan.txt" || { cat "$work/plan.txt"; fail "dry run"; }
  cat "$work/plan.txt"
}

scan_check() { /usr/bin/python3 "$src/tests/integration/scan_check.py" "$work" "$@"; }

# An online reconstruction's view of `--live` (fly_scan.sh, cont_scan.sh):
# live_start N   a pyzmq subscriber in the background (pid: live) on a free
#                port (live_port) takes N NDPluginZMQ messages, decoded by the
#                reference's rules (file-formats.md §3.3), into $work/live.txt;
#                the scan is run with --live-queue $live_queue, room for every
#                projection, so a subscriber starved of CPU on a loaded machine
#                lags but loses none (drops at a full queue, and their count,
#                are live_publisher_test's)
#                (ProjectionIndex, frame, PandaTheta, bytes), waiting 120 s at most
# live_check N   waits for it (every message came); each projection's live
#                angle must equal the file's theta exactly, its pixels
#                256 x 256 x 2 bytes
live_queue=400
live_start() {
  local n=$1
  live_port=$(free_port)
  /usr/bin/python3 - "tcp://127.0.0.1:$live_port" "$n" >"$work/live.txt" 2>"$work/live.err" <<'PY' &
import json, sys, zmq
endpoint, n = sys.argv[1], int(sys.argv[2])
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.setsockopt(zmq.RCVTIMEO, 120000)
sub.connect(endpoint)
for _ in range(n):
    header, data = sub.recv_multipart()
    h = json.loads(header)
    attrs = h["ndattr"]  # name -> value (file-formats.md §3.3)
    print(attrs["ProjectionIndex"], h["frame"], repr(float(attrs["PandaTheta"])), len(data))
PY
  live=$!
  pids+=("$live")
}
live_check() {
  local n=$1
  wait "$live" || { cat "$work/live.err"; fail "the live subscriber did not get $n projections"; }
  /usr/bin/python3 - "$work" "$n" <<'PY' || fail "live projections"
import json, sys, h5py
work, n = sys.argv[1], int(sys.argv[2])
counted = json.load(open(f"{work}/result.json"))["live"]
assert counted == {"published": n, "dropped": 0}, f"the summary counts {counted}"
theta = h5py.File(f"{work}/scan.h5", "r")["/exchange/theta"][:]
seen = [l.split() for l in open(f"{work}/live.txt")]
assert len(seen) == n, f"{len(seen)} live messages"
assert sorted(int(s[0]) for s in seen) == list(range(n)), "each projection once"
for index, frame, angle, size in seen:
    k = int(index)
    assert float(angle) == theta[k], f"live projection {k}: angle {angle}, the file {theta[k]!r}"
    assert int(size) == 256 * 256 * 2, f"live projection {k}: {size} bytes"
print(f"live: {n} projections, each with the file's measured angle")
PY
}

# The fault scans (fly_scan_faults.sh, soft_scan_faults.sh): after
# scan_root.sh (the beamline on a 1 000 counts/deg encoder) and
# `fault_scans KIND`,
#   scenario NAME [--fault ...]  starts it in $root/NAME with a 121-projection scan file
#   run_kind [ARGS...]           pandafly KIND on it (rc, result.json, fly.err)
#   run_kind_interrupted [ARGS...]  the same, SIGINT once 40 projections were exposed
#   check ARGS...                scan_check.py with the scan's size and scale
#   stopped                      fails unless the stage is at rest (DMOV 1)
#   disk_full_scan [CHECK...]    the scan with its file on a 6 MiB tmpfs (root or
#                                a private mount namespace): exit 6, "disk full",
#                                the stage at rest, and what CHECK adds
fault_scans() {
  kind=$1
  n=121
}
scenario() {
  work="$root/$1"
  mkdir -p "$work"
  echo "== $kind $1"
  shift
  beamline_start 10 "$@"
  write_scan_file $n 1.0 0.01 1000
}
run_kind() { run_scan "$kind" "$@"; }
# run_kind, interrupted by SIGINT once 40 projections were exposed (the truth
# log says the scan is under way); rc = its exit code.
run_kind_interrupted() {
  "$fly_bin" "$kind" "$work/scan.toml" --json --quiet "$@" >"$work/result.json" 2>"$work/fly.err" &
  local fly=$!
  pids+=("$fly")
  for _ in $(seq 600); do
    [ "$(grep -c '"kind":"projection"' "$work/truth.jsonl" 2>/dev/null || true)" -ge 40 ] && break
    kill -0 "$fly" 2>/dev/null || break
    sleep 0.05
  done
  kill -INT "$fly"
  set +e
  wait "$fly"
  rc=$?
  set -e
}
check() { scan_check --cpd 1000 --projections $n "$@" || { tail -5 "$work/sim.log"; fail "$kind $(basename "$work")"; }; }
stopped() {
  local dmov
  dmov=$("$ca_bin" get micos:m1.DMOV | awk '{print $2}')
  [ "$dmov" = 1 ] || fail "$kind $(basename "$work"): the stage still moves (DMOV $dmov)"
}
disk_full_scan() {
  work="$root/disk"
  mkdir -p "$work/tiny"
  mount -t tmpfs -o size=6m tmpfs "$work/tiny" || fail "cannot mount a tmpfs (uid $(id -u))"
  # As root there is no private namespace: unmount before the work dir goes.
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; umount "$work/tiny" 2>/dev/null || true; [ -n "${PANDAFLY_KEEP:-}" ] && echo "kept $root" || rm -rf "$root"' EXIT
  echo "== $kind disk"
  beamline_start 10
  fly_out="$work/tiny/scan.h5" write_scan_file $n 1.0 0.01 1000
  run_kind
  stopped
  stop_sim 1
  cp "$work/tiny/scan.h5" "$work/scan.h5"
  check --rc 6 --incomplete --reason "disk full" --darks 5 --flats 5 "$@"
}
