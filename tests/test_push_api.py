"""The push half of the API: the application server key and subscriptions, with the SSRF guard."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import base64
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from coach.extensions import db
from coach.models import PushSubscription
from coach.push import guard
from tests.helpers.apps import make_app
from tests.helpers.push import b64url, Device, PushService

PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def app_config():
    # Only a made-up name may use plain http; the loopback addresses are NOT allowed here.
    return {"COACH_PUSH_INSECURE_HOSTS": ["push.test"]}


@pytest.fixture
def public_dns(monkeypatch):
    """There is no DNS offline: names resolve from this table (anything else fails)."""
    table = {
        "push.example.com": [PUBLIC_IP],
        "fcm.googleapis.com": [PUBLIC_IP, "2606:4700::1111"],
        "intranet.example.com": ["10.1.2.3"],
        "mixed.example.com": [PUBLIC_IP, "192.168.1.5"],
        "rebind.example.com": ["::ffff:127.0.0.1"],
        "push.test": ["127.0.0.1"],
    }

    def resolve(host, port):
        if host in table:
            return table[host]
        # Numeric forms (2130706433, 0x7f.1) resolve without DNS, as the real resolver does.
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [info[4][0] for info in infos]

    monkeypatch.setattr(guard, "resolve", resolve)
    return table


def device(endpoint="https://push.example.com/wpush/v2/abc"):
    return Device(endpoint)


def subscribe(client, who, body):
    return client.post("/api/push/subscriptions", json=body, headers=who["headers"])


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the application server key ----------------------------------------------------------


def test_vapid_key_is_public_and_a_p256_point_kept_in_the_instance_folder(client, app, tmp_path):
    r = client.get("/api/push/vapid-public-key")
    assert r.status_code == 200
    key = r.get_json()["key"]
    raw = unb64(key)
    assert len(raw) == 65 and raw[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a real point
    assert "=" not in key and "+" not in key and "/" not in key
    assert (tmp_path / "instance" / "vapid_private.pem").exists()
    # Another process with the same instance folder signs with the same key.
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    assert other.test_client().get("/api/push/vapid-public-key").get_json()["key"] == key


@pytest.mark.parametrize("form", ["pem", "raw"])
def test_vapid_key_from_the_environment(tmp_path, form):
    private = ec.generate_private_key(ec.SECP256R1())
    if form == "pem":
        value = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    else:
        value = b64url(private.private_numbers().private_value.to_bytes(32, "big"))
    expected = b64url(
        private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    app = make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path, VAPID_PRIVATE_KEY=value)
    assert app.test_client().get("/api/push/vapid-public-key").get_json() == {"key": expected}
    assert not (tmp_path / "instance" / "vapid_private.pem").exists()


# --- subscriptions ---------------------------------------------------------------------------


def test_subscribe_then_resubscribe_updates_keys(client, alice, public_dns):
    dev = device()
    r = subscribe(client, alice, dev.subscription())
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["endpoint"] == dev.endpoint
    fresh = Device(dev.endpoint)  # the browser made new keys for the same endpoint
    r = subscribe(client, alice, fresh.subscription())
    assert r.status_code == 200
    rows = db.session.scalars(select(PushSubscription)).all()
    assert [(s.endpoint, s.p256dh, s.auth) for s in rows] == [(dev.endpoint, fresh.p256dh, fresh.auth_b64)]


def test_one_user_many_devices_and_expiration_time(client, alice, public_dns):
    one, two = device("https://push.example.com/a"), device("https://fcm.googleapis.com/fcm/send/b")
    body = two.subscription() | {"expirationTime": 1893456000000}
    assert subscribe(client, alice, one.subscription()).status_code == 201
    r = subscribe(client, alice, body)
    assert r.status_code == 201 and r.get_json()["expirationTime"] == 1893456000000
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 2


def test_a_device_that_changed_hands_moves_to_the_new_account(client, alice, bob, public_dns):
    dev = device()
    assert subscribe(client, alice, dev.subscription()).status_code == 201
    assert subscribe(client, bob, dev.subscription()).status_code == 200
    sub = db.session.scalar(select(PushSubscription))
    assert sub.user_id == bob["user"]["id"]
    # Alice can no longer remove it; Bob can.
    assert client.delete("/api/push/subscriptions", json={"endpoint": dev.endpoint}, headers=alice["headers"]).status_code == 204
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 1
    assert client.delete("/api/push/subscriptions", json={"endpoint": dev.endpoint}, headers=bob["headers"]).status_code == 204
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 0


def test_subscriptions_need_a_login(client):
    assert client.post("/api/push/subscriptions", json=device().subscription()).status_code == 401
    assert client.delete("/api/push/subscriptions", json={"endpoint": "https://push.example.com/x"}).status_code == 401


def _point_off_curve() -> str:
    return b64url(b"\x04" + b"\x01" * 64)


INVALID = [
    (lambda s: s["keys"].update(p256dh=s["keys"]["p256dh"][:-4]), "keys"),  # 62 bytes
    (lambda s: s["keys"].update(p256dh=_point_off_curve()), "keys"),
    (lambda s: s["keys"].update(p256dh="not base64!"), "keys"),
    (lambda s: s["keys"].update(auth=b64url(b"x" * 15)), "keys"),
    (lambda s: s["keys"].update(auth=b64url(b"x" * 17)), "keys"),
    (lambda s: s["keys"].pop("auth"), "keys"),
    (lambda s: s.pop("keys"), "keys"),
    (lambda s: s.update(endpoint="https://push.example.com/" + "a" * 2030), "endpoint"),
    (lambda s: s.update(endpoint=""), "endpoint"),
    (lambda s: s.update(expirationTime="soon"), "expirationTime"),
    (lambda s: s.update(extra=1), "extra"),
]


def test_invalid_subscriptions_are_422(client, alice, public_dns):
    for i, (change, field) in enumerate(INVALID):
        body = device().subscription()
        change(body)
        r = subscribe(client, alice, body)
        assert r.status_code == 422, (i, r.get_json())
        assert field in r.get_json()["errors"], (i, r.get_json())
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 0


REFUSED = [
    "http://push.example.com/wpush/abc",  # a public host, but plain http
    "https://10.0.0.1/push",  # private
    "https://127.0.0.1/push",  # loopback, not in the allow list
    "http://127.0.0.1:8080/push",
    "https://localhost/push",
    "https://LOCALHOST./push",
    "https://api.localhost/push",
    "https://[::1]/push",  # IPv6 loopback
    "https://[::ffff:127.0.0.1]/push",  # IPv4-mapped loopback
    "https://[2002:7f00:1::1]/push",  # 6to4 around 127.0.0.1
    "https://[64:ff9b::a00:1]/push",  # NAT64 around 10.0.0.1
    "https://[fe80::1]/push",  # link-local
    "https://[fd00::1]/push",  # unique local
    "https://169.254.169.254/latest/meta-data",  # cloud metadata
    "https://0.0.0.0/push",
    "https://224.0.0.1/push",  # multicast
    "https://100.64.0.1/push",  # shared address space
    "https://240.0.0.1/push",  # reserved
    "https://2130706433/push",  # 127.0.0.1 as one number: resolves to loopback
    "https://0x7f.1/push",
    "https://push.example.com@10.0.0.1/push",  # userinfo: the host is 10.0.0.1
    "https://user:pass@push.example.com/push",  # any userinfo at all
    "https://push.example.com\\@10.0.0.1/push",
    "https://push.example.com /push",
    "https://intranet.example.com/push",  # resolves to a private address
    "https://mixed.example.com/push",  # one public, one private address
    "https://rebind.example.com/push",
    "https://unknown.example.com/push",  # does not resolve
    "ftp://push.example.com/push",
    "https://push.example.com:99999/push",
    "https:///push",
    "//push.example.com/push",
]
ACCEPTED = [
    "https://push.example.com/wpush/v2/abc",
    "https://fcm.googleapis.com/fcm/send/xyz:abc",
    f"https://{PUBLIC_IP}/push",
    "https://[2606:4700::1111]/push",
    "http://push.test/push/1",  # in COACH_PUSH_INSECURE_HOSTS: http and loopback allowed
]


@pytest.mark.parametrize("endpoint", REFUSED)
def test_guard_refuses(public_dns, endpoint):
    with pytest.raises(guard.EndpointRefused):
        guard.check_endpoint(endpoint, guard.insecure_set(["push.test"]))


@pytest.mark.parametrize("endpoint", ACCEPTED)
def test_guard_accepts(public_dns, endpoint):
    guard.check_endpoint(endpoint, guard.insecure_set(["push.test"]))


def test_ssrf_refused_with_422(client, alice, public_dns):
    for endpoint in REFUSED:
        r = subscribe(client, alice, device().subscription() | {"endpoint": endpoint})
        assert r.status_code == 422, (endpoint, r.get_json())
        assert "endpoint" in r.get_json()["errors"], endpoint
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 0


def test_public_https_and_allowed_insecure_hosts_are_accepted(client, alice, public_dns):
    for endpoint in ACCEPTED:
        r = subscribe(client, alice, device().subscription() | {"endpoint": endpoint})
        assert r.status_code == 201, (endpoint, r.get_json())


def _post(hosts, url):
    async def go():
        async with guard.guarded_client_session(hosts) as session:
            async with session.post(url, data=b"x") as response:
                return response.status

    # On a thread of its own: the browser tests' driver may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_the_send_time_guard_checks_what_is_connected_to():
    """DNS rebinding: a name that passed at subscription time but now resolves to
    127.0.0.1 is refused before anything is sent, as are literals and redirects."""
    with PushService(verify=False) as svc:  # records and answers; no push checks here
        dev = svc.device()
        with pytest.raises(guard.EndpointRefused):
            _post([], dev.endpoint.replace("127.0.0.1", "localhost"))  # resolves to loopback
        with pytest.raises(guard.EndpointRefused):
            _post([], dev.endpoint)
        assert svc.received == []
        assert _post(["127.0.0.1"], dev.endpoint) == 201  # allowed: it reached the service
        assert len(svc.received) == 1
        svc.answer(dev, 307)
        with pytest.raises(guard.EndpointRefused):
            _post(["127.0.0.1"], dev.endpoint)  # a push service does not redirect


def test_a_new_device_beyond_the_cap_replaces_the_longest_unrefreshed(client, alice, public_dns):
    from coach.push.subscriptions import MAX_SUBSCRIPTIONS

    devices = [device(f"https://push.example.com/d{i}") for i in range(MAX_SUBSCRIPTIONS + 1)]
    for dev in devices[:MAX_SUBSCRIPTIONS]:
        assert subscribe(client, alice, dev.subscription()).status_code == 201
    assert subscribe(client, alice, devices[0].subscription()).status_code == 200  # d0 refreshed
    assert subscribe(client, alice, devices[-1].subscription()).status_code == 201
    kept = set(db.session.scalars(select(PushSubscription.endpoint)))
    assert len(kept) == MAX_SUBSCRIPTIONS
    assert devices[1].endpoint not in kept  # the longest unrefreshed made room
    assert {devices[0].endpoint, devices[-1].endpoint} <= kept
