"""Shared by the `pandafly motionbox serve` tests (issue 19): starts the
testing bench (`pandafly-sim ca --config motionbox_bench.toml`) and the
server on free ports, reads server-sent events, calls the JSON API.
Waits are on events (log lines, SSE events); times are only failure guards."""
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

# The seed's kind of file, with keys this program does not know (kept as they are).
BENCH = {
    "comment": "the testing bench",
    "general": {"tolerance": 0.5, "operator": "beats"},
    "motors": {
        "A": {"pv_root": "bench:A", "lo_lim": -20, "hi_lim": 20, "center": 0},
        "B": {"note": "off by 5 before homing", "pv_root": "bench:B", "lo_lim": -12,
              "hi_lim": 11.5, "center": 1},
        "C": {"pv_root": "bench:C", "lo_lim": -25, "hi_lim": 27.5, "center": 2.5},
        "D": {"pv_root": "bench:D", "lo_lim": -10, "hi_lim": 10, "center": -1},
        "E": {"pv_root": "bench:E", "lo_lim": 0, "hi_lim": 180, "center": 90},
    },
}


def fail(msg):
    raise SystemExit("FAIL: " + msg)


def wait_line(path, regex, proc, guard=60):
    """The first match of regex in the file at path; fails when proc ends first."""
    end = time.monotonic() + guard
    while time.monotonic() < end:
        with open(path) as f:
            m = re.search(regex, f.read())
        if m:
            return m
        if proc.poll() is not None:
            fail(f"{proc.args[0]} ended ({proc.returncode}) before /{regex}/: " + open(path).read())
        time.sleep(0.05)
    fail(f"no /{regex}/ in {path} within {guard} s: " + open(path).read())


class Bench:
    """The simulator and the server, each a process with its log in a temp dir."""

    def __init__(self, pandafly, sim, ca, src):
        self.pandafly, self.ca_bin = pandafly, ca
        self.work = tempfile.mkdtemp(prefix="motionbox_serve.")
        self.json_path = os.path.join(self.work, "bench.json")
        with open(self.json_path, "w") as f:
            json.dump(BENCH, f, indent=4)
        self.procs = []
        sim_log = os.path.join(self.work, "sim.log")
        self.sim = self.spawn([sim, "ca", "--config",
                               os.path.join(src, "tests/integration/motionbox_bench.toml"),
                               "--port", "0", "--repeater-port", "0"], sim_log)
        m = wait_line(sim_log, r"ca: 127\.0\.0\.1:(\d+) repeater 127\.0\.0\.1:(\d+)", self.sim)
        port, repeater = m.group(1), m.group(2)
        self.env = dict(os.environ, EPICS_CA_ADDR_LIST="127.0.0.1:" + port,
                        EPICS_CA_AUTO_ADDR_LIST="NO", EPICS_CA_SERVER_PORT=port,
                        EPICS_CA_REPEATER_PORT=repeater)
        self.server_log = os.path.join(self.work, "server.log")
        self.server = self.spawn([pandafly, "motionbox", "serve", self.json_path, "--port", "0"],
                                 self.server_log)
        m = wait_line(self.server_log, r"on http://127\.0\.0\.1:(\d+)/", self.server)
        self.url = f"http://127.0.0.1:{m.group(1)}"

    def spawn(self, args, log):
        p = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             env=getattr(self, "env", None))
        self.procs.append(p)
        return p

    def pv(self, name):
        out = subprocess.run([self.ca_bin, "--timeout", "10", "get", "-n", name], env=self.env,
                             capture_output=True, text=True, check=True).stdout.split()
        return float(out[1])

    def call(self, method, path, body=None, raw=None):
        """(status, JSON answer) of one API call; errors are answers too."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop_server(self, guard=30):
        self.server.send_signal(signal.SIGTERM)
        try:
            return self.server.wait(guard)
        except subprocess.TimeoutExpired:
            fail("the server did not stop within %d s of SIGTERM" % guard)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("PANDAFLY_KEEP"):
            print("kept", self.work)
        else:
            subprocess.run(["rm", "-rf", self.work])


class Events:
    """GET /events read on a thread; (event, data) pairs in a queue."""

    def __init__(self, url):
        self.queue = queue.Queue()
        self.status = {}  # name -> the last "status" event's data (kept by the reader)
        self.lock = threading.Lock()
        self.response = urllib.request.urlopen(url + "/events", timeout=60)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        event, data = None, None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and event is not None:
                    if event == "status":
                        with self.lock:
                            self.status[data["name"]] = data
                    self.queue.put((event, data))
                    event, data = None, None
        except Exception as e:  # noqa: BLE001 - the stream ended: tell the waiter
            self.queue.put(("closed", str(e)))
        self.queue.put(("closed", "eof"))

    def wait(self, pred, what, guard=60):
        """The first (event, data) with pred(event, data) true."""
        end = time.monotonic() + guard
        while True:
            left = end - time.monotonic()
            if left <= 0:
                with self.lock:
                    last = dict(self.status)
                fail(f"no event: {what} within {guard} s; last status per motor: {last}")
            try:
                ev, data = self.queue.get(timeout=left)
            except queue.Empty:
                continue
            if ev == "closed":
                fail(f"the event stream closed ({data}) before: {what}")
            if pred(ev, data):
                return ev, data

    def wait_status(self, name, pred, what, guard=60):
        """Waits until the last status of motor `name` satisfies pred (also
        when that status arrived before this call)."""
        with self.lock:
            last = self.status.get(name)
        if last is not None and pred(last):
            return last
        return self.wait(lambda e, d: e == "status" and d["name"] == name and pred(d), what,
                         guard)[1]
