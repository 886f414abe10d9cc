"""The routines API: listing, one routine, custom routines and their limits, ownership."""
from __future__ import annotations

import copy

import pytest

from coach.extensions import db
from coach.models import CustomRoutine, User
from coach.routines.catalogue import BUILTIN_SLUGS, standard_cautions

BREATH_HOLD = standard_cautions()["breath_hold"]
COLD = standard_cautions()["cold"]

CUSTOM = {
    "slug": "evening-wind-down",
    "name": "Evening wind-down",
    "kind": "breathing",
    "goal": "Sleep better",
    "summary": "Slow breaths with a short pause.",
    "phases": [
        {"action": "inhale", "seconds": 4, "cue": "In"},
        {"action": "hold", "seconds": 2.5, "cue": "Pause"},
        {"action": "exhale", "seconds": 7.5, "cue": "Out"},
    ],
    "cycles": 20,
}


def custom(**changes):
    body = copy.deepcopy(CUSTOM)
    body.update(changes)
    return body


def phases(n, seconds=1.0, action="inhale"):
    return [{"action": action, "seconds": seconds} for _ in range(n)]


def create(client, who, body=None):
    r = client.post("/api/routines", json=body or custom(), headers=who["headers"])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def slugs(client, who, query=""):
    r = client.get(f"/api/routines{query}", headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return [x["slug"] for x in r.get_json()]


# --- auth -------------------------------------------------------------------------------

@pytest.mark.shared_app
@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/routines"), ("post", "/api/routines"), ("get", "/api/routines/box"),
     ("put", "/api/routines/box"), ("delete", "/api/routines/box")],
)
def test_every_route_needs_login(client, method, path):
    kwargs = {"json": custom()} if method in ("post", "put") else {}
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 401
    r = getattr(client, method)(path, headers={"Authorization": "Bearer nonsense"}, **kwargs)
    assert r.status_code == 401


# --- reading ----------------------------------------------------------------------------

def test_list_has_builtins_first_then_own(client, alice, bob):
    assert slugs(client, alice) == list(BUILTIN_SLUGS)
    create(client, alice, custom(slug="zz-first"))
    create(client, alice, custom(slug="aa-second"))
    create(client, bob, custom(slug="bobs-own"))
    assert slugs(client, alice) == [*BUILTIN_SLUGS, "zz-first", "aa-second"]
    assert "bobs-own" not in slugs(client, alice)
    listed = client.get("/api/routines", headers=alice["headers"]).get_json()
    assert [r["builtin"] for r in listed] == [True] * len(BUILTIN_SLUGS) + [False, False]


def test_list_shape(client, alice):
    box = next(r for r in client.get("/api/routines", headers=alice["headers"]).get_json() if r["slug"] == "box")
    assert set(box) == {"slug", "name", "kind", "goal", "summary", "evidence", "cautions", "phases", "cycles",
                        "total_seconds", "builtin", "requires_screening"}
    assert box["phases"][0] == {"action": "inhale", "seconds": 4.0, "cue": "Breathe in through your nose", "open_ended": False}
    assert box["total_seconds"] == 16 * box["cycles"]


def test_kind_filter(client, alice):
    create(client, alice, custom(slug="my-cold", kind="cold", phases=[{"action": "cold", "seconds": 30}]))
    assert slugs(client, alice, "?kind=cold") == ["cold-face", "cold-cloth", "cold-shower", "cold-plunge", "my-cold"]
    breathing = slugs(client, alice, "?kind=breathing")
    assert "resonance" in breathing and "my-cold" not in breathing and "cold-face" not in breathing
    assert slugs(client, alice, "?kind=combined") == []


@pytest.mark.shared_app
@pytest.mark.parametrize("kind", ["Cold", "warm", ""])
def test_bad_kind_filter_is_422(client, alice, kind):
    r = client.get(f"/api/routines?kind={kind}", headers=alice["headers"])
    assert r.status_code == 422
    assert "kind" in r.get_json()["errors"]


