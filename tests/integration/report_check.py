#!/usr/bin/python3
"""Checks a scan report (pandafly-dx report, pandafly --report; issue 20)
against its DXfile, read here with h5py/numpy and no pandafly code.

Usage:
  report_check.py REPORT.html SCAN.h5 [--slice-centre C] [--missing K ...]
                  [--sample TEXT] [--summary REPORT.json] [--no-slice]
                  [--validation VALIDATE.json]
  report_check.py --browser REPORT.html ...

The page:
  - is self-contained: no <script>, <link>, <iframe> or <object>; every src
    and href is a data: URI or an in-page anchor;
  - embeds each image as a base64 PNG that decodes (PIL) to the width and
    height the <img> states, not blank (values vary);
  - shows the counts the file holds: projections expected (the status
    dataset's length, else num_angles, else the data's length), stored with an
    angle (status 1), without (2), missing (0; --missing lists those slots),
    darks, flats split into before/after by the per-frame location column
    (flats before the first projection's row / after the last slot's), the
    slot events (slot, what) in the file's order;
  - says INCOMPLETE with the file's end_reason exactly when complete is 0;
  - shows the proposal and the principal investigator the file holds (or
    flags them "not in the file"), and --sample as text;
  - has the slice (unless --no-slice, when its absence must come with a
    reason) with a centre within 1 pixel of --slice-centre;
  - lists the findings `pandafly-dx validate --json` gives (--validation), in
    its order, with its counts.
--browser opens each page in headless Debian chromium (selenium): every image
loaded (complete, naturalWidth > 0), the page's screenshot is not blank.
Exit 77 when chromium cannot start.
"""
import argparse
import base64
import html.parser
import io
import json
import re
import sys

import h5py
import numpy as np
from PIL import Image


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


