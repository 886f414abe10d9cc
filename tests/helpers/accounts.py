"""Accounts through the API, as a user makes them: register, confirm the address, log in."""
from __future__ import annotations

import uuid

from coach.accounts import links
from coach.extensions import db
from coach.models import User, utcnow

PASSWORD = "correct horse battery"


def confirm_link_token(app, user_id: int) -> str:
    """The token the account's confirmation email carries now (as the tick would mint it)."""
    db.session.expire_all()
    user = db.session.get(User, user_id)
    address = user.pending_email or user.email
    return links.make(app.config["SECRET_KEY"], links.CONFIRM, user.id, user.confirm_nonce, links.tag(address), utcnow())


def signup(client, email: str | None = None, timezone: str = "Europe/Berlin", password: str = PASSWORD,
           confirm: bool = True) -> dict:
    """Register, confirm the address (through POST /api/auth/confirm, unless `confirm=False`)
    and log in; returns {"headers", "user", "token", "email", "password"}."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = client.post("/api/auth/register", json={"email": email, "password": password, "timezone": timezone})
    assert r.status_code == 201, r.get_json()
    if confirm:
        token = confirm_link_token(client.application, r.get_json()["id"])
        r = client.post("/api/auth/confirm", json={"token": token})
        assert r.status_code == 200, r.get_json()
    r = client.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return {
        "headers": {"Authorization": f"Bearer {body['token']}"},
        "user": body["user"],
        "token": body["token"],
        "email": email,
        "password": password,
    }
