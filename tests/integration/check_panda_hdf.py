#!/usr/bin/python3
"""Reads a PandA capture file written by pandafly's PandaHdfWriter and prints
what it finds as `key=value` lines, for the C++ tests to compare:

    open=ok                     the file opened (else `error=...`, exit status 1)
    columns=A,B,...             the column datasets, sorted
    rows.<column>=N             length of each column
    type.<column>=float64       numpy dtype name, or int96 for 96-bit integers
    attr./.<name>=value         root attributes
    attr.<column>.<name>=value  column attributes
    end.<name>=value            the /end datasets
    match.<column>=yes|no@ROW   with --expect DIR: whether the column's bytes equal
                                the first rows of DIR/<column>.bin (raw little-endian
                                values as handed to the writer), or the first row
                                that differs

Usage: check_panda_hdf.py FILE [--swmr] [--expect DIR]
--swmr opens the file as a SWMR reader (while the writer still has it open).
"""
import argparse
import os
import sys

import h5py
import numpy as np


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\0")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    if isinstance(value, (np.floating, float)):
        return repr(float(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def is_int96(dset):
    """pandafly's int96: the 12-byte compound {lo <u8, hi <i4} (h5/datatype.hpp)."""
    t = dset.dtype
    return t.names == ("lo", "hi") and t.itemsize == 12


def int96_values(dset):
    """The 96-bit integers, exactly, as read by plain h5py."""
    return [int(r["hi"]) * 2**64 + int(r["lo"]) for r in dset[()]]


def raw_bytes(dset):
    """The column as little-endian bytes, 96-bit integers included."""
    if is_int96(dset):
        return b"".join(v.to_bytes(12, "little", signed=True) for v in int96_values(dset))
    return np.ascontiguousarray(dset[()]).astype(dset.dtype.newbyteorder("<")).tobytes()


def first_difference(got, want, row_bytes):
    for row in range(len(got) // row_bytes):
        lo, hi = row * row_bytes, (row + 1) * row_bytes
        if got[lo:hi] != want[lo:hi]:
            return row
    return len(got) // row_bytes


def compare(name, dset, expect_dir):
    path = os.path.join(expect_dir, name + ".bin")
    with open(path, "rb") as f:
        want = f.read()
    got = raw_bytes(dset)
    row_bytes = dset.id.get_type().get_size()
    if len(got) <= len(want) and got == want[: len(got)]:
        return "yes"
    return "no@%d" % first_difference(got, want, row_bytes)


def report(f, expect_dir):
    columns = sorted(k for k in f if isinstance(f[k], h5py.Dataset))
    print("columns=" + ",".join(columns))
    for key, value in sorted(f.attrs.items()):
        print("attr./.%s=%s" % (key, text(value)))
    for name in columns:
        dset = f[name]
        print("rows.%s=%d" % (name, dset.shape[0]))
        print("type.%s=%s" % (name, "int96" if is_int96(dset) else dset.dtype.name))
        for key, value in sorted(dset.attrs.items()):
            print("attr.%s.%s=%s" % (name, key, text(value)))
        if expect_dir:
            print("match.%s=%s" % (name, compare(name, dset, expect_dir)))
    if "end" in f:
        for key in sorted(f["end"]):
            print("end.%s=%s" % (key, text(f["end"][key][()])))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--swmr", action="store_true")
    parser.add_argument("--expect")
    args = parser.parse_args()
    try:
        with h5py.File(args.file, "r", swmr=args.swmr) as f:
            print("open=ok")
            report(f, args.expect)
    except Exception as e:  # report, don't trace: the C++ test prints our stdout
        print("error=%s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
