#!/usr/bin/python3
"""image1:ArrayData of the beamline simulator carries the frame ZMQ1 sends.

Usage: sim_beamline_ca_frames.py ZMQ_PORT N
Run with the EPICS_CA_* settings of a running `pandafly-sim beamline` (on
tests/integration/fly_beamline.toml: 256 x 256 UInt16, the shutter
BEATS:shutter:, the sample motor micos:m2) whose camera PUSHes to
tcp://127.0.0.1:ZMQ_PORT (bound here as PULL). The camera is put in software
trigger mode (Multiple, N images) and triggered N >= 5 times, one frame at a
time: projections at several angles, a dark (shutter closed) and a flat
(sample out), by the rules of the reference (channel-access.md §4.2: the
standard-arrays plugin posts ArrayData before its UniqueId_RBV). Each frame is
received over ZMQ (ADZMQ, decoded here by file-formats.md §3.3) and over CA
(image1:ArrayData read after the UniqueId_RBV monitor reports that frame's
number); each CA frame must equal the ZMQ frame with the same number pixel for
pixel, and must not be the camera's test gradient ((x + y) mod 256).
"""
import json
import queue
import sys
import time

import epics
import numpy as np
import zmq

W = H = 256
P = "FLIR5:"
TIMEOUT = 60.0


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def pv(name):
    p = epics.PV(name, auto_monitor=False)
    if not p.wait_for_connection(timeout=TIMEOUT):
        fail(f"{name} did not connect")
    return p


def put(name, value):
    p = pv(name)
    if isinstance(value, str):
        p.get_ctrlvars()
        value = list(p.enum_strs).index(value)
    if p.put(value, wait=True, timeout=TIMEOUT) is None:
        fail(f"put {name} {value} timed out")


def decode(parts):
    if len(parts) != 2:
        fail(f"ZMQ message of {len(parts)} parts")
    header = json.loads(parts[0].decode())
    if header["type"] != "uint16" or header["shape"] != [H, W]:
        fail(f"ZMQ header {header}")
    return header, np.frombuffer(parts[1], dtype="<u2").reshape(H, W)


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    assert n >= 5
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, int(TIMEOUT * 1000))
    pull.setsockopt(zmq.LINGER, 0)
    pull.bind(f"tcp://127.0.0.1:{port}")

    ids = queue.Queue()
    uid = epics.PV(P + "image1:UniqueId_RBV", callback=lambda value, **kw: ids.put(int(value)))
    if not uid.wait_for_connection(timeout=TIMEOUT):
        fail("image1:UniqueId_RBV did not connect")
    baseline = ids.get(timeout=TIMEOUT)  # the monitor's first update: the value now
    data = pv(P + "image1:ArrayData")

    put(P + "cam5:TriggerMode", "On")
    put(P + "cam5:TriggerSource", "Software")
    put(P + "cam5:ImageMode", "Multiple")
    put(P + "cam5:NumImages", n)
    put(P + "cam5:ArrayCallbacks", "Enable")
    put(P + "image1:EnableCallbacks", "Enable")
    put(P + "image1:ArrayCallbacks", "Enable")
    put(P + "ZMQ1:EnableCallbacks", "Enable")
    pv(P + "cam5:Acquire").put(1)  # no wait: it completes after the last frame

    # What each frame sees: (rotation deg, shutter, sample_x mm, kind).
    plan = [(0.0, "Open", 0.0, "projection"), (37.5, "Open", 0.0, "projection"),
            (37.5, "Close", 0.0, "dark"), (37.5, "Open", 10.0, "flat"),
            (90.0, "Open", 0.0, "projection")]
    plan += [(90.0 + 10.0 * k, "Open", 0.0, "projection") for k in range(n - len(plan))]
    gradient = ((np.arange(W)[None, :] + np.arange(H)[:, None]) % 256).astype(np.int64)
    frames = []
    for k, (angle, shutter, sample, kind) in enumerate(plan, start=1):
        put("micos:m1.VAL", angle)
        put("BEATS:shutter:Cmd", shutter)
        put("micos:m2.VAL", sample)
        put(P + "cam5:TriggerSoftware", 1)
        header, zmq_frame = decode(pull.recv_multipart())
        want = baseline + k
        if header["frame"] != want:
            fail(f"ZMQ frame {header['frame']}, want {want}")
        # Wait on the frame itself: image1's UniqueId_RBV reaching it.
        deadline = time.monotonic() + TIMEOUT
        while True:
            got = ids.get(timeout=max(0.0, deadline - time.monotonic()))
            if got == want:
                break
            if got > want:
                fail(f"image1:UniqueId_RBV jumped to {got}, want {want}")
        ca = np.asarray(data.get(timeout=TIMEOUT, use_monitor=False), dtype=np.int64)
        if ca.size != W * H:
            fail(f"frame {want}: image1:ArrayData has {ca.size} elements, want {W * H}")
        ca = ca.reshape(H, W)
        same = np.array_equal(ca, zmq_frame.astype(np.int64))
        is_gradient = np.array_equal(ca.ravel()[1:], gradient.ravel()[1:])
        print(f"frame {want} ({kind}, {angle} deg): ZMQ mean {zmq_frame.mean():.1f}, "
              f"CA mean {ca.mean():.1f}, equal {same}, gradient {is_gradient}")
        if is_gradient:
            fail(f"frame {want}: image1:ArrayData is the test gradient, not the frame")
        if not same:
            diff = int(np.count_nonzero(ca != zmq_frame))
            fail(f"frame {want}: image1:ArrayData differs from the ZMQ frame in {diff} pixels")
        frames.append((kind, zmq_frame))
    # The frames are what their kind says (so a dark or a flat was not a
    # projection in disguise), and no two are the same image (noise per frame).
    mean = {kind: np.mean([f.mean() for k, f in frames if k == kind]) for kind, _ in frames}
    if not (mean["dark"] < mean["projection"] < mean["flat"]):
        fail(f"means by kind {mean}: want dark < projection < flat")
    for i in range(len(frames)):
        for j in range(i):
            if np.array_equal(frames[i][1], frames[j][1]):
                fail(f"frames {baseline + j + 1} and {baseline + i + 1} are identical")
    print(f"PASS: {n} frames over CA equal to ZMQ's")


if __name__ == "__main__":
    main()
