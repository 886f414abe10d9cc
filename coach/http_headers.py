"""Secure defaults on every response, and a request id in every log line."""
from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request

log = logging.getLogger("coach.request")

# API answers are data, never pages: nothing may load from them or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# media-src blob: is the session's silent loop, made in code (pwa/js/background.js).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The camera only for the page itself: the resonance finder reads the pulse from a fingertip.
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), screen-wake-lock=(self)"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Paths whose last part is a credential (the links in emails): logged as `/confirm/…`.
LINK_PATHS = ("/unsubscribe/", "/confirm/", "/reset/", "/not-me/")


def loggable_path(path: str) -> str:
    for prefix in LINK_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


def _start():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    g.started = time.perf_counter()


def _finish(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = API_CSP if response.mimetype == "application/json" else PAGE_CSP
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/"):
        # Answers hold tokens and health notes: no browser or proxy cache may keep one.
        headers["Cache-Control"] = "no-store"
    request_id = getattr(g, "request_id", None)
    if request_id:
        headers["X-Request-ID"] = request_id
        # Only method, path, status and timing: never bodies, tokens or query strings.
        duration_ms = round((time.perf_counter() - g.started) * 1000, 1)
        path = loggable_path(request.path)
        log.info(
            "%s %s %s %.1fms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
