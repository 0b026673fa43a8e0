#!/usr/bin/python3
"""Reads a DXfile written by dx::Writer with a shipped layout as other tools do
(issue 15): h5py, and Debian's python3-dxchange metadata readers
read_hdf_meta / create_standard_meta. Expected values come from the layout XML
(what it places where, with which type=) and the NDAttribute values the C++ test
handed to the writer (PLAN.json), never from the file itself.

Usage: dx_interop_check.py FILE PLAN.json
Plan: {"layout": path, "values": {NDAttribute: value}, "frames": [{"to": detector
path, "PandaTheta": deg, "theta_readout": deg, "RingCurrent": value or null}]}

Checks:
  * strings as NDFileHDF5 writes them: every string attribute and string dataset
    is fixed length and NUL-terminated; an attribute is strlen + 1 bytes;
  * no scalar dataset (NDFileHDF5 writes single values with shape (1,));
  * read_hdf_meta does not fail and returns every value the layout places
    (constants, OnFileOpen, OnFileClose, and hard links to them), energy and
    end date included; layout type= int/float give int32/float64;
  * create_standard_meta (Debian) does not fail and returns the given values;
    the paths upstream's create_standard_meta reads exist (file-formats.md 1.4);
  * ColorMode is int32 (an areaDetector driver's NDAttrInt32);
  * an NDAttribute Undefined on frame 1 and numeric later is float64, NaN then
    the numbers;
  * the NXtomo view has what NXtomo.nxdl.xml requires (groups and NX_class,
    definition, detector data @signal=1 and image_key, sample name and
    rotation_angle with units and @axis=1, NXdata links carrying @target) and
    the optional title/start_time/end_time the scan gave;
  * one angle: the NDAttribute the layout places at image_theta fills
    /exchange/theta{,_dark,_white} and image_theta, and @description names it.
Prints "FAIL: ..." per mismatch; exit 1 on any.
"""
import json
import math
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

failures = []