class Page(html.parser.HTMLParser):
    """The parts of the page the checks need."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.images, self.refs = [], [], []
        self.rows = {}  # table.kv label -> value, per section id
        self.section = None
        self.events = []
        self.findings = []
        self.text = []
        self._cell, self._row, self._in = None, [], None
        self.ids = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids[a["id"]] = tag
        if tag == "h2" and "id" in a:
            self.section = a["id"]
        for k in ("src", "href"):
            if k in a:
                self.refs.append(a[k])
        if tag == "img":
            self.images.append(a)
        if tag == "table":
            self._in = {"events": "events", "findings": "findings"}.get(a.get("id"), "kv")
        if tag == "tr":
            self._row = []
        if tag in ("th", "td"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        if tag == "tr" and self._row:
            if self._in == "events" and self._row != ["slot", "what happened"]:
                self.events.append((int(self._row[0]), self._row[1]))
            elif self._in == "findings" and self._row != ["severity", "where", "what"]:
                self.findings.append(tuple(self._row))
            elif self._in == "kv" and len(self._row) == 2:
                self.rows.setdefault(self.section, {})[self._row[0]] = self._row[1]
        if tag == "table":
            self._in = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell += data


def decode(s):
    return s.decode() if isinstance(s, bytes) else str(s)


def first(f, path):
    if path not in f:
        return None
    v = f[path][()]
    v = v[0] if np.ndim(v) else v
    return decode(v).rstrip("\0") if isinstance(v, (bytes, str)) else v


def check_page(report, scan, args):
    text = open(report, encoding="utf-8").read()
    p = Page()
    p.feed(text)
    for bad in ("script", "link", "iframe", "object", "embed"):
        if bad in p.tags:
            fail(f"{report}: a <{bad}> element: the page must be self-contained and the file's text escaped")
    for ref in p.refs:
        if not (ref.startswith("data:") or ref.startswith("#")):
            fail(f"{report}: an external reference {ref[:80]!r}")
    if not p.images:
        fail(f"{report}: no images")
    names = []
    for img in p.images:
        src = img["src"]
        if not src.startswith("data:image/png;base64,"):
            fail(f"{report}: image {img.get('alt')} is not an embedded PNG")
        im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True)))
        if im.format != "PNG" or im.size != (int(img["width"]), int(img["height"])):
            fail(f"{report}: image {img.get('alt')}: {im.format} {im.size}, the page says "
                 f"{img['width']} x {img['height']}")
        a = np.asarray(im.convert("L"), dtype=float)
        if a.std() == 0:
            fail(f"{report}: image {img.get('alt')} is blank")
        names.append(img["alt"])
    words = " ".join(p.text)

    f = h5py.File(scan, "r")
    acq = "/process/acquisition/"
    status = f[acq + "projection_status"][:] if acq + "projection_status" in f else None
    n = f["/exchange/data"].shape[0]
    if status is not None:
        expected, ok = len(status), int((status == 1).sum())
        no_angle, missing = int((status == 2).sum()), int((status == 0).sum())
        if args.missing is not None and sorted(np.flatnonzero(status == 0).tolist()) != args.missing:
            fail(f"the file's missing slots are {np.flatnonzero(status == 0).tolist()}, not {args.missing}")
    else:
        planned = first(f, acq + "rotation/num_angles")
        expected = int(planned) if planned is not None else n
        ok, no_angle, missing = n, 0, max(0, expected - n)
    darks = f["/exchange/data_dark"].shape[0] if "/exchange/data_dark" in f else 0
    flats = f["/exchange/data_white"].shape[0] if "/exchange/data_white" in f else 0
    counts = p.rows.get("counts", {})
    want = {"Projections expected": str(expected), "Stored with an angle": str(ok),
            "Stored without an angle": str(no_angle), "Missing (no frame)": str(missing),
            "Darks": str(darks)}
    for k, v in want.items():
        if counts.get(k) != v:
            fail(f"{report}: {k} shows {counts.get(k)!r}, the file {v}")
    # flats before / after, from the per-frame location column
    flat_text = str(flats)
    if "/defaults/HDF5FrameLocation" in f and "/defaults/NDArrayTimeStamp" in f:
        loc = [decode(x) for x in f["/defaults/HDF5FrameLocation"][:]]
        if status is not None:
            b = int(f[acq + "projection_status"].attrs["ndattribute_row_first"])
            last = b + n - 1
        else:
            last = max(i for i, l in enumerate(loc) if l == "/exchange/data")
        white = [i for i, l in enumerate(loc) if l == "/exchange/data_white"]
        before = sum(1 for i in white if i < last)
        flat_text = f"{flats} ({before} before, {flats - before} after)"
    if not counts.get("Flats", "").startswith(flat_text):
        fail(f"{report}: Flats shows {counts.get('Flats')!r}, the file {flat_text}")
    # events, as the file lists them
    events = []
    if acq + "projection_events/slot" in f:
        g = f[acq + "projection_events"]
        events = [(int(s), decode(w).rstrip("\0"))
                  for d, s, w in zip(g["dataset"][:], g["slot"][:], g["what"][:])
                  if decode(d).rstrip("\0") == "/exchange/data"]
    if p.events != events[:200] or counts.get("Slot events") != str(len(events)):
        fail(f"{report}: events {p.events} ({counts.get('Slot events')}), the file {events}")
    # the verdict
    complete = first(f, acq + "complete")
    verdict = re.search(r'id="verdict"[^>]*>([^<]*)<', text)
    verdict = html.unescape(verdict.group(1)) if verdict else ""
    if complete is not None:
        reason = first(f, acq + "end_reason") or ""
        if (complete == 0) != verdict.startswith("INCOMPLETE") or reason not in verdict:
            fail(f"{report}: verdict {verdict!r}, the file complete={complete} reason={reason!r}")
    elif "does not say" not in verdict:
        fail(f"{report}: verdict {verdict!r} for a file without one")
    # data policy
    policy = p.rows.get("policy", {})
    for label, path in (("Proposal", "/measurement/sample/experiment/proposal"),
                        ("Principal investigator", "/measurement/sample/experiment/principal_investigator")):
        v = first(f, path)
        if policy.get(label) != (v if v is not None else "not in the file"):
            fail(f"{report}: {label} shows {policy.get(label)!r}, the file {v!r}")
        if v is None and f"data policy: {label} is not in the file" not in words:
            fail(f"{report}: a missing {label} is not flagged")
    if args.sample is not None and policy.get("Sample") != args.sample:
        fail(f"{report}: the sample shows {policy.get('Sample')!r}, not {args.sample!r}")
    # the slice
    if args.no_slice:
        if "slice" in names or not re.search(r"<b>slice</b> not drawn: \S", text):
            fail(f"{report}: a slice, or its absence without a reason")
    else:
        if "slice" not in names:
            fail(f"{report}: no slice")
        m = re.search(r"centre of rotation ([0-9.]+) px", words)
        if not m or abs(float(m.group(1)) - args.slice_centre) > 1:
            fail(f"{report}: slice centre {m and m.group(1)}, the simulator's axis {args.slice_centre}")
    if args.validation:
        v = json.load(open(args.validation))
        listed = [(x["severity"], x["path"], x["message"]) for x in v["findings"]]
        said = re.search(r"(\d+) error\(s\), (\d+) warning\(s\) \(pandafly-dx validate\)", words)
        if p.findings != listed or not said or (int(said.group(1)), int(said.group(2))) != (
                v["errors"], v["warnings"]):
            fail(f"{report}: conventions {said and said.group(0)} {p.findings}, validate says {v}")
    if args.summary:
        s = json.load(open(args.summary))
        if s["images"] != names or (s["expected"], s["ok"], s["missing"], s["darks"], s["flats"]) != (
                expected, ok, missing, darks, flats):
            fail(f"{args.summary} disagrees with the page: {s}")
    print(f"{report}: {len(names)} images ({', '.join(names)}), counts {want}, flats {flat_text}, "
          f"{len(events)} events, verdict {verdict!r}")


def browser(pages):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1300,1000"):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    except Exception as e:  # noqa: BLE001 - any reason the browser cannot start
        print(f"SKIP: chromium cannot start here: {e}")
        sys.exit(77)
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        for page in pages:
            driver.get("file://" + page)
            WebDriverWait(driver, 60).until(
                lambda d: d.execute_script("return document.readyState") == "complete")
            images = driver.execute_script(
                "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
            broken = [i for i in images if not (i[1] and i[2] > 0 and i[3] > 0)]
            if not images or broken:
                fail(f"{page}: {len(images)} images, not loaded: {broken}")
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(1300, min(height + 100, 8000))
            shot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L"),
                              dtype=float)
            dark = (shot < 128).mean()
            if shot.std() < 10 or dark < 0.01:
                fail(f"{page}: the screenshot looks blank (std {shot.std():.1f}, dark share {dark:.3f})")
            print(f"{page}: {len(images)} images loaded in chromium; screenshot {shot.shape[1]} x "
                  f"{shot.shape[0]}, std {shot.std():.1f}, dark share {dark:.3f}")
    finally:
        driver.quit()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--browser":
        browser(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("scan")
    ap.add_argument("--slice-centre", type=float)
    ap.add_argument("--missing", type=int, nargs="*")
    ap.add_argument("--sample")
    ap.add_argument("--summary")
    ap.add_argument("--no-slice", action="store_true")
    ap.add_argument("--validation")
    args = ap.parse_args()
    check_page(args.report, args.scan, args)


if __name__ == "__main__":
    main()
