#!/usr/bin/env bash
# pandafly-sim panda end to end: options, design files, persistence, and a
# fly scan through the real binaries (fast clock).
# Usage: pandafly_sim_cli.sh PANDACTL PANDAFLY_SIM SOURCE_DIR
set -eu
pandactl_bin=$1
sim_bin=$2
src=$3
work=$(mktemp -d)
sim=
trap '[ -n "$sim" ] && kill $sim 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

start_sim() {  # start_sim ARGS... ; sets sim, port, data_port
  : >"$work/sim.out"  # emptied here, not by the child's redirect: the wait below must not see the last run's line
  "$sim_bin" panda --control-port 0 --data-port 0 "$@" >"$work/sim.out" 2>&1 &
  sim=$!
  for _ in $(seq 100); do grep -q "control 127.0.0.1:" "$work/sim.out" && break; sleep 0.1; done
  port=$(sed -n 's/.*control 127.0.0.1:\([0-9]*\).*/\1/p' "$work/sim.out")
  data_port=$(sed -n 's/.*data 127.0.0.1:\([0-9]*\).*/\1/p' "$work/sim.out")
  [ -n "$port" ] || { cat "$work/sim.out"; fail "simulator did not start"; }
}
stop_sim() { kill -TERM "$sim"; wait "$sim" || fail "simulator exit code $?"; sim=; }
pc() { "$pandactl_bin" --host 127.0.0.1 --control-port "$port" --data-port "$data_port" "$@"; }

"$sim_bin" panda --help | grep -q -- "--persist" || fail "--help lists --persist"
set +e
"$sim_bin" panda --clock sometimes >"$work/out" 2>&1; rc=$?
set -e
[ "$rc" != 0 ] || fail "a bad --clock is refused"

# A design with a bad line: exit 1, the message names file, line and the server's error.
printf 'PCOMP1.START=5\nPCOMP1.DIR=Sideways\n' >"$work/bad.sav"
set +e
"$sim_bin" panda --control-port 0 --data-port 0 --design "$work/bad.sav" >"$work/out" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "bad design: exit $rc"
grep -q "bad.sav: line 2: PCOMP1.DIR=Sideways: Invalid enumeration value" "$work/out" ||
  { cat "$work/out"; fail "bad design message"; }

# Persistence: *SAVESTATE= writes the file, shutdown writes it again, a restart loads it.
start_sim --persist "$work/state.sav" --design "$src/panda/flyscan.sav"
pc put PCOMP1.PULSES=7 "*METADATA.DESIGN=persisted"
pc raw "*SAVESTATE=" | grep -q "^OK" || fail "*SAVESTATE="
grep -q "^PCOMP1.PULSES=7$" "$work/state.sav" || fail "*SAVESTATE= wrote the design"
pc put PCOMP1.PULSES=9
stop_sim
grep -q "^PCOMP1.PULSES=9$" "$work/state.sav" || fail "shutdown wrote the design"
start_sim --persist "$work/state.sav"
[ "$(pc get PCOMP1.PULSES)" = "PCOMP1.PULSES=9" ] || fail "restart loaded: $(pc get PCOMP1.PULSES)"
[ "$(pc get '*METADATA.DESIGN')" = "*METADATA.DESIGN=persisted" ] || fail "metadata persisted"
stop_sim

# A fly scan through the binaries on the fast clock: 7 rows (one per exposure)
# whose exposures start at 0, 0.1 … 0.6° (INENC1.VAL.Min: the encoder rises).
start_sim --clock fast --design "$src/panda/flyscan.sav" --inenc1-velocity 100000
pc put PCOMP1.PULSES=7
pc capture "$work/scan.h5" --arm --timeout 20 >"$work/capture.out" 2>&1 &
capture=$!
for _ in $(seq 100); do pc get "*PCAP.STATUS" | grep -q Busy && break; sleep 0.1; done
pc put INENC1.SETP=-20000  # the arm enabled PCOMP1; this re-bases the encoder before the start
wait $capture || fail "capture exit $?"
/usr/bin/python3 - "$work/scan.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    angle = f["INENC1.VAL.Min"][:]
    assert len(angle) == 7 and all(abs(a - 0.1 * k) < 1e-9 for k, a in enumerate(angle)), angle
PY
stop_sim

