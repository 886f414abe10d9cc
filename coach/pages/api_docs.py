"""A browsable API reference at /api/docs, served entirely from this origin.

Swagger UI's files come from the `swagger-ui-bundle` package rather than a CDN, and the page
starts it from a script file, so it works under the same strict CSP as the rest of the app.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

STATIC = Path(__file__).resolve().parent.parent / "static"

docs = Blueprint("api_docs", __name__, url_prefix="/api/docs")


# Swagger UI sets some styles inline; scripts stay same-origin only.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@docs.get("")
def page():
    return render_template("api_docs.html"), 200, {"Content-Security-Policy": DOCS_CSP}


@docs.get("/start.js")
def start_script():
    return send_from_directory(STATIC, "api-docs-start.js", max_age=3600)


@docs.get("/assets/<any('swagger-ui.css', 'swagger-ui-bundle.js'):filename>")
def asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
