"""Serves the installable front end (pwa/) at the site root.

The shell is a handful of static files. Every answer carries the strict page
Content-Security-Policy (no inline script or style, nothing from another origin). The service worker and the HTML
are never cached by HTTP (`no-cache`: revalidate with the ETag each time) so an update is
seen at once; the service worker's own versioned precache is what makes the shell fast and
available offline. Other assets revalidate too: they are not fingerprinted, so a long
max-age would pin an old file next to a new index.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from .http_headers import PAGE_CSP

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# Paths the catch-all must never answer: they belong to the API or to server pages.
RESERVED = ("api/", "unsubscribe", "healthz")

web = Blueprint("web", __name__)


def _send(filename: str):
    path = PWA_DIR / filename
    if not path.is_file() or path.suffix not in TYPES:
        abort(404)
    response = send_from_directory(PWA_DIR, filename, max_age=0, mimetype=TYPES[path.suffix])
    response.headers["Cache-Control"] = "no-cache"
    if filename == "sw.js":
        # Scope "/" is the script's own directory; the header documents it for moves.
        response.headers["Service-Worker-Allowed"] = "/"
    return response


@web.after_request
def page_policy(response):
    # Every answer from here is part of the shell, JSON 404s included: the page policy
    # (the app-wide defaults add nosniff, referrer and permissions policies).
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@web.get("/")
def index():
    return _send("index.html")


@web.get("/<path:filename>")
def asset(filename: str):
    if filename.startswith(RESERVED) or any(part.startswith(".") for part in filename.split("/")):
        abort(404)
    return _send(filename)
