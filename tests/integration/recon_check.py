#!/usr/bin/python3
"""The reconstruction check of the scan acceptance tests (fly_scan.sh, step_scan.sh).

Usage: recon_check.py WORK N STEP_DEG LIMIT
WORK holds scan.h5 (the scan's DXfile), truth.raw (the phantom's true middle
slice, pandafly-sim --truth-slice) and ref.raw/.flat/.dark (the same phantom
rendered by the simulator with the same settings and noise at the planned
angles k * STEP_DEG, 10 flats and darks: beamline_render_reference --noise
--fields 10). After dark/flat normalisation a filtered back-projection (skimage
iradon, ramp filter) of the middle row at the file's theta must have an RMS
error against the true slice at most LIMIT x that of the reference
reconstructed at the planned angles. Frames are 256 x 256 uint16 (the
acceptance beamline, fly_beamline.toml; pixel 0.0065 mm).
"""
import logging
import sys
import warnings

import numpy as np

work, n, step, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
logging.disable(logging.WARNING)
warnings.simplefilter("ignore")
import dxchange  # noqa: E402
from skimage.transform import iradon  # noqa: E402

pixel_mm = 0.0065  # fly_beamline.toml: the [phantom] default
w = h = 256


def recon(proj, flat, dark, theta_deg):
    row = h // 2
    d = dark.mean(axis=0).astype(float)[row]
    f = flat.mean(axis=0).astype(float)[row]
    p = -np.log(np.clip((proj[:, row, :].astype(float) - d) / np.maximum(f - d, 1e-6), 1e-6, None))
    return iradon(p.T, theta=theta_deg, filter_name="ramp", circle=True) / pixel_mm


truth = np.fromfile(f"{work}/truth.raw", dtype="<f4").reshape(w, w)
yy, xx = np.mgrid[:w, :w]
c = (w - 1) / 2
inside = (xx - c) ** 2 + (yy - c) ** 2 < (0.93 * w / 2) ** 2


def rms(img):
    return float(np.sqrt(np.mean((img - truth)[inside] ** 2)))


proj, flat, dark, theta = dxchange.read_aps_32id(f"{work}/scan.h5")
got = rms(recon(proj, flat, dark, np.rad2deg(theta)))


def raw(name, k):
    return np.fromfile(f"{work}/{name}", dtype="<u2").reshape(k, h, w)


planned = np.arange(n) * step
ref = rms(recon(raw("ref.raw", n), raw("ref.raw.flat", 10), raw("ref.raw.dark", 10), planned))
print(f"reconstruction RMS error {got:.4f}/mm, reference {ref:.4f}/mm (ratio {got / ref:.3f}; "
      f"truth max {truth.max():.3f}/mm)")
assert got <= limit * ref, f"the scan reconstructs worse than the reference: {got:.4f} > {limit} x {ref:.4f}"
