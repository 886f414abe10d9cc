"""Passkeys through the API, answered by a software authenticator that signs as a real one does
(tests/helpers/soft_authenticator.py): registration, sign-in, and every forged answer refused."""
from __future__ import annotations

from datetime import timedelta

import pytest

from coach.api import passkeys as passkeys_api
from coach.extensions import db
from coach.models import Passkey, PasskeyChallenge, utcnow
from tests.helpers.accounts import signup
from tests.helpers.apps import app_with_db
from tests.helpers.soft_authenticator import SoftAuthenticator, b64url

ORIGIN = "https://coach.example"  # COACH_PUBLIC_URL of the test app (conftest.make_app)


def register(client, user, device: SoftAuthenticator, name=None):
    options = client.post("/api/auth/passkeys/register/options", headers=user["headers"]).get_json()
    body = {"credential": device.create(options)}
    if name is not None:
        body["name"] = name
    return client.post("/api/auth/passkeys/register", json=body, headers=user["headers"])


def login_options(client):
    r = client.post("/api/auth/passkeys/login/options", json={})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def sign_in(client, credential):
    return client.post("/api/auth/passkeys/login", json={"credential": credential})


@pytest.fixture
def device():
    return SoftAuthenticator(ORIGIN)


def test_register_then_sign_in_without_an_email_and_the_token_works(client, alice, device):
    options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    assert options["rp"]["id"] == "coach.example"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["user"]["name"] == "alice@example.com"
    r = client.post("/api/auth/passkeys/register", json={"credential": device.create(options), "name": " My  phone "},
                    headers=alice["headers"])
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["name"] == "My phone" and created["last_used_at"] is None

    options = login_options(client)
    assert options["rpId"] == "coach.example" and options["allowCredentials"] == []
    r = sign_in(client, device.get(options))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["user"]["email"] == "alice@example.com" and body["expires_at"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == alice["user"]["id"]

    listed = client.get("/api/auth/passkeys", headers=alice["headers"]).get_json()
    assert [(p["id"], p["name"]) for p in listed] == [(created["id"], "My phone")]
    assert listed[0]["last_used_at"] is not None


def test_a_second_passkey_keeps_the_same_user_handle_and_excludes_the_first(client, alice, device):
    assert register(client, alice, device).status_code == 201
    options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    assert options["user"]["id"] == device.user_handle
    assert options["excludeCredentials"] == [{"id": b64url(device.credential_id), "type": "public-key", "transports": ["internal"]}]
    other = SoftAuthenticator(ORIGIN)
    r = client.post("/api/auth/passkeys/register", json={"credential": other.create(options)}, headers=alice["headers"])
    assert r.status_code == 201 and r.get_json()["name"] == "Passkey 2"


@pytest.mark.parametrize("count", [None, 0], ids=["counting", "always-zero"])
def test_a_replayed_assertion_is_refused(client, alice, device, count):
    """Refused by its used challenge, even from a synced passkey whose counter stays 0."""
    assert register(client, alice, device).status_code == 201
    assertion = device.get(login_options(client), count=count)
    assert sign_in(client, assertion).status_code == 200
    again = sign_in(client, assertion)
    assert again.status_code == 401
    assert again.get_json()["code"] == 401 and "token" not in again.get_json()


def test_a_foreign_challenge_is_refused(client, alice, bob, device):
    assert register(client, alice, device).status_code == 201
    # A challenge the server never handed out, well signed by the real passkey.
    made_up = {"challenge": b64url(b"\x07" * 64)}
    assert sign_in(client, device.get(made_up)).status_code == 401
    # A registration challenge is no sign-in challenge.
    reg_options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    assert sign_in(client, device.get(reg_options)).status_code == 401
    # Alice's registration challenge does not register a passkey for Bob, and stays Alice's.
    alice_options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    stolen = SoftAuthenticator(ORIGIN)
    r = client.post("/api/auth/passkeys/register", json={"credential": stolen.create(alice_options)}, headers=bob["headers"])
    assert r.status_code == 400
    assert client.get("/api/auth/passkeys", headers=bob["headers"]).get_json() == []
    assert client.post("/api/auth/passkeys/register", json={"credential": stolen.create(alice_options)},
                       headers=alice["headers"]).status_code == 201


def test_an_assertion_from_another_origin_is_refused(client, alice, device):
    assert register(client, alice, device).status_code == 201
    r = sign_in(client, device.get(login_options(client), origin="https://coach.example.evil.test"))
    assert r.status_code == 401
    # The refused attempt used its challenge up, and the passkey still signs in from the coach.
    assert sign_in(client, device.get(login_options(client))).status_code == 200


def test_a_registration_from_another_origin_is_refused(client, alice, device):
    options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    r = client.post("/api/auth/passkeys/register", json={"credential": device.create(options, origin="http://coach.example")},
                    headers=alice["headers"])
    assert r.status_code == 400
    assert client.get("/api/auth/passkeys", headers=alice["headers"]).get_json() == []


def test_a_lowered_or_repeated_sign_counter_is_refused(client, alice, device):
    assert register(client, alice, device).status_code == 201
    assert sign_in(client, device.get(login_options(client), count=10)).status_code == 200
    assert sign_in(client, device.get(login_options(client), count=7)).status_code == 401
    assert sign_in(client, device.get(login_options(client), count=10)).status_code == 401
    assert sign_in(client, device.get(login_options(client), count=11)).status_code == 200


def test_an_authenticator_that_always_counts_zero_may_sign_in_again(client, alice, device):
    """Synced passkeys (iCloud Keychain, Google Password Manager) always report 0."""
    assert register(client, alice, device).status_code == 201
    assert sign_in(client, device.get(login_options(client), count=0)).status_code == 200
    assert sign_in(client, device.get(login_options(client), count=0)).status_code == 200


def test_an_expired_challenge_is_refused(client, alice, device, monkeypatch):
    options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(passkeys_api, "utcnow", lambda: later)
    r = client.post("/api/auth/passkeys/register", json={"credential": device.create(options)}, headers=alice["headers"])
    assert r.status_code == 400
    monkeypatch.undo()
    assert register(client, alice, device).status_code == 201
    options = login_options(client)
    monkeypatch.setattr(passkeys_api, "utcnow", lambda: later)
    assert sign_in(client, device.get(options)).status_code == 401


def test_a_registration_challenge_works_once_and_a_passkey_registers_once(client, alice, device):
    options = client.post("/api/auth/passkeys/register/options", headers=alice["headers"]).get_json()
    credential = device.create(options)
    assert client.post("/api/auth/passkeys/register", json={"credential": credential}, headers=alice["headers"]).status_code == 201
    assert client.post("/api/auth/passkeys/register", json={"credential": credential}, headers=alice["headers"]).status_code == 400
    r = register(client, alice, device)
    assert r.status_code == 409 and r.get_json()["code"] == 409


def test_an_unknown_passkey_or_a_forged_signature_is_refused(client, alice, device):
    assert register(client, alice, device).status_code == 201
    stranger = SoftAuthenticator(ORIGIN)
    stranger.user_handle = device.user_handle
    assert sign_in(client, stranger.get(login_options(client))).status_code == 401
    # The right credential id, signed by another key.
    stranger.credential_id = device.credential_id
    assert sign_in(client, stranger.get(login_options(client))).status_code == 401
    # Another account's user handle on this passkey's answer.
    answer = device.get(login_options(client))
    answer["response"]["userHandle"] = b64url(b"someone else")
    assert sign_in(client, answer).status_code == 401


@pytest.mark.parametrize("credential", [
    "not an object",
    {"id": "x", "rawId": "x", "type": "public-key"},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "%%%"}},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": b64url(b"[1]")}},
    {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": b64url(b'{"challenge": 5}')}},
])
def test_malformed_answers_are_refused_in_the_error_shape(client, alice, credential):
    for path, headers in (("/api/auth/passkeys/login", {}), ("/api/auth/passkeys/register", alice["headers"])):
        r = client.post(path, json={"credential": credential}, headers=headers)
        assert r.status_code in (400, 401, 422), (path, r.status_code, r.get_data(as_text=True))
        assert r.get_json()["code"] == r.status_code


