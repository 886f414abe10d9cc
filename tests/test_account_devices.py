"""Devices: each sign-in with a label and its last use; signing one, or all, out; logout
taking the browser's push subscription with it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from coach.accounts.devices import device_label
from coach.api import security
from coach.extensions import db
from coach.models import AuthToken, PushSubscription, utcnow
from coach.push import guard
from tests.helpers.accounts import PASSWORD, signup
from tests.helpers.push import Device

ANDROID_CHROME = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
MAC_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Safari/605.1.15")


@pytest.fixture
def public_dns(monkeypatch):
    monkeypatch.setattr(guard, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.mark.parametrize("agent, label", [
    (ANDROID_CHROME, "Chrome on Android"),
    (IPHONE_SAFARI, "Safari on iPhone"),
    (WINDOWS_FIREFOX, "Firefox on Windows"),
    (MAC_SAFARI, "Safari on macOS"),
    ("", "Unknown device"),
    ("\x00" * 5000, "Unknown device"),
])
def test_device_labels(agent, label):
    assert device_label(agent) == label


def login(client, email, agent=ANDROID_CHROME):
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}, headers={"User-Agent": agent})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_the_devices_list_names_each_sign_in_and_this_device(client, bob):
    signup(client, "ann@example.com")
    phone = login(client, "ann@example.com", ANDROID_CHROME)
    laptop = login(client, "ann@example.com", WINDOWS_FIREFOX)
    r = client.get("/api/auth/tokens", headers=laptop)
    assert r.status_code == 200
    devices = r.get_json()
    assert len(devices) == 3  # the sign-up's own login too; never bob's
    assert {tuple(sorted(d)) for d in devices} == {("created_at", "current", "id", "label", "last_used_at")}
    current = [d for d in devices if d["current"]]
    assert [d["label"] for d in current] == ["Firefox on Windows"]
    assert "Chrome on Android" in [d["label"] for d in devices]
    assert [d for d in client.get("/api/auth/tokens", headers=phone).get_json() if d["current"]][0]["label"] == "Chrome on Android"
    assert client.get("/api/auth/tokens").status_code == 401


def test_last_use_is_written_at_most_once_a_minute(client, monkeypatch):
    signup(client, "use@example.com")
    headers = login(client, "use@example.com")
    start = utcnow()

    def at(seconds):
        monkeypatch.setattr(security, "utcnow", lambda: start + timedelta(seconds=seconds))
        assert client.get("/api/me", headers=headers).status_code == 200
        db.session.expire_all()
        return db.session.scalar(select(AuthToken.last_used_at).order_by(AuthToken.id.desc()).limit(1))

    first = at(61)
    assert first == start + timedelta(seconds=61)
    assert at(90) == first  # within the minute: no write
    assert at(125) == start + timedelta(seconds=125)


def test_signing_one_device_out_takes_its_push_subscription_with_it(client, public_dns, bob):
    signup(client, "two@example.com")
    phone, laptop = login(client, "two@example.com"), login(client, "two@example.com", WINDOWS_FIREFOX)
    on_phone, on_laptop = Device("https://push.example.com/phone"), Device("https://push.example.com/laptop")
    assert client.post("/api/push/subscriptions", json=on_phone.subscription(), headers=phone).status_code == 201
    assert client.post("/api/push/subscriptions", json=on_laptop.subscription(), headers=laptop).status_code == 201
    phone_id = [d["id"] for d in client.get("/api/auth/tokens", headers=phone).get_json() if d["current"]][0]
    # Someone else's device, or none: 404.
    assert client.delete(f"/api/auth/tokens/{phone_id}", headers=bob["headers"]).status_code == 404
    assert client.delete("/api/auth/tokens/999999", headers=laptop).status_code == 404
    for huge in ("99999999999999999999", "2147483648", "0", "-1"):  # no row has such an id (was a 500)
        assert client.delete(f"/api/auth/tokens/{huge}", headers=laptop).status_code == 404
    assert client.delete(f"/api/auth/tokens/{phone_id}", headers=laptop).status_code == 204
    assert client.get("/api/me", headers=phone).status_code == 401
    assert client.get("/api/me", headers=laptop).status_code == 200
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == [on_laptop.endpoint]


def test_logout_deletes_the_browsers_push_subscription(client, public_dns, bob):
    who = signup(client, "shared@example.com")
    device = Device("https://push.example.com/shared-phone")
    assert client.post("/api/push/subscriptions", json=device.subscription(), headers=who["headers"]).status_code == 201
    other = Device("https://push.example.com/bobs")
    assert client.post("/api/push/subscriptions", json=other.subscription(), headers=bob["headers"]).status_code == 201
    # Another account's endpoint named at logout is left alone.
    r = client.post("/api/auth/logout", json={"push_endpoint": other.endpoint}, headers=login(client, "shared@example.com"))
    assert r.status_code == 204
    assert other.endpoint in db.session.scalars(select(PushSubscription.endpoint)).all()
    r = client.post("/api/auth/logout", json={"push_endpoint": device.endpoint}, headers=who["headers"])
    assert r.status_code == 204
    assert client.get("/api/me", headers=who["headers"]).status_code == 401
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == [other.endpoint]
    assert client.post("/api/auth/logout", headers=bob["headers"]).status_code == 204  # no body: fine


def test_logout_everywhere_revokes_every_token_and_subscription(client, public_dns, bob):
    who = signup(client, "all@example.com")
    second = login(client, "all@example.com")
    client.post("/api/push/subscriptions", json=Device("https://push.example.com/a").subscription(), headers=second)
    assert client.post("/api/auth/logout-everywhere", headers=who["headers"]).status_code == 204
    assert client.get("/api/me", headers=who["headers"]).status_code == 401
    assert client.get("/api/me", headers=second).status_code == 401
    assert client.get("/api/me", headers=bob["headers"]).status_code == 200
    assert db.session.scalars(select(PushSubscription)).all() == []


def test_at_most_10_devices_then_409(client):
    signup(client, "many@example.com")  # one sign-in
    signed_in = [login(client, "many@example.com") for _ in range(9)]
    r = client.post("/api/auth/login", json={"email": "many@example.com", "password": PASSWORD})
    assert r.status_code == 409 and "Settings" in r.get_json()["message"]
    oldest = min(d["id"] for d in client.get("/api/auth/tokens", headers=signed_in[-1]).get_json())
    assert client.delete(f"/api/auth/tokens/{oldest}", headers=signed_in[-1]).status_code == 204
    assert client.post("/api/auth/login", json={"email": "many@example.com", "password": PASSWORD}).status_code == 200
