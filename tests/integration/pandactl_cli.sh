#!/usr/bin/env bash
# pandactl end to end against pandafly-sim on 127.0.0.1 (ephemeral ports).
# Usage: pandactl_cli.sh PANDACTL PANDAFLY_SIM DATA_DIR
set -eu  # no pipefail: `cmd | grep -q` may stop reading early (SIGPIPE to cmd)
pandactl_bin=$1
sim_bin=$2
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true; rm -rf "$work"' EXIT

"$sim_bin" panda --control-port 0 --data-port 0 --command-log "$work/commands.log" >"$work/sim.out" 2>&1 &
sim=$!
for _ in $(seq 100); do grep -q "control 127.0.0.1:" "$work/sim.out" && break; sleep 0.1; done
port=$(sed -n 's/.*control 127.0.0.1:\([0-9]*\).*/\1/p' "$work/sim.out")
[ -n "$port" ] || { echo "simulator did not start"; cat "$work/sim.out"; exit 1; }

pc() { "$pandactl_bin" --host 127.0.0.1 --control-port "$port" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() {  # expect_rc CODE command...
  local want=$1; shift
  set +e; "$@" >"$work/out" 2>"$work/err"; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$work/out" "$work/err"; fail "'$*' exited $rc, expected $want"; }
}
lines_sent() { wc -l <"$work/commands.log"; }

# --help everywhere
for s in idn blocks fields get put "table get" "table put" changes save load arm disarm raw; do
  # shellcheck disable=SC2086
  "$pandactl_bin" $s --help | grep -q "Exit codes" || fail "$s --help"
done

pc idn | grep -q "^PandA SW: " || fail "idn"
pc --json idn | grep -q '"api"' || fail "idn --json"
pc blocks | grep -q "^PCOMP " || fail "blocks"
pc fields PCOMP | grep -q "^START " || fail "fields"
pc --json fields SEQ | grep -q '"row_words": 4' || fail "fields --json table layout"

pc put PULSE1.WIDTH.UNITS=us PULSE1.WIDTH=2.5
[ "$(pc get PULSE1.WIDTH)" = "PULSE1.WIDTH=2.504" ] || fail "time rounding: $(pc get PULSE1.WIDTH)"
pc --json get PCAP.TRIG "*PCAP.STATUS" | grep -q '"PCAP.TRIG": "ZERO"' || fail "get --json"

# errors and exit codes
expect_rc 1 pc get PCAP.NOPE
grep -q "PCAP.NOPE?: ERR No such field" "$work/err" || fail "ERR message names the command"
expect_rc 1 pc put PCOMP1.DIR=Sideways
expect_rc 2 pc put NOEQUALS
expect_rc 2 pc frobnicate
expect_rc 3 "$pandactl_bin" --host 127.0.0.1 --control-port 1 idn
grep -q "127.0.0.1:1" "$work/err" || fail "connect error names host:port"
expect_rc 1 pc raw "BOGUS"
grep -q "^ERR " "$work/out" || fail "raw prints ERR"
[ "$(pc raw '*ECHO hello?')" = "OK =hello" ] || fail "raw echo"

# tables: named rows in, the same rows out; raw words out
printf 'REPEATS=10 TRIGGER=POSA>=POSITION OUTA1=1 POSITION=-2000 TIME1=50 TIME2=50\n' | pc table put SEQ1.TABLE -
pc table get SEQ1.TABLE | grep -q "REPEATS=10 TRIGGER=POSA>=POSITION OUTA1=1 " || fail "table get rows"
[ "$(pc table get --raw SEQ1.TABLE)" = "1507338 4294965296 50 50" ] || fail "table get --raw: $(pc table get --raw SEQ1.TABLE)"
pc --json table get SEQ1.TABLE | grep -q '"POSITION": -2000' || fail "table get --json"
printf '1048577 0 100 200\n2097153 1000 300 400\n' > "$work/words.txt"
pc table put SEQ1.TABLE "$work/words.txt"
[ "$(pc table get SEQ1.TABLE | wc -l)" = 2 ] || fail "raw words put"
printf 'REPEATS=1 NOPE=3\n' > "$work/bad.txt"
expect_rc 2 pc table put SEQ1.TABLE "$work/bad.txt"
grep -q "line 1" "$work/err" || fail "bad table file names the line"

# save / load: load sends only what differs, pipelined
pc save "$work/a.sav"
grep -q "^PULSE1.WIDTH=2.504$" "$work/a.sav" || fail "save holds the value"
grep -q "^SEQ1.TABLE<B$" "$work/a.sav" || fail "save holds the table"
pc put PCOMP1.START=123 PCOMP1.STEP=7 PULSE1.DELAY=1
before=$(lines_sent)
pc load "$work/a.sav" 2>"$work/load.err"
grep -q "3 sent, 0 refused" "$work/load.err" || { cat "$work/load.err"; fail "load summary"; }
writes=$(tail -n +"$((before + 1))" "$work/commands.log" | grep -v '?$' | grep -v '^\*CHANGES=S$' || true)
[ "$(printf '%s\n' "$writes" | wc -l)" = 3 ] || { printf '%s\n' "$writes"; fail "load sent other than 3 write lines"; }
[ "$(pc get PCOMP1.START)" = "PCOMP1.START=0" ] || fail "load restored the value"
pc save "$work/b.sav"
cmp -s "$work/a.sav" "$work/b.sav" || { diff "$work/a.sav" "$work/b.sav"; fail "save after load differs"; }
grep -q "^SEQ1.TABLE.QUEUED_LINES=0$" "$work/a.sav" || fail "save holds QUEUED_LINES (*CHANGES.ATTR reports it)"
pc load --all "$work/a.sav" 2>"$work/load.err" || { cat "$work/load.err"; fail "load --all of a saved design"; }
grep -q "0 refused" "$work/load.err" || fail "load --all sends no read-only QUEUED_LINES"
pc load --dry-run "$work/a.sav" >"$work/dry"
[ ! -s "$work/dry" ] || fail "dry run after load should send nothing"
# Issue 14 item 1: a time value saved in s, the device switched to ms with the
# same text: load must leave 0.003 s (UNITS first, the value sent again).
pc put PULSE3.WIDTH.UNITS=s PULSE3.WIDTH=0.003
pc save "$work/units.sav"
pc put PULSE3.WIDTH.UNITS=ms PULSE3.WIDTH=0.003
[ "$(pc get PULSE3.WIDTH.RAW)" = "PULSE3.WIDTH.RAW=375" ] || fail "3 us is 375 ticks"
pc load "$work/units.sav" 2>"$work/load.err"
grep -q "2 sent, 0 refused" "$work/load.err" || { cat "$work/load.err"; fail "units load summary"; }
[ "$(pc get PULSE3.WIDTH.UNITS PULSE3.WIDTH PULSE3.WIDTH.RAW)" = "PULSE3.WIDTH.UNITS=s
PULSE3.WIDTH=0.003
PULSE3.WIDTH.RAW=375000" ] || fail "load left PULSE3.WIDTH at $(pc get PULSE3.WIDTH.UNITS PULSE3.WIDTH)"
pc put PULSE3.WIDTH.UNITS=us
printf 'PULSE3.WIDTH=0.003\nPULSE3.WIDTH.UNITS=s\n' >"$work/value_first.sav"
pc load --all "$work/value_first.sav" 2>/dev/null
[ "$(pc get PULSE3.WIDTH.RAW)" = "PULSE3.WIDTH.RAW=375000" ] || fail "load --all: UNITS first"

printf 'PCAP.TRIG?\n' > "$work/bad.sav"
expect_rc 2 pc load "$work/bad.sav"

pc changes config | grep -q "=" || fail "changes"
pc --json changes attr | grep -q '"values"' || fail "changes --json"
pc put INENC1.VAL.CAPTURE=Value
pc arm
pc get "*PCAP.STATUS" | grep -q "Busy" || fail "arm"
pc disarm
# arm / disarm --json print a result (they printed nothing)
[ "$(pc --json arm | tr -d ' \n')" = '{"command":"arm","ok":true}' ] || fail "arm --json"
[ "$(pc --json disarm | tr -d ' \n')" = '{"command":"disarm","ok":true}' ] || fail "disarm --json"

# table get on a table that lists no FIELDS: raw words, not blank rows. The
# peer is a scripted control port (our simulator's tables all have FIELDS).
/usr/bin/python3 - "$work/peer.port" <<'PY' &
import socket, sys
replies = {"*IDN?": "OK =PandA SW: 4.1 FPGA: 0.1.17 00000000 00000000 rootfs: scripted",
           "X1.TABLE.FIELDS?": ".", "X1.TABLE.ROW_WORDS?": "OK =2",
           "X1.TABLE.B?": "!AQAAAAIAAAADAAAABAAAAA==\n."}  # words 1 2 3 4
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
srv.settimeout(30)
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
for _ in range(2):
    conn, _ = srv.accept()
    reader, writer = conn.makefile("r", newline="\n"), conn.makefile("w", newline="\n")
    for line in reader:
        writer.write(replies.get(line.rstrip("\n"), "ERR Unknown command") + "\n")
        writer.flush()
    conn.close()
PY
peer=$!
for _ in $(seq 100); do [ -s "$work/peer.port" ] && break; sleep 0.1; done
pport=$(cat "$work/peer.port")
"$pandactl_bin" --host 127.0.0.1 --control-port "$pport" table get X1.TABLE >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "table get without FIELDS"; }
[ "$(cat "$work/out")" = "1 2
3 4" ] || { cat "$work/out"; fail "table get without FIELDS prints raw words"; }
grep -q "lists no FIELDS" "$work/err" || fail "table get without FIELDS says so"
[ "$("$pandactl_bin" --host 127.0.0.1 --control-port "$pport" --json table get X1.TABLE | tr -d ' \n')" = "[1,2,3,4]" ] || fail "table get --json without FIELDS"
wait $peer
echo "pandactl_cli: all checks passed"
