#!/usr/bin/python3
"""Reconstruct one detector row of a DXfile: a quick check that a scan is sound.

Reads the file with dxchange (read_aps_32id: projections, flats, darks and
theta, the way tomography tools will read it), flat-field corrects,
takes -log, and reconstructs the sinogram of detector row ROW (default: the
middle one) by filtered back-projection (skimage iradon, ramp filter, theta
in degrees). With --truth (a W x W little-endian float32 slice, as
`pandafly-sim camera --truth-slice` writes it) it reports how well the
reconstruction matches: the correlation inside the reconstruction circle,
the same for the top-bottom mirror image (a wrong rotation sense or angle
unit shows there), and the RMS difference in 1/mm (the reconstruction is
divided by --pixel-mm).

Usage: reconstruct.py FILE.h5 [--row R] [--truth F --pixel-mm P] [--save OUT.npy] [--json]
Prints one line (or one JSON object). Exit 0, or 1 when the file cannot be read.
"""
import argparse
import json
import logging
import sys
import warnings


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--row", type=int, help="detector row (default: the middle one)")
    ap.add_argument("--truth", help="the true slice, W x W float32 (pandafly-sim camera --truth-slice)")
    ap.add_argument("--pixel-mm", type=float, default=1.0, help="pixel size at the sample, mm")
    ap.add_argument("--save", help="write the reconstructed slice here (numpy .npy)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    logging.disable(logging.WARNING)  # dxchange logs every optional module it misses
    warnings.simplefilter("ignore")
    import numpy as np
    import dxchange
    from skimage.transform import iradon

    try:
        data, flat, dark, theta = dxchange.read_aps_32id(a.file)
    except Exception as e:  # dxchange raises whatever h5py does
        print(f"reconstruct.py: {a.file}: {e}", file=sys.stderr)
        return 1
    if data is None or flat is None or dark is None or theta is None:
        print(f"reconstruct.py: {a.file}: data, flats, darks and theta are all needed", file=sys.stderr)
        return 1
    row = data.shape[1] // 2 if a.row is None else a.row
    d = dark.mean(axis=0).astype(float)[row]
    f = flat.mean(axis=0).astype(float)[row]
    p = -np.log(np.clip((data[:, row, :].astype(float) - d) / np.maximum(f - d, 1e-6), 1e-6, None))
    recon = iradon(p.T, theta=np.rad2deg(theta), filter_name="ramp", circle=True) / a.pixel_mm
    out = {"file": a.file, "row": row, "projections": int(data.shape[0]),
           "theta_range_deg": [float(np.rad2deg(theta.min())), float(np.rad2deg(theta.max()))]}
    if a.truth:
        w = recon.shape[0]
        truth = np.fromfile(a.truth, dtype="<f4").reshape(w, w)
        yy, xx = np.mgrid[:w, :w]
        c = (w - 1) / 2
        inside = (xx - c) ** 2 + (yy - c) ** 2 < (0.93 * w / 2) ** 2
        corr = lambda img: float(np.corrcoef(img[inside], truth[inside])[0, 1])
        out.update(correlation=corr(recon), correlation_mirrored=corr(recon[::-1, :]),
                   rms_per_mm=float(np.sqrt(np.mean((recon - truth)[inside] ** 2))),
                   truth_max_per_mm=float(truth.max()))
    if a.save:
        np.save(a.save, recon)
    if a.json:
        print(json.dumps(out))
    else:
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
