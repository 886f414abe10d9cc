"""Secure headers on every answer; a request id that is echoed and logged without secrets."""
from __future__ import annotations

import logging


def test_api_answers_carry_the_secure_defaults(client, alice):
    r = client.get("/api/me", headers=alice["headers"])
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    policy = r.headers["Permissions-Policy"]
    assert "camera=(self)" in policy and "microphone=()" in policy  # the finder's pulse: own page only
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Strict-Transport-Security" not in r.headers  # plain http here


def test_hsts_only_over_https(client):
    r = client.get("/healthz", base_url="https://coach.example")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_errors_get_the_headers_too(client):
    r = client.post("/api/auth/register", data="x", content_type="text/plain")
    assert r.status_code == 415
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert len(r.headers["X-Request-ID"]) >= 8


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123-def"}).headers["X-Request-ID"] == "abc-123-def"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert replaced != "bad id <script>" and replaced.isalnum()


def test_request_log_has_no_tokens_or_passwords(client, caplog):
    caplog.set_level(logging.INFO, logger="coach.request")
    client.post("/api/auth/register", json={"email": "log@example.com", "password": "secret password 1", "timezone": "UTC"})
    token = client.post("/api/auth/login", json={"email": "log@example.com", "password": "secret password 1"}).get_json()["token"]
    client.get("/api/me?x=1", headers={"Authorization": f"Bearer {token}"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/auth/login 200" in text
    assert "GET /api/me 200" in text
    assert token not in text and "secret password 1" not in text
    assert all(getattr(r, "request_id", None) for r in caplog.records if r.name == "coach.request")


def test_log_lines_are_json_with_the_request_fields(client, caplog):
    import json

    from coach.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="coach.request")
    client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    record = next(r for r in caplog.records if r.name == "coach.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-12345678"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["level"] == "info" and isinstance(line["duration_ms"], float)
