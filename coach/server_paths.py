"""The paths the server answers itself, never the front end's files.

One list, used three ways: the input guard checks the input of the API's paths; the PWA
shell's catch-all never serves a file under any of them; and the service worker never answers
them from a cache (the shell writes the list into pwa/sw.js as it sends it).
Each is a prefix of the path.
"""
from __future__ import annotations

API_PREFIX = "/api/"
API = (API_PREFIX, "/healthz")  # what the OpenAPI document describes
SERVER = (*API, "/unsubscribe", "/confirm/", "/reset/", "/not-me/")  # and the pages the server renders
