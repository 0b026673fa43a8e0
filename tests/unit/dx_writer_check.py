#!/usr/bin/python3
"""Checks a DXfile written by pandafly's dx::Writer against the plan the C++
test wrote next to it (JSON), with independent readers: h5py and dxchange.

Usage: dx_writer_check.py FILE PLAN.json [--swmr]

Plan keys:
  height, width, dtype      frame geometry ("uint16", "uint8", ...)
  frames                    in push order: {"to": detector path or null when the
                            frame is not expected in the file (bad size), "angle":
                            degrees or null, "uid", "ts", "attrs": {name: value}}
  written                   only the first `written` storable frames are in the file
  end                       {name: value} of /process/acquisition/pandafly_end
                            ("reason" may be given as "reason_contains")
  defaults                  true: check /defaults (built-ins and every attr)
  per_frame                 {dataset path: "angle" | attr name}: layout per-frame datasets
  meta                      {dataset path: value}: OnFileOpen/Close and constants
  attrs                     {"path@name": value}
  dxchange, nxtomo          true: check those views
  filter                    a filter id (e.g. "32008", "gzip") every detector dataset uses
  smaller                   true: every detector dataset stores fewer bytes than it holds

Pixel of frame k (push index) at (y, x): (k*131 + y*17 + x*3) mod 2**bits.
Prints "FAIL: ..." per mismatch and "checked=N"; exit status 1 on any failure.
"""
import json
import math
import sys

import h5py
import numpy as np

failures = []
checked = 0


def expect(ok, what):
    global checked
    checked += 1
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def text(v):
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size else ""
    if isinstance(v, bytes):
        return v.rstrip(b"\0").decode()
    if isinstance(v, np.bytes_):
        return bytes(v).rstrip(b"\0").decode()
    return v


def pixels(k, plan):
    dt = np.dtype(plan["dtype"])
    y, x = np.mgrid[0:plan["height"], 0:plan["width"]]
    mod = 2 ** (8 * dt.itemsize)
    return ((k * 131 + y * 17 + x * 3) % mod).astype(dt)


def theta_path(path):
    group, name = path.rsplit("/", 1)
    return group + "/theta" + name[4:]


def same(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, equal_nan=True, rtol=0, atol=1e-9)


def stored_frames(plan):
    out = [(k, f) for k, f in enumerate(plan["frames"]) if f["to"] is not None]
    return out[: plan.get("written", len(out))]


def check_detectors(f, plan, stored):
    dests = sorted({fr["to"] for fr in plan["frames"] if fr["to"]})
    for dest in dests:
        mine = [(k, fr) for k, fr in stored if fr["to"] == dest]
        d = f[dest]
        expect(d.shape == (len(mine), plan["height"], plan["width"]),
               f"{dest} shape {d.shape}, expected {len(mine)} frames")
        expect(d.chunks == (1, plan["height"], plan["width"]), f"{dest} chunks {d.chunks}")
        if "filter" in plan:
            expect(str(plan["filter"]) in d._filters, f"{dest} filters {d._filters}")
        if plan.get("smaller"):
            expect(d.id.get_storage_size() < d.nbytes, f"{dest}: {d.id.get_storage_size()} "
                   f"bytes stored for {d.nbytes}: not compressed")
        for i, (k, _) in enumerate(mine[: d.shape[0]]):
            if not np.array_equal(d[i], pixels(k, plan)):
                expect(False, f"{dest}[{i}] differs from pushed frame {k}")
                break
        else:
            expect(True, "")
        angles = [math.nan if fr["angle"] is None else fr["angle"] for _, fr in mine]
        t = f[theta_path(dest)]
        expect(t.dtype == np.float64 and text(t.attrs["units"]) == "degrees",
               f"{theta_path(dest)} dtype/units")
        expect(same(t[()], angles), f"{theta_path(dest)} = {t[()]}, expected {angles}")


def frame_value(k, fr, name):
    if name == "angle":
        return math.nan if fr["angle"] is None else fr["angle"]
    return fr["attrs"].get(name)


def check_column(f, path, stored, name, values=None):
    d = f[path]
    got = d[()]
    want = values if values is not None else [frame_value(k, fr, name) for k, fr in stored]
    expect(len(got) == len(want), f"{path} has {len(got)} rows, expected {len(want)}")
    if len(got) != len(want):
        return
    if d.dtype.kind == "S":
        expect(d.dtype.itemsize == 256, f"{path} is {d.dtype}, expected S256")
        expect([text(x) for x in got] == [str(w) for w in want], f"{path} = {got[:4]}..., {want[:4]}")
    else:
        expect(same(got, [math.nan if w is None else w for w in want]), f"{path} = {got}, {want}")


