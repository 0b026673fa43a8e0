#!/usr/bin/python3
"""The reconstruction check of file-formats.md §5.3 around dx::Writer.

  dx_writer_recon.py make DIR    writes DIR/frames.u16 (darks, flats, projections
                                 in push order, each 4 x 64 uint16), DIR/angles.f64
                                 (degrees, one per projection) and DIR/counts.txt
                                 ("darks flats projections")
  dx_writer_recon.py check FILE  reads FILE with dxchange.read_aps_32id, normalises,
                                 reconstructs the middle row with iradon and prints
                                 rms=<RMS error against the phantom> and
                                 rms_theta_as_degrees=<the same with dxchange's
                                 radians taken for degrees: a unit mix-up>;
                                 exit status 0 when rms < 0.05
"""
import sys

import numpy as np
from skimage.data import shepp_logan_phantom
from skimage.transform import iradon, radon, resize

N = 64
ROWS = 4
N_ANGLES = 180
N_DARK, N_FLAT = 5, 10
MU = 0.02


def phantom():
    return resize(shepp_logan_phantom(), (N, N), anti_aliasing=True)


def make(out):
    angles = np.linspace(0.0, 180.0, N_ANGLES, endpoint=False)
    sino = radon(phantom(), theta=angles, circle=True)  # (N, N_ANGLES)
    proj = np.round(100 + 40000 * np.exp(-MU * sino.T)).astype("<u2")  # (N_ANGLES, N)
    frames = [np.full((ROWS, N), 100, "<u2")] * N_DARK
    frames += [np.full((ROWS, N), 40100, "<u2")] * N_FLAT
    frames += [np.repeat(p[None, :], ROWS, axis=0) for p in proj]
    np.array(frames).tofile(f"{out}/frames.u16")
    angles.astype("<f8").tofile(f"{out}/angles.f64")
    with open(f"{out}/counts.txt", "w") as f:
        f.write(f"{N_DARK} {N_FLAT} {N_ANGLES}\n")


def rms_of(sino, theta_deg, truth):
    rec = iradon(sino, theta=theta_deg, filter_name="ramp", circle=True)
    return float(np.sqrt(np.mean((rec - truth) ** 2)))


def check(path):
    import dxchange
    proj, flat, dark, theta = dxchange.read_aps_32id(path)
    assert proj.shape == (N_ANGLES, ROWS, N), proj.shape
    norm = (proj - dark.mean(axis=0)) / (flat.mean(axis=0) - dark.mean(axis=0))
    line = -np.log(np.clip(norm, 1e-6, None)) / MU
    sino = line[:, ROWS // 2, :].T  # (N, N_ANGLES)
    truth = phantom()
    rms = rms_of(sino, np.rad2deg(theta), truth)
    print(f"rms={rms:.4f}")
    print(f"rms_theta_as_degrees={rms_of(sino, theta, truth):.4f}")
    sys.exit(0 if rms < 0.05 else 1)


if __name__ == "__main__":
    make(sys.argv[2]) if sys.argv[1] == "make" else check(sys.argv[2])
