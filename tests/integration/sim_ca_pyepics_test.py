#!/usr/bin/python3
"""The CA simulator against a real client: Debian's libca through pyepics.

Usage: sim_ca_pyepics_test.py CA_TEST_SERVER

Driver (default mode): picks a free repeater port, starts CA_TEST_SERVER on an
ephemeral port (it prints "port N repeater M"), runs this script again with
--client in a clean environment that confines libca to 127.0.0.1 and those
ports, then checks that the client passed, that its stderr has no caRepeater
warning (the simulator answers the repeater port, so libca neither spawns
caRepeater nor complains) and that the server logged no protocol error.

Client mode: caget of every native type (value, as_string, ctrl metadata,
native type and count), every DBR request type 0-34 through libca's own
ca_array_get and dbr_value_offset table, caput with wait=True on a PV whose put completes 0.5 s
later, monitor callbacks, a 1M-element array round trip, an unknown PV,
a read-only PV, and a reconnect after the server drops every connection.
"""
import os
import socket
import subprocess
import sys
import time

CLIENT_TIMEOUT = 150


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver(server_bin):
    repeater = free_udp_port()
    server = subprocess.Popen([server_bin, "--port", "0", "--repeater-port", str(repeater)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().split()
        if len(line) != 4 or line[0] != "port":
            print("FAIL: server did not start:", line, server.stderr.read())
            return 1
        port, repeater = int(line[1]), int(line[3])
        env = {k: v for k, v in os.environ.items() if not k.startswith("EPICS_")}
        env.update(EPICS_CA_AUTO_ADDR_LIST="NO", EPICS_CA_ADDR_LIST=f"127.0.0.1:{port}",
                   EPICS_CA_SERVER_PORT=str(port), EPICS_CA_REPEATER_PORT=str(repeater))
        client = subprocess.run([sys.executable, __file__, "--client"], env=env,
                                capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    finally:
        server.terminate()
        try:
            _, server_err = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            _, server_err = server.communicate()
    sys.stdout.write(client.stdout)
    sys.stdout.write("--- client stderr ---\n" + client.stderr)
    sys.stdout.write("--- server stderr ---\n" + server_err)
    failures = []
    if client.returncode != 0:
        failures.append(f"client exit code {client.returncode}")
    if "carepeater" in client.stderr.lower() or "repeater" in client.stderr.lower():
        failures.append("caRepeater warning on the client's stderr")
    if "closing" in server_err:
        failures.append("the server closed a circuit on a protocol error")
    if server.returncode != 0:
        failures.append(f"server exit code {server.returncode}")
    for f in failures:
        print("FAIL:", f)
    print("OK" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


# ---------------------------------------------------------------- client mode

class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what, flush=True)

    def eq(self, got, want, what):
        self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def near(self, got, want, what, tol=1e-6):
        self.check(got is not None and abs(got - want) <= tol, f"{what}: got {got!r}, want {want!r}")


def wait_for(predicate, timeout):
    import epics
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        epics.poll(0.01, 0.05)
    return predicate()


def check_types(c, epics):
    natives = {"test:string": 0, "test:short": 1, "test:float": 2, "test:enum": 3, "test:char": 4,
               "test:long": 5, "test:double": 6}
    for name, native in natives.items():
        pv = epics.PV(name)
        c.check(pv.wait_for_connection(5.0), f"{name} connects")
        c.eq(epics.ca.field_type(pv.chid), native, f"{name} native type")
        c.eq(pv.count, 1, f"{name} element count")
    c.eq(epics.caget("test:string"), "hello", "string")
    c.eq(epics.caget("test:short"), 7, "short")
    c.near(epics.caget("test:float"), 2.5, "float")
    c.eq(epics.caget("test:enum"), 1, "enum index")
    c.eq(epics.caget("test:enum", as_string=True), "On", "enum as string")
    c.eq(epics.caget("test:char"), 65, "char")
    c.eq(epics.caget("test:long"), 42, "long")
    c.near(epics.caget("test:double"), 3.14159, "double")
    c.eq(epics.caget("test:double", as_string=True), "3.142", "double as string (PREC 3)")
    c.eq(epics.caget("test:waveform", as_string=True), "hello waveform", "char waveform as string")
    c.near(epics.caget("test:m1"), 0.0, "rec means rec.VAL")

    ctrl = epics.PV("test:double", form="ctrl")
    ctrl.wait_for_connection(5.0)
    v = ctrl.get_ctrlvars()
    c.check(v is not None, "ctrl vars of test:double")
    if v:
        c.eq(v.get("units"), "mm", "units")
        c.eq(v.get("precision"), 3, "precision")
        c.near(v.get("upper_disp_limit"), 100.0, "upper display limit")
        c.near(v.get("lower_ctrl_limit"), -10.0, "lower control limit")
        c.near(v.get("upper_alarm_limit"), 90.0, "upper alarm limit")
        c.near(v.get("lower_warning_limit"), -80.0, "lower warning limit")
    e = epics.PV("test:enum", form="ctrl")
    e.wait_for_connection(5.0)
    ev = e.get_ctrlvars() or {}
    c.eq(tuple(ev.get("enum_strs", ())), ("Off", "On", "Auto"), "enum strings")
    s = epics.PV("test:short", form="ctrl")
    s.wait_for_connection(5.0)
    sv = s.get_ctrlvars() or {}
    c.eq(sv.get("units"), "cnt", "short units")
    c.eq(sv.get("upper_ctrl_limit"), 500, "short control limit")

    tick = epics.PV("test:ticker", form="time")
    tick.wait_for_connection(5.0)
    tick.get()
    c.check(tick.timestamp is not None and abs(tick.timestamp - time.time()) < 5,
            f"DBR_TIME stamp is the wall clock: {tick.timestamp} vs {time.time()}")


# §1.6 of the reference: struct sizes and value offsets of DBR types 0-34.
DBR_SIZE = [40, 2, 4, 2, 1, 4, 8, 44, 6, 8, 6, 6, 8, 16, 52, 16, 16, 16, 16, 16, 24,
            44, 26, 44, 424, 20, 40, 72, 44, 30, 52, 424, 22, 48, 88]
DBR_VALUE_OFFSET = [0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 5, 4, 8, 12, 14, 12, 14, 15, 12, 16,
                    4, 24, 40, 422, 19, 36, 64, 4, 28, 48, 422, 21, 44, 80]


def check_dbr_types(c, epics):
    """Every request type 0-34, read with libca's own ca_array_get and
    located with libca's own dbr_value_offset table (pyepics 3.4.1 cannot
    decode the STS and GR classes itself)."""
    import ctypes
    import struct
    lib = epics.ca.initialize_libca()
    size = (ctypes.c_ushort * 39).in_dll(lib, "dbr_size")
    offset = (ctypes.c_ushort * 39).in_dll(lib, "dbr_value_offset")
    value_size = (ctypes.c_ushort * 39).in_dll(lib, "dbr_value_size")
    c.eq(list(size)[:35], DBR_SIZE, "libca's dbr_size is the reference table")
    c.eq(list(offset)[:35], DBR_VALUE_OFFSET, "libca's dbr_value_offset is the reference table")
    unpack = {1: "<h", 2: "<f", 3: "<H", 4: "<B", 5: "<i", 6: "<d"}

    def get(name, dbr_type, count):
        pv = epics.PV(name, auto_monitor=False)
        pv.wait_for_connection(5.0)
        buf = ctypes.create_string_buffer(size[dbr_type] + (count - 1) * value_size[dbr_type])
        status = lib.ca_array_get(dbr_type, count, pv.chid, buf)
        c.eq(lib.ca_pend_io(ctypes.c_double(5.0)), 1, f"{name} as DBR type {dbr_type}")
        c.eq(status, 1, f"ca_array_get({dbr_type})")
        return buf.raw

    def element(raw, dbr_type, i):
        at = offset[dbr_type] + i * value_size[dbr_type]
        if dbr_type % 7 == 0:
            return raw[at:at + 40].split(b"\0")[0].decode()
        return struct.unpack_from(unpack[dbr_type % 7], raw, at)[0]

    want = ["3.142", 3, 3.14159, 3, 3, 3, 3.14159]
    for t in range(35):
        got = element(get("test:double", t, 1), t, 0)
        if isinstance(want[t % 7], float):
            c.near(got, want[t % 7], f"test:double as DBR type {t}", 1e-6)
        else:
            c.eq(got, want[t % 7], f"test:double as DBR type {t}")
        raw = get("test:array", t, 5)
        last = element(raw, t, 4)
        c.check(last == "2" or last == 2 or last == 2.0, f"test:array[4] as DBR type {t}: {last!r}")
    ctrl = get("test:double", 34, 1)
    c.eq(struct.unpack_from("<h", ctrl, 4)[0], 3, "DBR_CTRL_DOUBLE precision")
    c.eq(ctrl[8:16].split(b"\0")[0], b"mm", "DBR_CTRL_DOUBLE units")
    c.eq(struct.unpack_from("<8d", ctrl, 16), (100, -100, 90, 80, -80, -90, 10, -10), "limits")
    enum = get("test:enum", 31, 1)
    c.eq(struct.unpack_from("<h", enum, 4)[0], 3, "DBR_CTRL_ENUM no_str")
    c.eq(enum[6 + 26:6 + 52].split(b"\0")[0], b"On", "DBR_CTRL_ENUM second string")
    c.eq(element(get("test:enum", 0, 1), 0, 0), "On", "enum as DBR_STRING: the state string")


def check_puts(c, epics):
    c.eq(epics.caput("test:string", "world", wait=True, timeout=5), 1, "caput string")
    c.eq(epics.caget("test:string"), "world", "string written")
    c.eq(epics.caput("test:enum", "Auto", wait=True, timeout=5), 1, "caput enum by name")
    c.eq(epics.caget("test:enum", as_string=True), "Auto", "enum written")
    c.eq(epics.caput("test:long", -12345, wait=True, timeout=5), 1, "caput long")
    c.eq(epics.caget("test:long"), -12345, "long written")

    start = time.time()
    ret = epics.caput("test:slow", 12.5, wait=True, timeout=20)
    elapsed = time.time() - start
    c.eq(ret, 1, "caput wait=True on the delayed PV returns success")
    c.check(elapsed >= 0.49, f"caput wait=True returned only after the 0.5 s completion ({elapsed:.3f} s)")
    c.near(epics.caget("test:slow"), 12.5, "delayed PV value changed")

    ro = epics.PV("test:readonly")
    ro.wait_for_connection(5.0)
    c.eq(epics.ca.write_access(ro.chid), 0, "read-only PV has no write access")
    refused = False
    try:
        refused = epics.caput("test:readonly", 5.0, wait=True, timeout=5) != 1
    except (epics.ca.ChannelAccessException, epics.ca.CASeverityException) as e:
        refused = "Write access denied" in str(e)  # libca refuses locally: ECA_NOWTACCESS
    c.check(refused, "write to the read-only PV fails")
    c.near(epics.caget("test:readonly"), 1.0, "read-only PV unchanged")

    start = time.time()
    value = epics.caget("test:nobody", timeout=1.0)
    c.check(value is None, f"unknown PV gives None (got {value!r})")
    c.check(time.time() - start < 5, "unknown PV returns within its timeout")


def check_monitors(c, epics):
    seen = []
    pv = epics.PV("test:double", callback=lambda value=None, **kw: seen.append(value))
    pv.wait_for_connection(5.0)
    c.check(wait_for(lambda: len(seen) >= 1, 5), "initial monitor update")
    for v in (1.0, 2.0, 3.0):
        epics.caput("test:double", v, wait=True, timeout=5)
    c.check(wait_for(lambda: seen and seen[-1] == 3.0, 5), f"monitor saw the puts: {seen}")
    c.check([v for v in seen if v in (1.0, 2.0, 3.0)] == [1.0, 2.0, 3.0], f"in order: {seen}")

    ticks = []
    ticker = epics.PV("test:ticker", callback=lambda value=None, **kw: ticks.append(value))
    ticker.wait_for_connection(5.0)
    c.check(wait_for(lambda: len(ticks) >= 5, 5), f"device-driven monitor updates: {ticks}")
    c.check(all(b > a for a, b in zip(ticks, ticks[1:])), "ticker counts up")
    pv.clear_callbacks()
    ticker.clear_callbacks()


def check_array(c, epics):
    import numpy as np
    n = 1_000_000
    pv = epics.PV("test:array", auto_monitor=False)
    c.check(pv.wait_for_connection(5.0), "array connects")
    c.eq(pv.count, n, "array element count")
    c.eq(epics.ca.field_type(pv.chid), 6, "array native type DOUBLE")
    got = pv.get(timeout=20)
    c.check(got is not None and len(got) == n and np.array_equal(got, np.arange(n) / 2),
            "1M-element read")
    c.check(np.array_equal(pv.get(count=10, timeout=5), np.arange(10) / 2), "count=10 read")
    data = np.random.default_rng(7).standard_normal(n)
    c.eq(pv.put(data, wait=True, timeout=30), 1, "1M-element write with completion")
    back = pv.get(timeout=20)
    c.check(back is not None and np.array_equal(back, data), "1M-element round trip")


def check_reconnect(c, epics):
    pv = epics.PV("test:long")
    pv.wait_for_connection(5.0)
    downs = []
    pv.add_callback(lambda **kw: None)
    pv.connection_callbacks.append(lambda pvname=None, conn=None, **kw: downs.append(conn))
    epics.caput("test:kill", 1, wait=False)
    c.check(wait_for(lambda: False in downs, 10), f"disconnect seen: {downs}")
    c.check(wait_for(lambda: downs and downs[-1] is True, 30), f"reconnected: {downs}")
    c.eq(epics.caget("test:long", timeout=5), -12345, "value readable after reconnect")


def client():
    import epics
    c = Checks()
    for check in (check_types, check_dbr_types, check_puts, check_monitors, check_array, check_reconnect):
        start = time.time()
        try:
            check(c, epics)
        except Exception as e:  # a crash in one group still runs the others
            c.check(False, f"{check.__name__} raised {type(e).__name__}: {e}")
        print(f"{check.__name__}: {time.time() - start:.2f} s", flush=True)
    print(f"{c.passed} checks passed, {c.failed} failed", flush=True)
    epics.ca.finalize_libca()
    return 1 if c.failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--client":
        sys.exit(client())
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(driver(sys.argv[1]))
