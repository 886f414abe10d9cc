"""Rate limits that hold (issue 13, finding 1): a bearer value the server has not verified is
never a key, so a random `Authorization: Bearer <hex>` on each request skips nothing; a fresh
login gives no fresh budget; sign-up and login are limited per address, per email and under
one ceiling for everyone; every 429 says so in plain words with Retry-After."""
from __future__ import annotations

import logging
import secrets

import pytest

from tests.helpers.accounts import PASSWORD, signup
from tests.helpers.apps import app_with_db, make_app

ADDRESS = {"REMOTE_ADDR": "192.0.2.7"}


def random_bearer() -> dict:
    return {"Authorization": f"Bearer {secrets.token_hex(32)}"}


@pytest.fixture
def limit_config():
    return {}


@pytest.fixture
def limited(database_url, tmp_path, limit_config):
    with app_with_db(database_url, tmp_path, RATELIMIT_ENABLED=True, **limit_config) as app:
        yield app.test_client()


def login(client, email, password="wrong password!", headers=None, addr=ADDRESS):
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers or {},
                       environ_base=addr)


def register(client, email, headers=None, addr=ADDRESS):
    return client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "timezone": "UTC"},
                       headers=headers or {}, environ_base=addr)


def assert_calm_429(response):
    assert response.status_code == 429
    body = response.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests"
    # Plain words, not the limiter's "10 per 1 minute".
    assert "per 1" not in body["message"] and "try again" in body["message"].lower()
    assert int(response.headers["Retry-After"]) > 0


def test_a_random_bearer_on_each_login_does_not_skip_the_address_limit(limited):
    # The address is blocked after 10 attempts (each a different email, so the per-email
    # limit is not what stops them) ...
    codes = [login(limited, f"u{i}@example.com").status_code for i in range(10)]
    assert codes == [401] * 10
    # ... and 40 more, each with a fresh random bearer value, are all refused.
    refused = [login(limited, f"v{i}@example.com", headers=random_bearer()) for i in range(40)]
    assert [r.status_code for r in refused] == [429] * 40
    assert_calm_429(refused[-1])
    # Someone at another address can still log in.
    assert login(limited, "w@example.com", addr={"REMOTE_ADDR": "192.0.2.99"}).status_code == 401


def test_a_random_bearer_on_each_sign_up_does_not_skip_the_address_limit(limited):
    codes = [register(limited, f"u{i}@example.com", headers=random_bearer()).status_code for i in range(25)]
    assert codes[:20] == [201] * 20
    assert codes[20:] == [429] * 5
    assert_calm_429(register(limited, "x@example.com", headers=random_bearer()))


