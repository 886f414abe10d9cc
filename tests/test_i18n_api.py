"""What a person reads comes in their language (api.md, Languages): routines with their
evidence and cautions, screening, care words, error messages and push reminders; `?lang=`
overrides the account's language for one GET."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from coach import planning
from coach.extensions import db
from coach.models import Reminder, User
from coach.routines import catalogue
from coach.tick.scheduler import tick
from coach.unsubscribe import make_token
from tests.helpers.accounts import signup
from tests.helpers.apps import app_with_db

HAYASHI = "(Hayashi et al. 1997, European Journal of Applied Physiology 76:394; "
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def speaker(client, language: str, timezone: str = "Europe/Berlin") -> dict:
    who = signup(client, timezone=timezone)
    r = client.patch("/api/me", json={"language": language}, headers=who["headers"])
    assert r.status_code == 200 and r.get_json()["language"] == language
    return who


def test_a_routine_in_german_keeps_its_citation(client):
    who = signup(client)  # English
    english = client.get("/api/routines/cold-face", headers=who["headers"]).get_json()
    german = client.get("/api/routines/cold-face?lang=de", headers=who["headers"]).get_json()
    assert english["name"] == "Cold face immersion"
    assert german["name"] == "Gesicht in kaltes Wasser"
    assert german["summary"].startswith("Dreimal 30 Sekunden")
    assert HAYASHI in english["evidence"] and HAYASHI.replace("men)", "") in german["evidence"]
    assert "Hayashi et al. 1997, European Journal of Applied Physiology 76:394; 15 Männer" in german["evidence"]
    assert "Al Haddad et al. 2010, European Journal of Applied Physiology 108:599" in german["evidence"]
    assert german["cautions"][0].startswith("Kombiniere Atemanhalten nie mit kaltem Wasser")
    assert [p["cue"] for p in german["phases"]][1] == "Gesicht bis zu den Schläfen ins Wasser; atme langsam durch den Schnorchel."
    # Only the words change: the routine itself is the same data.
    for key in ("slug", "kind", "cycles", "total_seconds", "builtin", "requires_screening"):
        assert german[key] == english[key]
    assert [(p["action"], p["seconds"]) for p in german["phases"]] == [(p["action"], p["seconds"]) for p in english["phases"]]


def test_the_account_language_and_the_lang_override(client):
    who = speaker(client, "fr")
    listed = client.get("/api/routines", headers=who["headers"]).get_json()
    builtins = {r["slug"]: r for r in listed if r["builtin"]}
    assert builtins["resonance"]["name"] == "Respiration en résonance"
    for slug, routine in builtins.items():  # every built-in text is translated
        english = catalogue.builtin(slug)
        assert routine["name"] != english["name"] or routine["name"] == "Pause", slug
        assert routine["evidence"] != english["evidence"], slug
    assert client.get("/api/routines/box?lang=es", headers=who["headers"]).get_json()["name"] == "Respiración cuadrada"
    assert client.get("/api/routines/box?lang=en", headers=who["headers"]).get_json()["name"] == "Box breathing"
    # An unsupported ?lang= is ignored like any unknown parameter: the account's language.
    assert client.get("/api/routines/box?lang=xx", headers=who["headers"]).get_json()["name"] == "Respiration carrée"


def test_a_custom_routine_is_the_owners_words_with_standard_cautions_translated(client):
    who = speaker(client, "de")
    body = {
        "slug": "mine", "name": "My holds", "kind": "breathing", "goal": "g", "summary": "s", "evidence": "",
        "cautions": ["My own caution."], "cycles": 2,
        "phases": [{"action": "inhale", "seconds": 4}, {"action": "hold", "seconds": 4, "cue": "Hold it"}],
    }  # fmt: skip
    created = client.post("/api/routines", json=body, headers=who["headers"]).get_json()
    assert created["name"] == "My holds" and created["phases"][1]["cue"] == "Hold it"
    assert created["cautions"][0].startswith("Halte nie den Atem an")  # the standard breath-hold caution
    assert created["cautions"][1] == "My own caution."
    # Sent back as shown (German), the standard caution is not stored as the user's own.
    back = {k: created[k] for k in ("name", "kind", "goal", "summary", "evidence", "cautions", "cycles")}
    back["phases"] = [{k: v for k, v in p.items() if k in ("action", "seconds", "cue")} for p in created["phases"]]
    r = client.put("/api/routines/mine", json=back, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    english = client.get("/api/routines/mine?lang=en", headers=who["headers"]).get_json()
    assert len(english["cautions"]) == 2 and english["cautions"][1] == "My own caution."
    assert english["cautions"][0].startswith("Never hold your breath")


def test_error_messages_in_the_users_language(client):
    who = speaker(client, "fr")
    r = client.patch("/api/me", json={"resonance_bpm": 99}, headers=who["headers"])
    assert r.status_code == 422
    body = r.get_json()
    assert body["message"] == "Certains champs ne sont pas valides."
    assert set(body["errors"]) == {"resonance_bpm"}  # keys stay field names
    assert body["status"] == "Unprocessable Entity"
    r = client.get("/api/routines/nothing-here", headers=who["headers"])
    assert r.status_code == 404 and r.get_json()["message"] == "Aucun exercice ne porte ce nom."
    r = client.post("/api/reminders", json={"local_time": "07:00", "weekdays": [0], "routine": "nope"}, headers=who["headers"])
    assert r.status_code == 422 and r.get_json()["message"] == "Aucun exercice ne porte ce nom."
    # Without a signed-in user, the browser's Accept-Language.
    r = client.get("/api/me", headers={"Accept-Language": "de-CH, fr;q=0.5"})
    assert r.status_code == 401 and r.get_json()["message"] == "Bitte melde dich noch einmal an."
    r = client.post("/api/auth/login", json={"email": "x@example.com", "password": "wrong-password"}, headers={"Accept-Language": "es"})
    assert r.status_code == 401 and r.get_json()["message"] == "El correo electrónico y la contraseña no coinciden."
    r = client.get("/api/me")
    assert r.get_json()["message"] == "Please log in again."


def test_a_message_with_a_number_in_it(client):
    who = speaker(client, "es")
    body = {"local_time": "07:00", "weekdays": [0]}
    for _ in range(20):
        assert client.post("/api/reminders", json=body, headers=who["headers"]).status_code == 201
    r = client.post("/api/reminders", json=body, headers=who["headers"])
    assert r.status_code == 409 and r.get_json()["message"] == "Ya tienes 20 recordatorios; quita uno para añadir otro."


def test_screening_in_the_users_language(client):
    who = speaker(client, "de")
    status = client.get("/api/me/screening", headers=who["headers"]).get_json()
    assert status["questions"][3] == {"key": "pregnancy", "text": "Bist du schwanger?"}
    answers = {q["key"]: q["key"] == "epilepsy" for q in status["questions"]}
    status = client.put("/api/me/screening", json={"answers": answers}, headers=who["headers"]).get_json()
    reasons = {b["slug"]: b["reason"] for b in status["blocked"]}
    assert reasons["power-breathing"].startswith("Du hast uns von Epilepsie erzählt.")
    spanish = client.get("/api/me/screening?lang=es", headers=who["headers"]).get_json()
    assert {b["slug"]: b["reason"] for b in spanish["blocked"]}["cold-plunge"].startswith("Nos contaste que tienes epilepsia.")
    # The gate a session meets answers in the user's language too.
    r = client.put(
        f"/api/sessions/{uuid.uuid4()}",
        json={"routine": "power-breathing", "started_at": "2026-05-04T07:00:00Z", "ended_at": "2026-05-04T07:10:00Z"},
        headers=who["headers"],
    )
    assert r.status_code == 403 and r.get_json()["message"] == reasons["power-breathing"]


def test_the_advice_to_see_a_doctor_is_added_in_the_language(client):
    who = speaker(client, "fr")
    answers = {k: False for k in catalogue.builtin("power-breathing") and [
        "heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy", "epilepsy", "raynauds", "respiratory", "panic_disorder"]}
    answers["pregnancy"] = True  # its reason names no doctor: the advice is added
    status = client.put("/api/me/screening", json={"answers": answers}, headers=who["headers"]).get_json()
    reason = {b["slug"]: b["reason"] for b in status["blocked"]}["power-breathing"]
    assert reason.startswith("Vous nous avez dit être enceinte.")
    assert reason.endswith("Parlez-en à votre médecin avant de l’essayer, s’il vous plaît.")


def test_crisis_lines_in_the_users_language(client):
    who = speaker(client, "de")
    body = client.get("/api/care/resources", headers=who["headers"]).get_json()
    assert body["words"]["title"] == "Du musst das nicht allein tragen"
    assert "Notruf" in body["words"]["emergency"]
    assert body["lines"][0]["name"] == "TelefonSeelsorge"  # names and numbers never change
    assert body["lines"][0]["phone"] == "0800 111 0 111"
    assert body["lines"][0]["description"].startswith("Kostenloses, anonymes Zuhören")
    assert body["international"][0]["name"] == "Find A Helpline"
    spanish = client.get("/api/care/resources?country=ES&lang=es", headers=who["headers"]).get_json()
    assert spanish["words"]["title"] == "No tienes que cargar con esto sin ayuda"
    assert spanish["international"][0]["description"].startswith("Líneas de apoyo gratuitas")


# --- push reminders, through a real tick and the loopback push service ----------------------


@pytest.fixture
def app_config():
    return {"COACH_PUSH_INSECURE_HOSTS": ["127.0.0.1"]}


def _remind(client, who, routine, local_time="07:30"):
    r = client.post(
        "/api/reminders", json={"local_time": local_time, "weekdays": EVERY_DAY, "routine": routine}, headers=who["headers"]
    )
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    reminder = db.session.get(Reminder, r.get_json()["id"])
    planning.plan_reminder(reminder, db.session.get(User, who["user"]["id"]), datetime(2026, 5, 4, tzinfo=timezone.utc))
    db.session.commit()


def test_a_push_reminder_is_in_the_users_language(client, push):
    people = {}
    for language in ("de", "fr", "en", "es"):  # one tick, the same routine: each in their own
        who = speaker(client, language)
        device = push.device()
        assert client.post("/api/push/subscriptions", json=device.subscription(), headers=who["headers"]).status_code == 201
        _remind(client, who, "resonance")
        _remind(client, who, "cold-face", "08:00")
        _remind(client, who, None, "08:15")
        people[language] = device
    assert tick(datetime(2026, 5, 4, 6, 30, tzinfo=timezone.utc)).counts["reminders"] == 12
    got = {lang: {str(m.payload["routine"]): m.payload for m in push.delivered_to(dev)} for lang, dev in people.items()}
    minutes = round(catalogue.builtin("cold-face")["total_seconds"] / 60)
    titles = {lang: [got[lang][slug]["title"] for slug in ("resonance", "cold-face", "None")] for lang in got}
    assert titles["de"] == ["Zeit für 10 Minuten Resonanzatmung", f"Zeit für {minutes} Minuten Gesicht in kaltes Wasser", "Zeit für deine Übung"]
    assert titles["fr"] == [
        "C’est l’heure : 10 minutes de respiration en résonance",
        f"C’est l’heure : {minutes} minutes de visage dans l’eau froide",
        "C’est l’heure de votre pratique",
    ]
    assert titles["en"] == ["Time for 10 minutes of resonance breathing", f"Time for {minutes} minutes of cold face immersion", "Time for your practice"]
    assert titles["es"][0] == "Es hora de 10 minutos de respiración de resonancia"
    assert got["de"]["cold-face"]["body"] == "Wann immer du so weit bist: tippe, um zu beginnen, und atme in der Kälte ganz normal weiter."
    assert got["de"]["resonance"]["url"] == "https://coach.example/#/run/resonance"  # the rest is as it was


def test_the_unsubscribe_page_in_the_readers_language(app, client):
    who = signup(client, email="lea@example.com")
    token = make_token(app.config["SECRET_KEY"], db.session.get(User, who["user"]["id"]))
    page = client.get(f"/unsubscribe/{token}", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "<h1>Den Wochenrückblick abbestellen?</h1>" in page
    assert "Du bekommst den Wochenrückblick nicht mehr per E-Mail an l•••@example.com." in page
    assert '<button type="submit" class="primary">Abbestellen</button>' in page
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}, headers={"Accept-Language": "fr"})
    assert "<h1>Votre désabonnement est confirmé</h1>" in done.get_data(as_text=True)
    bad = client.get("/unsubscribe/not-a-token", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in bad and "<h1>Este enlace no funciona</h1>" in bad
    english = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert '<html lang="en">' in english and "The weekly summary is already off" in english


def test_lang_overrides_only_a_read(client):
    who = speaker(client, "de")
    body = {"local_time": "07:00", "weekdays": [0], "routine": "nope"}
    r = client.post("/api/reminders?lang=fr", json=body, headers=who["headers"])
    assert r.status_code == 422 and r.get_json()["message"] == "Eine Übung mit diesem Namen gibt es nicht."
    r = client.get("/api/routines/nope?lang=fr", headers=who["headers"])
    assert r.get_json()["message"] == "Aucun exercice ne porte ce nom."
    assert client.get("/api/me?lang=fr", headers=who["headers"]).get_json()["language"] == "de"  # reading, not setting


def test_a_rate_limited_call_says_so_in_plain_words_in_the_language(database_url, tmp_path):
    with app_with_db(database_url, tmp_path, RATELIMIT_ENABLED=True) as app:
        client = app.test_client()
        for language, expected in (
            # The login limits' own words (coach/api/limits.py), in the caller's language: first
            # this account's failed attempts, then, for the next address, this client's attempts.
            ("de", "Es gab zu viele Anmeldeversuche für dieses Konto. Bitte warte ein wenig und versuch es dann noch einmal."),
            ("en", "There have been too many attempts to log in from here. Please wait a little and try again."),
        ):
            body = {"email": f"{language}@example.com", "password": "not the password"}
            answers = [client.post("/api/auth/login", json=body, headers={"Accept-Language": language}) for _ in range(6)]
            refused = answers[-1]
            assert refused.status_code == 429 and refused.headers.get("Retry-After")
            assert refused.get_json()["message"] == expected  # not the limit's own "5 per 1 minute"


def test_plans_in_the_users_language(client):
    who = speaker(client, "es")
    listed = {p["slug"]: p for p in client.get("/api/plans", headers=who["headers"]).get_json()}
    cold = listed["cold-shower-4-weeks"]
    assert cold["name"] == "Un final frío, en cuatro semanas"
    assert cold["routine_name"] == "Final de ducha fría"
    assert "(Shattock & Tipton 2012)" in cold["evidence"] and cold["evidence"].startswith("El agua fría")
    assert cold["weeks"][0]["text"].startswith("De 15 a 30 segundos") and cold["weeks"][0]["low"] == 15
    one = client.get("/api/plans/resonance-4-weeks?lang=de", headers=who["headers"]).get_json()
    assert one["name"] == "Resonanzatmung, 5 bis 20 Minuten"
    assert "(Balban et al. 2023)" in one["evidence"] and "(PLOS ONE 2019)" in one["evidence"]


def test_insights_speak_the_language_and_keep_one_answer_per_language(client):
    who = speaker(client, "de")
    for i, (pre, post) in enumerate([(4, 7), (5, 8), (3, 6), (2, 6), (4, 7), (1, 2), (2, 1), (1, 2)]):
        body = {"routine": "box", "started_at": f"2026-05-0{1 + i % 8}T07:00:00Z", "ended_at": f"2026-05-0{1 + i % 8}T07:10:00Z",
                "pre": {"mood": pre}, "post": {"mood": post}}  # fmt: skip
        assert client.put(f"/api/sessions/{uuid.uuid4()}", json=body, headers=who["headers"]).status_code == 201
    german = client.get("/api/insights?days=3650", headers=who["headers"]).get_json()
    assert german["by_routine"][0]["name"] == "Box-Atmung"
    assert german["recommendation"]["text"].startswith("Nach Box-Atmung war deine Stimmung im Schnitt ")
    assert german["care"] == {"show": True, "reason": german["care"]["reason"]}
    assert german["care"]["reason"].startswith("Deine Stimmung war bei mehreren deiner letzten Übungen gedrückt.")
    # The cached German answer is not served for English, nor the other way round.
    english = client.get("/api/insights?days=3650&lang=en", headers=who["headers"]).get_json()
    assert english["by_routine"][0]["name"] == "Box breathing"
    assert english["recommendation"]["text"].startswith("After Box breathing your mood was on average ")
    assert client.get("/api/insights?days=3650", headers=who["headers"]).get_json() == german


def test_what_helps_me_in_the_users_language(client):
    who = speaker(client, "fr")
    body = {"routine": "box", "started_at": "2026-05-01T07:00:00Z", "ended_at": "2026-05-01T07:10:00Z", "pre": {"mood": 4}, "post": {"mood": 6}}
    assert client.put(f"/api/sessions/{uuid.uuid4()}", json=body, headers=who["headers"]).status_code == 201
    answer = client.get("/api/insights/what-helps", headers=who["headers"]).get_json()
    [row] = answer["routines"]
    assert row["name"] == "Respiration carrée" and row["verdict"] == "too_few"  # the key stays
    assert row["words"] == "Pas encore assez : notez votre humeur avant et après 2 séances de plus de cet exercice."
    assert answer["summary"].startswith("Notez votre humeur avant et après au moins 3 séances")
    assert answer["method"].startswith("Le changement d’humeur")
    newcomer = speaker(client, "fr")  # nothing practised, no favourites named
    r = client.post("/api/insights/surprise", json={}, headers=newcomer["headers"])
    assert r.get_json()["message"] == "Rien à choisir pour l’instant : indiquez quelques exercices favoris, ou pratiquez-en quelques-uns d’abord."
