"""`pandafly motionbox serve` (issue 19): the HTTP API against the testing
bench. Expected values come from the homing rules (switch reads hi_lim +
tolerance / lo_lim - tolerance, HLM = hi_lim, LLM = lo_lim, at center) and
Python's json module, never from the simulator's configuration.
Usage: motionbox_serve_api.py PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR"""
import json
import sys
import urllib.request

from motionbox_serve_common import BENCH, Bench, Events, fail

TOL = BENCH["general"]["tolerance"]


def pairs(path):
    return json.load(open(path), object_pairs_hook=lambda kv: kv)


def expect(got, status, contains):
    code, body = got
    if code != status or contains not in body.get("error", ""):
        fail(f"expected {status} with an error containing {contains!r}, got {code} {body}")


def check_list(b):
    code, all_ = b.call("GET", "/api/motors")
    assert code == 200, (code, all_)
    names = [m["name"] for m in all_["motors"]]
    if names != list(BENCH["motors"]):
        fail(f"GET /api/motors: {names}")
    for m in all_["motors"]:
        want = BENCH["motors"][m["name"]]
        for k in ("pv_root", "lo_lim", "center", "hi_lim"):
            if m[k] != want[k]:
                fail(f"GET /api/motors: {m['name']}.{k} = {m[k]}, file has {want[k]}")
    if all_["tolerance"] != TOL:
        fail("tolerance")


def check_edits(b):
    before = pairs(b.json_path)
    new = {"name": "G", "pv_root": "bench:F", "lo_lim": -5, "center": 0.5, "hi_lim": 5}
    code, all_ = b.call("POST", "/api/motors", new)
    if code != 201 or [m["name"] for m in all_["motors"]][-1] != "G":
        fail(f"add: {code} {all_}")
    after = pairs(b.json_path)
    motors = dict(dict(after)["motors"])
    if list(motors) != list(BENCH["motors"]) + ["G"] or dict(motors["G"]) != {
            k: v for k, v in new.items() if k != "name"}:
        fail(f"add: file has {after}")
    if [kv for kv in after if kv[0] != "motors"] != [kv for kv in before if kv[0] != "motors"]:
        fail("add changed other keys")
    code, _ = b.call("PUT", "/api/motors/B", {"pv_root": "bench:B", "lo_lim": -11, "center": 1,
                                                "hi_lim": 11.5})
    b_entry = dict(dict(dict(pairs(b.json_path))["motors"])["B"])
    if code != 200 or b_entry["lo_lim"] != -11 or b_entry["note"] != "off by 5 before homing":
        fail(f"change: {code} {b_entry}")
    code, _ = b.call("PUT", "/api/motors/B", {"pv_root": "bench:B", "lo_lim": -12, "center": 1,
                                                "hi_lim": 11.5})
    code2, all_ = b.call("DELETE", "/api/motors/G")
    if code != 200 or code2 != 200 or "G" in [m["name"] for m in all_["motors"]]:
        fail(f"change back / remove: {code} {code2}")
    if pairs(b.json_path) != before:
        fail(f"add/change/remove round trip: {pairs(b.json_path)} != {before}")


def check_errors(b):
    before = open(b.json_path).read()
    good = {"pv_root": "bench:A", "lo_lim": -5, "center": 0, "hi_lim": 5}
    expect(b.call("PUT", "/api/motors/NOPE", good), 404, 'no motor "NOPE"')
    expect(b.call("DELETE", "/api/motors/NOPE"), 404, 'no motor "NOPE"')
    expect(b.call("POST", "/api/motors", dict(good, name="A")), 400, '"A"')
    expect(b.call("POST", "/api/motors", dict(good, name="H", lo_lim=6)), 400, "lo_lim")
    expect(b.call("POST", "/api/motors", dict(good, name="H", center=9)), 400,
           "center (9) must lie within")
    expect(b.call("POST", "/api/motors", dict(good, name="H", hi_lim="x")), 400,
           '"hi_lim": a number is required')
    expect(b.call("POST", "/api/motors", dict(good, name="")), 400, '"name"')
    expect(b.call("POST", "/api/motors", raw=b'{"name": '), 400, "request body")
    expect(b.call("POST", "/api/home", {"motors": ["A"], "mode": "up"}), 400,
           '"mode" must be "hi" or "lo"')
    expect(b.call("POST", "/api/home", {"motors": ["NOPE"], "mode": "hi"}), 404, 'no motor "NOPE"')
    expect(b.call("POST", "/api/home", {"mode": "hi"}), 400, '"motors"')
    expect(b.call("DELETE", "/api/motors/NO%20PE"), 404, 'no motor "NO PE"')
    expect(b.call("GET", "/api/nosuch"), 404, "no such path")
    expect(b.call("PATCH", "/api/motors"), 405, "not allowed")
    if open(b.json_path).read() != before:
        fail("a refused edit changed the file")


