#!/usr/bin/python3
"""The checks of pandafly_dx_slice.sh on one scan (issue 20).

Usage: slice_check.py WORK N STEP_DEG AXIS_OFFSET_PX REFERENCE_RMS
WORK holds scan.h5, truth.raw (the simulator's true middle slice, 1/mm, on a
grid centred on the rotation axis), ref.raw/.flat/.dark (the reference
rendered at the planned angles, as recon_check.py uses them) and slice.h5 /
slice.png / slice.json from `pandafly-dx slice --json`.
Checked: the centre estimate is within one pixel of the simulated axis
((width - 1)/2 + AXIS_OFFSET_PX); the slice (divided by the pixel size) has
an RMS error against the truth at most 1.2 x the reference's: REFERENCE_RMS
when given (recon_check.py's reference figure for a centred axis), else the
reference reconstructed here the same way (skimage iradon, ramp filter)
after shifting its sinogram by whole pixels so the axis is centred; the PNG is a
256 x 256 8-bit grey PNG.
"""
import json
import logging
import struct
import sys
import warnings

import numpy as np

work, n, step = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
offset, ref_rms = float(sys.argv[4]), sys.argv[5]
logging.disable(logging.WARNING)
warnings.simplefilter("ignore")
import h5py  # noqa: E402
from skimage.transform import iradon  # noqa: E402

pixel_mm = 0.0065
w = h = 256
axis = (w - 1) / 2 + offset
result = json.load(open(f"{work}/slice.json"))
print(f"slice: centre {result['centre']:.3f} (axis {axis:.3f}), seconds {result['seconds']}")
assert result["centre_estimated"] and abs(result["centre"] - axis) <= 1.0, \
    f"the centre estimate {result['centre']} is more than a pixel from the axis {axis}"
assert result["row"] == h // 2 and result["size"] == w and result["projections"] == n, result

truth = np.fromfile(f"{work}/truth.raw", dtype="<f4").reshape(w, w)
yy, xx = np.mgrid[:w, :w]
c = (w - 1) / 2
inside = (xx - c) ** 2 + (yy - c) ** 2 < (0.93 * w / 2) ** 2
if offset != 0:  # the field of view shrinks by the offset
    inside &= (xx - c) ** 2 + (yy - c) ** 2 < ((w / 2 - abs(offset) - 2)) ** 2


def rms(img):
    return float(np.sqrt(np.mean((img - truth)[inside] ** 2)))


with h5py.File(f"{work}/slice.h5", "r") as f:
    s = f["/slice"]
    assert s.shape == (w, w) and s.dtype == np.float32, (s.shape, s.dtype)
    assert abs(s.attrs["centre"] - result["centre"]) < 1e-9 and s.attrs["units"] == "1/pixel"
    got = rms(s[()] / pixel_mm)

if ref_rms != "-":
    ref = float(ref_rms)
else:
    def raw(name, k):
        return np.fromfile(f"{work}/{name}", dtype="<u2").reshape(k, h, w)
    proj, flat, dark = raw("ref.raw", n), raw("ref.raw.flat", 10), raw("ref.raw.dark", 10)
    row = h // 2
    d = dark.mean(axis=0).astype(float)[row]
    fl = flat.mean(axis=0).astype(float)[row]
    p = -np.log(np.clip((proj[:, row, :].astype(float) - d) / np.maximum(fl - d, 1e-6), 1e-6, None))
    # The axis to the centre by whole pixels (interpolating would smooth the
    # reference's noise and flatter it); the rest, |offset - round(offset)|
    # <= 0.5 px, is within the half pixel iradon's centre (w // 2) is off
    # the truth's ((w - 1) / 2) in recon_check.py too.
    k = int(round(offset))
    p = np.pad(p, ((0, 0), (max(-k, 0), max(k, 0))), mode="edge")[:, max(k, 0):max(k, 0) + w]
    ref = rms(iradon(p.T, theta=np.arange(n) * step, filter_name="ramp", circle=True) / pixel_mm)
print(f"slice RMS error {got:.4f}/mm, reference {ref:.4f}/mm (ratio {got / ref:.3f}; "
      f"truth max {truth.max():.3f}/mm)")
assert got <= 1.2 * ref, f"the slice is worse than the reference: {got:.4f} > 1.2 x {ref:.4f}"

png = open(f"{work}/slice.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", "a PNG"
pw, ph, depth, colour = struct.unpack(">IIBB", png[16:26])
assert (pw, ph, depth, colour) == (w, w, 8, 0), (pw, ph, depth, colour)