# Issue 14 item 2: INENC1.VAL.CAPTURE=Mean StdDev, one acquisition taken by
# three data clients at once — RAW scaled here (the default), SCALED by the
# server (--scaled), RAW as sent (--store-raw). Each file has one Mean and
# one StdDev dataset (before: no Mean in RAW, the Mean as StdDev.sum in
# SCALED, an int96 h5py could not read with --store-raw), and the values
# agree with reference 3.7 computed here from the raw sums.
start_sim --clock fast --design "$src/panda/flyscan.sav" --inenc1-velocity 100000
pc put PCOMP1.PULSES=7 "INENC1.VAL.CAPTURE=Mean StdDev" PCAP.GATE_DURATION.CAPTURE=Value
pc capture "$work/ms_scaled.h5" --scaled --timeout 20 >"$work/ms1.out" 2>&1 &
c1=$!
pc capture "$work/ms_sent.h5" --store-raw --timeout 20 >"$work/ms2.out" 2>&1 &
c2=$!
for _ in $(seq 100); do pc get "*PCAP.STATUS" | grep -q "Idle 2 " && break; sleep 0.1; done
pc get "*PCAP.STATUS" | grep -q "Idle 2 " || fail "two data clients did not connect: $(pc get '*PCAP.STATUS')"
pc capture "$work/ms_raw.h5" --arm --timeout 20 >"$work/ms3.out" 2>&1 &
c3=$!
for _ in $(seq 100); do pc get "*PCAP.STATUS" | grep -q Busy && break; sleep 0.1; done
pc put INENC1.SETP=-20000
wait $c3 || { cat "$work/ms3.out"; fail "capture (raw) exit $?"; }
wait $c1 || { cat "$work/ms1.out"; fail "capture --scaled exit $?"; }
wait $c2 || { cat "$work/ms2.out"; fail "capture --store-raw exit $?"; }
/usr/bin/python3 - "$work" <<'PY' || fail "Mean StdDev files"
import math, sys, h5py
w = sys.argv[1]
raw, scaled, sent = (h5py.File(f"{w}/ms_{k}.h5", "r") for k in ("raw", "scaled", "sent"))
cols = lambda f: sorted(k for k in f if isinstance(f[k], h5py.Dataset))
# (the design also captures PCAP.TS_START/TS_END/TS_TRIG; GATE_DURATION put above)
want = ["INENC1.VAL.Mean", "INENC1.VAL.StdDev", "PCAP.GATE_DURATION.Value", "PCAP.TS_END.Value",
        "PCAP.TS_START.Value", "PCAP.TS_TRIG.Value"]
assert cols(raw) == want, cols(raw)
assert cols(scaled) == want, cols(scaled)
assert cols(sent) == cols(raw), cols(sent)
ticks = sent["PCAP.GATE_DURATION.Value"][()]
sums = sent["INENC1.VAL.Mean"][()]
sq = sent["INENC1.VAL.StdDev"][()]  # the int96 compound, read by plain h5py
assert sq.dtype.names == ("lo", "hi"), sq.dtype
sumsq = [int(r["hi"]) * 2**64 + int(r["lo"]) for r in sq]
scale = float(sent["INENC1.VAL.Mean"].attrs["scale"])
offset = float(sent["INENC1.VAL.Mean"].attrs["offset"])
assert len(ticks) == 7 and all(n > 0 for n in ticks), ticks
for k in range(7):
    n, s, q = int(ticks[k]), int(sums[k]), sumsq[k]
    mean = s * scale / n + offset
    sd = scale * math.sqrt((q - s * s / n) / n)
    assert sd > 0, (k, n, s, q)  # the encoder moves while the gate is open
    for f in (raw, scaled):
        assert math.isclose(f["INENC1.VAL.Mean"][k], mean, rel_tol=1e-12, abs_tol=1e-12), (k, f.filename)
        assert math.isclose(f["INENC1.VAL.StdDev"][k], sd, rel_tol=1e-9, abs_tol=1e-12), (k, f.filename)
print("Mean StdDev: 7 rows, e.g. N=%d mean=%.9g sd=%.9g" % (ticks[3], raw["INENC1.VAL.Mean"][3], raw["INENC1.VAL.StdDev"][3]))
PY
stop_sim
echo "pandafly_sim_cli: all passed"
