#!/usr/bin/env bash
# pandafly-dx end to end: --help, `layout` on a bad file and on the shipped
# layouts, `validate` (human and --json) on files written by h5py.
# Usage: pandafly_dx_cli.sh PANDAFLY_DX SOURCE_DIR
set -eu
dx_bin=$1
src=$2
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { capture_run "$dx_bin" "$@"; }

# --help everywhere, exit 0.
run --help; [ "$rc" = 0 ] || fail "--help exit $rc"
grep -q "validate" "$work/out" && grep -q "layout" "$work/out" || fail "--help lists the subcommands"
run validate --help; [ "$rc" = 0 ] && grep -q -- "--layout" "$work/out" || fail "validate --help"
run layout --help; [ "$rc" = 0 ] && grep -q -- "--print" "$work/out" || fail "layout --help"
run frobnicate; [ "$rc" = 2 ] || fail "an unknown subcommand: exit $rc"

# A bad layout: exit 1, the message names file, line, element and what is wrong.
printf '<hdf5_layout>\n  <group name="exchange">\n    <dataset name="data" source="detektor"/>\n  </group>\n</hdf5_layout>\n' >"$work/bad.xml"
run layout "$work/bad.xml"
[ "$rc" = 1 ] || fail "bad layout: exit $rc"
grep -qF "bad.xml: line 3: <dataset name=\"data\">: source=\"detektor\" is not detector, ndattribute or constant" "$work/err" ||
  { cat "$work/err"; fail "bad layout message"; }
run layout "$work/missing.xml"; [ "$rc" = 2 ] || fail "missing layout: exit $rc"

# The shipped layouts: summary, canonical print that loads again and is plain XML.
for name in dxfile_fly dxfile_step; do
  run layout "$src/layouts/$name.xml"
  [ "$rc" = 0 ] || { cat "$work/err"; fail "$name: exit $rc"; }
  grep -q "3 detector datasets, default /exchange/data, frames routed by NDAttribute HDF5FrameLocation, other NDAttributes in /defaults" "$work/out" ||
    { cat "$work/out"; fail "$name summary"; }
  run layout --print "$src/layouts/$name.xml"
  [ "$rc" = 0 ] || fail "$name --print: exit $rc"
  cp "$work/out" "$work/$name.printed.xml"
  grep -qF '<global name="detector_data_destination" ndattribute="HDF5FrameLocation"/>' "$work/$name.printed.xml" || fail "$name --print global"
  grep -qF '<dataset name="implements" source="constant" value="exchange:measurement:process" type="string"/>' "$work/$name.printed.xml" || fail "$name --print implements"
  xmllint --noout "$work/$name.printed.xml" || fail "$name --print is not well-formed"
  run layout --print "$work/$name.printed.xml"
  cmp -s "$work/out" "$work/$name.printed.xml" || fail "$name: printing the printed layout changes it"
done

# Files made with h5py: a good one and one whose theta does not match the frames.
/usr/bin/python3 - "$work" <<'PY'
import sys, h5py, numpy as np
work = sys.argv[1]
for name, n_theta in (("good", 3), ("bad", 2)):
    with h5py.File(f"{work}/{name}.h5", "w") as f:
        f["implements"] = ["exchange"]  # shape (1,), as NDFileHDF5 writes it
        d = f.create_dataset("exchange/data", data=np.zeros((3, 4, 5), np.uint16))
        for k, v in (("description", "ImageData"), ("axes", "theta:y:x"), ("units", "counts")):
            d.attrs[k] = v
        f["exchange/theta"] = np.linspace(0, 120, n_theta)
        f["exchange/theta"].attrs["units"] = "degrees"
PY
run validate --json "$work/good.h5"
[ "$rc" = 0 ] || { cat "$work/out" "$work/err"; fail "good file: exit $rc"; }
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["valid"] is True and r["errors"] == 0 and r["findings"] == [], r
assert r["file"].endswith("good.h5") and r["layout"] is None, r
' "$work/out" || fail "good file JSON"

run validate --json "$work/bad.h5"
[ "$rc" = 1 ] || { cat "$work/out"; fail "bad file: exit $rc"; }
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["valid"] is False and r["errors"] == 1, r
f = r["findings"][0]
assert f == {"severity": "error", "path": "/exchange/theta",
             "message": "has 2 angles, /exchange/data has 3 frames"}, f
' "$work/out" || fail "bad file JSON"

run validate "$work/bad.h5"
[ "$rc" = 1 ] || fail "bad file (human): exit $rc"
grep -qx "error /exchange/theta: has 2 angles, /exchange/data has 3 frames" "$work/out" ||
  { cat "$work/out"; fail "bad file: one finding per line"; }

# With a layout: the shipped fly layout declares much that this small file lacks.
run validate --layout "$src/layouts/dxfile_fly.xml" "$work/good.h5"
[ "$rc" = 1 ] || fail "good file vs fly layout: exit $rc"
grep -q "^error /measurement: the layout (line [0-9]*) declares a group; the file has none" "$work/out" ||
  { cat "$work/out"; fail "layout findings"; }
