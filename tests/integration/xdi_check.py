#!/usr/bin/python3
"""An XDI 1.0 file checked by the rules libxdifile applies (reference:
file-formats.md §4), written from those facts, not from pandafly's writer.

Usage: xdi_check.py FILE [--expect-warning CODE ...]
Prints the verdict. Exit 1 when the file has a read error (codes < 0), a read
warning, a per-item warning not in --expect-warning, or a recommendation code
other than 0 (what the reference's harness advice, §4.3, fails on); also when
an expected warning did not occur.
"""
import argparse
import math
import re
import sys

DEFINED = {"facility", "beamline", "mono", "detector", "sample", "scan", "element", "column"}
FAMILY = re.compile(r"^[A-Za-z_][A-Za-z_0-9]+$")  # at least 2 characters, no dashes (§4.4)
KEY = re.compile(r"^[A-Za-z0-9_]+$")
ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2}):(\d{2})")


def check(path):
    errors, read_warnings, item_warnings = [], [], []
    raw = open(path, "rb").read().decode("ascii")
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > 16384:
        errors.append((-27, "more than 16384 lines"))
    if not lines or not re.match(r"^#\s*XDI/1\.0", lines[0]):
        return [(-1, "no version on line 1")], [], [], {}, [], 0
    tokens = lines[0].lstrip("#").split()[1:]
    apps = {t.split("/")[0].lower() for t in tokens}
    fields, i, in_comments, header_end = {}, 1, False, False
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("#"):
            i -= 1
            break
        body = line[1:].strip()
        if re.match(r"^-{3,}", body) and line.startswith("#-"):
            header_end = True
            break
        if re.match(r"^/{3,}", body):
            in_comments = True
            continue
        if in_comments:
            continue
        m = re.match(r"^([^.:\s]+)\.([^:\s]+):\s?(.*)$", body)
        if not m:
            errors.append((-8, f"line {i}: not Family.key: value"))
            continue
        family, key, value = m.group(1), m.group(2), m.group(3).strip()
        if not FAMILY.match(family):
            errors.append((-2, f"line {i}: family {family!r}"))
        if not KEY.match(key):
            errors.append((-4, f"line {i}: key {key!r}"))
        fields[f"{family.lower()}.{key.lower()}"] = value  # the last occurrence wins
    if not header_end:
        read_warnings.append((2, "no #---- line"))
    # An optional column-label line, then the data.
    if i < len(lines) and lines[i].startswith("#") and header_end:
        i += 1
    rows, ncols = [], None
    for n, line in enumerate(lines[i:], start=i + 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            errors.append((-32, f"line {n}: a comment in the data"))
            continue
        parts = s.split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            errors.append((-32, f"line {n}: not numbers"))
            continue
        if any(math.isnan(v) or math.isinf(v) for v in values):
            errors.append((-32, f"line {n}: nan/inf"))
        if ncols is None:
            ncols = len(values)
            if len(s) <= 3:
                errors.append((-32, f"line {n}: the first data line must be longer than 3 characters"))
        elif len(values) != ncols:
            errors.append((-16, f"line {n}: {len(values)} columns, not {ncols}"))
        rows.append(values)
    if not rows:
        errors.append((-32, "no data"))
    col1 = fields.get("column.1", "").split()
    abscissa = col1[0].lower() if col1 else ""
    if abscissa not in ("energy", "angle"):
        item_warnings.append((105, f"Column.1 is {abscissa!r}, not energy or angle"))
    if abscissa == "angle" and "mono.d_spacing" not in fields:
        read_warnings.append((1, "no Mono.d_spacing with an angle array"))
    for name, value in fields.items():
        family = name.split(".")[0]
        if family not in DEFINED and family not in apps:
            item_warnings.append((104, f"{name}: extension family not on the version line"))
        if name in ("scan.start_time", "scan.end_time"):
            m = ISO.match(value)
            if not m:
                item_warnings.append((106, f"{name}: {value!r} is not ISO 8601"))
            else:
                y, mo, d, h, mi, se = (int(g) for g in m.groups())
                if not (y >= 1900 and 1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and se <= 59):
                    item_warnings.append((107, f"{name}: {value!r} out of range"))
    recommended = 0
    for bit, name in ((1, "facility.name"), (2, "facility.xray_source"), (4, "beamline.name"),
                      (8, "scan.start_time"), (16, "column.1")):
        if not fields.get(name):
            recommended |= bit
    return errors, read_warnings, item_warnings, fields, rows, recommended


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--expect-warning", type=int, action="append", default=[])
    a = ap.parse_args()
    errors, read_warnings, item_warnings, fields, rows, recommended = check(a.file)
    for code, what in errors:
        print(f"error {code}: {what}")
    for code, what in read_warnings:
        print(f"read warning {code}: {what}")
    for code, what in item_warnings:
        print(f"item warning {code}: {what}")
    print(f"{len(rows)} rows, {len(fields)} fields, recommendation code {recommended}")
    codes = {c for c, _ in item_warnings}
    bad = bool(errors or read_warnings or recommended or (codes - set(a.expect_warning))
               or (set(a.expect_warning) - codes))
    return 1 if bad else 0


sys.exit(main())
