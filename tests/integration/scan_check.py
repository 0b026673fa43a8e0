#!/usr/bin/python3
"""Checks a fly scan's DXfile against the beamline simulator's truth log.

Usage: scan_check.py WORK --rc RC [--complete | --incomplete] [--reason TEXT]
         [--projections N] [--cpd COUNTS_PER_DEG] [--missing K ...]
         [--no-angle-from K] [--missing-count N] [--ok-before K]
         [--event K:WHAT ...] [--darks N] [--flats N]
(--event K:WHAT: an event at slot K whose text contains WHAT)

WORK holds scan.h5, truth.jsonl (pandafly-sim beamline --truth-log) and
result.json (pandafly fly --json). Always checked: the file opens with plain
h5py (closed, not only SWMR-readable); the summary's exit code is RC; every
projection whose status is ok (1) has the theta of the stage's true
mid-exposure angle of the very frame stored in its slot (found by the frame's
NDArrayUniqueId in the truth log) within one encoder count (or, in a
continuous scan's file, within the bound it records for that angle); a slot without a
frame (status 0) has theta NaN. (A frame exposed while the stage jammed or
hit a switch has a mean angle that is not the mid-exposure one: its theta
must lie between the exposure's end angles.) The options add what a fault
must leave.
"""
import argparse
import json
import sys

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("work")
ap.add_argument("--rc", type=int, required=True)
ap.add_argument("--complete", action="store_true")
ap.add_argument("--incomplete", action="store_true")
ap.add_argument("--reason", default="")
ap.add_argument("--projections", type=int)
ap.add_argument("--cpd", type=float, default=10000.0)
ap.add_argument("--missing", type=int, nargs="*", default=None)
ap.add_argument("--no-angle-from", type=int)
ap.add_argument("--missing-count", type=int)
ap.add_argument("--ok-before", type=int, help="slots below K all ok")
ap.add_argument("--event", action="append", default=[])
ap.add_argument("--darks", type=int)
ap.add_argument("--flats", type=int)
a = ap.parse_args()


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


r = json.load(open(f"{a.work}/result.json"))
if r["exit_code"] != a.rc:
    fail(f"summary exit code {r['exit_code']}, process {a.rc}")
truth = {}
for line in open(f"{a.work}/truth.jsonl"):
    t = json.loads(line)
    truth[t["unique_id"]] = t
with h5py.File(f"{a.work}/scan.h5", "r") as f:
    end = f["/process/acquisition/pandafly_end"]
    complete = bool(end["complete"][()].item() if hasattr(end["complete"][()], "item") else end["complete"][()])
    reason = end["reason"][()]
    reason = (reason.item() if hasattr(reason, "item") else reason)
    reason = reason.decode() if isinstance(reason, bytes) else str(reason)
    theta = f["/exchange/theta"][:]
    status_ds = f["/process/acquisition/projection_status"]
    status = status_ds[:]
    uid = f["/defaults/NDArrayUniqueId"][:] if "/defaults/NDArrayUniqueId" in f else f["/NDArrayUniqueId"][:]
    if "ndattribute_row_first" in status_ds.attrs:
        first_row = int(status_ds.attrs["ndattribute_row_first"])
    else:
        # Written when the file is closed: a full disk can leave it (with the
        # events and tables) out. The slots' block of per-frame rows starts
        # after the darks and flats appended before the first projection.
        where = [x.decode() if isinstance(x, bytes) else str(x) for x in f["/defaults/HDF5FrameLocation"][:]]
        first_row = next(i for i, w in enumerate(where) if w not in ("/exchange/data_dark", "/exchange/data_white"))
        print(f"(the close-time items are missing; the slots' per-frame rows start at {first_row})")
    events = []
    if "/process/acquisition/projection_events" in f:
        ev = f["/process/acquisition/projection_events"]
        events = [(int(s), (w.decode() if isinstance(w, bytes) else str(w)))
                  for s, w in zip(ev["slot"][:], ev["what"][:])]
    darks = f["/exchange/data_dark"].shape[0] if "/exchange/data_dark" in f else 0
    flats = f["/exchange/data_white"].shape[0] if "/exchange/data_white" in f else 0
