"""/healthz: the database and the scheduler's last tick."""
from __future__ import annotations

from datetime import timedelta

from coach.models import utcnow
from tests.helpers.apps import make_app


def test_healthz_reports_db_and_no_tick_yet(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"db": "ok", "scheduler": {"on": True, "last_tick_at": None, "stale": False}}


def test_a_tick_from_the_cli_shows_in_healthz(app, client):
    at = utcnow().replace(microsecond=0)
    result = app.test_cli_runner().invoke(args=["coach", "tick", "--at", at.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"tick at {at.isoformat()}" in result.output
    body = client.get("/healthz").get_json()
    assert body["scheduler"]["last_tick_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["scheduler"]["stale"] is False


def test_a_scheduler_silent_for_five_minutes_fails_health(app, client):
    old = utcnow() - timedelta(minutes=6)
    app.test_cli_runner().invoke(args=["coach", "tick", "--at", old.isoformat()])
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["scheduler"]["stale"] is True
    # Not stale where this process does not run the scheduler (a web worker).
    app.config["COACH_SCHEDULER"] = "off"
    assert client.get("/healthz").status_code == 200


def test_no_tick_at_all_is_stale_five_minutes_after_start(app, client):
    app.extensions["coach_up_since"] = utcnow() - timedelta(minutes=6)
    assert client.get("/healthz").status_code == 503


def test_unreachable_database_fails_health(database_url, tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    with app.app_context():
        r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["db"] == "unreachable"


def test_tick_refuses_a_naive_instant(app):
    result = app.test_cli_runner().invoke(args=["coach", "tick", "--at", "2026-11-23T07:30:00"])
    assert result.exit_code == 2
    assert "offset" in result.output


def test_a_failing_step_does_not_stop_the_others(app, monkeypatch):
    from coach.tick import scheduler

    ran = []

    class Done:
        sent = 3

    def broken(now):
        raise RuntimeError("push service library blew up")

    def fine(now):
        ran.append(now)
        return Done()

    monkeypatch.setattr(scheduler, "_steps", lambda: (("reminders", broken), ("digests", fine)))
    report = scheduler.tick(utcnow())
    assert report.failed == ["reminders"]
    assert report.counts == {"digests": 3}
    assert len(ran) == 1
    result = app.test_cli_runner().invoke(args=["coach", "tick"])
    assert result.exit_code == 1 and "reminders" in result.output
