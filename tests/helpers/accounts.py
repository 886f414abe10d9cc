"""Accounts through the API, as a user makes them: register, then log in."""
from __future__ import annotations

import uuid

PASSWORD = "correct horse battery"


def signup(client, email: str | None = None, timezone: str = "Europe/Berlin", password: str = PASSWORD) -> dict:
    """Register and log in; returns {"headers", "user", "token", "email", "password"}."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = client.post("/api/auth/register", json={"email": email, "password": password, "timezone": timezone})
    assert r.status_code == 201, r.get_json()
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