def check_defaults(f, plan, stored):
    g = "/defaults/"
    check_column(f, g + "NDArrayUniqueId", stored, None, [fr["uid"] for _, fr in stored])
    expect(f[g + "NDArrayUniqueId"].dtype == np.int32, "NDArrayUniqueId is int32")
    check_column(f, g + "NDArrayTimeStamp", stored, None, [fr["ts"] for _, fr in stored])
    check_column(f, g + "NDArrayEpicsTSSec", stored, None, [math.floor(fr["ts"]) for _, fr in stored])
    expect(f[g + "NDArrayEpicsTSSec"].dtype == np.uint32, "NDArrayEpicsTSSec is uint32")
    ns = f[g + "NDArrayEpicsTSnSec"][()].astype(float)
    want = [(fr["ts"] - math.floor(fr["ts"])) * 1e9 for _, fr in stored]
    expect(len(ns) == len(want) and np.allclose(ns, want, atol=1000), "NDArrayEpicsTSnSec")
    check_column(f, g + "HDF5FrameLocation", stored, None, [fr["to"] for _, fr in stored])
    expect(text(f[g + "NDArrayUniqueId"].attrs["NDAttrName"]) == "NDArrayUniqueId", "NDAttrName")
    names = set()
    for _, fr in stored:
        names |= set(fr["attrs"])
    for name in sorted(names - set(plan.get("placed", []))):
        check_column(f, g + name, stored, name)


def check_views(f, path, plan, stored):
    import dxchange
    proj, flat, dark, theta = dxchange.read_aps_32id(path)
    by = {d: np.array([pixels(k, plan) for k, fr in stored if fr["to"] == d])
          for d in ("/exchange/data", "/exchange/data_white", "/exchange/data_dark")}
    angles = [fr["angle"] for _, fr in stored if fr["to"] == "/exchange/data"]
    if plan.get("dxchange"):
        expect(np.array_equal(proj, by["/exchange/data"]), "dxchange data")
        expect(np.array_equal(flat, by["/exchange/data_white"]), "dxchange flat")
        expect(np.array_equal(dark, by["/exchange/data_dark"]), "dxchange dark")
        expect(same(theta, np.deg2rad(np.array(angles, dtype=float))), f"dxchange theta {theta}")
        print("dxchange=read", flush=True)
    if not plan.get("nxtomo"):
        return
    order = ["/exchange/data_dark", "/exchange/data_white", "/exchange/data"]
    det = f["/entry/instrument/detector/data"]
    expect(det.is_virtual, "/entry/instrument/detector/data is a virtual dataset")
    expect(np.array_equal(det[()], np.concatenate([by[d] for d in order])), "NXtomo VDS frames")
    key = [2] * len(by[order[0]]) + [1] * len(by[order[1]]) + [0] * len(by[order[2]])
    expect(list(f["/entry/instrument/detector/image_key"][()]) == key, "image_key")
    rot = []
    for d in order:
        rot += [math.nan if fr["angle"] is None else fr["angle"] for _, fr in stored if fr["to"] == d]
    expect(same(f["/entry/sample/rotation_angle"][()], rot), "rotation_angle")
    expect(f["/entry/data/data"] == det, "/entry/data/data is the detector data")
    expect(f["/entry/data/image_key"] == f["/entry/instrument/detector/image_key"], "NXdata image_key")
    expect(text(f["/entry/definition"][()]) == "NXtomo", "definition")
    for p, c in [("/entry", "NXentry"), ("/entry/instrument", "NXinstrument"),
                 ("/entry/instrument/detector", "NXdetector"), ("/entry/sample", "NXsample"),
                 ("/entry/data", "NXdata")]:
        expect(text(f[p].attrs.get("NX_class", "")) == c, f"{p}@NX_class")
    print("nxtomo=read", flush=True)


def main():
    path, plan_path = sys.argv[1], sys.argv[2]
    plan = json.load(open(plan_path))
    f = h5py.File(path, "r", swmr="--swmr" in sys.argv)
    stored = stored_frames(plan)
    check_detectors(f, plan, stored)
    for name, want in plan.get("end", {}).items():
        got = text(f["/process/acquisition/pandafly_end/" + name.replace("_contains", "")][()])
        ok = want in got if name.endswith("_contains") else got == want
        expect(ok, f"pandafly_end/{name} = {got!r}, expected {want!r}")
    if plan.get("defaults"):
        check_defaults(f, plan, stored)
    for p, name in plan.get("per_frame", {}).items():
        check_column(f, p, stored, name)
    for p, want in plan.get("meta", {}).items():
        got = f[p][()]
        got = text(got) if isinstance(want, str) else got.tolist()
        expect(got == want, f"{p} = {got!r}, expected {want!r}")
    for key, want in plan.get("attrs", {}).items():
        p, name = key.split("@")
        got = f[p].attrs.get(name)
        got = text(got) if isinstance(want, str) else np.asarray(got).tolist()
        expect(got == want, f"{key} = {got!r}, expected {want!r}")
    f.close()
    if plan.get("dxchange") or plan.get("nxtomo"):
        with h5py.File(path, "r") as g:
            check_views(g, path, plan, stored)
    print(f"checked={checked}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