print(f"complete {complete} ({reason}); status counts {dict(zip(*np.unique(status, return_counts=True)))}; "
      f"{len(events)} events: {events[:8]}")
if a.complete and not complete:
    fail(f"the file should be complete: {reason}")
if a.incomplete and complete:
    fail("the file should be incomplete")
if a.reason and a.reason not in reason:
    fail(f"reason {reason!r} lacks {a.reason!r}")
if a.projections is not None and len(status) != a.projections:
    fail(f"{len(status)} slots, {a.projections} planned")
if a.darks is not None and darks != a.darks:
    fail(f"{darks} darks, expected {a.darks}")
if a.flats is not None and flats != a.flats:
    fail(f"{flats} flats, expected {a.flats}")
count = 1.0 / a.cpd
worst = 0.0
nonuniform = 0
# A continuous scan records a bound on each angle's error (software-
# synchronised angles): the tolerance is then that bound, where it exceeds a count.
bounds = None
with h5py.File(f"{a.work}/scan.h5", "r") as f:
    if "/process/acquisition/theta_uncertainty" in f:
        bounds = f["/process/acquisition/theta_uncertainty"][:]
unbounded = 0
for k in range(len(status)):
    if status[k] == 1 and bounds is not None and not np.isfinite(bounds[k]):
        unbounded += 1  # extrapolated past the RBV updates: no bound to check against
        continue
    tol = count if bounds is None else max(count, float(bounds[k]))
    if status[k] == 1:
        u = int(uid[first_row + k])
        if u not in truth:
            fail(f"slot {k}: frame {u} not in the truth log")
        t = truth[u]
        a0, mid, a1 = t["angle_start_deg"], t["angle_mid_deg"], t["angle_end_deg"]
        if abs(mid - (a0 + a1) / 2) > count:
            # The stage did not move uniformly through this exposure (it
            # jammed or hit a switch): theta, the encoder's mean over the
            # exposure, is then not the mid-exposure angle, but it lies
            # between the exposure's ends.
            nonuniform += 1
            if not (min(a0, a1) - tol <= theta[k] <= max(a0, a1) + tol):
                fail(f"slot {k} (frame {u}): theta {theta[k]:.6f} outside its exposure {a0:.6f}..{a1:.6f}")
            continue
        err = theta[k] - mid
        worst = max(worst, abs(err))
        if abs(err) > tol + 1e-9:
            fail(f"slot {k} (frame {u}): theta {theta[k]:.6f}, the stage was at {mid:.6f}")
    elif status[k] == 0 and not np.isnan(theta[k]):
        fail(f"slot {k} has no frame but theta {theta[k]}")
print(f"every ok projection within {worst / count:.3f} counts of its frame's true mid-exposure angle"
      + (" (or its recorded bound)" if bounds is not None else "")
      + (f" ({nonuniform} exposed while the stage did not move uniformly: theta within the exposure)" if nonuniform else "")
      + (f"; {unbounded} extrapolated angles without a bound" if unbounded else ""))
if a.missing is not None:
    got = [int(k) for k in np.nonzero(status == 0)[0]]
    if got != sorted(a.missing):
        fail(f"slots without a frame {got[:20]}, expected {sorted(a.missing)[:20]}")
if a.missing_count is not None and int(np.sum(status == 0)) != a.missing_count:
    fail(f"{int(np.sum(status == 0))} slots without a frame, expected {a.missing_count}")
if a.ok_before is not None and not np.all(status[: a.ok_before] == 1):
    fail(f"slots below {a.ok_before} should all be ok: {status[: a.ok_before]}")
if a.no_angle_from is not None:
    if not np.all(status[a.no_angle_from:] != 1):
        fail(f"slots from {a.no_angle_from} should have no angle")
    if not np.all(np.isnan(theta[a.no_angle_from:])):
        fail("slots without a PandA row must have theta NaN")
for e in a.event:
    k, what = e.split(":", 1)
    if not any(slot == int(k) and what in text for slot, text in events):
        fail(f"no event {what!r} at slot {k}; events near it: {[x for x in events if abs(x[0] - int(k)) <= 2]}")
print("ok")
