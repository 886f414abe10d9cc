"""The account's language (api.md, Languages): chosen at sign-up from Accept-Language,
changed with PATCH /api/me, and used for the error `message` of the user's own calls."""
from __future__ import annotations

import pytest

from coach.i18n import best_language
from tests.helpers.accounts import PASSWORD, signup


def register(client, email, accept_language=None):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    r = client.post(
        "/api/auth/register",
        json={"email": email, "password": PASSWORD, "timezone": "Europe/Berlin"},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.mark.parametrize(
    "header, language",
    [
        ("de-DE,de;q=0.9", "de"),
        ("fr-CA", "fr"),
        ("es-MX, en;q=0.5", "es"),  # the regional tag a person prefers wins over a later exact one
        ("en;q=0.2, de;q=0.8", "de"),
        ("pt-BR, es;q=0.3", "es"),
        ("ja", "en"),
        ("de;q=0, fr", "fr"),  # q=0: "not this one"
        ("", "en"),
        (";;q=x,", "en"),
    ],
)
def test_best_language(header, language):
    assert best_language(header) == language


def test_sign_up_takes_the_language_from_accept_language(client):
    headers = register(client, "anna@example.com", "de-DE,de;q=0.9")
    assert client.get("/api/me", headers=headers).get_json()["language"] == "de"
    headers = register(client, "ann@example.com")
    assert client.get("/api/me", headers=headers).get_json()["language"] == "en"


def test_patch_me_changes_the_language_and_refuses_others(client):
    who = signup(client)
    r = client.patch("/api/me", json={"language": "fr"}, headers=who["headers"])
    assert r.status_code == 200 and r.get_json()["language"] == "fr"
    assert client.get("/api/me", headers=who["headers"]).get_json()["language"] == "fr"
    for bad in ("it", "FR", "", None, 3, "fr-FR"):
        r = client.patch("/api/me", json={"language": bad}, headers=who["headers"])
        assert r.status_code == 422, (bad, r.get_json())
        assert set(r.get_json()["errors"]) == {"language"}  # the key stays the field name
    assert client.get("/api/me", headers=who["headers"]).get_json()["language"] == "fr"


def test_the_openapi_document_names_the_languages(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["Me"]["properties"]["language"]["enum"] == ["en", "de", "es", "fr"]
    assert schemas["MePatch"]["properties"]["language"]["enum"] == ["en", "de", "es", "fr"]
    lang = {"$ref": "#/components/parameters/Lang"}
    assert spec["components"]["parameters"]["Lang"]["in"] == "query"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                wanted = method == "get" and path.startswith("/api/")  # not /healthz: no texts
                assert (lang in operation.get("parameters", [])) == wanted, (method, path)
