#!/usr/bin/python3
"""Checks a DXfile written by dx::Writer with slots (writer.hpp Rules, "Slots",
"Events", "Tables") against what the C++ test expects (JSON), with h5py and
dxchange as independent readers.

Usage: dx_writer_slots_check.py FILE EXPECT.json

EXPECT keys (all optional but height/width):
  height, width     frame geometry (uint16 frames)
  stacks            {dataset: [row, ...]}: row = {"k": pattern, "angle": degrees or null}
                    or null (an empty slot: pixels 0, theta NaN); theta is <group>/theta<suffix>
  status            {dataset: [code, ...]}
  columns           {dataset: [value or null (NaN / 0 / "" by dtype), ...]}
  attrs             {"path@name": value}
  tables            {path: {"values": [...], "dtype": numpy dtype kind+size ("f8", "i8",
                    "u8", "S"), "units" / "description": text, or null (no such
                    attribute); a key left out is not checked}}
  absent            [path, ...]: must not exist
  dxchange          true: read_aps_32id gives the stacks and theta (radians, NaN kept)
  nxtomo            true: /entry's virtual dataset is darks, flats, data (slots in order,
                    empty ones zeros) and rotation_angle their theta
  filter            a filter id ("gzip", "32008") /exchange/data uses
  consistent        {"dataset", "status", "written", "step"}: a file cut short (full disk):
                    exactly `written` slots have status 1, each holds pattern k = slot with
                    angle slot × step; every other slot has status 0 and theta NaN

Pixel of pattern k at (y, x): (k*131 + y*17 + x*3) mod 2**16 (dx_writer_test_util.hpp).
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
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).rstrip(b"\0").decode()
    return str(v)


def pixels(k, e):
    y, x = np.mgrid[0:e["height"], 0:e["width"]]
    return ((k * 131 + y * 17 + x * 3) % 2**16).astype(np.uint16)


def theta_path(path):
    group, name = path.rsplit("/", 1)
    return group + "/theta" + name[4:]


def same(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, equal_nan=True, rtol=0, atol=1e-9)


def want_stack(rows, e):
    zeros = np.zeros((e["height"], e["width"]), np.uint16)
    frames = np.array([zeros if r is None else pixels(r["k"], e) for r in rows])
    angles = [math.nan if r is None or r["angle"] is None else r["angle"] for r in rows]
    return frames.reshape(len(rows), e["height"], e["width"]), angles


def check_stacks(f, e):
    for path, rows in e.get("stacks", {}).items():
        frames, angles = want_stack(rows, e)
        d = f[path]
        expect(d.shape == frames.shape, f"{path} shape {d.shape}, expected {frames.shape}")
        if d.shape == frames.shape:
            for i in range(len(rows)):
                expect(np.array_equal(d[i], frames[i]), f"{path}[{i}] is not {rows[i]}")
        t = f[theta_path(path)][()]
        expect(same(t, angles), f"{theta_path(path)} = {t}, expected {angles}")


def check_columns(f, e):
    for path, want in e.get("columns", {}).items():
        got = f[path][()]
        expect(len(got) == len(want), f"{path} has {len(got)} rows, expected {len(want)}")
        if len(got) != len(want):
            continue
        if got.dtype.kind == "S":
            expect([text(g) for g in got] == ["" if w is None else w for w in want],
                   f"{path} = {[text(g) for g in got]}, expected {want}")
        elif got.dtype.kind == "f":
            expect(same(got, [math.nan if w is None else w for w in want]), f"{path} = {got}, expected {want}")
        else:
            expect(list(got) == [0 if w is None else w for w in want], f"{path} = {list(got)}, expected {want}")


def check_tables(f, e):
    for path, t in e.get("tables", {}).items():
        if path not in f:
            expect(False, f"{path} missing")
            continue
        d = f[path]
        expect(d.ndim == 1, f"{path} is {d.ndim}-D")
        got = d[()]
        if t["dtype"] == "S":
            expect(got.dtype.kind == "S", f"{path} dtype {got.dtype}")
            expect([text(g) for g in got] == t["values"], f"{path} = {got}, expected {t['values']}")
        else:
            expect(got.dtype == np.dtype("<" + t["dtype"]), f"{path} dtype {got.dtype}, expected {t['dtype']}")
            expect(got.tolist() == t["values"] if t["dtype"] != "f8" else same(got, t["values"]),
                   f"{path} = {got.tolist()}, expected {t['values']}")
        for name in ("units", "description"):
            if name not in t:
                continue
            want = t[name]
            if want is None:
                expect(name not in d.attrs, f"{path}@{name} should be absent")
            else:
                expect(text(d.attrs.get(name, b"")) == want, f"{path}@{name} = {d.attrs.get(name)!r}, expected {want!r}")


def check_dxchange(path, e):
    import dxchange
    proj, flat, dark, theta = dxchange.read_aps_32id(path)
    rows = e["stacks"]["/exchange/data"]
    frames, angles = want_stack(rows, e)
    expect(np.array_equal(proj, frames), "dxchange projections")
    expect(same(theta, np.deg2rad(np.array(angles, dtype=float))), f"dxchange theta {theta}")
    for name, got in (("/exchange/data_dark", dark), ("/exchange/data_white", flat)):
        if name in e["stacks"]:
            expect(np.array_equal(got, want_stack(e["stacks"][name], e)[0]), f"dxchange {name}")
    print("dxchange=read", flush=True)


def check_nxtomo(f, e):
    order = ["/exchange/data_dark", "/exchange/data_white", "/exchange/data"]
    frames, angles = [], []
    for d in order:
        fr, an = want_stack(e["stacks"].get(d, []), e) if e["stacks"].get(d) else (None, [])
        if fr is not None:
            frames.append(fr)
        angles += an
    det = f["/entry/instrument/detector/data"]
    expect(det.is_virtual and np.array_equal(det[()], np.concatenate(frames)), "NXtomo frames")
    expect(same(f["/entry/sample/rotation_angle"][()], angles), "NXtomo rotation_angle")


def check_consistent(f, e):
    c = e["consistent"]
    codes = f[c["status"]][()]
    d, t = f[c["dataset"]], f[theta_path(c["dataset"])][()]
    expect(int((codes == 1).sum()) == c["written"] and int((codes == 0).sum()) == len(codes) - c["written"],
           f"status {codes.tolist()} for {c['written']} frames written")
    for k, code in enumerate(codes):
        if code == 1:
            expect(np.array_equal(d[k], pixels(k, e)), f"slot {k}: pixels {d[k][0, :4]}, not pattern {k}")
            expect(same(t[k], k * c["step"]), f"slot {k}: theta {t[k]}, expected {k * c['step']}")
        else:
            expect(math.isnan(t[k]), f"empty slot {k} has theta {t[k]}")


def main():
    path, expect_path = sys.argv[1], sys.argv[2]
    e = json.load(open(expect_path))
    with h5py.File(path, "r") as f:
        check_stacks(f, e)
        for p, codes in e.get("status", {}).items():
            got = f[p][()]
            expect(got.dtype == np.uint8 and got.tolist() == codes, f"{p} = {got.tolist()}, expected {codes}")
        check_columns(f, e)
        for key, want in e.get("attrs", {}).items():
            p, name = key.split("@")
            got = f[p].attrs.get(name)
            got = text(got) if isinstance(want, str) else np.asarray(got).tolist()
            expect(got == want, f"{key} = {got!r}, expected {want!r}")
        check_tables(f, e)
        if e.get("nxtomo"):
            check_nxtomo(f, e)
        if "filter" in e:
            expect(e["filter"] in f["/exchange/data"]._filters, f"filters {f['/exchange/data']._filters}")
        if "consistent" in e:
            check_consistent(f, e)
        for p in e.get("absent", []):
            expect(p not in f, f"{p} should not exist")
    if e.get("dxchange"):
        check_dxchange(path, e)
    print(f"checked={checked}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