def test_get_one_and_unknown(client, alice):
    r = client.get("/api/routines/cold-plunge", headers=alice["headers"])
    assert r.status_code == 200
    body = r.get_json()
    assert body["requires_screening"] is True and body["builtin"] is True and body["kind"] == "cold"
    assert "blocked_by" not in body  # screening data stays server-side
    assert client.get("/api/routines/no-such-thing", headers=alice["headers"]).status_code == 404
    assert client.get("/api/routines/Box", headers=alice["headers"]).status_code == 404


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "bpm, inhale, exhale, cycles",
    [(6.0, 4.0, 6.0, 60), (5.5, 4.4, 6.5, 55), (4.5, 5.3, 8.0, 45), (7.0, 3.4, 5.2, 70), (5.0, 4.8, 7.2, 50)],
)
def test_resonance_is_planned_at_the_users_rate(client, alice, bob, bpm, inhale, exhale, cycles):
    r = client.patch("/api/me", json={"resonance_bpm": bpm}, headers=alice["headers"])
    assert r.status_code == 200, r.get_json()
    for routine in (
        client.get("/api/routines/resonance", headers=alice["headers"]).get_json(),
        next(x for x in client.get("/api/routines", headers=alice["headers"]).get_json() if x["slug"] == "resonance"),
    ):
        assert [(p["action"], p["seconds"]) for p in routine["phases"]] == [("inhale", inhale), ("exhale", exhale)]
        assert routine["cycles"] == cycles
        assert routine["total_seconds"] == pytest.approx(cycles * (inhale + exhale))
        assert abs(inhale + exhale - 60 / bpm) <= 0.05 + 1e-9
    # someone else's rate is their own
    assert [p["seconds"] for p in client.get("/api/routines/resonance", headers=bob["headers"]).get_json()["phases"]] == [4.0, 6.0]


# --- creating ---------------------------------------------------------------------------

def test_create_custom(client, alice):
    r = client.post("/api/routines", json=custom(), headers=alice["headers"])
    assert r.status_code == 201
    body = r.get_json()
    assert body["slug"] == "evening-wind-down" and body["builtin"] is False and body["requires_screening"] is False
    assert body["total_seconds"] == 20 * 14.0
    assert [p["seconds"] for p in body["phases"]] == [4.0, 2.5, 7.5]
    assert body["evidence"] == ""
    assert client.get("/api/routines/evening-wind-down", headers=alice["headers"]).get_json() == body


def test_custom_breath_holds_get_the_breath_hold_caution_once(client, alice):
    body = create(client, alice, custom(cautions=["My own note", BREATH_HOLD]))
    assert body["cautions"] == [BREATH_HOLD, "My own note"]
    no_holds = create(client, alice, custom(slug="no-holds", phases=[{"action": "inhale", "seconds": 4}, {"action": "exhale", "seconds": 6}]))
    assert no_holds["cautions"] == []


def test_custom_cold_routines_get_the_cold_caution(client, alice):
    body = create(client, alice, custom(slug="my-cold", kind="cold", phases=[{"action": "prepare", "seconds": 10}, {"action": "cold", "seconds": 60}]))
    assert body["cautions"] == [COLD]
    combined = create(client, alice, custom(slug="breathe-then-cold", kind="combined", phases=[
        {"action": "inhale", "seconds": 4}, {"action": "hold", "seconds": 1}, {"action": "exhale", "seconds": 6},
        {"action": "cold", "seconds": 30}]))
    assert combined["cautions"] == [BREATH_HOLD, COLD]


@pytest.mark.shared_app
@pytest.mark.parametrize("slug", ["box", "resonance", "cold-plunge"])
def test_custom_slug_may_not_be_a_builtin(client, alice, slug):
    r = client.post("/api/routines", json=custom(slug=slug), headers=alice["headers"])
    assert r.status_code == 409
    assert slug in r.get_json()["message"]


def test_custom_slug_taken_is_409_but_another_user_may_use_it(client, alice, bob):
    create(client, alice)
    assert client.post("/api/routines", json=custom(name="Again"), headers=alice["headers"]).status_code == 409
    create(client, bob)
    assert client.get("/api/routines/evening-wind-down", headers=alice["headers"]).get_json()["name"] == "Evening wind-down"


def test_at_most_100_custom_routines(client, alice):
    user = db.session.get(User, alice["user"]["id"])
    db.session.add_all(CustomRoutine(user_id=user.id, slug=f"r-{i}", definition={
        "name": "x", "kind": "breathing", "goal": "g", "summary": "s", "evidence": "", "cautions": [],
        "phases": [{"action": "inhale", "seconds": 1.0, "cue": "", "open_ended": False}], "cycles": 1}) for i in range(100))
    db.session.commit()
    r = client.post("/api/routines", json=custom(), headers=alice["headers"])
    assert r.status_code == 409
    assert "100" in r.get_json()["message"]


# --- validation -------------------------------------------------------------------------

def assert_422(client, who, body, field, method="post", path="/api/routines"):
    before = slugs(client, who)
    r = getattr(client, method)(path, json=body, headers=who["headers"])
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert field in errors, errors
    assert slugs(client, who) == before  # nothing half-written
    return errors[field]


@pytest.mark.shared_app
@pytest.mark.parametrize("seconds", [0.4, 601, 0, -1, 1e300])
def test_phase_seconds_out_of_range(client, alice, seconds):
    errors = assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": seconds}]), "phases")
    assert "0.5 to 600 seconds" in errors["0"]["seconds"][0]


