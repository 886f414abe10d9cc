"""Serves the installable front end (pwa/) at the site root."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

web = Blueprint("web", __name__)


@web.get("/")
def index():
    return send_from_directory(PWA_DIR, "index.html", max_age=0)


@web.get("/<path:filename>")
def asset(filename: str):
    if filename.startswith("api/"):
        abort(404)
    return send_from_directory(PWA_DIR, filename, max_age=0)
