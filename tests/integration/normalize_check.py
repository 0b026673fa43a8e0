#!/usr/bin/python3
"""Checks `pandafly-dx normalize` output against numpy, computed here from the
input DXfile without any pandafly code (issue 20).

Usage: normalize_check.py IN OUT GAIN READ_NOISE FIELDS MINUS_LOG MIN_DEN
  FIELDS mean|median, MINUS_LOG 0|1.
The noise model (as normalize.hpp states it): var(D) = max(D - dark, 0)/gain
+ read_noise^2 per frame value; a field's mean has var/n, its median
(pi/2) var/n; flats before/after the projections (by arrival order in
/defaults/HDF5FrameLocation) are interpolated linearly in their mean
NDArrayTimeStamp, variances with squared weights; T = (D - d)/(F - d) by
first-order propagation with d shared; -log: sigma_L = sigma_T / T. Pixels
with F - d <= MIN_DEN (or T <= 0 under -log) are NaN and flagged 1 (2).
Also checks /exchange/theta is copied and /process/normalize is filled in.
"""
import math
import sys

import h5py
import numpy as np

src, out = sys.argv[1], sys.argv[2]
gain, read_noise = float(sys.argv[3]), float(sys.argv[4])
fields, minus_log, min_den = sys.argv[5], sys.argv[6] == "1", float(sys.argv[7])
eff = math.pi / 2 if fields == "median" else 1.0
stat = np.median if fields == "median" else np.mean

f = h5py.File(src, "r")
data = f["/exchange/data"][()].astype(np.float64)
dark_frames = f["/exchange/data_dark"][()].astype(np.float64)
white = f["/exchange/data_white"][()].astype(np.float64)
n = data.shape[0]

d = stat(dark_frames, axis=0)
var_d = np.full_like(d, read_noise**2) * eff / dark_frames.shape[0]


def field(frames):
    v = stat(frames, axis=0)
    return v, eff * (np.maximum(v - d, 0) / gain + read_noise**2) / frames.shape[0]


times = None
before, after = list(range(white.shape[0])), []
if "/defaults/HDF5FrameLocation" in f and "/defaults/NDArrayTimeStamp" in f:
    loc = [x.decode() if isinstance(x, bytes) else x for x in f["/defaults/HDF5FrameLocation"][()]]
    ts = f["/defaults/NDArrayTimeStamp"][()]
    proj_i = [i for i, l in enumerate(loc) if l == "/exchange/data"]
    flat_i = [i for i, l in enumerate(loc) if l == "/exchange/data_white"]
    if len(proj_i) == n and len(flat_i) == white.shape[0]:
        times = ts[proj_i]
        before = [k for k, i in enumerate(flat_i) if not (i > proj_i[-1])]
        after = [k for k, i in enumerate(flat_i) if i > proj_i[-1]]
        t_b = ts[[flat_i[k] for k in before]].mean() if before else None
        t_a = ts[[flat_i[k] for k in after]].mean() if after else None
fb = field(white[before]) if before else None
fa = field(white[after]) if after else None

o = h5py.File(out, "r")
got, got_s, got_f = o["/exchange/data"], o["/exchange/data_uncertainty"], o["/exchange/data_flags"]
assert got.shape == data.shape and got.dtype == np.float32, (got.shape, got.dtype)
assert got_s.shape == data.shape and got_s.dtype == np.float32
assert np.array_equal(o["/exchange/theta"][()], f["/exchange/theta"][()]), "theta copied"
interpolated = 0
flagged = 0
for k in range(n):
    if fb is not None and fa is not None and times is not None:
        a = float(np.clip((times[k] - t_b) / (t_a - t_b), 0, 1))
        F = (1 - a) * fb[0] + a * fa[0]
        var_F = (1 - a) ** 2 * fb[1] + a**2 * fa[1]
        interpolated += 0 < a < 1
    else:
        F, var_F = fb if fb is not None else fa
    D = data[k]
    num, den = D - d, F - d
    bad = ~(den > min_den)
    with np.errstate(divide="ignore", invalid="ignore"):
        T = num / den
        var_T = (np.maximum(D - d, 0) / gain + read_noise**2) / den**2 + var_F * num**2 / den**4 \
            + var_d * (num - den) ** 2 / den**4
        s = np.sqrt(var_T)
        flags = np.where(bad, 1, 0)
        if minus_log:
            nonpos = ~bad & (T <= 0)
            flags = np.where(nonpos, 2, flags)
            s = s / T
            T = -np.log(T)
    T = np.where(flags != 0, np.nan, T)
    s = np.where(flags != 0, np.nan, s)
    flagged += int((flags != 0).sum())
    assert np.array_equal(got_f[k], flags.astype(np.uint8)), f"projection {k}: flags differ"
    assert np.allclose(got[k], T, rtol=2e-5, atol=1e-6, equal_nan=True), \
        f"projection {k}: value differs by up to {np.nanmax(np.abs(got[k] - T))}"
    assert np.allclose(got_s[k], s, rtol=2e-4, atol=1e-7, equal_nan=True), \
        f"projection {k}: uncertainty differs by up to {np.nanmax(np.abs(got_s[k] - s))}"
p = o["/process/normalize"]
text = {k: p[k][0].decode() for k in ("tool", "version", "input", "options", "noise_model", "date")}
assert text["tool"] == "pandafly-dx normalize" and text["input"].endswith(src.split("/")[-1]), text
opts = text["options"].split()
assert opts[opts.index("--fields") + 1] == fields, text
assert float(opts[opts.index("--gain") + 1]) == gain, text
assert float(opts[opts.index("--read-noise") + 1]) == read_noise, text
assert ("--minus-log" in opts) == minus_log, text
assert "read_noise" in text["noise_model"] and text["date"].endswith("Z"), text
assert int(p["flagged_pixels"][0]) == flagged, (int(p["flagged_pixels"][0]), flagged)
print(f"normalize: {n} projections match numpy (values and uncertainty), {flagged} flagged, "
      f"{interpolated} with flats interpolated in time")