@pytest.mark.shared_app
@pytest.mark.parametrize("seconds", [4.45, 0.55, 599.99])
def test_phase_seconds_off_the_tenth_grid(client, alice, seconds):
    errors = assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": seconds}]), "phases")
    assert "0.1 s" in errors["0"]["seconds"][0]


@pytest.mark.shared_app
@pytest.mark.parametrize("seconds", ["4", True, None])
def test_phase_seconds_must_be_a_number(client, alice, seconds):
    assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": seconds}]), "phases")


def test_edges_are_accepted(client, alice):
    body = create(client, alice, custom(slug="edges", phases=[{"action": "inhale", "seconds": 0.5}, {"action": "exhale", "seconds": 600}], cycles=1))
    assert [p["seconds"] for p in body["phases"]] == [0.5, 600.0]
    forty = create(client, alice, custom(slug="forty", phases=phases(40, 1.5)))
    assert len(forty["phases"]) == 40
    # exactly 60 minutes: 6 × 600 s
    hour = create(client, alice, custom(slug="hour", phases=phases(6, 600, "exhale"), cycles=1))
    assert hour["total_seconds"] == 3600


def test_41_phases(client, alice):
    assert "1 to 40 phases" in assert_422(client, alice, custom(phases=phases(41)), "phases")[0]


def test_no_phases(client, alice):
    assert_422(client, alice, custom(phases=[]), "phases")


@pytest.mark.shared_app
@pytest.mark.parametrize("body_phases, cycles", [(phases(7, 600), 1), (phases(2, 600), 4), (phases(1, 0.5), 7201)])
def test_total_over_60_minutes(client, alice, body_phases, cycles):
    errors = assert_422(client, alice, custom(phases=body_phases, cycles=cycles), "_schema" if cycles <= 7200 else "cycles")
    if cycles <= 7200:
        assert "60 minutes" in errors[0]


@pytest.mark.shared_app
@pytest.mark.parametrize("cycles", [0, -3, 2.5, "3"])
def test_bad_cycles(client, alice, cycles):
    assert_422(client, alice, custom(cycles=cycles), "cycles")


def test_bad_action(client, alice):
    errors = assert_422(client, alice, custom(phases=[{"action": "breathe", "seconds": 4}]), "phases")
    assert "action" in errors["0"]


def test_unknown_fields(client, alice):
    assert_422(client, alice, custom(mood_boost=True), "mood_boost")
    errors = assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": 4, "volume": "loud"}]), "phases")
    assert "volume" in errors["0"]
    # server-made fields are not writable
    assert_422(client, alice, custom(builtin=True), "builtin")
    assert_422(client, alice, custom(requires_screening=False), "requires_screening")


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "slug", ["A-capital", "-dash-first", "x", "has space", "under_score", "a" * 49, "ümlaut", ""]
)
def test_bad_slug(client, alice, slug):
    assert_422(client, alice, custom(slug=slug), "slug")


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "field, value",
    [("name", "n" * 61), ("name", "   "), ("goal", "g" * 121), ("summary", "s" * 601), ("evidence", "e" * 2001),
     ("kind", "sauna"), ("cautions", ["c"] * 11), ("cautions", ["c" * 401]), ("name", None)],
)
def test_text_limits(client, alice, field, value):
    assert_422(client, alice, custom(**{field: value}), field)


def test_cue_at_most_120_characters(client, alice):
    assert create(client, alice, custom(slug="cue-ok", phases=[{"action": "inhale", "seconds": 4, "cue": "c" * 120}]))
    errors = assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": 4, "cue": "c" * 121}]), "phases")
    assert "cue" in errors["0"]


@pytest.mark.shared_app
@pytest.mark.parametrize("missing", ["slug", "name", "kind", "goal", "summary", "phases"])
def test_required_fields(client, alice, missing):
    body = custom()
    del body[missing]
    assert_422(client, alice, body, missing)


def test_kind_must_fit_the_phases(client, alice):
    assert_422(client, alice, custom(phases=[{"action": "cold", "seconds": 30}]), "kind")  # breathing with cold
    assert_422(client, alice, custom(kind="cold"), "kind")  # cold without cold
    assert_422(client, alice, custom(kind="combined", phases=[{"action": "cold", "seconds": 30}, {"action": "rest", "seconds": 30}]), "kind")


def test_breath_holds_and_cold_water_do_not_mix(client, alice):
    body = custom(kind="combined", phases=[{"action": "inhale", "seconds": 4}, {"action": "hold", "seconds": 10},
                                           {"action": "cold", "seconds": 30}])
    assert "cold water" in assert_422(client, alice, body, "phases")[0]
    body["phases"][1]["seconds"] = 2  # a short pause is fine
    assert create(client, alice, body)["kind"] == "combined"


