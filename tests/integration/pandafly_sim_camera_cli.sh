#!/usr/bin/env bash
# pandafly-sim camera end to end: --help, bad options (exit 1, the option
# named), a PUSH run of 1 dark + 1 flat + 5 projections received by a pyzmq
# PULL peer that checks every header and size, and a PUB run ended by SIGTERM
# (clean exit, summary line) received by a pyzmq SUB peer.
# Usage: pandafly_sim_camera_cli.sh PANDAFLY_SIM
set -eu
sim_bin=$1
py=/usr/bin/python3
work=$(mktemp -d)
sim=
rx=
trap '[ -n "$sim" ] && kill $sim 2>/dev/null; [ -n "$rx" ] && kill $rx 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------- --help
"$sim_bin" camera --help >"$work/help" || fail "--help exits 0"
for opt in --server-host --size --type --rate --frames --speed --start --darks --flats \
           --no-noise --seed --legacy-header; do
  grep -q -- "$opt" "$work/help" || fail "--help lists $opt"
done
grep -q "127.0.0.1 only" "$work/help" || fail "--help says it binds 127.0.0.1 only"

# ---------------------------------------------------------------- bad options
bad() {  # bad WORD ARGS...: exit 1 and a message containing WORD
  local word=$1; shift
  set +e
  "$sim_bin" camera "$@" >"$work/bad.out" 2>&1; local rc=$?
  set -e
  [ "$rc" = 1 ] || { cat "$work/bad.out"; fail "camera $*: exit $rc, want 1"; }
  grep -q -- "$word" "$work/bad.out" || { cat "$work/bad.out"; fail "camera $*: message names $word"; }
}
bad --size --size 12
bad --type --type int64
bad --rate --rate 0
bad --rate --rate abc
bad --bogus --bogus
bad XPUB --server-host "tcp://127.0.0.1:0 XPUB"

# ---------------------------------------------------------------- PUSH → PULL
# The peer binds first (PUSH connects, §3.2), writes its port, checks 7 frames.
: >"$work/rx.out"
"$py" -c '
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PULL)
s.RCVTIMEO = 20000
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
where = ["/exchange/data_dark", "/exchange/data_white"] + ["/exchange/data"] * 5
for k, location in enumerate(where):
    parts = s.recv_multipart()
    assert len(parts) == 2, len(parts)
    head = parts[0].decode()
    prefix = "{\"htype\":\"array-1.0\", \"type\":\"uint16\", \"shape\":[24,40], \"frame\":%d, \"timeStamp\":" % (k + 1)
    assert head.startswith(prefix), head
    h = json.loads(head)
    assert list(h) == ["htype", "type", "shape", "frame", "timeStamp", "encoding", "ndattr"], list(h)
    assert list(h["ndattr"]) == ["ColorMode", "HDF5FrameLocation", "theta_readout"], h["ndattr"]
    assert h["ndattr"]["HDF5FrameLocation"] == location, h
    assert len(parts[1]) == 24 * 40 * 2, len(parts[1])
    assert 9e8 < h["timeStamp"] < 2e9, h  # EPICS epoch: 1990 + 28..63 years
    if k >= 2:  # 5 deg/s at 20 Hz from 10 deg: 0.25 deg apart
        assert abs(h["ndattr"]["theta_readout"] - (10 + 0.25 * (k - 2))) < 1e-9, h
print("ok", flush=True)
' >"$work/rx.out" 2>&1 &
rx=$!
for _ in $(seq 100); do [ -s "$work/rx.out" ] && break; sleep 0.1; done
port=$(head -1 "$work/rx.out")
[ -n "$port" ] || { cat "$work/rx.out"; fail "the PULL peer did not start"; }
"$sim_bin" camera --server-host "tcp://127.0.0.1:$port" --size 40x24 --frames 5 --darks 1 \
  --flats 1 --rate 20 --speed 5 --start 10 --seed 4 >"$work/push.out" 2>&1 ||
  { cat "$work/push.out"; fail "camera PUSH run exit code"; }
wait "$rx" || { cat "$work/rx.out"; fail "the PULL peer's checks"; }
rx=
grep -q "^ok$" "$work/rx.out" || { cat "$work/rx.out"; fail "the PULL peer got every frame"; }
grep -q "PUSH connect tcp://127.0.0.1:$port" "$work/push.out" || { cat "$work/push.out"; fail "ready line"; }
grep -q "7 frames sent, 0 dropped" "$work/push.out" || { cat "$work/push.out"; fail "summary"; }

# ---------------------------------------------------------------- PUB → SUB, SIGTERM
: >"$work/pub.out"  # emptied here, not by the child's redirect: the wait below must not see an old line
"$sim_bin" camera --server-host "tcp://*:0" --size 32x16 --type float32 --rate 50 --no-noise \
  >"$work/pub.out" 2>&1 &
sim=$!
for _ in $(seq 100); do grep -q "PUB bind" "$work/pub.out" && break; sleep 0.1; done
endpoint=$(sed -n 's/.*PUB bind \(tcp:[^,]*\),.*/\1/p' "$work/pub.out")
case "$endpoint" in tcp://127.0.0.1:[0-9]*) ;; *) cat "$work/pub.out"; fail "PUB bound 127.0.0.1 ($endpoint)";; esac
"$py" -c '
import json, sys, zmq
s = zmq.Context().socket(zmq.SUB)
s.RCVTIMEO = 20000
s.setsockopt(zmq.SUBSCRIBE, b"")
s.connect(sys.argv[1])
frames = []
for _ in range(5):
    head, data = s.recv_multipart()
    h = json.loads(head)
    assert h["type"] == "float32" and h["shape"] == [16, 32], h
    assert len(data) == 16 * 32 * 4, len(data)
    frames.append(h["frame"])
assert frames == list(range(frames[0], frames[0] + 5)), frames  # no gaps once subscribed
print("ok")
' "$endpoint" >"$work/sub.out" 2>&1 || { cat "$work/sub.out"; fail "the SUB peer's checks"; }
kill -TERM "$sim"
wait "$sim" || fail "camera exit code $? after SIGTERM"
sim=
grep -q "frames sent, 0 dropped" "$work/pub.out" || { cat "$work/pub.out"; fail "summary after SIGTERM"; }
echo "pandafly-sim camera CLI: ok"