run validate --layout "$work/bad.xml" "$work/good.h5"
[ "$rc" = 2 ] || fail "validate with a bad layout: exit $rc"

# Not HDF5, or missing: exit 2 (JSON says why).
echo "not hdf5" >"$work/text.h5"
run validate --json "$work/text.h5"
[ "$rc" = 2 ] || fail "not HDF5: exit $rc"
grep -q '"valid":false' "$work/out" || fail "not HDF5: JSON"
run validate "$work/nothing.h5"
[ "$rc" = 2 ] && grep -q "no such file" "$work/err" || fail "missing file: exit $rc"
# xdi: a PandA position capture (as pandactl capture writes it) as XDI 1.0.
/usr/bin/python3 -c '
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["start_time"] = "2026-01-15T10:29:41.123456Z"
    a = f.create_dataset("INENC1.VAL.Value", data=np.arange(5) * 0.25)
    a.attrs["units"] = "deg"
    f.create_dataset("PCAP.TS_TRIG.Value", data=np.arange(5) * 0.01 + 0.5)
    f.create_dataset("PCAP.SAMPLES.Value", data=np.arange(4))
    m = f.create_dataset("INENC2.VAL.Value", data=np.arange(5.0))
    m.attrs["units"] = "mm"
' "$work/capture.h5" || fail "making a capture file"
run xdi "$work/capture.h5" "$work/pos.xdi"
[ "$rc" = 0 ] || { cat "$work/err"; fail "xdi: exit $rc"; }
/usr/bin/python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0] == "# XDI/1.0 pandafly/0.1", lines[0]
# XDI "angle" is the mono angle (libxdifile warning 1 without Mono.d_spacing): never a column label.
labels = [l.split(": ", 1)[1].split()[0].lower() for l in lines if l.startswith("# Column.")]
assert "angle" not in labels and "energy" not in labels, labels
for want in ("# Column.1: rotation_angle degrees", "# Column.2: elapsed_time seconds",
             "# Facility.name: SESAME", "# Scan.start_time: 2026-01-15T10:29:41.123456Z",
             "# pandafly.angle_column: INENC1.VAL.Value", "#----"):
    assert want in lines, want
rows = [l.split() for l in lines if not l.startswith("#")]
assert rows == [["%.6f" % (0.25 * k), "%.6f" % (0.5 + 0.01 * k)] for k in range(5)], rows
' "$work/pos.xdi" || fail "xdi content"
run xdi "$work/capture.h5" "$work/pos.xdi"
[ "$rc" = 2 ] && grep -q "File exists" "$work/err" || fail "xdi over an existing file: exit $rc"
run xdi "$work/capture.h5" "$work/x.xdi" --time PCAP.SAMPLES.Value
[ "$rc" = 1 ] && grep -q "has 5 rows, PCAP.SAMPLES.Value has 4" "$work/err" || fail "xdi ragged: exit $rc"
run xdi "$work/capture.h5" "$work/x.xdi" --angle INENC2.VAL.Value
[ "$rc" = 1 ] && grep -q "in .mm., not degrees" "$work/err" || fail "xdi units: exit $rc"
run xdi "$work/capture.h5" "$work/x.xdi" --angle NOPE
[ "$rc" = 1 ] && grep -q "no dataset .NOPE." "$work/err" || fail "xdi missing column: exit $rc"
[ ! -e "$work/x.xdi" ] || fail "a refused xdi left a file"
# A file whose SWMR writer was SIGKILLed: refused until validate --repair.
/usr/bin/python3 - "$work/killed.h5" <<'PY'
import os, signal, sys, time, h5py
path = sys.argv[1]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    f = h5py.File(path, "w", libver="latest")
    d = f.create_dataset("exchange/data", (0, 2, 2), maxshape=(None, 2, 2), dtype="u2", chunks=(1, 2, 2))
    f.swmr_mode = True
    d.resize((3, 2, 2)); f.flush()
    os.write(w, b"x")
    while True: time.sleep(1)
os.read(r, 1)  # the event: the child flushed
os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
PY
run validate "$work/killed.h5"
[ "$rc" = 2 ] || fail "killed file without --repair: exit $rc"
run validate --repair "$work/killed.h5"
[ "$rc" = 0 ] && grep -q "repaired: cleared the status flags" "$work/err" &&
  grep -q "repaired: added the NXtomo view /entry over 3 frames" "$work/err" ||
  fail "validate --repair: exit $rc: $(cat "$work/err")"
/usr/bin/python3 -c 'import h5py, sys; assert h5py.File(sys.argv[1], "r")["/exchange/data"].shape == (3, 2, 2)' \
  "$work/killed.h5" || fail "repaired file does not open plainly"
echo "pandafly-dx CLI: all checks passed"
