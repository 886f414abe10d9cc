"""Serves the installable front end (pwa/) at the site root.

The shell is a handful of static files. Every answer carries the strict page
Content-Security-Policy (no inline script or style, nothing from another origin). The service
worker and the HTML are never cached by HTTP (`no-cache`: revalidate with the ETag each time)
so an update is seen at once; the service worker's own versioned precache is what makes the
shell fast and available offline. Other assets revalidate too: they are not fingerprinted,
so a long max-age would pin an old file next to a new index. Text files are sent gzipped
when the browser accepts it (compressed once per file version and kept in memory), so the
app needs no proxy in front of it to be small on the wire.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, request
from werkzeug.routing import PathConverter

from ..http_headers import PAGE_CSP

PWA_DIR = Path(__file__).resolve().parents[2] / "pwa"

TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
COMPRESSIBLE = {".webmanifest", ".js", ".css", ".html", ".svg"}
# Paths the catch-all must never answer: they belong to the API or to server pages.
RESERVED = ("api/", "unsubscribe", "healthz", "confirm/", "reset/", "not-me/")

web = Blueprint("web", __name__)


class ShellPath(PathConverter):
    """A path that is not under /api/: so an unknown API path answers 404 for every method,
    rather than the 405 a GET-only catch-all would give it."""

    regex = r"(?!api/)[^/].*?"


web.record_once(lambda state: state.app.url_map.converters.setdefault("shell", ShellPath))


@lru_cache(maxsize=128)
def _load(path: Path, mtime_ns: int, size: int) -> tuple[bytes, bytes | None, str]:
    """(raw, gzipped or None, etag) for one version of a file (the key holds mtime and size)."""
    raw = path.read_bytes()
    packed = gzip.compress(raw, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
    return raw, packed, hashlib.sha256(raw).hexdigest()[:20]


def _send(filename: str) -> Response:
    path = (PWA_DIR / filename).resolve()
    if not path.is_relative_to(PWA_DIR) or not path.is_file() or path.suffix not in TYPES:
        abort(404)
    stat = path.stat()
    raw, packed, etag = _load(path, stat.st_mtime_ns, stat.st_size)
    use_gzip = packed is not None and "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(packed if use_gzip else raw, mimetype=TYPES[path.suffix])
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    if packed is not None:
        response.vary.add("Accept-Encoding")
    response.set_etag(f"{etag}-gz" if use_gzip else etag)
    response.headers["Cache-Control"] = "no-cache"
    if filename == "sw.js":
        # Scope "/" is the script's own directory; the header documents it for moves.
        response.headers["Service-Worker-Allowed"] = "/"
    return response.make_conditional(request)


@web.after_request
def page_policy(response):
    # Every answer from here is part of the shell, JSON 404s included: the page policy
    # (the app-wide defaults add nosniff, referrer and permissions policies).
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@web.get("/")
def index():
    return _send("index.html")


@web.get("/<shell:filename>")
def asset(filename: str):
    if filename.startswith(RESERVED) or any(part.startswith(".") for part in filename.split("/")):
        abort(404)
    return _send(filename)
