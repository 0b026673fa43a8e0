#!/usr/bin/env bash
# Acceptance of `pandafly motionbox` (issue 19) against `pandafly-sim ca` with
# the testing bench (motionbox_bench.toml: motors A-E with hard-limit
# switches, F without). Expected values come from the homing rules (the
# switch's rest position reads hi_lim + tolerance / lo_lim - tolerance, HLM =
# hi_lim, LLM = lo_lim, the motor at center) and from Python's json module
# (file contents, key order, syntax-error positions), never from the
# simulator's configuration.
#   help on every command; the JSON round trip through add/change/remove;
#   each error case (missing/malformed file with line:column, unknown motor,
#   a PV that does not connect, a motor that does not move, never reaches a
#   switch, a switch already active); --dry-run moves nothing; home all hi and
#   lo (twice each: the second finds the switch where the first put it), one
#   motor alone; Ctrl-C during `home all` stops every motor and reports where
#   each stands, with the soft limits restored.
# Usage: motionbox.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR
set -euo pipefail
pf=$1 sim_bin=$2 ca_bin=$3 src=$4
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
pids=()
trap cleanup_work EXIT
py=/usr/bin/python3
mbx() { "$pf" motionbox "$@"; }
get() { "$ca_bin" --timeout 10 get -n "$1" | awk '{print $2}'; }
put() { "$ca_bin" --timeout 30 put "$@" >/dev/null || fail "pandafly-ca put $*"; }
# expect RC CMD...: run CMD (stdout $work/out, stderr $work/err), require exit code RC
expect() {
  local want=$1
  shift
  set +e
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || {
    cat "$work/out" "$work/err"
    fail "$* exited $rc, expected $want"
  }
}

# ------------------------------------------------------------ help
for c in "" help add change remove home; do
  mbx $c --help >"$work/help" || fail "motionbox $c --help"
done
"$pf" --help | grep -q motionbox || fail "pandafly --help lists motionbox"
mbx help home >"$work/help"
grep -q "homing_mode" "$work/help" || fail "help home shows the arguments"
mbx help add | grep -q "pv_root" || fail "help add"
expect 2 mbx help nosuch
grep -q 'no command "nosuch"' "$work/err" || fail "help of an unknown command"
# usage errors exit 2 (pandafly --help's exit codes), CLI11's message on stderr
expect 2 mbx home "$work/none.json"
grep -q "motor_name is required" "$work/err" || fail "a missing argument is not named"
expect 2 "$pf" fly
grep -q "scan is required" "$work/err" || fail "pandafly fly without a scan file"
expect 2 "$pf" fly "$work/none.toml" --live-queue 0
grep -q "live-queue" "$work/err" || fail "--live-queue 0 is not named"
expect 2 "$pf" nosuch

# ------------------------------------------------------------ the JSON file
cat >"$work/bench.json" <<'JSON'
{
    "comment": "the testing bench",
    "general": {
        "tolerance": 0.5,
        "operator": "beats"
    },
    "motors": {
        "A": {
            "pv_root": "bench:A",
            "lo_lim": -20,
            "hi_lim": 20,
            "center": 0
        },
        "B": {
            "note": "off by 5 before homing",
            "pv_root": "bench:B",
            "lo_lim": -12,
            "hi_lim": 11.5,
            "center": 1
        },
        "C": {
            "pv_root": "bench:C",
            "lo_lim": -25,
            "hi_lim": 27.5,
            "center": 2.5
        },
        "D": {
            "pv_root": "bench:D",
            "lo_lim": -10,
            "hi_lim": 10,
            "center": -1
        },
        "E": {
            "pv_root": "bench:E",
            "lo_lim": 0,
            "hi_lim": 180,
            "center": 90
        }
    }
}
JSON
cp "$work/bench.json" "$work/orig.json"
# compare.py OLD NEW EDIT: NEW equals OLD apart from EDIT, keys in their order.
cat >"$work/compare.py" <<'PY'
import json, sys
pairs = lambda p: json.load(open(p), object_pairs_hook=lambda kv: kv)
old, new, edit = pairs(sys.argv[1]), pairs(sys.argv[2]), sys.argv[3]
def obj(kv): return dict(kv)
def keys(kv): return [k for k, _ in kv]
o, n = obj(old), obj(new)
assert keys(old) == keys(new), ("top-level keys", keys(old), keys(new))
assert o["general"] == n["general"] and o["comment"] == n["comment"]
om, nm = obj(o["motors"]), obj(n["motors"])
if edit == "add F":
    assert keys(n["motors"]) == keys(o["motors"]) + ["F"], keys(n["motors"])
    assert obj(nm["F"]) == {"pv_root": "bench:F", "lo_lim": -5, "center": 0, "hi_lim": 5}, nm["F"]
    assert keys(nm["F"]) == ["pv_root", "lo_lim", "center", "hi_lim"]
