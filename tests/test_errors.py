"""Every bad-input class answers its documented 4xx in the one error shape."""
from __future__ import annotations

import pytest

SHAPE = {"code", "status", "message"}


def assert_shape(r, code):
    assert r.status_code == code, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert SHAPE <= set(body)
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_malformed_json_is_400(client, alice):
    r = client.patch("/api/me", headers={**alice["headers"], "Content-Type": "application/json"}, data=b'{"timezone": ')
    assert_shape(r, 400)


def test_invalid_utf8_is_400(client, alice):
    r = client.patch("/api/me", headers={**alice["headers"], "Content-Type": "application/json"}, data=b'{"timezone": "\xff\xfe"}')
    assert_shape(r, 400)


def test_not_json_is_415(client, alice):
    r = client.patch("/api/me", headers=alice["headers"], data="timezone=UTC", content_type="application/x-www-form-urlencoded")
    assert_shape(r, 415)
    r = client.post("/api/auth/register", data="hello", content_type="text/plain")
    assert_shape(r, 415)


def test_body_over_one_mib_is_413(client, alice):
    big = b'{"timezone": "' + b"x" * (1024 * 1024) + b'"}'
    r = client.patch("/api/me", headers={**alice["headers"], "Content-Type": "application/json"}, data=big)
    assert_shape(r, 413)


def test_json_that_is_not_an_object_is_422(client, alice):
    for payload in ("[1, 2]", '"text"', "42", "null"):
        r = client.patch("/api/me", headers={**alice["headers"], "Content-Type": "application/json"}, data=payload)
        assert r.status_code in (400, 422), payload
        assert_shape(r, r.status_code)


def test_validation_errors_are_keyed_by_field(client):
    r = client.post("/api/auth/register", json={"email": "x@example.com", "password": "short", "timezone": "UTC"})
    body = assert_shape(r, 422)
    assert list(body["errors"]) == ["password"]
    assert isinstance(body["errors"]["password"], list)


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "method,path",
    [("get", "/api/nothing-here"), ("get", "/api/me/nope"), ("put", "/api/nothing/here"), ("delete", "/api/me/nope"), ("post", "/api/x")],
)
def test_unknown_api_path_is_404_in_shape(client, method, path):
    assert_shape(getattr(client, method)(path), 404)


def test_wrong_method_is_405_in_shape(client):
    assert_shape(client.put("/api/auth/login", json={}), 405)


def test_openapi_document_describes_bearer_auth_and_errors(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/auth/login",
    }
    me_get = spec["paths"]["/api/me"]["get"]
    assert me_get["security"] == [{"bearerAuth": []}]
    assert "401" in me_get["responses"]
    register = spec["paths"]["/api/auth/register"]["post"]
    assert register.get("security") == []
    assert {"201", "409", "422"} <= set(register["responses"])


def test_docs_page_is_served_from_this_origin(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs/start.js").status_code == 200