def expect(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def layout_items(layout_path):
    """(path, kind, value-or-ndattribute, type) of every layout dataset that
    holds one value, and (link path, target) of every hard link."""
    root = ET.parse(layout_path).getroot()
    singles, links, per_frame = [], [], {}

    def walk(elem, path):
        for child in elem:
            name = child.get("name")
            if child.tag == "group":
                walk(child, path + "/" + name)
            elif child.tag == "hardlink":
                links.append((path + "/" + name, child.get("target")))
            elif child.tag == "dataset":
                p = path + "/" + name
                src = child.get("source")
                when = child.get("when")
                if src == "constant":
                    singles.append((p, "constant", child.get("value"), child.get("type", "string")))
                elif src == "ndattribute" and when in ("OnFileOpen", "OnFileClose"):
                    singles.append((p, "ndattribute", child.get("ndattribute"), child.get("type")))
                elif src == "ndattribute":
                    per_frame[p] = child.get("ndattribute")

    walk(root, "")
    return singles, links, per_frame


def meta_key(path):
    return "_".join(path.split("/"))[1:]  # read_hdf_meta's naming


def same_value(got, want):
    if isinstance(want, str):
        return got == want
    try:
        return math.isclose(float(got), float(want), rel_tol=0, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def check_strings_and_shapes(f):
    def visit(name, obj):
        path = "/" + name
        for an in obj.attrs:
            tid = obj.attrs.get_id(an).get_type()
            if isinstance(tid, h5py.h5t.TypeStringID):
                expect(not tid.is_variable_str(), f"{path}@{an}: variable-length string")
                if not tid.is_variable_str():
                    expect(tid.get_strpad() == h5py.h5t.STR_NULLTERM,
                           f"{path}@{an}: not NUL-terminated")
                    raw = obj.attrs[an]
                    longest = max(len(bytes(x)) for x in np.atleast_1d(raw))
                    expect(tid.get_size() == longest + 1,
                           f"{path}@{an}: {tid.get_size()} bytes for {raw!r}")
        if isinstance(obj, h5py.Dataset):
            expect(obj.shape != (), f"{path}: a scalar dataset (NDFileHDF5 writes shape (1,))")
            tid = obj.id.get_type()
            if isinstance(tid, h5py.h5t.TypeStringID):
                expect(not tid.is_variable_str(), f"{path}: variable-length string dataset")
                if not tid.is_variable_str():
                    expect(tid.get_strpad() == h5py.h5t.STR_NULLTERM,
                           f"{path}: string dataset not NUL-terminated")

    f.visititems(visit)


def check_meta(path, f, plan):
    from dxchange import reader
    singles, links, _ = layout_items(plan["layout"])
    values = plan["values"]
    try:
        _, meta = reader.read_hdf_meta(path)
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        expect(False, f"read_hdf_meta: {type(e).__name__}: {e}")
        return
    targets = {}
    for p, kind, what, typ in singles:
        if kind == "constant":
            want = what if typ in (None, "string") else float(what)
        else:
            expect(what in values, f"{p}: the test gives no value for NDAttribute {what}")
            want = values.get(what)
        targets[p] = want
        key = meta_key(p)
        expect(key in meta, f"read_hdf_meta: no {key} ({p})")
        if key in meta:
            expect(same_value(meta[key][0], want), f"read_hdf_meta {key}: {meta[key][0]!r} != {want!r}")
        if typ in ("int", "float") and p in f:
            dt = np.dtype("int32" if typ == "int" else "float64")
            expect(f[p].dtype == dt, f"{p}: {f[p].dtype}, the layout says {typ} ({dt})")
    for link, target in links:
        if target in targets:
            key = meta_key(link)
            expect(key in meta and same_value(meta[key][0], targets[target]),
                   f"read_hdf_meta: hard link {link} -> {target} missing or wrong")
    for must in ("measurement_instrument_monochromator_energy", "process_acquisition_end_date"):
        expect(must in meta, f"read_hdf_meta: no {must}")
    print(f"read_hdf_meta={len(meta)}", flush=True)
    try:
        std = reader.create_standard_meta(path)
    except Exception as e:  # noqa: BLE001
        expect(False, f"create_standard_meta: {type(e).__name__}: {e}")
        return
    wants = {"pixel_size": values["DetectorPixelSize"], "binning_x": values["BinX"],
             "binning_y": values["BinY"], "distance": values["CameraDistance"],
             "energy": values["Energy"], "exposure_time": values["ExposureTime"],
             "time_stamp": values["DateTimeStart"], "uuid": values["SampleUUID"]}
    for k, want in wants.items():
        expect(k in std and same_value(std[k][0], want), f"create_standard_meta {k}: "
               f"{std.get(k)!r} != {want!r}")
    # Upstream dxchange's create_standard_meta (file-formats.md 1.4) reads these.
    for p in ("/measurement/instrument/detection_system/objective/resolution",
              "/measurement/instrument/detector_motor_stack/setup/z",
              "/measurement/instrument/monochromator/energy", "/process/acquisition/end_date"):
        expect(p in f and f[p].shape == (1,), f"{p}: missing or not shape (1,)")
    print("create_standard_meta=ok", flush=True)


def check_frames(f, plan):
    frames = plan["frames"]
    cm = f.get("/defaults/ColorMode")
    expect(cm is not None and cm.dtype == np.int32, f"/defaults/ColorMode: {cm and cm.dtype}")
    rc = f.get("/defaults/RingCurrent")
    expect(rc is not None and rc.dtype == np.float64,
           f"/defaults/RingCurrent (Undefined first): {rc and rc.dtype}")
    if rc is not None and rc.dtype.kind == "f":
        want = [math.nan if fr["RingCurrent"] is None else fr["RingCurrent"] for fr in frames]
        expect(np.allclose(rc[()], want, equal_nan=True), f"RingCurrent {rc[()]} != {want}")
    _, _, per_frame = layout_items(plan["layout"])
    angle = per_frame.get("/process/acquisition/image_theta")
    expect(angle is not None, "the layout places no image_theta")
    if angle is None:
        return
    image_theta = f["/process/acquisition/image_theta"][()]
    expect(np.allclose(image_theta, [fr[angle] for fr in frames]),
           f"image_theta {image_theta} is not NDAttribute {angle}")
    for dest in ("/exchange/data", "/exchange/data_dark", "/exchange/data_white"):
        tp = dest.replace("/data", "/theta")
        want = [fr[angle] for fr in frames if fr["to"] == dest]
        expect(np.allclose(f[tp][()], want), f"{tp} {f[tp][()]} is not NDAttribute {angle}: {want}")
        desc = f[tp].attrs.get("description", b"")
        expect(angle.encode() in bytes(desc), f"{tp}@description {desc!r} does not name {angle}")
    impl = f["/implements"]
    expect(impl.shape == (1,) and impl[0] == b"exchange:measurement:process",
           f"/implements {impl.shape} {impl[()]!r}")


# NXtomo (nexusformat/definitions applications/NXtomo.nxdl.xml), written out
# from the definition: group path -> NX_class; required fields; attributes.
NXTOMO_GROUPS = {"/entry": "NXentry", "/entry/instrument": "NXinstrument",
                 "/entry/instrument/detector": "NXdetector", "/entry/sample": "NXsample",
                 "/entry/data": "NXdata"}
NXTOMO_FIELDS = {  # path: (numpy kind(s), rank) — NX_INT / NX_FLOAT / text
    "/entry/definition": ("S", None),
    "/entry/instrument/detector/data": ("iu", 3),
    "/entry/instrument/detector/image_key": ("iu", 1),
    "/entry/sample/name": ("S", None),
    "/entry/sample/rotation_angle": ("f", 1),
}
NXTOMO_LINKS = {"/entry/data/data": "/entry/instrument/detector/data",
                "/entry/data/rotation_angle": "/entry/sample/rotation_angle",
                "/entry/data/image_key": "/entry/instrument/detector/image_key"}


def first_text(d):
    v = d[()]
    v = v.reshape(-1)[0] if getattr(v, "shape", ()) else v
    return bytes(v).rstrip(b"\0").decode()


def attr_text(obj, name):
    v = obj.attrs.get(name)
    return None if v is None else (v.decode() if isinstance(v, bytes) else str(v))


def check_nxtomo(f, plan):
    frames = plan["frames"]
    n = len(frames)
    for p, cls in NXTOMO_GROUPS.items():
        expect(p in f and isinstance(f[p], h5py.Group), f"NXtomo: no group {p}")
        if p in f:
            expect(attr_text(f[p], "NX_class") == cls, f"NXtomo: {p}@NX_class is not {cls}")
    for p, (kinds, rank) in NXTOMO_FIELDS.items():
        expect(p in f and f[p].dtype.kind in kinds, f"NXtomo: {p} missing or not {kinds}")
        if p in f and rank is not None:
            expect(f[p].ndim == rank and f[p].shape[0] == n, f"NXtomo: {p} shape {f[p].shape}")
    if "/entry/definition" in f:
        expect(first_text(f["/entry/definition"]) == "NXtomo", "NXtomo: definition")
    det = f.get("/entry/instrument/detector/data")
    expect(det is not None and det.attrs.get("signal") == 1, "NXtomo: detector/data@signal != 1")
    key = f.get("/entry/instrument/detector/image_key")
    want_key = [{"/exchange/data": 0, "/exchange/data_white": 1, "/exchange/data_dark": 2}[fr["to"]]
                for fr in frames]
    expect(key is not None and sorted(key[()]) == sorted(want_key) and set(key[()]) <= {0, 1, 2, 3},
           "NXtomo: image_key values")
    angle = f.get("/entry/sample/rotation_angle")
    expect(angle is not None and attr_text(angle, "units") in ("degree", "degrees", "deg"),
           "NXtomo: rotation_angle@units is not an angle unit")
    expect(angle is not None and angle.attrs.get("axis") == 1, "NXtomo: rotation_angle@axis != 1")
    for link, target in NXTOMO_LINKS.items():
        ok = link in f and target in f and f[link].id == f[target].id
        expect(ok, f"NXtomo: {link} is not a link to {target}")
        if ok:
            expect(attr_text(f[link], "target") == target, f"NXtomo: {link}@target != {target}")
    values = plan["values"]
    for field, name in (("title", "ExperimentTitle"), ("start_time", "DateTimeStart"),
                        ("end_time", "DateTimeEnd")):
        p = "/entry/" + field
        expect(p in f and first_text(f[p]) == values[name], f"NXtomo: {p} is not {values[name]!r}")
    print("nxtomo=ok", flush=True)


def main():
    path, plan_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as fp:
        plan = json.load(fp)
    with h5py.File(path, "r") as f:
        check_strings_and_shapes(f)
        check_frames(f, plan)
        check_nxtomo(f, plan)
        check_meta(path, f, plan)
    print(f"failures={len(failures)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