def check_home(b, ev):
    # Live status of all five from the CA monitors.
    seen = set()
    ev.wait(lambda e, d: e == "status" and d.get("connected") and d.get("RBV") is not None
            and (seen.add(d["name"]) or seen >= set(BENCH["motors"])), "status of A-E")
    code, st = b.call("POST", "/api/home", {"motors": ["A"], "mode": "hi"})
    if code != 202 or not st["running"]:
        fail(f"home: {code} {st}")
    expect(b.call("POST", "/api/home", {"motors": ["B"], "mode": "hi"}), 409, "already running")
    ev.wait(lambda e, d: e == "status" and d["name"] == "A" and d.get("DMOV") == 0, "A moving")
    ev.wait(lambda e, d: e == "progress" and d["name"] == "A" and d["phase"] == "search",
            "A's progress: search")
    ev.wait(lambda e, d: e == "status" and d["name"] == "A" and d.get("HLS") == 1, "A on HLS")
    _, done = ev.wait(lambda e, d: e == "home" and not d["running"], "the homing's end")
    a = BENCH["motors"]["A"]
    if done["error"] or len(done["reports"]) != 1:
        fail(f"home: {done}")
    r = done["reports"][0]
    if not (r["ok"] and r["switch_value"] == a["hi_lim"] + TOL and r["hlm"] == a["hi_lim"]
            and r["llm"] == a["lo_lim"] and abs(r["rbv"] - a["center"]) < 0.01):
        fail(f"home A hi: {r}")
    ev.wait_status("A", lambda d: d.get("HLM") == a["hi_lim"] and d.get("LLM") == a["lo_lim"]
                   and d.get("DMOV") == 1, "A's new soft limits live")
    if b.pv("bench:A.HLM") != a["hi_lim"] or abs(b.pv("bench:A.RBV") - a["center"]) > 0.01:
        fail("A's PVs after homing")
    code, st = b.call("GET", "/api/home")
    if code != 200 or st["reports"] != done["reports"]:
        fail(f"GET /api/home: {st}")


def check_home_all(b, ev):
    """"all" homes the five together; each reported as the rules say."""
    code, st = b.call("POST", "/api/home", {"motors": "all", "mode": "lo"})
    if code != 202 or st["motors"] != list(BENCH["motors"]):
        fail(f"home all: {code} {st}")
    _, done = ev.wait(lambda e, d: e == "home" and not d["running"], "the end of home all", 120)
    if done["error"] or [r["name"] for r in done["reports"]] != list(BENCH["motors"]):
        fail(f"home all: {done}")
    for r in done["reports"]:
        m = BENCH["motors"][r["name"]]
        if not (r["ok"] and r["direction"] == "lo" and r["switch_value"] == m["lo_lim"] - TOL
                and r["hlm"] == m["hi_lim"] and r["llm"] == m["lo_lim"]
                and abs(r["rbv"] - m["center"]) < 0.01):
            fail(f"home all lo: {r}")
        if b.pv(m["pv_root"] + ".LLM") != m["lo_lim"]:
            fail(f"{r['name']}: LLM after home all")


def check_signal_stops(b, ev):
    """SIGTERM during a homing: B is STOPped, the server ends with 7."""
    code, _ = b.call("POST", "/api/home", {"motors": ["B"], "mode": "lo"})
    if code != 202:
        fail("home B lo")
    bm = BENCH["motors"]["B"]
    # on its way down from its center (where home all left it), well away from it
    ev.wait(lambda e, d: e == "status" and d["name"] == "B" and d.get("DMOV") == 0
            and d.get("RBV") is not None and d["RBV"] < bm["center"] - 0.5, "B moving down")
    rc = b.stop_server()
    log = open(b.server_log).read()
    if rc != 7 or "motionbox: stopped" not in log:
        fail(f"SIGTERM during homing: exit {rc}: {log}")
    if "B: INTERRUPTED lo in search" not in log:
        fail("the server's log does not say where B stands: " + log)
    if b.pv("bench:B.DMOV") != 1:
        fail("B still moving after the server stopped")
    # B started at its center (home all put it there): stopped on the way, not back there.
    if abs(b.pv("bench:B.RBV") - bm["center"]) < 0.5:
        fail("B was homed to its end although the server was stopped during the search")


def main():
    pandafly, sim, ca, src = sys.argv[1:5]
    b = Bench(pandafly, sim, ca, src)
    try:
        page = urllib.request.urlopen(b.url + "/", timeout=30).read().decode()
        if "<title>Motion Box</title>" not in page or "EventSource" not in page:
            fail("GET / is not the page")
        ev = Events(b.url)
        check_list(b)
        check_edits(b)
        check_errors(b)
        check_home(b, ev)
        check_home_all(b, ev)
        check_signal_stops(b, ev)
    finally:
        b.close()
    print("motionbox_serve_api: OK")


if __name__ == "__main__":
    main()
