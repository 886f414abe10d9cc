"""Accounts: register, login, tokens, profile, erasure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher, profiles
from sqlalchemy import func, select

from coach.accounts import passwords, tokens
from coach.extensions import db
from coach.models import AuthToken, User
from tests.helpers.accounts import PASSWORD, signup
from tests.helpers.apps import app_with_db


def test_register_answers_the_contract_fields(client):
    r = client.post("/api/auth/register", json={"email": "Ann@Example.com", "password": PASSWORD, "timezone": "Asia/Tokyo"})
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"id", "email", "timezone", "created_at"}
    assert body["email"] == "ann@example.com"
    assert body["timezone"] == "Asia/Tokyo"
    assert body["created_at"].endswith(("+00:00", "Z"))
    assert "password" not in r.get_data(as_text=True)


def test_email_taken_is_case_insensitive(client, alice):
    r = client.post("/api/auth/register", json={"email": "ALICE@example.COM", "password": PASSWORD, "timezone": "UTC"})
    assert r.status_code == 409
    assert r.get_json()["code"] == 409
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_register_validation_messages_per_field(client):
    r = client.post("/api/auth/register", json={"email": "nope", "password": "short", "timezone": "Mars/Olympus"})
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert set(errors) == {"email", "password", "timezone"}
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_rejects_unknown_fields(client):
    r = client.post(
        "/api/auth/register",
        json={"email": "a@example.com", "password": PASSWORD, "timezone": "UTC", "is_admin": True},
    )
    assert r.status_code == 422
    assert "is_admin" in r.get_json()["errors"]


def test_login_returns_a_working_token_and_password_hash_is_argon2(client, alice):
    user = db.session.scalar(select(User).where(User.email == "alice@example.com"))
    assert user.password_hash.startswith("$argon2id$")
    assert len(alice["token"]) >= 43  # 32 random bytes, base64url
    stored = db.session.scalars(select(AuthToken.token_hash)).all()
    assert alice["token"] not in stored  # only a hash is kept
    assert client.get("/api/me", headers=alice["headers"]).status_code == 200


def test_login_wrong_pair_is_401_in_the_error_shape(client, alice):
    for body in ({"email": "alice@example.com", "password": "wrong password!"}, {"email": "nobody@example.com", "password": PASSWORD}):
        r = client.post("/api/auth/login", json=body)
        assert r.status_code == 401
        assert set(r.get_json()) >= {"code", "status", "message"}


def test_an_unknown_email_costs_one_verification_at_a_real_hashs_parameters(client, alice, monkeypatch):
    """Equal work either way, so the answer's timing does not tell which emails have accounts."""
    verified = []

    class Watched(PasswordHasher):
        def verify(self, hash, password):  # noqa: A002 (argon2's own name)
            verified.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", Watched.from_parameters(profiles.CHEAPEST))
    for email in ("alice@example.com", "nobody@example.com"):
        assert client.post("/api/auth/login", json={"email": email, "password": "wrong password!"}).status_code == 401
    known, unknown = verified
    parameters = lambda h: h.rsplit("$", 2)[0]  # noqa: E731  ($argon2id$v=19$m=…,t=…,p=…)
    assert parameters(unknown) == parameters(known) and unknown != known


def test_logout_revokes_the_token_at_once(client, alice):
    assert client.post("/api/auth/logout", headers=alice["headers"]).status_code == 204
    r = client.get("/api/me", headers=alice["headers"])
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(app, client, alice):
    now = datetime.now(timezone.utc)
    assert tokens.authenticate(alice["token"], now) is not None
    assert tokens.authenticate(alice["token"], now + timedelta(days=31)) is None
    row = db.session.scalar(select(AuthToken))
    row.expires_at = now - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/me", headers=alice["headers"]).status_code == 401


def test_missing_or_malformed_authorization_is_401(client, alice):
    for header in (None, "Bearer", "Basic abc", f"Token {alice['token']}", "Bearer " + "x" * 300):
        headers = {"Authorization": header} if header else {}
        assert client.get("/api/me", headers=headers).status_code == 401


