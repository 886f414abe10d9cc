"""/healthz: the database and the scheduler's last tick."""
from __future__ import annotations


def test_healthz_reports_db_and_no_tick_yet(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"db": "ok", "scheduler": {"last_tick_at": None}}


def test_a_tick_from_the_cli_shows_in_healthz(app, client):
    result = app.test_cli_runner().invoke(args=["coach", "tick", "--at", "2026-11-23T07:30:00Z"])
    assert result.exit_code == 0, result.output
    assert "tick at 2026-11-23T07:30:00+00:00" in result.output
    assert client.get("/healthz").get_json()["scheduler"]["last_tick_at"].startswith("2026-11-23T07:30:00")


def test_tick_refuses_a_naive_instant(app):
    result = app.test_cli_runner().invoke(args=["coach", "tick", "--at", "2026-11-23T07:30:00"])
    assert result.exit_code == 2
    assert "offset" in result.output
