#!/usr/bin/python3
"""Checks `pandafly-dx plots --json` output against the DXfile (h5py), no
pandafly code (issue 20).

Usage: plots_check.py SCAN.h5 PLOTS.json KIND [MISSING...]
  KIND fly (PandA columns: every plot) or step (no PandA: camera_vs_panda
  skipped, intervals from the camera's time stamps); MISSING: the slots the
  faults injected must have emptied (checked against the file too).
Each PNG listed decodes (PIL), is 800 x 480 and not blank (variance > 0);
the slots marked missing / no_angle are exactly the file's status 0 / 2
slots, the events its projection_events; the status, theta and time
residual plots carry the missing colour (217, 0, 0) exactly when a slot is
missing.
"""
import json
import sys

import h5py
import numpy as np
from PIL import Image

scan_path, json_path, kind = sys.argv[1], sys.argv[2], sys.argv[3]
want_missing = [int(x) for x in sys.argv[4:]]
out = json.load(open(json_path))
f = h5py.File(scan_path, "r")
status = f["/process/acquisition/projection_status"][()]
n = f["/exchange/data"].shape[0]

names = sorted(i["name"] for i in out["images"])
skipped = {s["name"]: s["reason"] for s in out["skipped"]}
all_plots = ["camera_vs_panda", "frames", "theta", "theta_error", "time_residual",
             "trigger_intervals"]
if kind == "fly":
    assert names == all_plots and not skipped, (names, skipped)
    assert out["interval_source"] == "panda", out["interval_source"]
    assert out["intervals"] == len(f["/measurement/panda/PCAP.TS_TRIG.Value"]) - 1
else:
    no_panda = ["camera_vs_panda", "time_residual"]
    assert names == [p for p in all_plots if p not in no_panda], names
    assert all("PandA" in skipped.get(p, "") for p in no_panda), skipped
    assert out["interval_source"] == "camera", out["interval_source"]
    pairs = sum(1 for k in range(1, n) if status[k] != 0 and status[k - 1] != 0)
    assert out["intervals"] == pairs, (out["intervals"], pairs)

missing = np.flatnonzero(status == 0).tolist()
assert out["missing"] == missing, f"marked {out['missing']}, the file's status 0: {missing}"
assert out["no_angle"] == np.flatnonzero(status == 2).tolist(), out["no_angle"]
if want_missing:
    assert missing == want_missing, f"the file's missing slots {missing}, injected {want_missing}"
ev = f["/process/acquisition/projection_events"]
file_events = [{"slot": int(s), "what": w.decode()} for s, w, d in
               zip(ev["slot"][()], ev["what"][()], ev["dataset"][()]) if d.decode() == "/exchange/data"]
assert out["events"] == file_events, (out["events"], file_events)

red = np.array([217, 0, 0])
for img in out["images"]:
    a = np.asarray(Image.open(img["file"]).convert("RGB"))
    assert a.shape == (480, 800, 3) and (img["width"], img["height"]) == (800, 480), img
    assert a.var() > 0, f"{img['name']}: blank"
    has_red = bool((np.abs(a.astype(int) - red).sum(axis=2) <= 3).any())
    if img["name"] in ("frames", "theta", "time_residual"):
        assert has_red == bool(missing), f"{img['name']}: missing colour {has_red}, missing {missing}"
print(f"plots: {names} drawn, skipped {sorted(skipped)}; missing slots {missing}, "
      f"events {[(e['slot'], e['what']) for e in file_events]}")
