"""The words of a reminder, from the routine as the routines service plans it."""
from __future__ import annotations

from coach.reminders import message

URL = "https://coach.example"


def test_breathing_routine_names_its_length_in_plain_words():
    m = message({"slug": "resonance", "name": "Resonance breathing", "kind": "breathing", "total_seconds": 600.0, "builtin": True}, URL)
    assert m == {
        "type": "reminder",
        "title": "Time for 10 minutes of resonance breathing",
        "body": m["body"],
        "routine": "resonance",
        "url": "https://coach.example/#/run/resonance",
    }
    assert "cure" not in m["body"].lower() and "treat" not in m["body"].lower()


def test_cold_routines_remind_to_keep_breathing():
    m = message({"slug": "cold-face", "name": "Cold face immersion", "kind": "cold", "total_seconds": 60, "builtin": True}, URL)
    assert m["title"] == "Time for a minute of cold face immersion"
    assert "breathing normally" in m["body"]


def test_custom_names_keep_their_capitals_and_no_routine_opens_the_app():
    m = message({"slug": "my-calm", "name": "NASA calm", "kind": "breathing", "total_seconds": 150, "builtin": False}, URL + "/")
    assert m["title"] == "Time for 2 minutes of NASA calm"
    plain = message(None, URL)
    assert plain["routine"] is None and plain["url"] == "https://coach.example/" and plain["title"]
