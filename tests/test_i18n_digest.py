"""The weekly summary in the reader's language, through the real tick to a real SMTP server
on loopback, parsed back (api.md, Languages)."""
from __future__ import annotations

import pytest

from coach.tick.scheduler import tick
from tests.helpers.digest import at, html_part, line, member, record, text_part

SEND = at("2026-11-22T17:00:00Z")  # Sunday 18:00 in Berlin: the week of 16–22 November 2026


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url(), "MAIL_FROM": "Vagal-tone coach <coach@coach.example>"}


def reader(client, email: str, language: str) -> dict:
    who = member(client, email, "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    assert client.patch("/api/me", json={"language": language}, headers=who["headers"]).status_code == 200
    record(client, who, at("2026-11-11T07:00:00Z"), 300)  # the week before
    record(client, who, at("2026-11-17T07:00:00Z"), 600, "box", pre={"mood": 4}, post={"mood": 6})
    record(client, who, at("2026-11-18T07:00:00Z"), 300, "box", pre={"mood": 5}, post={"mood": 6})
    # A minute (under it a session is short, counted nowhere), 45 s of it in the cold.
    record(client, who, at("2026-11-19T06:00:00Z"), 60, "cold-face", pre={"mood": 5}, post={"mood": 7}, details={"cold_seconds": 45})
    return who


def test_the_weekly_email_in_each_readers_language(client, smtp_server):
    reader(client, "de@example.com", "de")
    reader(client, "fr@example.com", "fr")
    reader(client, "en@example.com", "en")
    assert tick(SEND).counts["digests"] == 3
    [de] = smtp_server.messages_to("de@example.com")
    [fr] = smtp_server.messages_to("fr@example.com")
    [en] = smtp_server.messages_to("en@example.com")

    assert str(de["Subject"]) == "Deine Woche: 3 Übungen, 16 min"
    text = text_part(de).replace("\r\n", "\n")
    assert text.startswith("Deine Übungswoche · 16.–22. November 2026\n")
    assert line(text, "3 Übungen") == "3 Übungen diese Woche, insgesamt 16 min. Das sind 2 mehr als in der Woche davor."
    assert line(text, "Diese Woche:") == "Diese Woche: 3 Übungen, 16 min"  # capitalised, not lower-cased after
    assert line(text, "Die Woche davor:") == "Die Woche davor: 1 Übung, 5 min"
    assert line(text, "Kälte:") == "Kälte: 1 Kälteübung, insgesamt 45 s in der Kälte."
    assert line(text, "Box-Atmung:") == "Box-Atmung: 2 Übungen, 15 min"
    assert line(text, "Stimmung +1,5") == (
        "Stimmung +1,5 über 2 eingeschätzte Übungen: kann bisher Zufall sein (95-%-Bereich −4,9 bis +7,9)"
    )
    assert line(text, "Gesicht in kaltes Wasser:") == "Gesicht in kaltes Wasser: 1 Übung, 1 min"
    assert "ÜBUNGEN UND ZEIT" in text and "FÜR NÄCHSTE WOCHE" in text
    assert "(Balban et al.)" in line(text, "Probier an ein paar Tagen")  # the citation stays
    assert line(text, "oder bestelle ihn mit einem Klick ab: https://coach.example/unsubscribe/")
    html = html_part(de)
    assert '<html lang="de">' in html and ">mit einem Klick abbestellen</a>" in html
    assert "Deine Übungswoche · 16.–22. November 2026" in html
    # The one-click unsubscribe header is the same in every language.
    assert de["List-Unsubscribe"].startswith("<https://coach.example/unsubscribe/")
    assert de["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert str(fr["Subject"]) == "Votre semaine : 3 séances, 16 min"
    assert text_part(fr).startswith("Votre semaine de pratique · 16–22 novembre 2026\r\n")
    assert '<html lang="fr">' in html_part(fr)
    assert line(text_part(fr), "Visage dans l’eau froide:") == "Visage dans l’eau froide: 1 séance, 1 min"
    assert "(intervalle à 95 % : de −4,9 à +7,9)" in text_part(fr)

    assert str(en["Subject"]) == "Your week: 3 sessions, 16 min"
    assert text_part(en).startswith("Your week of practice · 16–22 November 2026\r\n")
    assert line(text_part(en), "Mood +1.5 over 2 rated sessions:").endswith("(95 % range −4.9 to +7.9)")