elif edit == "change B":
    assert keys(n["motors"]) == keys(o["motors"])
    assert keys(nm["B"]) == keys(om["B"]), keys(nm["B"])          # "note" kept, in place
    assert obj(nm["B"]) == dict(obj(om["B"]), pv_root="bench:B", lo_lim=-12, center=0.5, hi_lim=11)
elif edit == "remove all":
    assert keys(n["motors"]) == []
else:
    raise SystemExit("unknown edit " + edit)
for m in keys(o["motors"]):
    if m in nm and not (edit == "change B" and m == "B"):
        assert om[m] == nm[m], (m, om[m], nm[m])
PY
mbx add "$work/bench.json" F bench:F -5 0 5 || fail "add"
$py "$work/compare.py" "$work/orig.json" "$work/bench.json" "add F" || fail "add F: round trip"
cp "$work/bench.json" "$work/with_f.json"
mbx change "$work/bench.json" B bench:B -12 0.5 11 || fail "change"
$py "$work/compare.py" "$work/with_f.json" "$work/bench.json" "change B" || fail "change B: round trip"
mbx change "$work/bench.json" B bench:B -12 1 11.5 || fail "change back"
mbx remove "$work/bench.json" F || fail "remove"
# The same values in the same order (1 and 1.0 are equal: a number written by
# the tool is a double, as the seed's float() made it).
same() { $py -c 'import json,sys; p=lambda f: json.load(open(f), object_pairs_hook=lambda kv: kv)
sys.exit(p(sys.argv[1]) != p(sys.argv[2]))' "$1" "$2"; }
same "$work/orig.json" "$work/bench.json" || fail "add, change, change back, remove: not the same"
cp "$work/bench.json" "$work/all.json"
mbx remove "$work/all.json" all || fail "remove all"
$py "$work/compare.py" "$work/orig.json" "$work/all.json" "remove all" || fail "remove all kept the rest"
ls -a "$work" | grep -q '^\.bench.json\.' && fail "a temporary file was left"
cp "$work/bench.json" "$work/before_refusals.json"
expect 2 mbx add "$work/bench.json" A bench:A -1 0 1
grep -q 'motor "A" exists already' "$work/err" || fail "add an existing motor"
expect 2 mbx change "$work/bench.json" Z bench:Z -1 0 1
grep -q 'no motor "Z"' "$work/err" || fail "change an unknown motor"
expect 2 mbx add "$work/bench.json" G bench:G 5 0 -5
grep -q 'lo_lim (5) must be below hi_lim (-5)' "$work/err" || fail "add: limits checked"
cmp "$work/before_refusals.json" "$work/bench.json" || fail "a refused edit changed the file"

# ------------------------------------------------------------ file errors
expect 2 mbx home "$work/none.json" A hi
grep -q "none.json: cannot read: No such file" "$work/err" || fail "missing file"
printf '{\n    "general": {"tolerance": 0.5}\n    "motors": {}\n}\n' >"$work/bad.json"
pos=$($py -c 'import json,sys
try: json.load(open(sys.argv[1]))
except json.JSONDecodeError as e: print(f"{e.lineno}:{e.colno}")' "$work/bad.json")
expect 2 mbx home "$work/bad.json" A hi
grep -q "bad.json:$pos: invalid JSON" "$work/err" || { cat "$work/err"; fail "malformed file: line:column $pos"; }
expect 2 mbx home "$work/bench.json" Z hi
grep -q 'no motor "Z" (the file has: A, B, C, D, E)' "$work/err" || fail "unknown motor"
expect 2 mbx home "$work/bench.json" A up
grep -q "homing_mode must be hi or lo" "$work/err" || fail "bad homing mode"

# ------------------------------------------------------------ the simulator
"$sim_bin" ca --config "$src/tests/integration/motionbox_bench.toml" --port 0 --repeater-port 0 \
  >"$work/sim.log" 2>&1 &
sim=$!
pids+=("$sim")
wait_for "$work/sim.log" 'repeater 127\.0\.0\.1:[0-9]+' "$sim" || {
  cat "$work/sim.log"
  fail "the simulator did not start"
}
port=$(sed -n 's/.*ca: 127\.0\.0\.1:\([0-9]*\) repeater.*/\1/p' "$work/sim.log")
repeater=$(sed -n 's/.*repeater 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/sim.log")
export EPICS_CA_ADDR_LIST=127.0.0.1:$port EPICS_CA_AUTO_ADDR_LIST=NO EPICS_CA_SERVER_PORT=$port \
  EPICS_CA_REPEATER_PORT=$repeater

# A PV that does not connect: named, nothing moves.
cat >"$work/errors.json" <<'JSON'
{
    "general": {"tolerance": 0.5},
    "motors": {
        "X": {"pv_root": "nosuch:X", "lo_lim": -5, "hi_lim": 5, "center": 0},
        "F": {"pv_root": "bench:F", "lo_lim": -5, "hi_lim": 5, "center": 0},
        "A": {"pv_root": "bench:A", "lo_lim": -20, "hi_lim": 20, "center": 0}
    }
}
JSON
expect 3 mbx home "$work/errors.json" X hi --connect-timeout 1
grep -q "nosuch:X.VAL (motor X)" "$work/err" || fail "the PV that does not connect is named"
expect 3 mbx home "$work/errors.json" all hi --connect-timeout 1
[ "$(get bench:F.DMOV)" = 1 ] || fail "a motor moved although a PV of another was missing"

# Never reaches a switch (F has none): the search of 2 x (5 - -5 + 1) = 22 ends without it.
f_rbv=$(get bench:F.RBV)
expect 6 mbx home "$work/errors.json" F hi --json
$py - "$work/out" "$f_rbv" <<'PY' || fail "never reaches a switch"
import json, sys
m = json.load(open(sys.argv[1]))["motors"][0]
assert not m["ok"] and "never reached the high limit switch" in m["error"], m
assert abs(m["rbv"] - (float(sys.argv[2]) + 22)) < 0.01, m
PY
[ "$(get bench:F.DHLM)" = 0 ] && [ "$(get bench:F.SET)" = 0 ] || fail "F: left changed"

# A motor that does not move (VELO so low that RBV stays on its MRES step).
put bench:F.VELO 0.0001
expect 6 mbx home "$work/errors.json" F lo --json
grep -q "does not move" "$work/out" || { cat "$work/out"; fail "does not move"; }
[ "$(get bench:F.DMOV)" = 1 ] || fail "F was not stopped"
put bench:F.VELO 20

# ------------------------------------------------------------ dry run
before=$(for m in A B C D E; do get bench:$m.RBV; get bench:$m.OFF; get bench:$m.DHLM; done)
expect 0 mbx home "$work/bench.json" all hi --dry-run
[ "$(grep -c 'drive towards the high limit switch' "$work/out")" = 5 ] || {
  cat "$work/out"
  fail "dry run: a line per motor"
}
grep -q "^B (bench:B): .*redefine the switch position as 12 .*set HLM 11.5 and LLM -12, then move to 1$" \
  "$work/out" || { cat "$work/out"; fail "dry run: B's plan"; }
after=$(for m in A B C D E; do get bench:$m.RBV; get bench:$m.OFF; get bench:$m.DHLM; done)
[ "$before" = "$after" ] || fail "the dry run changed something"

# ------------------------------------------------------------ homing
# check.py REPORT MODE [second]: every motor homed as the rules say; the PVs
# agree (read with pandafly-ca into REPORT.pv); after a second homing the switch
# was found where the first put it.
cat >"$work/check.py" <<'PY'
import json, sys
report, mode, second = json.load(open(sys.argv[1])), sys.argv[2], len(sys.argv) > 4
pvs = dict(l.split() for l in open(sys.argv[1] + ".pv"))
box = json.load(open(sys.argv[3]))
tol = box["general"]["tolerance"]
assert report["direction"] == mode
assert [m["name"] for m in report["motors"]] == list(box["motors"]), report
for m in report["motors"]:
    e = box["motors"][m["name"]]
    assert m["ok"] and not m["error"], m
    want = e["hi_lim"] + tol if mode == "hi" else e["lo_lim"] - tol
    assert abs(m["switch_value"] - want) < 1e-9, m
    if second:  # the switch's rest position already read `want`
        assert abs(m["switch_before"] - want) < 0.002, (m, want)
    root = e["pv_root"]
    f = lambda k: float(pvs[root + "." + k])
    assert abs(f("HLM") - e["hi_lim"]) < 1e-9 and abs(f("LLM") - e["lo_lim"]) < 1e-9, m
    assert abs(f("RBV") - e["center"]) <= 0.001, (m, f("RBV"))
    assert abs(m["rbv"] - e["center"]) <= 0.001, m
    # The redefinition moved OFF by exactly what the switch read before and after.
    shift = f("OFF") - float(pvs[root + ".OFF_before"])
    assert abs(shift - (m["switch_value"] - m["switch_before"])) < 0.002, (m, shift)
    assert f("DMOV") == 1 and f("SET") == 0 and f("HLS") == 0 and f("LLS") == 0, m
print("ok", mode, "second" if second else "first")
PY
snapshot() {  # snapshot FILE SUFFIX: the motors' PVs
  for m in A B C D E; do
    for f in HLM LLM RBV OFF DMOV SET HLS LLS DHLM DLLM; do
      echo "bench:$m.$f$2 $(get bench:$m.$f)"
    done
  done >>"$1"
}
home_all() {  # home_all MODE [second]
  : >"$work/report.json.pv"
  snapshot "$work/report.json.pv" _before
  expect 0 mbx home "$work/bench.json" all "$1" --json
  cp "$work/out" "$work/report.json"
  snapshot "$work/report.json.pv" ""
  $py "$work/check.py" "$work/report.json" "$1" "$work/bench.json" ${2:-} || {
    cat "$work/report.json" "$work/err"
    fail "home all $1 ${2:-}"
  }
}
home_all hi
home_all hi second
home_all lo
home_all lo second

# One motor alone, text output.
expect 0 mbx home "$work/bench.json" C hi
grep -q "^C: homed hi: switch at RBV .* redefined to 28; HLM 27.5, LLM -25; now at RBV 2.5 " \
  "$work/out" || { cat "$work/out"; fail "home C hi"; }

# A switch already active: A driven onto its high switch (soft limits opened).
put bench:A.DHLM 0
put bench:A.DLLM 0
put --wait bench:A.VAL 1000
[ "$(get bench:A.HLS)" = 1 ] || fail "A is not on its high switch"
expect 6 mbx home "$work/bench.json" A hi
grep -q "A: FAILED in start: the high limit switch (HLS) is already active" "$work/out" || {
  cat "$work/out"
  fail "a switch already active"
}
expect 0 mbx home "$work/bench.json" A lo  # off the switch the other way: fine

# ------------------------------------------------------------ Ctrl-C during home all
: >"$work/limits_before"
for m in A B C D E; do echo "$(get bench:$m.DHLM) $(get bench:$m.DLLM)"; done >"$work/limits_before"
"$pf" motionbox home "$work/bench.json" all hi --json >"$work/int.json" 2>"$work/int.err" &
home=$!
pids+=("$home")
for m in A B C D E; do
  wait_for "$work/int.err" "^$m: search at" "$home" || {
    cat "$work/int.err"
    fail "$m never started its search"
  }
done
kill -INT "$home"
set +e
wait "$home"
rc=$?
set -e
[ "$rc" = 7 ] || { cat "$work/int.json" "$work/int.err"; fail "Ctrl-C: exit $rc, expected 7"; }
: >"$work/int.pv"
for m in A B C D E; do
  echo "bench:$m $(get bench:$m.RBV) $(get bench:$m.DMOV) $(get bench:$m.DHLM) $(get bench:$m.DLLM) $(get bench:$m.SET)"
done >"$work/int.pv"
$py - "$work/int.json" "$work/int.pv" "$work/limits_before" <<'PY' || { cat "$work/int.json" "$work/int.pv"; fail "Ctrl-C"; }
import json, sys
report = json.load(open(sys.argv[1]))
now = [l.split() for l in open(sys.argv[2])]
limits = [l.split() for l in open(sys.argv[3])]
assert len(report["motors"]) == 5
for m, (root, rbv, dmov, dhlm, dllm, set_), (dhlm0, dllm0) in zip(report["motors"], now, limits):
    assert m["pv_root"] == root and m["interrupted"] and not m["ok"], m
    assert m["error"] == "interrupted by SIGINT", m
    assert dmov == "1" and set_ == "0", (root, dmov, set_)        # stopped, SET back to Use
    assert abs(m["rbv"] - float(rbv)) <= 0.001, (m, rbv)         # reported where it stands
    if m["failed_in"] == "search":  # soft limits restored
        assert (dhlm, dllm) == (dhlm0, dllm0), (root, dhlm, dllm, dhlm0, dllm0)
print("ok interrupted", [m["failed_in"] for m in report["motors"]])
PY
grep -q "INTERRUPTED\|interrupted" "$work/int.json" || fail "the report says interrupted"
echo "motionbox: all checks passed"