def test_patch_me_changes_timezone_digest_and_resonance(client, alice):
    r = client.patch(
        "/api/me",
        headers=alice["headers"],
        json={"timezone": "America/New_York", "digest": {"weekday": 0, "local_time": "07:15"}, "resonance_bpm": 5.55},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["timezone"] == "America/New_York"
    assert body["digest"] == {"enabled": True, "weekday": 0, "local_time": "07:15", "send_empty": False}
    assert body["resonance_bpm"] == 5.6  # kept at 0.1 precision
    assert client.get("/api/me", headers=alice["headers"]).get_json() == body


def test_patch_me_replans_the_digest_in_the_new_zone(client, alice):
    client.patch("/api/me", headers=alice["headers"], json={"timezone": "Asia/Tokyo"})
    user = db.session.scalar(select(User))
    local = user.digest_next_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert (local.weekday(), local.hour, local.minute) == (6, 18, 0)
    client.patch("/api/me", headers=alice["headers"], json={"digest": {"enabled": False}})
    db.session.expire_all()
    assert db.session.scalar(select(User)).digest_next_at is None


def test_patch_me_out_of_range_changes_nothing(client, alice):
    for body in (
        {"resonance_bpm": 3.9},
        {"resonance_bpm": 7.6},
        {"timezone": "Nowhere/Land"},
        {"digest": {"weekday": 7}},
        {"digest": {"local_time": "24:00"}},
        {"digest": {"local_time": "7:30"}},
        {"email": "not an address"}, {"email": "a\x0bb@example.com"}, {"language": "xx"},
        {"resonance_bpm": "fast"},
    ):
        r = client.patch("/api/me", headers=alice["headers"], json=body)
        assert r.status_code == 422, body
    me = client.get("/api/me", headers=alice["headers"]).get_json()
    assert me["resonance_bpm"] == 6.0 and me["timezone"] == "Europe/Berlin" and me["email"] == "alice@example.com"


def test_delete_me_needs_the_password_and_then_removes_everything(client, alice, bob):
    r = client.delete("/api/me", headers=alice["headers"], json={"password": "not the password"})
    assert r.status_code == 403
    assert client.get("/api/me", headers=alice["headers"]).status_code == 200
    r = client.delete("/api/me", headers=alice["headers"], json={"password": PASSWORD})
    assert r.status_code == 204
    assert client.get("/api/me", headers=alice["headers"]).status_code == 401
    emails = db.session.scalars(select(User.email)).all()
    assert emails == ["bob@example.com"]
    owned = db.session.scalar(select(func.count()).select_from(AuthToken).where(AuthToken.user_id == alice["user"]["id"]))
    assert owned == 0
    # The address is free again.
    assert client.post("/api/auth/register", json={"email": "alice@example.com", "password": PASSWORD, "timezone": "UTC"}).status_code == 201


def test_login_is_rate_limited_per_email(database_url, tmp_path):
    with app_with_db(database_url, tmp_path, RATELIMIT_ENABLED=True) as app:
        client = app.test_client()
        signup(client, "carol@example.com")  # one login
        codes = []
        for i in range(6):
            # Different addresses, same email: the per-email limit (5/min) applies.
            r = client.post(
                "/api/auth/login",
                json={"email": "carol@example.com", "password": "wrong password"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
            )
            codes.append(r.status_code)
        assert codes[:4] == [401] * 4
        assert codes[-1] == 429
        assert client.post("/api/auth/login", json={"email": "carol@example.com", "password": "x"}).get_json()["code"] == 429
        # Another email is not held up by carol's limit.
        r = client.post("/api/auth/login", json={"email": "dave@example.com", "password": "x"}, environ_base={"REMOTE_ADDR": "10.0.1.1"})
        assert r.status_code == 401


def test_production_hashing_is_at_least_owasp_strength(_cheap_password_hashing):
    real = _cheap_password_hashing  # the module's own hasher, which the tests swap out
    assert real.type.name == "ID"
    assert real.time_cost >= 2 and real.memory_cost >= 19 * 1024  # OWASP minimum for argon2id
