"""The front end's budget: shell size, first load, Lighthouse. A benchmark, not a test.

    .venv/bin/python bench/pwa.py [--no-lighthouse] [--runs N]

1. Shell size: index.html + CSS + every JS file (the service worker included), each gzipped
   as the server sends it; the budget is 60 KB.
2. First load on loopback in headless Chromium (a fresh profile each run, so no HTTP or
   service-worker cache): time until the app has drawn its first screen (the sign-up form),
   next to the floor measured in the same run: navigating to one static file on the same
   server. Median of N runs.
3. Lighthouse (npm `lighthouse`, mobile profile, CHROME_PATH=/usr/bin/chromium): performance,
   accessibility and best practices of the first screen. Targets 1.0 / 1.0 / ≥ 0.95.
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PWA = ROOT / "pwa"
BUDGET = 60 * 1024
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LIGHTHOUSE = os.environ.get("LIGHTHOUSE_PACKAGE", "lighthouse@12")


def shell_size() -> tuple[int, int, list[tuple[str, int, int]]]:
    files = [PWA / "index.html", *sorted((PWA / "css").glob("*.css")), *sorted((PWA / "js").glob("*.js")), PWA / "sw.js"]
    rows = []
    for f in files:
        raw = f.read_bytes()
        rows.append((str(f.relative_to(PWA)), len(raw), len(gzip.compress(raw, 9, mtime=0))))
    return sum(r[1] for r in rows), sum(r[2] for r in rows), rows


def serve():
    from werkzeug.serving import make_server

    from coach import create_app
    from coach.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    os.environ.setdefault("COACH_LOG_LEVEL", "WARNING")  # the figures, not a line per file
    app = create_app({
        "SECRET_KEY": "bench-signing-key-of-at-least-32-bytes",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'coach.sqlite3'}",
        "INSTANCE_PATH": str(tmp / "instance"),
        "RATELIMIT_ENABLED": False,
        "COACH_SCHEDULER": "off",
    })
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", tmp


def first_load(base: str, runs: int) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    app_ms, floor_ms = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(runs):
            for target, sink in ((f"{base}/icons/icon-192.png", floor_ms), (f"{base}/", app_ms)):
                context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
                page = context.new_page()
                page.goto(target, wait_until="commit")
                if target.endswith("/"):
                    page.locator("#email").wait_for()  # the app's first screen, drawn by its modules
                    stamp = "() => performance.now()"
                else:
                    page.wait_for_load_state("load")
                    stamp = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
                sink.append(page.evaluate(stamp))
                context.close()
        browser.close()
    return statistics.median(app_ms), statistics.median(floor_ms)


def lighthouse(base: str) -> dict | None:
    npx = shutil.which("npx")
    if not npx:
        print("lighthouse: skipped (npx not found)")
        return None
    out = Path(tempfile.mkdtemp(prefix="coach-lh-")) / "report.json"
    cmd = [
        npx, "--yes", LIGHTHOUSE, f"{base}/",
        "--output=json", f"--output-path={out}", "--quiet",
        "--only-categories=performance,accessibility,best-practices",
        "--form-factor=mobile",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not out.exists():
        print("lighthouse failed:", done.stderr[-2000:])
        return None
    report = json.loads(out.read_text())
    scores = {k: v["score"] for k, v in report["categories"].items()}
    audits = report["audits"]
    metrics = {k: audits[k]["displayValue"] for k in ("first-contentful-paint", "largest-contentful-paint",
                                                       "total-blocking-time", "cumulative-layout-shift", "speed-index")}
    failing = sorted(
        f"{cat}: {ref['id']}"
        for cat, data in report["categories"].items()
        for ref in data["auditRefs"]
        if ref.get("weight") and audits[ref["id"]].get("score") is not None and audits[ref["id"]]["score"] < 1
    )
    return {"scores": scores, "metrics": metrics, "failing": failing, "version": report.get("lighthouseVersion")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()

    raw, packed, rows = shell_size()
    print("shell (HTML + CSS + JS, each gzipped -9):")
    for name, size, gz in rows:
        print(f"  {name:<22} {size:>7} B  {gz:>6} B gz")
    print(f"shell total: {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzipped; "
          f"budget 60 KB → {packed / BUDGET:.2f} of the budget")

    server, base, tmp = serve()
    try:
        if os.path.exists(CHROMIUM):
            app_ms, floor_ms = first_load(base, args.runs)
            print(f"first load (loopback, headless Chromium, fresh profile, median of {args.runs}): "
                  f"first screen drawn at {app_ms:.0f} ms; floor (one static file) {floor_ms:.0f} ms; "
                  f"ratio {app_ms / floor_ms:.1f}×")
        else:
            print(f"first load: skipped ({CHROMIUM} missing)")
        if not args.no_lighthouse:
            lh = lighthouse(base)
            if lh:
                s = lh["scores"]
                print(f"lighthouse {lh['version']} (mobile): performance {s['performance']:.2f} (target 1.00), "
                      f"accessibility {s['accessibility']:.2f} (target 1.00), "
                      f"best practices {s['best-practices']:.2f} (target ≥ 0.95)")
                print("  metrics: " + ", ".join(f"{k} {v}" for k, v in lh["metrics"].items()))
                if lh["failing"]:
                    print("  audits below 1: " + ", ".join(lh["failing"]))
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
