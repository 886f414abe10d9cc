"""Email addresses: a real validator (syntax only), no control characters, one spelling per account."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coach.extensions import db
from coach.models import User
from tests.helpers.accounts import PASSWORD

CONTROL = ["\x0b", "\x0c", "\r", "\n", "\x00", "\x1b", "\x7f", "\t"]


@pytest.mark.parametrize("char", CONTROL, ids=[f"0x{ord(c):02x}" for c in CONTROL])
def test_an_address_with_a_control_character_is_refused_before_any_header_is_made(client, char):
    """A vertical tab in a quoted local part used to be stored and then broke the weekly
    email's To header (header injection)."""
    for email in (f'"a{char}b"@example.com', f"a{char}b@example.com", f"ab@exa{char}mple.com",
                  f'"x{char}Bcc: victim@example.org"@example.com'):
        r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "timezone": "UTC"})
        assert r.status_code == 422, (email, r.get_json())
        assert "email" in r.get_json()["errors"]
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "a@@example.com", "a@example..com", "a@-example.com", ".a@example.com"])
def test_malformed_addresses_are_422(client, email):
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "timezone": "UTC"})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"email"}


def test_the_address_is_normalised_for_uniqueness(client):
    r = client.post("/api/auth/register", json={"email": "  Ann.Lee@EXAMPLE.com ", "password": PASSWORD, "timezone": "UTC"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["email"] == "ann.lee@example.com"
    r = client.post("/api/auth/register", json={"email": "ANN.LEE@example.COM", "password": PASSWORD, "timezone": "UTC"})
    assert r.status_code == 409
    assert client.post("/api/auth/login", json={"email": " ann.lee@Example.Com", "password": PASSWORD}).status_code == 200


def test_no_dns_look_up_at_sign_up(client, monkeypatch):
    import dns.resolver

    def no_dns(*args, **kwargs):
        raise AssertionError("a DNS look-up was made")

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", no_dns)
    r = client.post("/api/auth/register", json={"email": "someone@no-such-domain.invalid.example", "password": PASSWORD, "timezone": "UTC"})
    assert r.status_code == 201, r.get_json()
