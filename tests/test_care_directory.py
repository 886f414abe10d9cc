"""Care resources from a configured file (COACH_CRISIS_LINES): used when valid, re-read when
changed, and never a reason to show no help at all."""
from __future__ import annotations

import json
import os

import pytest


def resources(client, who, query=""):
    r = client.get(f"/api/care/resources{query}", headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()



DIRECTORY = {
    "countries": {
        "DE": {"emergency": "112", "lines": [{"name": "Local line", "description": "A test line.", "phone": "0800 000"}]},
    },
}


@pytest.fixture
def lines_file(tmp_path):
    path = tmp_path / "crisis-lines.json"
    path.write_text(json.dumps(DIRECTORY), encoding="utf-8")
    return path


@pytest.fixture
def app_config(lines_file):
    return {"COACH_CRISIS_LINES": str(lines_file)}


def test_a_configured_file_replaces_the_lines(client, alice, lines_file):
    body = resources(client, alice)
    assert [line["name"] for line in body["lines"]] == ["Local line"]
    # The file gave no international list: the built-in directory stays.
    assert body["international"][0]["url"] == "https://findahelpline.com"
    assert resources(client, alice, "?country=US")["lines"] == []


def test_a_changed_file_is_read_again(client, alice, lines_file):
    resources(client, alice)
    changed = {"international": [{"name": "Our directory", "description": "x", "url": "https://help.example"}],
               "countries": {}}
    lines_file.write_text(json.dumps(changed), encoding="utf-8")
    stat = lines_file.stat()
    os.utime(lines_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))
    body = resources(client, alice)
    assert body["lines"] == [] and body["international"][0]["name"] == "Our directory"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"countries": {"DE": {"lines": [{"name": "No way to reach it", "description": "x"}]}}}),
        json.dumps({"countries": {"DE": {"lines": [{"name": "x", "description": "x", "url": "http://insecure.example"}]}}}),
        json.dumps({"countries": {"germany": {"lines": []}}}),
        json.dumps([1, 2]),
    ],
)
def test_a_broken_file_never_hides_help(client, alice, lines_file, content, caplog):
    lines_file.write_text(content, encoding="utf-8")
    body = resources(client, alice)
    assert body["lines"][0]["name"] == "TelefonSeelsorge"  # the built-in list
    assert body["international"]
    assert "COACH_CRISIS_LINES" in caplog.text


def test_a_missing_file_never_hides_help(client, alice, lines_file):
    lines_file.unlink()
    assert resources(client, alice)["lines"][0]["name"] == "TelefonSeelsorge"