def test_failed_logins_are_limited_per_email_across_addresses(limited):
    signup(limited, "ann@example.com")
    codes = [login(limited, "ANN@example.com", addr={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    # The same email with the right password is held too (someone is guessing at it) ...
    assert login(limited, "ann@example.com", PASSWORD, addr={"REMOTE_ADDR": "198.51.100.50"}).status_code == 429
    # ... while another account is not.
    signup(limited, "ben@example.com")
    assert login(limited, "ben@example.com", PASSWORD, addr={"REMOTE_ADDR": "198.51.100.51"}).status_code == 200


def test_successful_logins_do_not_use_up_the_email_budget(limited):
    signup(limited, "ann@example.com")
    for i in range(8):  # eight devices, eight addresses
        assert login(limited, "ann@example.com", PASSWORD, addr={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code == 200


def test_sign_ups_for_one_email_are_limited_across_addresses(limited):
    codes = [register(limited, "ann@example.com", addr={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code for i in range(7)]
    assert codes[0] == 201
    assert codes[1:5] == [409] * 4
    assert codes[5:] == [429] * 2


@pytest.mark.parametrize(
    "limit_config", [{"COACH_LIMIT_SIGNUP_GLOBAL": "5 per hour", "COACH_LIMIT_LOGIN_GLOBAL": "8 per minute"}]
)
def test_sign_ups_and_logins_stop_at_the_ceiling_for_everyone(limited):
    codes = [register(limited, f"u{i}@example.com", addr={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code for i in range(7)]
    assert codes == [201] * 5 + [429] * 2
    codes = [login(limited, f"u{i}@example.com", PASSWORD, addr={"REMOTE_ADDR": f"203.0.113.{i}"}).status_code
             for i in range(5)]
    assert codes == [200] * 5
    codes = [login(limited, f"z{i}@example.com", addr={"REMOTE_ADDR": f"203.0.113.{50 + i}"}).status_code
             for i in range(5)]
    assert codes == [401] * 3 + [429] * 2


def test_a_fresh_login_gives_no_fresh_write_budget(limited):
    ann = signup(limited, "ann@example.com")
    codes = [limited.patch("/api/me", headers=ann["headers"], json={"resonance_bpm": 6.0}).status_code for _ in range(120)]
    assert codes == [200] * 120
    assert_calm_429(limited.patch("/api/me", headers=ann["headers"], json={"resonance_bpm": 6.0}))
    again = login(limited, "ann@example.com", PASSWORD, addr={"REMOTE_ADDR": "198.51.100.9"})
    assert again.status_code == 200
    fresh = {"Authorization": f"Bearer {again.get_json()['token']}"}
    assert_calm_429(limited.patch("/api/me", headers=fresh, json={"resonance_bpm": 6.0}))
    # Writes are one budget per account, whichever route they go to.
    assert_calm_429(limited.post("/api/reminders", headers=fresh, json={"local_time": "07:30", "weekdays": [0]}))
    # Another account behind the same address is not held up.
    ben = signup(limited, "ben@example.com")
    assert limited.patch("/api/me", headers=ben["headers"], json={"resonance_bpm": 5.0}).status_code == 200


def test_writes_with_unverified_bearers_count_against_the_address(limited):
    codes = [limited.patch("/api/me", headers=random_bearer(), json={}, environ_base=ADDRESS).status_code
             for _ in range(121)]
    assert codes == [401] * 120 + [429]


@pytest.mark.parametrize("path", ["/api/insights?days=90", "/api/insights/what-helps"])
def test_expensive_reads_are_limited_per_account(limited, path):
    ann = signup(limited, "ann@example.com")
    codes = [limited.get(path, headers=ann["headers"]).status_code for _ in range(60)]
    assert codes == [200] * 60
    assert_calm_429(limited.get(path, headers=ann["headers"]))
    # One budget for insights and what-helps together, kept across a fresh login.
    again = login(limited, "ann@example.com", PASSWORD).get_json()["token"]
    assert_calm_429(limited.get("/api/insights/what-helps", headers={"Authorization": f"Bearer {again}"}))
    assert_calm_429(limited.get("/api/insights", headers={"Authorization": f"Bearer {again}"}))
    # Cheap reads are not limited, and another account is not held up.
    assert limited.get("/api/me", headers=ann["headers"]).status_code == 200
    ben = signup(limited, "ben@example.com")
    assert limited.get(path, headers=ben["headers"]).status_code == 200


def test_the_export_is_limited_per_account(limited):
    ann = signup(limited, "ann@example.com")
    codes = [limited.get("/api/me/export", headers=ann["headers"]).status_code for _ in range(10)]
    assert codes == [200] * 10
    assert_calm_429(limited.get("/api/me/export?format=csv", headers=ann["headers"]))


def test_the_openapi_document_states_429_for_the_expensive_reads(limited):
    paths = limited.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/insights", "/api/insights/what-helps", "/api/me/export", "/api/auth/login"):
        assert "429" in paths[path]["get" if "auth" not in path else "post"]["responses"], path


def test_a_warning_when_several_workers_count_in_memory(database_url, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with caplog.at_level(logging.WARNING, logger="coach.api.limits"):
        make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    assert any("memory://" in r.getMessage() and "4" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="coach.api.limits"):
        make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                 COACH_WEB_WORKERS=1)
    assert not [r for r in caplog.records if "memory://" in r.getMessage()]
