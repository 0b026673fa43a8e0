#!/bin/bash
# An installed pandafly-dx (cmake --install into a temporary prefix) finds the
# layouts it ships under that prefix and works without the source tree: the
# prefix is moved after installing and the source path must appear nowhere.
# Usage: pandafly_dx_install.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$1
SRC=$2
T=$(mktemp -d /tmp/pandafly_dx_install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Only the tools directory: pandafly-dx and the layouts it ships.
cmake -DCMAKE_INSTALL_PREFIX="$T/prefix" -P "$BUILD/tools/cmake_install.cmake" > "$T/install.out" 2>&1 ||
  fail "install: $(cat "$T/install.out")"
[ -f "$T/prefix/share/pandafly/layouts/dxfile_fly.xml" ] || fail "layouts not installed: $(cat "$T/install.out")"
mv "$T/prefix" "$T/moved"  # relocatable: nothing may point into the install prefix either
DX="$T/moved/bin/pandafly-dx"
LAYOUTS="$T/moved/share/pandafly/layouts"

"$DX" record --help > "$T/help" 2>&1 || fail "record --help: $(cat "$T/help")"
grep -q "$LAYOUTS/dxfile_fly.xml" "$T/help" || fail "default layout not under the prefix: $(cat "$T/help")"
! grep -q "$SRC" "$T/help" || fail "--help names the source tree: $(cat "$T/help")"

for l in "$LAYOUTS"/*.xml; do
  "$DX" layout "$l" > "$T/layout.out" 2>&1 || fail "layout $l: $(cat "$T/layout.out")"
done

# record loads its default layout before waiting for frames: with no sender it
# must get as far as "no frame" (exit 2), not fail on the layout.
"$DX" record "$T/x.h5" --zmq tcp://127.0.0.1:1 --start-timeout 0.3 > "$T/rec.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "no frame in 0.3 s" "$T/rec.out" || fail "record default layout: exit $rc $(cat "$T/rec.out")"

# validate with an installed layout on a small DXfile written by h5py.
/usr/bin/python3 - "$T/v.h5" <<'PY' || fail "h5py"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["exchange/data"] = np.zeros((2, 4, 5), np.uint16)
    f["exchange/theta"] = np.array([0.0, 90.0])
    f["exchange/theta"].attrs["units"] = "degrees"
PY
"$DX" validate "$T/v.h5" > "$T/val.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "validate: exit $rc $(cat "$T/val.out")"
echo "pandafly_dx_install: all checks passed"
