#!/usr/bin/env bash
# The scan report (issue 20): `pandafly fly|step --report` and
# `pandafly-dx report`, on scans against the joined beamline simulator
# (fly_beamline.toml on a 1 000 counts/deg encoder, 256 x 256 frames, 5 darks
# and 5 flats before and after):
#   faults  fly, 61 projections 3 deg apart, the camera's frame 20 dropped
#           (slot 9 missing), trigger 40 missed (slot 39 missing), frame 50
#           sent twice; --report --json: exit 5, the summary names the page
#   interrupted  fly, 121 projections 1.5 deg apart, SIGINT after 40 (--report:
#           exit 7, the page made of what was stored)
#   step    13 projections 15 deg apart, --report in text mode ("report: PATH"),
#           a sample name full of HTML ("<script>…", "&") that must come out as text
#   bare    a Data Exchange file with projections and theta only
# report_check.py checks each page against the file (h5py, numpy; no pandafly
# code): self-contained, every image a PNG of its stated size, the counts,
# flat sets, events and policy fields the file holds, the slice's centre, the
# findings pandafly-dx validate gives; and
# opens it in headless Debian chromium (selenium): every image loads, the
# screenshot is not blank. Exit 77 (SKIPPED) only when chromium cannot start,
# after every other check passed.
# Usage: pandafly_dx_report.sh PANDAFLY PANDAFLY_SIM PANDAFLY_CA PANDAFLY_DX SOURCE_DIR
set -euo pipefail
fly_bin=$1 sim_bin=$2 ca_bin=$3 dx_bin=$4 src=$5
. "$src/tests/integration/scan_root.sh"
check=("/usr/bin/python3" "$src/tests/integration/report_check.py")
# validate_json FILE: pandafly-dx validate --json of FILE into FILE.validate.json
# (exit 0 valid or 1 findings with errors; either way the page must list them)
validate_json() {
  local vrc=0
  "$dx_bin" validate "$1" --json >"$1.validate.json" || vrc=$?
  [ "$vrc" -le 1 ] || fail "pandafly-dx validate $1 exited $vrc"
}

echo "== faults: pandafly fly --report --json"
work=$root/faults
mkdir -p "$work"
beamline_start 10 --fault drop-frame=20 --fault miss-trigger=40 --fault duplicate-frame=50
write_scan_file 61 3.0 0.04 1000
run_scan fly --report
stop_sim 1
cat "$work/result.json"
[ "$rc" = 5 ] || fail "pandafly fly with faults exited $rc, not 5"
/usr/bin/python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r['report'] == sys.argv[2], r.get('report')" \
  "$work/result.json" "$work/scan.html" || fail "the summary does not name the report"
validate_json "$work/scan.h5"
"${check[@]}" "$work/scan.html" "$work/scan.h5" --slice-centre 127.5 --missing 9 39 \
  --validation "$work/scan.h5.validate.json" || fail "faults report"

echo "== interrupted: pandafly fly --report, SIGINT after 40 of 121 projections"
work=$root/interrupted
mkdir -p "$work"
beamline_start 10
write_scan_file 121 1.5 0.04 1000
kind=fly
run_kind_interrupted --report
stop_sim 1
[ "$rc" = 7 ] || fail "pandafly fly interrupted exited $rc, not 7"
/usr/bin/python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r['report'] == sys.argv[2], r.get('report')" \
  "$work/result.json" "$work/scan.html" || fail "the interrupted scan's summary does not name the report"
# Less than 180 deg measured: no slice, and the page says why.
validate_json "$work/scan.h5"
"${check[@]}" "$work/scan.html" "$work/scan.h5" --no-slice --validation "$work/scan.h5.validate.json" ||
  fail "interrupted report"
# Its middle and last slots hold no frame: the previews take the nearest that do.
"$dx_bin" preview "$work/scan.h5" --out "$work/preview" --json >"$work/preview.json" ||
  fail "preview interrupted exited $?"
/usr/bin/python3 "$src/tests/integration/preview_check.py" "$work/scan.h5" "$work/preview.json" 128 0 ||
  fail "the interrupted scan's previews"

echo "== step: pandafly step --report"
work=$root/step
mkdir -p "$work"
beamline_start 10
write_scan_file 13 15.0 0.04 1000
sample='<script>alert(1)</script> & "tomato" <b>'
printf 'sample_name = "%s"\n' "${sample//\"/\\\"}" >>"$work/scan.toml"
set +e
"$fly_bin" step "$work/scan.toml" --quiet --report >"$work/out.txt" 2>"$work/fly.err"
rc=$?
set -e
stop_sim 1
cat "$work/out.txt" "$work/fly.err"
[ "$rc" = 0 ] || fail "pandafly step --report exited $rc"
grep -qxF "report: $work/scan.html" "$work/out.txt" || fail "pandafly step did not print the report's path"
"${check[@]}" "$work/scan.html" "$work/scan.h5" --slice-centre 127.5 --sample "$sample" || fail "step report"

echo "== bare: pandafly-dx report on projections and theta only"
bare_file "$root/bare.h5"
"$dx_bin" report "$root/bare.h5" --json >"$root/bare.json" || fail "report bare exited $?"
cat "$root/bare.json"
validate_json "$root/bare.h5"
"${check[@]}" "$root/bare.html" "$root/bare.h5" --summary "$root/bare.json" --no-slice \
  --validation "$root/bare.h5.validate.json" || fail "bare report"

echo "== refusals"
set +e
"$dx_bin" report "$root/none.h5" --out "$root/none.html" 2>"$root/none.err"
none_rc=$?
"$dx_bin" report "$root/bare.h5" --out "$root/bare.h5" 2>"$root/self.err"
self_rc=$?
"$dx_bin" report "$root/bare.h5" --out "$root/no/such/dir/r.html" 2>"$root/dir.err"
dir_rc=$?
set -e
cat "$root/none.err" "$root/self.err" "$root/dir.err"
[ "$none_rc" = 2 ] && grep -q "none.h5" "$root/none.err" && [ ! -e "$root/none.html" ] ||
  fail "a missing file: exit $none_rc"
[ "$self_rc" = 2 ] && grep -q "is the input file" "$root/self.err" || fail "OUT = IN: exit $self_rc"
/usr/bin/python3 -c "import h5py, sys; assert h5py.File(sys.argv[1], 'r')['/exchange/data'].shape == (7, 20, 30)" \
  "$root/bare.h5" || fail "the input file was harmed"
[ "$dir_rc" = 2 ] && grep -q "no/such/dir" "$root/dir.err" || fail "an unwritable place: exit $dir_rc"
ls "$root"/*.parts.* 2>/dev/null && fail "image directories left behind"

echo "== the pages in headless chromium"
"${check[@]}" --browser "$root/faults/scan.html" "$root/step/scan.html" "$root/bare.html"
