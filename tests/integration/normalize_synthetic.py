#!/usr/bin/python3
"""Writes small synthetic DXfiles for pandafly_dx_normalize.sh (issue 20).

Usage: normalize_synthetic.py DIR
DIR/timed.h5: 6 projections 8 x 5 between 3 flats before and 3 after whose
  beam is 10 % brighter after (so interpolation by time matters), darks
  before, /defaults/HDF5FrameLocation + NDArrayTimeStamp in arrival order;
  two pixels whose flat equals the dark (flagged), one projection pixel
  below the dark (T < 0: flagged under -log).
DIR/untimed.h5: the same without /defaults (one set of flats).
DIR/nodarks.h5: no data_dark.
DIR/poisson.h5: 400 projections of a uniform 50 % absorber, 16 x 16 pixels,
  Poisson photo-electrons at gain 2 e-/ADU and 3 ADU read noise, 20 flats, 20
  darks: the spread of the normalised values over projections must match
  the propagated uncertainty (checked by the shell test).
"""
import sys

import h5py
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(20)


def write(path, data, dark, white, locations=None, times=None, theta=None):
    with h5py.File(path, "w") as f:
        f["/exchange/data"] = data.astype(np.uint16)
        if dark is not None:
            f["/exchange/data_dark"] = dark.astype(np.uint16)
        f["/exchange/data_white"] = white.astype(np.uint16)
        f["/exchange/theta"] = theta if theta is not None else np.linspace(0, 180, data.shape[0])
        f["/exchange/theta"].attrs["units"] = "degrees"
        if locations is not None:
            f["/defaults/HDF5FrameLocation"] = np.array(locations, dtype="S256")
            f["/defaults/NDArrayTimeStamp"] = np.array(times, dtype=np.float64)


h, w = 8, 5
dark = 100 + rng.integers(0, 5, size=(2, h, w))
flat_b = 1000 + rng.integers(0, 50, size=(3, h, w))
flat_a = 1100 + rng.integers(0, 50, size=(3, h, w))
flat_b[:, 2, 3] = dark[0, 2, 3]
flat_a[:, 2, 3] = dark[0, 2, 3]
flat_b[:, 5, 1] = 90  # below the dark: flat - dark < 0
flat_a[:, 5, 1] = 90
proj = 300 + rng.integers(0, 600, size=(6, h, w))
proj[3, 4, 4] = 50  # below the dark
locations = ["/exchange/data_dark"] * 2 + ["/exchange/data_white"] * 3 + ["/exchange/data"] * 6 + \
    ["/exchange/data_white"] * 3
times = [0.0, 0.1, 1.0, 1.1, 1.2, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 8.1, 8.2]
white = np.concatenate([flat_b, flat_a])
write(f"{out}/timed.h5", proj, dark, white, locations, times)
write(f"{out}/untimed.h5", proj, dark, white)
write(f"{out}/nodarks.h5", proj, None, white)

g, r = 2.0, 3.0
offset = 100.0


def frames(n, electrons):
    e = rng.poisson(electrons, size=(n, 16, 16)).astype(np.float64)
    return np.round(offset + e / g + rng.normal(0, r, size=e.shape))


write(f"{out}/poisson.h5", frames(400, 8000 * 0.5), frames(20, 0), frames(20, 8000))
