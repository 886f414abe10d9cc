def test_openapi_served(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/auth/register" in r.get_json()["paths"]


def test_me_roundtrip(client, alice):
    r = client.get("/api/me", headers=alice["headers"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["digest"] == {"enabled": True, "weekday": 6, "local_time": "18:00"}
