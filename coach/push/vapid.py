"""The application server's VAPID key pair (RFC 8292).

From `VAPID_PRIVATE_KEY` (PEM, base64url DER, or the base64url raw 32-byte scalar that
web-push tools print), else made once and kept in the instance folder, so every process
of a deployment that shares the folder signs with the same key and browsers'
subscriptions stay valid across restarts.
"""
from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid

KEY_FILE = "vapid_private.pem"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _from_string(value: str) -> Vapid:
    value = value.strip().replace("\\n", "\n")
    if "-----BEGIN" in value:
        key = serialization.load_pem_private_key(value.encode(), password=None)
        return Vapid(key)
    return Vapid.from_string(value)


def _from_instance(instance_path: str) -> Vapid:
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        vapid = Vapid()
        vapid.generate_keys()
        # Written aside and linked into place: two processes starting at once both end up
        # with whichever key was linked first, never with a half-written file.
        fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=".vapid-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, vapid.private_pem())
            os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return _from_string(path.read_text())


def load(app: Flask) -> Vapid:
    """The app's key pair, read or made on first use and then kept on the app."""
    vapid = app.extensions.get("coach.vapid")
    if vapid is None:
        configured = app.config.get("VAPID_PRIVATE_KEY")
        vapid = _from_string(configured) if configured else _from_instance(app.instance_path)
        app.extensions["coach.vapid"] = vapid
    return vapid


def current() -> Vapid:
    return load(current_app._get_current_object())


def public_key(vapid: Vapid) -> str:
    """The application server key as browsers take it: base64url of the uncompressed point."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)
