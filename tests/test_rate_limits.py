"""Rate limits on register and on writes, counted per account (or address), not on cheap reads."""
from __future__ import annotations

import pytest

from tests.helpers.accounts import signup
from tests.helpers.apps import app_with_db


@pytest.fixture
def limited(database_url, tmp_path):
    with app_with_db(database_url, tmp_path, RATELIMIT_ENABLED=True) as app:
        yield app.test_client()


def test_register_is_limited_per_address(limited):
    codes = [
        limited.post(
            "/api/auth/register",
            json={"email": f"u{i}@example.com", "password": "long enough pw", "timezone": "UTC"},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        ).status_code
        for i in range(21)
    ]
    assert codes[:20] == [201] * 20
    assert codes[20] == 429
    # Someone else is not held up.
    other = limited.post(
        "/api/auth/register",
        json={"email": "other@example.com", "password": "long enough pw", "timezone": "UTC"},
        environ_base={"REMOTE_ADDR": "192.0.2.8"},
    )
    assert other.status_code == 201


def test_writes_are_limited_per_account_and_reads_are_not(limited):
    ann = signup(limited, "ann@example.com")
    ben = signup(limited, "ben@example.com")
    codes = [limited.patch("/api/me", headers=ann["headers"], json={"resonance_bpm": 6.0}).status_code for _ in range(121)]
    assert codes[:120] == [200] * 120
    refused = limited.patch("/api/me", headers=ann["headers"], json={"resonance_bpm": 6.0})
    assert refused.status_code == 429
    assert refused.get_json()["code"] == 429
    assert int(refused.headers["Retry-After"]) > 0
    # Reads still work, and another user on the same address is not affected.
    assert limited.get("/api/me", headers=ann["headers"]).status_code == 200
    assert limited.patch("/api/me", headers=ben["headers"], json={"resonance_bpm": 5.0}).status_code == 200