def test_open_ended_only_on_holds(client, alice):
    errors = assert_422(client, alice, custom(phases=[{"action": "inhale", "seconds": 4, "open_ended": True}]), "phases")
    assert "open_ended" in errors["0"]
    body = create(client, alice, custom(slug="retention", phases=[{"action": "exhale", "seconds": 2}, {"action": "hold_empty", "seconds": 60, "open_ended": True}]))
    assert body["phases"][1]["open_ended"] is True


# --- changing and deleting ----------------------------------------------------------------

def test_put_replaces_own_routine(client, alice):
    create(client, alice)
    new = custom(name="Renamed", phases=[{"action": "inhale", "seconds": 5}, {"action": "exhale", "seconds": 5}], cycles=3)
    del new["slug"]
    r = client.put("/api/routines/evening-wind-down", json=new, headers=alice["headers"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["name"] == "Renamed" and r.get_json()["total_seconds"] == 30
    got = client.get("/api/routines/evening-wind-down", headers=alice["headers"]).get_json()
    assert got == r.get_json()
    assert got["cautions"] == []  # no holds any more: no breath-hold caution
    # repeating the same slug in the body is fine, another one is not (no renaming)
    assert client.put("/api/routines/evening-wind-down", json=custom(), headers=alice["headers"]).status_code == 200
    errors = assert_422(client, alice, custom(slug="other"), "slug", method="put", path="/api/routines/evening-wind-down")
    assert "URL" in errors[0]


def test_put_validates_like_post(client, alice):
    create(client, alice)
    assert_422(client, alice, custom(phases=phases(41)), "phases", method="put", path="/api/routines/evening-wind-down")
    assert client.get("/api/routines/evening-wind-down", headers=alice["headers"]).get_json()["cycles"] == 20


@pytest.mark.shared_app
@pytest.mark.parametrize("slug", ["box", "resonance", "power-breathing"])
def test_builtins_are_read_only(client, alice, slug):
    before = client.get(f"/api/routines/{slug}", headers=alice["headers"]).get_json()
    r = client.put(f"/api/routines/{slug}", json=custom(slug=slug), headers=alice["headers"])
    assert r.status_code == 403
    assert client.delete(f"/api/routines/{slug}", headers=alice["headers"]).status_code == 403
    assert client.get(f"/api/routines/{slug}", headers=alice["headers"]).get_json() == before


def test_someone_elses_routine_is_404_for_get_put_delete(client, alice, bob):
    mine = create(client, bob)
    path = "/api/routines/evening-wind-down"
    assert client.get(path, headers=alice["headers"]).status_code == 404
    assert client.put(path, json=custom(name="Hijacked"), headers=alice["headers"]).status_code == 404
    assert client.delete(path, headers=alice["headers"]).status_code == 404
    assert client.get(path, headers=bob["headers"]).get_json() == mine


def test_unknown_routine_put_delete_404(client, alice):
    assert client.put("/api/routines/nothing-here", json=custom(), headers=alice["headers"]).status_code == 404
    assert client.delete("/api/routines/nothing-here", headers=alice["headers"]).status_code == 404


def test_delete_own(client, alice):
    create(client, alice)
    r = client.delete("/api/routines/evening-wind-down", headers=alice["headers"])
    assert r.status_code == 204 and r.data == b""
    assert client.get("/api/routines/evening-wind-down", headers=alice["headers"]).status_code == 404
    assert slugs(client, alice) == list(BUILTIN_SLUGS)
    # the slug is free again
    create(client, alice)


def test_service_routine_exists(app, client, alice, bob):
    from coach.routines.service import get_routine, routine_exists

    create(client, bob)
    a = db.session.get(User, alice["user"]["id"])
    b = db.session.get(User, bob["user"]["id"])
    assert routine_exists(a, "box") and routine_exists(a, "resonance")
    assert routine_exists(b, "evening-wind-down") and not routine_exists(a, "evening-wind-down")
    assert get_routine(a, "evening-wind-down") is None
    assert get_routine(a, "power-breathing")["blocked_by"]  # kept for the safety checks


def test_openapi_documents_the_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/routines"])
    one = paths["/api/routines/{slug}"]
    assert {"401", "404"} <= set(one["get"]["responses"])
    assert {"200", "401", "403", "404", "422"} <= set(one["put"]["responses"])
    assert {"204", "401", "403", "404"} <= set(one["delete"]["responses"])
    assert {"201", "409", "422"} <= set(paths["/api/routines"]["post"]["responses"])
    assert one["get"]["security"] == [{"bearerAuth": []}]
