#!/usr/bin/env bash
# pandafly-dx normalize on small synthetic DXfiles written by h5py
# (normalize_synthetic.py): values, propagated uncertainty and flags against
# numpy (normalize_check.py: flats interpolated in time, mean and median,
# -log, a gain and read noise; pixels whose flat equals the dark and, under
# -log, T <= 0 flagged NaN); without time stamps one set of flats; the
# uncertainty model itself against the spread of Poisson-noise data; the exit
# codes (no darks: 1; unreadable input, existing output: 2).
# Usage: pandafly_dx_normalize.sh PANDAFLY_DX SOURCE_DIR
set -eu
dx_bin=$1
src=$2
. "$src/tests/integration/harness.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { capture_run "$dx_bin" "$@"; }
check="$src/tests/integration/normalize_check.py"
/usr/bin/python3 "$src/tests/integration/normalize_synthetic.py" "$work"

run normalize --help; [ "$rc" = 0 ] && grep -q -- "--read-noise" "$work/out" || fail "normalize --help"

run normalize "$work/timed.h5" "$work/n1.h5" --json
[ "$rc" = 0 ] || { cat "$work/err"; fail "normalize exit $rc"; }
grep -q '"flats_interpolated":true' "$work/out" || { cat "$work/out"; fail "flats interpolated"; }
/usr/bin/python3 "$check" "$work/timed.h5" "$work/n1.h5" 1.0 0.0 mean 0 1.0 | tee "$work/c1"
grep -q "6 with flats interpolated" "$work/c1" || fail "every projection lies between the flat sets"

run normalize "$work/timed.h5" "$work/n2.h5" --fields median --minus-log --gain 2.5 \
  --read-noise 4 --min-denominator 3
[ "$rc" = 0 ] || { cat "$work/err"; fail "normalize median -log exit $rc"; }
/usr/bin/python3 "$check" "$work/timed.h5" "$work/n2.h5" 2.5 4.0 median 1 3.0

run normalize "$work/untimed.h5" "$work/n3.h5" --json
[ "$rc" = 0 ] && grep -q '"flats_interpolated":false' "$work/out" || fail "untimed: one set of flats"
/usr/bin/python3 "$check" "$work/untimed.h5" "$work/n3.h5" 1.0 0.0 mean 0 1.0

# The model against the data: the projections' spread over 400 frames of a
# uniform absorber matches the mean propagated sigma (within 10 %).
run normalize "$work/poisson.h5" "$work/n4.h5" --gain 2 --read-noise 3
[ "$rc" = 0 ] || { cat "$work/err"; fail "normalize poisson exit $rc"; }
/usr/bin/python3 - "$work/n4.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t, s = f["/exchange/data"][()], f["/exchange/data_uncertainty"][()]
# A pixel's spread over projections is the projections' own noise; the
# flat/dark error is the same in every projection of a pixel, but with 20
# fields it is ~1/20 of the variance here, so the full sigma must match the
# spread within 10 % (a wrong gain or read-noise term misses by far more).
spread = t.std(axis=0, ddof=1).mean()
sigma = s.mean()
print(f"spread over projections {spread:.5f}, propagated sigma {sigma:.5f}")
assert abs(np.mean(t) - 0.5) < 0.01, np.mean(t)
assert 0.9 < spread / sigma < 1.1, (spread, sigma)
PY

run normalize "$work/nodarks.h5" "$work/n5.h5"
[ "$rc" = 1 ] && grep -q "0 darks" "$work/err" || { cat "$work/err"; fail "no darks: exit $rc"; }
[ ! -e "$work/n5.h5" ] || fail "no output without darks"
run normalize "$work/missing.h5" "$work/n6.h5"
[ "$rc" = 2 ] && grep -q "missing.h5" "$work/err" || fail "unreadable input: exit $rc"
run normalize "$work/timed.h5" "$work/n1.h5"
[ "$rc" = 2 ] && grep -q "exists" "$work/err" || fail "existing output: exit $rc"
run normalize "$work/timed.h5" "$work/n1.h5" --force
[ "$rc" = 0 ] || fail "--force replaces"
echo PASS
