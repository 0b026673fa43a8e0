"""`pandafly motionbox serve` (issue 19): the page in a real headless browser
(Debian chromium + chromium-driver, driven by python3-selenium) against the
testing bench: it loads, shows the five motors with live status, homes one
hi and one lo and shows each result, and shows a refused edit's error.
Exit 77 (SKIPPED in ctest) only when the browser cannot start here.
Usage: motionbox_serve_page.py PANDAFLY PANDAFLY_SIM PANDAFLY_CA SOURCE_DIR"""
import sys

from motionbox_serve_common import BENCH, Bench, fail

TOL = BENCH["general"]["tolerance"]


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            opts.add_argument(a)
        return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    except Exception as e:  # noqa: BLE001 - any reason the browser cannot start
        print(f"SKIP: chromium cannot start here: {e}")
        sys.exit(77)


def main():
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    pandafly, sim, ca, src = sys.argv[1:5]
    driver = browser()
    try:
        b = Bench(pandafly, sim, ca, src)
    except BaseException:
        driver.quit()
        raise
    try:
        wait = WebDriverWait(driver, 60)  # a failure guard: each wait ends on its condition
        cell = lambda name, cls: driver.find_element(
            By.CSS_SELECTOR, f'#motors tbody tr[data-name="{name}"] .{cls}')
        driver.get(b.url + "/")
        if driver.title != "Motion Box":
            fail(f"title {driver.title!r}")
        names = lambda d: [r.get_attribute("data-name") for r in
                           d.find_elements(By.CSS_SELECTOR, "#motors tbody tr")]
        wait.until(lambda d: names(d) == list(BENCH["motors"]))
        # live status of every motor from the CA monitors
        wait.until(lambda d: all(cell(n, "RBV").text != "" and cell(n, "DMOV").text == "done"
                                 for n in BENCH["motors"]))

        def home(name, mode, want_hlm, want_llm):
            for box in driver.find_elements(By.CSS_SELECTOR, "#motors tbody .sel"):
                if box.is_selected():
                    box.click()
            cell(name, "sel").click()
            driver.find_element(By.ID, "home-" + mode).click()
            wait.until(lambda d: cell(name, "result").text != "")
            text = cell(name, "result").text
            if not text.startswith(f"homed {mode}") or "ok" not in cell(name, "result").get_attribute(
                    "class"):
                fail(f"{name} {mode}: the page shows {text!r}; log: "
                     + driver.find_element(By.ID, "log").text)
            wait.until(lambda d: cell(name, "HLM").text == want_hlm
                       and cell(name, "LLM").text == want_llm and cell(name, "DMOV").text == "done")
            if f"{name}: homed {mode}" not in driver.find_element(By.ID, "log").text:
                fail(f"{name} {mode}: the log does not show the result")

        a, bm = BENCH["motors"]["A"], BENCH["motors"]["B"]
        home("A", "hi", f"{a['hi_lim']:g}", f"{a['lo_lim']:g}")
        if f"→ {a['hi_lim'] + TOL:g}" not in cell("A", "result").text:
            fail("A: the redefined switch position is not shown: " + cell("A", "result").text)
        home("B", "lo", f"{bm['hi_lim']:g}", f"{bm['lo_lim']:g}")
        if f"→ {bm['lo_lim'] - TOL:g}" not in cell("B", "result").text:
            fail("B: the redefined switch position is not shown: " + cell("B", "result").text)

        # a refused edit: its error on the page, the file unchanged
        before = open(b.json_path).read()
        lo = driver.find_element(By.CSS_SELECTOR, '#motors tbody tr[data-name="C"] input.lo_lim')
        lo.clear()
        lo.send_keys("100")
        driver.find_element(By.CSS_SELECTOR, '#motors tbody tr[data-name="C"] .save').click()
        wait.until(lambda d: "changed C" in d.find_element(By.ID, "log").text)
        log = driver.find_element(By.ID, "log").text
        if "changed C FAILED: " not in log or "lo_lim" not in log:
            fail("the refused edit's error is not shown: " + log)
        if open(b.json_path).read() != before:
            fail("a refused edit changed the file")
        rc = b.stop_server()  # idle: SIGTERM ends the server cleanly
        if rc != 0 or "motionbox: stopped" not in open(b.server_log).read():
            fail(f"SIGTERM when idle: exit {rc}")
    finally:
        driver.quit()
        b.close()
    print("motionbox_serve_page: OK")


if __name__ == "__main__":
    main()
