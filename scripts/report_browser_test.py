#!/usr/bin/env python3
"""Opens `mlspeed report`'s HTML in a real browser, offline: python3 scripts/report_browser_test.py MLSPEED

  report_browser_test.py MLSPEED                 the test (ctest report_browser), described below
  report_browser_test.py --page FILE [SHOT.png]  the same checks on a page written anywhere (a GPU
                                                 machine without Chromium), keeping its screenshot

Makes two tiny CPU runs (the second reading its energy from a fake RAPL counter that a thread of
this test advances) and a verify run in a fresh database, writes the report of the default runs
and of both runs, and loads each page in headless Chromium with every host name mapped to nowhere.
The page's script sets <body data-charts-drawn="N"> when Chart.js has rendered N charts; the test
reads it back from the DOM (--dump-dom) and counts the canvases. It then takes a screenshot and
decodes the PNG (zlib, no imaging library): the page must not be blank, and the first series'
colour must fill a good number of pixels, i.e. bars were drawn.
Exit status 0 when every check passed, 1 otherwise, 77 (skipped) when no Chromium is installed.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

SKIPPED = 77
# A run label that tries to close the page's script element and run its own.
HOSTILE = "</script><script>document.title='pwned'</script>"
failures = []


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what + ("" if condition or not detail else ": " + detail))
    if not condition:
        failures.append(what)


def mlspeed(exe, db, *args, expect=0, env=None):
    result = subprocess.run([exe, *args, "--db", db], capture_output=True, text=True, timeout=600,
                            env=None if env is None else {**os.environ, **env})
    if expect is not None and result.returncode != expect:
        sys.exit(f"mlspeed {' '.join(args)} exited {result.returncode}, expected {expect}:\n{result.stderr}")
    return result


def chromium(browser, profile, *args):
    # No network: every host resolves to nothing, so a page that fetched anything would lose it.
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
               "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--virtual-time-budget=10000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG, decoded with zlib only."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def blend(hex_colour, alpha):
    """The colour a bar of `hex_colour` at `alpha` shows over the white card."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(alpha * v + (1 - alpha) * 255) for v in rgb)


def check_page(browser, folder, page, name, min_charts, shot=None):
    profile = tempfile.mkdtemp(dir=folder)
    dom = chromium(browser, profile, "--dump-dom", "file://" + page)
    check(f"{name}: Chromium loads the page", dom.returncode == 0 and "<body" in dom.stdout, dom.stderr[-500:])
    body = re.search(r"<body[^>]*>", dom.stdout)
    tag = body.group(0) if body else ""
    drawn = re.search(r'data-charts-drawn="(\d+)"', tag)
    total = re.search(r'data-charts-total="(\d+)"', tag)
    canvases = dom.stdout.count("<canvas")
    drawn = int(drawn.group(1)) if drawn else -1
    total = int(total.group(1)) if total else -1
    check(f"{name}: {canvases} canvases, at least {min_charts}", canvases >= min_charts)
    check(f"{name}: Chart.js rendered every chart ({drawn} of {total})", drawn == total == canvases, tag)
    check(f"{name}: the hostile label is text, its script never ran",
          "<script>document.title" not in dom.stdout and "<title>pwned" not in dom.stdout)

    shot = shot or os.path.join(folder, name + ".png")
    chromium(browser, profile, "--screenshot=" + shot, "--window-size=1280,2400", "file://" + page)
    check(f"{name}: screenshot taken", os.path.exists(shot))
    if not os.path.exists(shot):
        return
    width, height, rows = png_pixels(shot)
    pixels = [p for row in rows for p in row]
    colours = len(set(pixels))
    inked = sum(1 for p in pixels if min(p) < 235) / len(pixels)
    check(f"{name}: screenshot is not blank ({colours} colours, {inked:.1%} inked)", colours > 50 and inked > 0.05)
    bar = blend("#4e79a7", 0.85)  # the first series' bars (page_assets.cpp, html_report.cpp's palette)
    bar_pixels = sum(1 for p in pixels if all(abs(p[i] - bar[i]) <= 6 for i in range(3)))
    check(f"{name}: bars drawn in the first series' colour ({bar_pixels} pixels)", bar_pixels > 2000)


