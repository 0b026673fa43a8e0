#!/usr/bin/python3
"""CPU used by `pandactl capture` at a given PandA data rate.

Starts panda_stream_peer (the simulator streaming RAW samples, the 60-byte
row of ../shared/BENCHMARKS.md, at the rate that makes --mb-per-s, for
--seconds), runs
`pandactl capture` against it into a file under --dir, and reports the
capture's CPU time (user + system, from getrusage of the child) as a
percentage of one core over the wall time of the acquisition. As the
reference measured in the same run, it then writes the same number of bytes
as the capture file with `dd bs=512K` into the same directory (page cache, no
sync) and reports that CPU over the same wall time: the kernel's cost of
writing the file at all, which pandafly cannot go below.

Usage: capture_cpu.py PANDACTL PEER [--mb-per-s 60] [--seconds 10] [--dir /tmp]
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROW_BYTES = 60  # panda_stream_peer --row60


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pandactl")
    ap.add_argument("peer")
    ap.add_argument("--mb-per-s", type=float, default=60.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--store-raw", action="store_true", help="pass --store-raw to pandactl capture")
    ap.add_argument("--chunk-rows", type=int, help="pass --chunk-rows to pandactl capture")
    a = ap.parse_args()
    rate = a.mb_per_s * 1e6 / ROW_BYTES
    rows = int(rate * a.seconds)
    peer = subprocess.Popen([a.peer, "--rows", str(rows), "--rate", str(rate), "--same-block", "--row60"],
                            stdout=subprocess.PIPE, text=True)
    port = re.search(r"data 127\.0\.0\.1:(\d+)", peer.stdout.readline()).group(1)
    out = os.path.join(a.dir, f"capture_cpu_{os.getpid()}.h5")
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        rc = subprocess.run([a.pandactl, "--host", "127.0.0.1", "--data-port", port, "capture", out,
                             "--quiet", "--timeout", "10", "--force"]
                            + (["--store-raw"] if a.store_raw else [])
                            + (["--chunk-rows", str(a.chunk_rows)] if a.chunk_rows else [])).returncode
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peer.wait(timeout=30)
    finally:
        if peer.poll() is None:  # pandactl could not start, or never finished the stream
            peer.kill()
            peer.wait()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    size = os.path.getsize(out)
    os.remove(out)
    ref = os.path.join(a.dir, f"capture_cpu_ref_{os.getpid()}")
    before_ref = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["dd", "if=/dev/zero", f"of={ref}", "bs=512K", f"count={size // (512 * 1024) + 1}"],
                   stderr=subprocess.DEVNULL, check=True)
    after_ref = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.remove(ref)
    ref_cpu = (after_ref.ru_utime - before_ref.ru_utime) + (after_ref.ru_stime - before_ref.ru_stime)
    print(f"rows={rows} input_MB_per_s={rows * ROW_BYTES / wall / 1e6:.1f} wall_s={wall:.2f} "
          f"user_s={after.ru_utime - before.ru_utime:.3f} sys_s={after.ru_stime - before.ru_stime:.3f} "
          f"cpu_s={cpu:.3f} cpu_percent_of_one_core={100 * cpu / wall:.1f} file_MB={size / 1e6:.1f} "
          f"dd_same_bytes_cpu_percent={100 * ref_cpu / wall:.1f} ratio={cpu / ref_cpu:.2f} rc={rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
