"""The front end's files as the server hands them out, and the rules the shell keeps:
the page CSP, content types, no HTTP caching of the worker or the page, an explicit and
complete precache list whose VERSION follows the content, and no inline script or style."""
from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PWA = ROOT / "pwa"


def test_index_is_served_with_the_page_policy(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "base-uri 'none'", "frame-ancestors 'none'", "worker-src 'self'", "manifest-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["Cache-Control"] == "no-cache"


def test_assets_have_their_types_and_the_worker_is_never_cached(client):
    expect = {
        "/manifest.webmanifest": "application/manifest+json",
        "/sw.js": "text/javascript",
        "/js/app.js": "text/javascript",
        "/css/app.css": "text/css",
        "/icons/icon-192.png": "image/png",
    }
    for path, mimetype in expect.items():
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.mimetype == mimetype, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    sw = client.get("/sw.js")
    assert sw.headers["Cache-Control"] == "no-cache"
    assert sw.headers["Service-Worker-Allowed"] == "/"


def test_unknown_hidden_and_api_paths_are_not_served_as_files(client):
    assert client.get("/nope.js").status_code == 404
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/js/../../pyproject.toml").status_code == 404
    assert client.get("/api/nothing-here").status_code == 404
    assert client.get("/api/nothing-here").is_json


def test_precache_lists_every_shell_file_and_nothing_else():
    sw = (PWA / "sw.js").read_text()
    listed = set(re.findall(r"^  '(/[^']*)',$", sw, re.M))
    on_disk = {"/" + str(p.relative_to(PWA)) for p in PWA.rglob("*") if p.is_file()} - {"/sw.js", "/index.html"}
    assert listed == on_disk | {"/"}


def test_worker_version_follows_the_shell():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pwa_version.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_no_inline_script_or_style_anywhere():
    html = (PWA / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for js in PWA.rglob("*.js"):
        text = js.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, js
        assert "setAttribute('style'" not in text and "eval(" not in text, js
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, f"{js}: no third-party requests"


def test_manifest_makes_the_app_installable():
    manifest = json.loads((PWA / "manifest.webmanifest").read_text())
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/") and manifest["scope"] == "/"
    icons = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    for icon in manifest["icons"]:
        data = (PWA / icon["src"].lstrip("/")).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_text_is_gzipped_when_accepted_and_revalidates_by_etag(client):
    import gzip as gz

    plain = client.get("/js/app.js")
    packed = client.get("/js/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gz.decompress(packed.data) == plain.data == (PWA / "js" / "app.js").read_bytes()
    assert "Accept-Encoding" in packed.headers["Vary"]
    again = client.get("/js/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    png = client.get("/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in png.headers and png.data[:4] == b"\x89PNG"


def test_the_worker_takes_the_server_paths_from_the_server(client):
    from coach import server_paths

    on_disk = (PWA / "sw.js").read_text()
    assert "healthz" not in on_disk and "unsubscribe" not in on_disk  # no copy of the list to drift
    for encoding in ("", "gzip"):
        served = client.get("/sw.js", headers={"Accept-Encoding": encoding})
        body = gzip.decompress(served.data) if encoding else served.data
        listed = re.search(rb"^const SERVER_PATHS = (.*);$", body, re.M)
        assert listed, "sw.js as served names the server's paths"
        assert json.loads(listed.group(1)) == list(server_paths.SERVER)
    for path in server_paths.SERVER:  # and the shell serves no file under them
        assert client.get(f"{path.rstrip('/')}/sw.js").mimetype != "text/javascript", path


def test_text_files_name_their_charset_once(client):
    for path, content_type in {
        "/": "text/html; charset=utf-8",
        "/css/app.css": "text/css; charset=utf-8",
        "/js/app.js": "text/javascript; charset=utf-8",
        "/sw.js": "text/javascript; charset=utf-8",
        "/manifest.webmanifest": "application/manifest+json",
        "/icons/icon-192.png": "image/png",
    }.items():
        assert client.get(path).headers["Content-Type"] == content_type, path


def test_each_front_end_rule_is_written_once():
    """The IndexedDB layout lives in js/idb.js (the page and the worker both load it); a route
    change is guarded by the router's view, never by a per-screen copy of the check; the
    routine helpers several screens need live outside the session screen."""
    sources = {p.relative_to(PWA).as_posix(): p.read_text() for p in PWA.rglob("*.js")}
    opens = [name for name, text in sources.items() if "indexedDB.open(" in text]
    assert opens == ["js/idb.js"], opens
    assert "importScripts('/js/idb.js')" in sources["sw.js"]
    assert "import './idb.js';" in sources["js/store.js"]
    assert not [name for name, text in sources.items() if "routeToken" in text]
    session = sources["js/session.js"]
    assert "function loadRoutine" not in session and "function kindWord" not in session
    assert not [n for n, text in sources.items() if re.search(r"import \{[^}]*\b(loadRoutine|kindWord)\b[^}]*\} from './session\.js'", text)]