def test_a_malformed_answer_over_a_live_challenge_uses_it_up_without_a_500(client, alice, device):
    assert register(client, alice, device).status_code == 201
    answer = device.get(login_options(client))
    answer["response"]["authenticatorData"] = b64url(b"short")
    assert sign_in(client, answer).status_code == 401
    answer["response"]["signature"] = "!!"
    assert sign_in(client, answer).status_code == 401


def test_rename_and_delete_only_ones_own_and_the_password_still_works(client, alice, bob, device):
    created = register(client, alice, device).get_json()
    path = f"/api/auth/passkeys/{created['id']}"
    assert client.patch(path, json={"name": "Bob's now"}, headers=bob["headers"]).status_code == 404
    assert client.delete(path, headers=bob["headers"]).status_code == 404
    assert client.patch(path, json={"name": "   "}, headers=alice["headers"]).status_code == 422
    r = client.patch(path, json={"name": "Work laptop"}, headers=alice["headers"])
    assert r.status_code == 200 and r.get_json()["name"] == "Work laptop"

    assert client.delete(path, headers=alice["headers"]).status_code == 204
    assert client.get("/api/auth/passkeys", headers=alice["headers"]).get_json() == []
    assert client.delete(path, headers=alice["headers"]).status_code == 404
    for no_row in ("/api/auth/passkeys/0", "/api/auth/passkeys/9223372036854775808", "/api/auth/passkeys/x"):
        assert client.delete(no_row, headers=alice["headers"]).status_code == 404
    # The deleted passkey signs in no more; the password does, and this device stays signed in.
    assert sign_in(client, device.get(login_options(client))).status_code == 401
    assert client.get("/api/me", headers=alice["headers"]).status_code == 200
    r = client.post("/api/auth/login", json={"email": alice["email"], "password": alice["password"]})
    assert r.status_code == 200


