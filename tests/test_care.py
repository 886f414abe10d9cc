"""Care resources: supportive words and crisis lines by country, with an international
directory that is always there (the configured file: test_care_directory.py)."""
from __future__ import annotations

import pytest

from coach import crisis_lines as care
from tests.helpers.accounts import signup


def resources(client, who, query=""):
    r = client.get(f"/api/care/resources{query}", headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_country_is_guessed_from_the_time_zone(client, alice, bob):
    body = resources(client, alice)  # Europe/Berlin
    assert body["country"] == "DE" and body["country_guessed"] is True
    assert body["lines"][0]["name"] == "TelefonSeelsorge" and body["lines"][0]["phone"] == "0800 111 0 111"
    assert body["emergency"] == "112"
    body = resources(client, bob)  # America/New_York
    assert body["country"] == "US" and body["lines"][0]["phone"] == "988" and body["emergency"] == "911"


def test_the_words_are_supportive_and_say_this_is_not_treatment(client, alice):
    words = resources(client, alice)["words"]
    assert "not treatment" in words["not_treatment"]
    assert "emergency" in words["emergency"]
    assert words["title"] and words["body"]


@pytest.mark.shared_app
@pytest.mark.parametrize("query, country, phone", [("?country=gb", "GB", "116 123"), ("?country=UK", "GB", "116 123"), ("?country=US", "US", "988")])
def test_a_chosen_country(client, alice, query, country, phone):
    body = resources(client, alice, query)
    assert body["country"] == country and body["country_guessed"] is False
    assert body["lines"][0]["phone"] == phone


def test_every_country_gets_the_international_directory(client, alice):
    body = resources(client, alice, "?country=BR")  # no national line built in
    assert body["lines"] == [] and body["emergency"] is None
    assert body["international"][0]["url"] == "https://findahelpline.com"
    assert resources(client, alice, "?country=DE")["international"][0]["url"] == "https://findahelpline.com"


def test_a_zone_without_a_country_still_gets_the_directory(client):
    someone = signup(client, timezone="UTC")
    body = resources(client, someone)
    assert body["country"] is None and body["lines"] == []
    assert body["international"]


@pytest.mark.shared_app
@pytest.mark.parametrize("value", ["ZZ", "DEU", "1", "", "d"])
def test_an_unknown_country_code_is_refused(client, alice, value):
    r = client.get(f"/api/care/resources?country={value}", headers=alice["headers"])
    assert r.status_code == 422
    assert "country" in r.get_json()["errors"]


def test_care_resources_need_a_login(client):
    assert client.get("/api/care/resources").status_code == 401


def test_every_built_in_line_can_be_reached():
    for entry in care.BUILTIN_DIRECTORY["countries"].values():
        for line in entry["lines"]:
            assert line.get("phone") or line.get("url")
            assert not line.get("url") or line["url"].startswith("https://")
