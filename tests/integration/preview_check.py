#!/usr/bin/python3
"""Checks `pandafly-dx preview --json` output against the DXfile, computed
here with numpy/h5py without any pandafly code (issue 20).

Usage: preview_check.py SCAN.h5 PREVIEW.json ROW MAX_SIZE
Every PNG listed decodes (PIL), is 8-bit grey of the listed size (the frame,
or (projections, width) for the sinogram; shrunk by the smallest integer
factor fitting MAX_SIZE when it is > 0), is not blank (variance > 0), and
its window is the nearest-rank percentiles (rank round(p/100 (n-1))) of the
finite values numpy computes from the file: raw frames exactly; the middle
projection normalised (p - dark)/(flat - dark) with the mean dark and the
flats interpolated by time (normalize.hpp's rules; slot k of a slotted file is row
b + k of the per-frame columns, layouts/README.md) and the sinogram -ln T
(T >= 1e-6, flat - dark <= 1 -> 0, slots with status 0 NaN) to 1e-4
relative (float32 in pandafly).
"""
import json
import math
import sys

import h5py
import numpy as np
from PIL import Image

scan_path, json_path, row, max_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = json.load(open(json_path))
f = h5py.File(scan_path, "r")
data = f["/exchange/data"]
n, h, w = data.shape
lo_p, hi_p = out["percentiles"]


def window(values):
    v = np.sort(values[np.isfinite(values)].ravel())
    rank = lambda p: int(math.floor(p / 100.0 * (len(v) - 1) + 0.5))
    return float(v[rank(lo_p)]), float(v[rank(hi_p)])


dark = f["/exchange/data_dark"][()].astype(np.float64).mean(axis=0)
white = f["/exchange/data_white"][()].astype(np.float64)
before, after, times = list(range(white.shape[0])), [], None
loc = [x.decode() for x in f["/defaults/HDF5FrameLocation"][()]]
ts = f["/defaults/NDArrayTimeStamp"][()]
proj_i = [i for i, l in enumerate(loc) if l == "/exchange/data"]
flat_i = [i for i, l in enumerate(loc) if l == "/exchange/data_white"]
status_attrs = f["/process/acquisition/projection_status"].attrs
if "ndattribute_row_first" in status_attrs:
    # a slotted file (layouts/README.md, "Projections by slot"): slot k is row
    # b + k of the per-frame columns, an empty slot's row has no location
    b = int(status_attrs["ndattribute_row_first"])
    assert all(loc[b + k] in ("", "/exchange/data") for k in range(n)), "slot rows"
    proj_i = [b + k for k in range(n)]
if len(proj_i) == n and len(flat_i) == white.shape[0]:
    times = ts[proj_i]
    before = [k for k, i in enumerate(flat_i) if i <= proj_i[-1]]
    after = [k for k, i in enumerate(flat_i) if i > proj_i[-1]]
    t_b, t_a = ts[[flat_i[k] for k in before]].mean(), ts[[flat_i[k] for k in after]].mean()
print(f"flats: {len(before)} before, {len(after)} after, times {'known' if times is not None else 'unknown'}")


def flat_at(k):
    fb = white[before].mean(axis=0)
    if not after or times is None:
        return fb
    a = float(np.clip((times[k] - t_b) / (t_a - t_b), 0, 1))
    return (1 - a) * fb + a * white[after].mean(axis=0)


status = f["/process/acquisition/projection_status"][()]
# first, middle and last of the slots holding a frame (preview.hpp Rules)
stored = np.flatnonzero(status != 0)
first, last = int(stored[0]), int(stored[-1])
mid = int(stored[np.argmin(np.abs(stored - n // 2))])
expect = {
    "projection_first": data[first].astype(np.float64),
    "projection_middle": data[mid].astype(np.float64),
    "projection_last": data[last].astype(np.float64),
    "dark": f["/exchange/data_dark"][0].astype(np.float64),
    "flat": white[0],
}
with np.errstate(divide="ignore", invalid="ignore"):
    den = flat_at(mid) - dark
    expect["normalized"] = np.where(den > 1, (data[mid] - dark) / den, np.nan)
    sino = np.empty((n, w))
    for k in range(n):
        den = flat_at(k)[row] - dark[row]
        t = np.maximum((data[k, row] - dark[row]) / den, 1e-6)
        sino[k] = np.where(den > 1, -np.log(t), 0.0)
        if status[k] == 0:
            sino[k] = np.nan
    expect["sinogram"] = sino
exact = {"projection_first", "projection_middle", "projection_last", "dark", "flat"}

names = [i["name"] for i in out["images"]]
assert sorted(names) == sorted(expect), f"images {names}"
assert out["skipped"] == [], out["skipped"]
for img in out["images"]:
    name = img["name"]
    full = expect[name]
    fh, fw = full.shape
    factor = max(1, -(-max(fh, fw) // max_size)) if max_size > 0 else 1
    want_shape = (-(-fh // factor), -(-fw // factor))
    pic = Image.open(img["file"])
    assert pic.mode == "L", f"{name}: mode {pic.mode}"
    a = np.asarray(pic)
    assert a.shape == want_shape, f"{name}: {a.shape}, want {want_shape}"
    assert (img["height"], img["width"]) == want_shape, f"{name}: json size"
    assert a.var() > 0, f"{name}: blank"
    want_index = {"projection_first": first, "projection_middle": mid, "projection_last": last,
                  "normalized": mid}
    if name in want_index:
        assert img["index"] == want_index[name], f"{name}: projection {img['index']}, want {want_index[name]}"
    lo, hi = window(full)
    got = img["window"]
    tol = 0 if name in exact else 1e-4 * max(abs(lo), abs(hi), 1e-3)
    assert abs(got[0] - lo) <= tol and abs(got[1] - hi) <= tol, f"{name}: window {got}, numpy {lo, hi}"
    print(f"{name}: {a.shape[1]} x {a.shape[0]}, window {got[0]:.6g} .. {got[1]:.6g} (numpy {lo:.6g} .. {hi:.6g})")
if max_size == 0:
    sino_png = next(i for i in out["images"] if i["name"] == "sinogram")
    assert (sino_png["height"], sino_png["width"]) == (n, w), "the sinogram is (projections, width)"
    missing = np.flatnonzero(status == 0)
    a = np.asarray(Image.open(sino_png["file"]))
    assert all((a[k] == 0).all() for k in missing), "rows of missing slots are black"
print("preview: every PNG decodes, has its size, is not blank, windows match numpy")