def test_passkey_calls_need_a_token_except_sign_in(client):
    for method, path in (("post", "/api/auth/passkeys/register/options"), ("post", "/api/auth/passkeys/register"),
                         ("get", "/api/auth/passkeys"), ("delete", "/api/auth/passkeys/1"), ("patch", "/api/auth/passkeys/1")):
        assert getattr(client, method)(path, json={}).status_code == 401, path


def test_erasing_the_account_removes_its_passkeys(app, client, device):
    carol = signup(client, "carol@example.com")
    assert register(client, carol, device).status_code == 201
    client.post("/api/auth/passkeys/register/options", headers=carol["headers"])
    assert client.delete("/api/me", json={"password": carol["password"]}, headers=carol["headers"]).status_code == 204
    assert db.session.query(Passkey).count() == 0
    assert db.session.query(PasskeyChallenge).filter(PasskeyChallenge.user_id.is_not(None)).count() == 0
    assert sign_in(client, device.get(login_options(client))).status_code == 401


def test_options_sweep_expired_challenges(app, client, monkeypatch):
    login_options(client)
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(passkeys_api, "utcnow", lambda: later)
    login_options(client)
    assert db.session.query(PasskeyChallenge).count() == 1


def test_the_openapi_document_lists_the_passkey_calls(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/auth/passkeys/login"]["post"]["responses"]) >= {"200", "401", "429"}
    assert paths["/api/auth/passkeys/login"]["post"]["security"] == []
    assert set(paths["/api/auth/passkeys/register"]["post"]["responses"]) >= {"201", "400", "401", "409"}
    assert {"get"} <= set(paths["/api/auth/passkeys"])
    assert {"patch", "delete"} <= set(paths["/api/auth/passkeys/{passkey_id}"])


def test_the_export_lists_the_passkeys_and_nothing_to_sign_in_with(client, alice, bob, device):
    assert register(client, alice, device, name="Phone").status_code == 201
    assert register(client, bob, SoftAuthenticator(ORIGIN), name="Bob's phone").status_code == 201
    assert sign_in(client, device.get(login_options(client))).status_code == 200
    r = client.get("/api/me/export", headers=alice["headers"])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    (passkey,) = r.get_json()["passkeys"]
    assert passkey["name"] == "Phone" and passkey["created_at"] and passkey["last_used_at"]
    assert passkey["credential_id"] == b64url(device.credential_id)
    assert "Bob's phone" not in r.get_data(as_text=True)


def test_passkey_sign_in_is_limited_per_address(database_url, tmp_path):
    with app_with_db(database_url, tmp_path, RATELIMIT_ENABLED=True) as app:
        client = app.test_client()
        here, there = {"REMOTE_ADDR": "192.0.2.7"}, {"REMOTE_ADDR": "192.0.2.8"}
        codes = [client.post("/api/auth/passkeys/login/options", json={}, environ_base=here).status_code for _ in range(31)]
        assert codes[:30] == [200] * 30 and codes[30] == 429
        forged = SoftAuthenticator(ORIGIN).get({"challenge": b64url(b"x" * 32)})
        codes = [client.post("/api/auth/passkeys/login", json={"credential": forged}, environ_base=here).status_code
                 for _ in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        refused = client.post("/api/auth/passkeys/login", json={"credential": forged}, environ_base=here)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # Someone else is not held up.
        assert client.post("/api/auth/passkeys/login/options", environ_base=there).status_code == 200