def check_existing_page(browser, page, shot):
    with tempfile.TemporaryDirectory() as folder:
        check_page(browser, folder, os.path.abspath(page), os.path.basename(page), 1,
                   os.path.abspath(shot) if shot else None)
    print(f"{len(failures)} of the checks failed" if failures else "all checks passed")
    return 1 if failures else 0


class FakeRapl:
    """A powercap tree whose package counter a thread advances at 10 W while it is open: the run
    made under MLSPEED_SYSFS_ROOT reads energy, so the report draws its efficiency charts."""

    def __init__(self, root):
        self.root = root
        self.package = os.path.join(root, "class", "powercap", "intel-rapl:0")
        os.makedirs(self.package)
        for name, text in (("name", "package-0"), ("max_energy_range_uj", "262143328850"), ("energy_uj", "0")):
            self.write(name, text)
        self.running = True
        self.thread = threading.Thread(target=self.advance)

    def write(self, name, text):
        partial = os.path.join(self.package, name + ".partial")
        with open(partial, "w") as f:
            f.write(text + "\n")
        os.replace(partial, os.path.join(self.package, name))  # whole, never half a file

    def advance(self):
        start = time.monotonic()
        while self.running:
            self.write("energy_uj", str(int((time.monotonic() - start) * 1e7)))  # 10 W in microjoules
            time.sleep(0.002)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def main():
    usage = "usage: report_browser_test.py PATH/TO/mlspeed | --page FILE.html [SCREENSHOT.png]"
    page_mode = len(sys.argv) in (3, 4) and sys.argv[1] == "--page"
    if len(sys.argv) != 2 and not page_mode:
        sys.exit(usage)
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
    if not browser:
        print("SKIP: no Chromium to open the report in (Debian: apt-get install chromium; .ci/run installs it)")
        return SKIPPED
    if page_mode:
        return check_existing_page(browser, sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    exe = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "results.db")
        tiny = ["run", "--sizes", "tiny", "-d", "cpu", "-n", "5", "--warmup", "1", "-o", "jsonl",
                "-w", "bert-base-infer,gpt2-generate", "-b", "1,2"]
        mlspeed(exe, db, *tiny)
        # The second run reads its energy from a fake RAPL counter: long enough for it to move.
        with FakeRapl(os.path.join(folder, "sysfs")) as rapl:
            energy_run = [a if a != "-n" else "--min-time" for a in tiny]
            energy_run[energy_run.index("--min-time") + 1] = "0.2"
            mlspeed(exe, db, *energy_run, "-t", "fp32,bf16", "--label", HOSTILE, env={"MLSPEED_SYSFS_ROOT": rapl.root})
        mlspeed(exe, db, "verify", "-d", "cpu", "--level", "op", "--ops", "mm", "--quick", "-o", "jsonl")

        default = os.path.join(folder, "default.html")
        written = mlspeed(exe, db, "report", "--output", default, expect=None)
        if written.returncode == 2 and "without Chart.js" in written.stderr:
            print("SKIP: this mlspeed was built without Chart.js (install libjs-chart.js and reconfigure)")
            return SKIPPED
        check("report --output default.html writes the page", written.returncode == 0 and os.path.exists(default),
              written.stderr)
        check_page(browser, folder, default, "default report (last speed run and verify run)", 6)
        both = os.path.join(folder, "both.html")
        mlspeed(exe, db, "report", "1", "2", "--output", both)
        check_page(browser, folder, both, "report of two runs", 8)
        with open(both, encoding="utf-8") as f:
            html = f.read()
        check("speedup charts are there", 'data-metric="speedup"' in html)
        check("efficiency charts are there (the second run read its energy)", 'data-metric="efficiency"' in html)
        check("the page fetches nothing", not re.search(r'<(script|link|img)[^>]+(src|href)=', html))
    print(f"{len(failures)} of the checks failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
