"""Devices: each sign-in (token) with a label a person recognises and its last use."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import ua_parser
from sqlalchemy import delete, select

from ..extensions import db
from ..models import AuthToken, PushSubscription, User

LABEL_MAX = 80
# ua-parser's families, as a person would name them.
BROWSERS = {
    "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome", "Chrome Mobile WebView": "Android app",
    "HeadlessChrome": "Chrome", "Chromium": "Chromium", "Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "iPhone app",
    "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox", "Edge Mobile": "Edge", "Samsung Internet": "Samsung Internet",
    "Opera Mobile": "Opera",
}
SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS", "Ubuntu": "Linux", "Fedora": "Linux"}


@lru_cache(maxsize=256)
def device_label(user_agent: str) -> str:
    """"Chrome on Android", "Safari on iPhone", "Firefox on Windows"; "Unknown device" when
    the User-Agent says nothing useful."""
    result = ua_parser.parse(user_agent[:512]) if user_agent else None
    browser = system = None
    if result is not None and result.user_agent and result.user_agent.family != "Other":
        browser = BROWSERS.get(result.user_agent.family, result.user_agent.family)
    if result is not None and result.os and result.os.family != "Other":
        system = SYSTEMS.get(result.os.family, result.os.family)
        if system == "iOS" and result.device and result.device.family in {"iPhone", "iPad", "iPod"}:
            system = result.device.family
    label = f"{browser} on {system}" if browser and system else browser or system or "Unknown device"
    return label[:LABEL_MAX]


def listed(user: User, current_token_id: int | None, now: datetime) -> list[dict]:
    """The account's live sign-ins, most recently used first."""
    rows = db.session.scalars(
        select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.expires_at > now)
    ).all()
    rows = sorted(rows, key=lambda t: (t.last_used_at or t.created_at, t.id), reverse=True)
    return [
        {"id": t.id, "created_at": t.created_at, "last_used_at": t.last_used_at or t.created_at,
         "label": t.label or "Unknown device", "current": t.id == current_token_id}
        for t in rows
    ]


def sign_out(user: User, token_id: int) -> bool:
    """Revoke one of the user's tokens; its push subscriptions go with it (foreign key)."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.auth_token_id == token_id, PushSubscription.user_id == user.id))
    gone = db.session.execute(delete(AuthToken).where(AuthToken.id == token_id, AuthToken.user_id == user.id)).rowcount
    db.session.commit()
    return gone > 0


def sign_out_everywhere(user: User) -> None:
    """Every token revoked; every push subscription too: no device is signed in any more,
    so none may keep getting this account's reminders."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user.id))
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    db.session.commit()
