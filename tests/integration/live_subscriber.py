#!/usr/bin/python3
"""A pyzmq subscriber to capture::LivePublisher, decoding by the reference's
rules (shared/reference/file-formats.md §3.3), written without the project's
decoder: a two-part message, a JSON header whose keys come in the plugin's
order, `type` one of the ten wire types, `shape` slowest first, a data part of
exactly prod(shape) * itemsize little-endian bytes.

Usage: live_subscriber.py ENDPOINT N
Prints "ready" once the first message (a probe, ProjectionIndex >= 999999)
arrived, then one line per projection for the next N non-probe messages:
  index frame timeStamp angle start shape0xshape1 pixel_sum first last location
(angle/start as Python repr, "Undefined"/"-" when absent). Exit 0 when N were
read; non-zero with a message on stderr otherwise (30 s receive timeout).
"""
import json
import sys

import numpy as np
import zmq

TYPES = {"int8": "i1", "uint8": "u1", "int16": "<i2", "uint16": "<u2", "int32": "<i4",
         "uint32": "<u4", "int64": "<i8", "uint64": "<u8", "float32": "<f4", "float64": "<f8"}
KEYS = ["htype", "type", "shape", "frame", "timeStamp", "encoding", "ndattr"]
PROBE = 999999


def decode(parts):
    if len(parts) != 2:
        raise ValueError(f"message of {len(parts)} parts, want 2")
    text = parts[0].decode("utf-8")
    if text.endswith("\0"):
        raise ValueError("header has a trailing NUL")
    header = json.loads(text)
    if list(header.keys()) != KEYS:
        raise ValueError(f"header keys {list(header.keys())}, want {KEYS}")
    if header["htype"] != "array-1.0" or header["encoding"] != "":
        raise ValueError(f"htype/encoding: {text}")
    dtype = np.dtype(TYPES[header["type"]])
    shape = header["shape"]
    if len(parts[1]) != int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"data {len(parts[1])} bytes for shape {shape} {header['type']}")
    return header, np.frombuffer(parts[1], dtype=dtype).reshape(shape)


def main():
    endpoint, wanted = sys.argv[1], int(sys.argv[2])
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVTIMEO, 30000)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    ready = False
    got = 0
    while got < wanted:
        try:
            header, pixels = decode(sub.recv_multipart())
        except zmq.Again:
            sys.exit(f"live_subscriber: nothing for 30 s after {got} projections")
        attrs = header["ndattr"]
        if not ready:
            print("ready", flush=True)
            ready = True
        if attrs["ProjectionIndex"] >= PROBE:
            continue
        angle = attrs["PandaTheta"]
        start = attrs.get("PandaThetaStart")
        print(attrs["ProjectionIndex"], header["frame"], repr(header["timeStamp"]),
              angle if isinstance(angle, str) else repr(angle),
              "-" if start is None else repr(start),
              "x".join(str(d) for d in header["shape"]), int(pixels.sum(dtype=np.int64)),
              int(pixels.flat[0]), int(pixels.flat[-1]), attrs["HDF5FrameLocation"], flush=True)
        got += 1


if __name__ == "__main__":
    main()
