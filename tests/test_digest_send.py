"""The weekly summary through the real tick to a real SMTP server on loopback: what arrives,
when, once, and what happens when the server defers or refuses."""
from __future__ import annotations

import email
import statistics
import threading
from email import policy
from pathlib import Path
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import event

from coach.tick.digests import send_due
from coach.extensions import db
from coach.routines import catalogue
from coach.tick.scheduler import tick
from tests.helpers.accounts import signup
from tests.helpers.digest import at, deliveries, html_part, line, member, record, text_part, user_of
from tests.helpers.smtp import free_port

MAIL_FROM = "Vagal-tone coach <coach@coach.example>"
T975_DF1 = 12.706204736  # Student's t, 97.5 % quantile, 1 degree of freedom (printed tables)


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url(), "MAIL_FROM": MAIL_FROM}


def name(slug: str) -> str:
    return catalogue.builtin(slug)["name"]


def ci_text(deltas: list[int], t: float) -> str:
    """The 95 % interval of the mean, computed here independently, in the summary's format."""
    mean = statistics.mean(deltas)
    half = t * statistics.stdev(deltas) / len(deltas) ** 0.5
    return f"{mean - half:+.1f} to {mean + half:+.1f}".replace("-", "\u2212")


# Europe/Berlin in November is UTC+1: the summary for the week of 16–22 November 2026 is due
# on Sunday 22 November at 18:00 local, 17:00 UTC.
SEND = at("2026-11-22T17:00:00Z")


def berlin_week(client, email="ann@example.com"):
    who = member(client, email, "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    # The week before (9–15 November): 2 sessions, 20 min. The second one is on Sunday
    # 23:00 local, which is still that week.
    record(client, who, at("2026-11-11T07:00:00Z"), 300)
    record(client, who, at("2026-11-15T22:00:00Z"), 900)
    # This week: Monday 00:30 local is Sunday 23:30 UTC, but it belongs to this week.
    record(client, who, at("2026-11-15T23:30:00Z"), 600, "box", pre={"mood": 4}, post={"mood": 6})
    record(client, who, at("2026-11-17T07:00:00Z"), 300, "box", pre={"mood": 5}, post={"mood": 6})
    # 75 s, 45 of them cold (under a minute would be a short session, counted nowhere).
    record(client, who, at("2026-11-19T06:00:00Z"), 75, "cold-face", pre={"mood": 5}, post={"mood": 7},
           details={"cold_seconds": 45})
    record(client, who, at("2026-11-20T06:00:00Z"), 750, "cyclic-sighing",
           pre={"mood": 3, "anxiety": 7}, post={"mood": 5, "anxiety": 4})
    record(client, who, at("2026-11-21T06:00:00Z"), 300, "cyclic-sighing",
           pre={"mood": 4, "anxiety": 6}, post={"mood": 7, "anxiety": 4})
    # No cold_seconds: counted from the routine's cold phases (15 s + 45 s), one full run.
    record(client, who, at("2026-11-22T08:00:00Z"), 90, "cold-shower", completed_cycles=1)
    return who


def test_the_summary_arrives_multipart_with_the_numbers_of_the_sessions_written(client, smtp_server):
    who = berlin_week(client)
    report = tick(SEND)
    assert report.counts["digests"] == 1

    [got] = smtp_server.received
    assert got.rcpt_tos == ["ann@example.com"] and got.mail_from == "coach@coach.example"
    msg = got.message
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["From"] == MAIL_FROM and msg["To"] == "ann@example.com"
    assert msg["Message-ID"] == f"<digest-{who['user']['id']}-2026-W47@coach.example>"
    assert parsedate_to_datetime(msg["Date"]) == SEND
    assert msg["List-Unsubscribe"].startswith("<https://coach.example/unsubscribe/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As sent, not only as parsed: an RFC 2047 encoded word here would break one-click.
    assert b"\r\nList-Unsubscribe: <https://coach.example/unsubscribe/" in got.data
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in got.data

    text = text_part(msg)
    assert "16–22 November 2026" in text
    # 600 + 300 + 75 + 750 + 300 + 90 = 2115 s = 35.25 min; the week before 300 + 900 s.
    assert line(text, "This week:") == "This week: 6 sessions, 35 min"
    assert line(text, "The week before:") == "The week before: 2 sessions, 20 min"
    # 45 s by details.cold_seconds, 60 s by the cold shower's cold phases.
    assert line(text, "Cold:") == "Cold: 2 cold sessions, 1 min 45 s in the cold in total."
    assert line(text, "Streak:") == "Streak: 4 days in a row."  # Thursday to Sunday
    assert line(text, name("cyclic-sighing") + ":") == f"{name('cyclic-sighing')}: 2 sessions, 18 min"
    assert line(text, name("box") + ":") == f"{name('box')}: 2 sessions, 15 min"
    assert line(text, name("cold-face") + ":") == f"{name('cold-face')}: 1 session, 1 min 15 s"
    assert line(text, name("cold-shower") + ":") == f"{name('cold-shower')}: 1 session, 1 min 30 s"
    # Mood changes: box [+2, +1], cyclic sighing [+2, +3], anxiety [−3, −2]; one cold-face rating.
    assert f"Mood +1.5 over 2 rated sessions: could be chance so far (95 % range {ci_text([2, 1], T975_DF1)})" in text
    assert f"Mood +2.5 over 2 rated sessions: could be chance so far (95 % range {ci_text([2, 3], T975_DF1)})" in text
    assert f"Anxiety \u22122.5 over 2 rated sessions: could be chance so far (95 % range {ci_text([-3, -2], T975_DF1)})" in text
    assert "Mood +2.0: one rating: too few to tell" in text
    # Two rated sessions per routine cannot show which helps most, and the summary says so.
    assert "WHAT SEEMED TO HELP MOST" not in text and "too early to say which routine helps you most" in text
    assert "Open the coach: https://coach.example/" in text
    assert "treat" not in text.lower().replace("not a treatment", "")

    html = html_part(msg)
    for figure in ("6 · 35 min", "2 · 20 min", "1 min 45 s", "4 days in a row", name("cyclic-sighing")):
        assert figure in html
    assert 'href="https://coach.example/"' in html


def test_the_html_is_made_for_mail_clients(client, smtp_server):
    berlin_week(client)
    tick(SEND)
    html = html_part(smtp_server.received[0].message)
    assert "<style" not in html and "<link" not in html  # every rule inlined by css-inline
    assert "<img" not in html and "<svg" not in html and "<script" not in html
    assert 'style="' in html and "background: #2f7d6b" in html
    # Bars are table cells with a width: this week (2115 s) is the longer, the week before 1200 s.
    assert 'width="100%"' in html and f'width="{round(100 * 1200 / 2115)}%"' in html


def test_registration_plans_the_first_summary_for_sunday_18_local(client):
    before = datetime.now(timezone.utc)
    who = signup(client, "new@example.com", timezone="Asia/Tokyo")
    planned = user_of(who).digest_next_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (planned.weekday(), planned.hour, planned.minute) == (6, 18, 0)
    assert before < planned <= before + timedelta(days=7)


def test_once_per_week_however_often_the_tick_runs(client, smtp_server):
    who = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    for instant in ("2026-11-22T17:00:00Z", "2026-11-22T17:00:30Z", "2026-11-22T18:00:00Z", "2026-11-23T09:00:00Z"):
        tick(at(instant))
    assert len(smtp_server.received) == 1
    assert deliveries(who) == [("2026-W47", "sent")]
    assert user_of(who).digest_next_at == at("2026-11-29T17:00:00Z")
    # The next week's summary goes out on its own Sunday, once.
    tick(at("2026-11-29T16:59:00Z"))
    assert len(smtp_server.received) == 1
    tick(at("2026-11-29T17:00:00Z"))
    tick(at("2026-11-29T17:00:30Z"))
    assert len(smtp_server.received) == 2
    assert deliveries(who) == [("2026-W47", "sent"), ("2026-W48", "sent")]


@pytest.mark.parametrize(
    "zone_name, planned_from, session_at, due",
    [
        # Sunday 18:00 in Tokyo (UTC+9) is 09:00 UTC the same Sunday.
        ("Asia/Tokyo", "2026-11-16T00:00:00Z", "2026-11-18T23:00:00Z", "2026-11-22T09:00:00Z"),
        # Sunday 18:00 in Los Angeles (UTC−8 in November) is 02:00 UTC on Monday.
        ("America/Los_Angeles", "2026-11-16T12:00:00Z", "2026-11-19T16:00:00Z", "2026-11-23T02:00:00Z"),
    ],
)
def test_sent_at_the_users_local_time(client, smtp_server, zone_name, planned_from, session_at, due):
    who = member(client, "ann@example.com", zone_name, at(planned_from))
    record(client, who, at(session_at), 600)
    tick(at(due) - timedelta(minutes=1))
    assert smtp_server.received == []
    tick(at(due))
    [got] = smtp_server.received
    assert parsedate_to_datetime(got.message["Date"]) == at(due)
    assert line(text_part(got.message), "This week:") == "This week: 1 session, 10 min"


def test_a_week_when_berlin_falls_back_still_sends_at_18_local(client, smtp_server):
    # Summer time ends on Sunday 25 October 2026 at 03:00 local: 18:00 that day is 17:00 UTC,
    # not 16:00 UTC as it would have been the Sunday before.
    who = member(client, "ann@example.com", "Europe/Berlin", at("2026-10-19T08:00:00Z"))
    record(client, who, at("2026-10-23T10:00:00Z"), 300)
    record(client, who, at("2026-10-24T10:00:00Z"), 300)
    # 00:30 on Sunday in summer time (UTC+2) is 22:30 UTC on Saturday: a Sunday session.
    record(client, who, at("2026-10-24T22:30:00Z"), 300)
    tick(at("2026-10-25T16:00:00Z"))
    tick(at("2026-10-25T16:59:00Z"))
    assert smtp_server.received == []
    tick(at("2026-10-25T17:00:00Z"))
    [got] = smtp_server.received
    text = text_part(got.message)
    assert "19–25 October 2026" in text
    assert line(text, "This week:") == "This week: 3 sessions, 15 min"
    assert line(text, "Streak:") == "Streak: 3 days in a row."  # Friday, Saturday, Sunday
    assert deliveries(who) == [("2026-W43", "sent")]


def test_a_week_when_los_angeles_springs_forward_still_sends_at_18_local(client, smtp_server):
    # Daylight time starts on Sunday 8 March 2026: 18:00 that evening is 01:00 UTC on Monday.
    who = member(client, "ann@example.com", "America/Los_Angeles", at("2026-03-02T20:00:00Z"))
    record(client, who, at("2026-03-02T07:50:00Z"), 600)  # Sunday 1 March 23:50 local: the week before
    record(client, who, at("2026-03-02T08:15:00Z"), 300)  # Monday 2 March 00:15 local
    record(client, who, at("2026-03-08T17:00:00Z"), 300)  # Sunday 10:00 daylight time
    tick(at("2026-03-09T00:59:00Z"))
    assert smtp_server.received == []
    tick(at("2026-03-09T01:00:00Z"))
    [got] = smtp_server.received
    text = text_part(got.message)
    assert "2–8 March 2026" in text
    assert line(text, "This week:") == "This week: 2 sessions, 10 min"
    assert line(text, "The week before:") == "The week before: 1 session, 10 min"


def test_a_week_without_sessions_is_skipped_unless_asked_for(client, smtp_server):
    quiet = member(client, "quiet@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    wants = member(client, "wants@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    record(client, quiet, at("2026-11-05T07:00:00Z"), 600)  # an older week does not count
    tick(SEND)
    assert [r.rcpt_tos for r in smtp_server.received] == [["wants@example.com"]]
    assert deliveries(quiet) == [("2026-W47", "skipped")]
    assert deliveries(wants) == [("2026-W47", "sent")]
    text = text_part(smtp_server.received[0].message)
    assert "A quiet week: no sessions this week." in text
    assert line(text, "This week:") == "This week: 0 sessions, 0 min"
    assert user_of(quiet).digest_next_at == at("2026-11-29T17:00:00Z")  # and next week as usual


def test_send_empty_can_be_asked_for_in_the_profile(client):
    who = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    assert client.get("/api/me", headers=who["headers"]).get_json()["digest"]["send_empty"] is False
    r = client.patch("/api/me", headers=who["headers"], json={"digest": {"send_empty": True}})
    assert r.status_code == 200 and r.get_json()["digest"]["send_empty"] is True
    assert user_of(who).digest_send_empty is True
    assert client.patch("/api/me", headers=who["headers"], json={"digest": {"send_empty": "often"}}).status_code == 422


def test_a_disabled_summary_is_not_sent(client, smtp_server):
    who = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    r = client.patch("/api/me", headers=who["headers"], json={"digest": {"enabled": False}})
    assert r.status_code == 200
    tick(SEND)
    tick(SEND + timedelta(days=7))
    assert smtp_server.received == [] and deliveries(who) == []


def test_a_temporary_refusal_stays_due_and_goes_once_on_a_later_tick(client, smtp_server):
    busy = berlin_week(client, "busy@example.com")
    other = member(client, "other@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    smtp_server.handler.refuse["busy@example.com"] = "450 4.2.1 Mailbox busy, try later"
    report = send_due(SEND)
    assert (report.sent, report.deferred) == (1, 1)
    assert [r.rcpt_tos for r in smtp_server.received] == [["other@example.com"]]
    assert deliveries(busy) == []  # the claim was taken back
    assert user_of(busy).digest_next_at <= SEND + timedelta(seconds=30)  # due for the next tick

    del smtp_server.handler.refuse["busy@example.com"]
    tick(SEND + timedelta(seconds=30))
    tick(SEND + timedelta(seconds=60))
    tick(SEND + timedelta(hours=2))
    assert [r.rcpt_tos for r in smtp_server.received] == [["other@example.com"], ["busy@example.com"]]
    assert deliveries(busy) == [("2026-W47", "sent")] and deliveries(other) == [("2026-W47", "sent")]
    # The late copy still covers (and is keyed by) the week it was planned for.
    assert smtp_server.received[1].message["Message-ID"] == f"<digest-{busy['user']['id']}-2026-W47@coach.example>"
    assert user_of(busy).digest_next_at == at("2026-11-29T17:00:00Z")


def test_a_server_that_cannot_be_reached_leaves_every_summary_due(app, client, smtp_server):
    who = berlin_week(client)
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    report = send_due(SEND)
    assert (report.sent, report.deferred) == (0, 1)
    assert deliveries(who) == []
    app.config["MAIL_URL"] = smtp_server.url()
    tick(SEND + timedelta(seconds=30))
    tick(SEND + timedelta(seconds=60))
    assert len(smtp_server.received) == 1 and deliveries(who) == [("2026-W47", "sent")]


def test_retries_back_off_while_the_failure_lasts(app, client, smtp_server):
    who = berlin_week(client)
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    send_due(SEND + timedelta(hours=3))  # failing since the planned send three hours ago
    wait = user_of(who).digest_next_at - (SEND + timedelta(hours=3))
    assert timedelta(minutes=30) <= wait <= timedelta(hours=1)


def test_a_permanent_refusal_is_recorded_and_not_retried(client, smtp_server):
    who = berlin_week(client, "gone@example.com")
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user here"
    report = send_due(SEND)
    assert report.failed == 1
    for later in (timedelta(seconds=30), timedelta(hours=1), timedelta(days=1)):
        tick(SEND + later)
    assert smtp_server.handler.attempts == ["gone@example.com"]  # one attempt, no retries
    assert deliveries(who) == [("2026-W47", "failed")]
    assert user_of(who).digest_next_at == at("2026-11-29T17:00:00Z")


def test_a_summary_days_late_is_not_sent(client, smtp_server):
    who = berlin_week(client)
    report = send_due(SEND + timedelta(days=3))
    assert report.stale == 1 and smtp_server.received == []
    assert deliveries(who) == [("2026-W47", "stale")]
    assert user_of(who).digest_next_at == at("2026-11-29T17:00:00Z")


@pytest.mark.parametrize("app_config", [{"MAIL_URL": None}])
def test_the_outbox_is_the_default_without_mail_url(app, client):
    who = berlin_week(client)
    tick(SEND)
    outbox = Path(app.instance_path) / "outbox"
    files = [p.name for p in outbox.iterdir()]
    assert files == [f"digest-{who['user']['id']}-2026-W47.eml"]  # nothing half-written beside it
    msg = email.message_from_bytes((outbox / files[0]).read_bytes(), policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert line(text_part(msg), "This week:") == "This week: 6 sessions, 35 min"


def test_two_schedulers_at_once_send_each_summary_once(app, client, smtp_server):
    people = [member(client, f"p{i}@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True) for i in range(12)]
    db.session.remove()
    barrier = threading.Barrier(2, timeout=30)
    errors = []

    def scheduler():
        with app.app_context():  # a session (and connection) of its own, as a second process has
            try:
                barrier.wait()
                send_due(SEND, batch_size=5)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = sorted(r.rcpt_tos[0] for r in smtp_server.received)
    assert got == sorted(p["email"] for p in people)
    assert all(rows == [("2026-W47", "sent")] for rows in (deliveries(p) for p in people))


def test_a_batch_costs_the_same_statements_for_few_or_many_users(app, client, smtp_server):
    def statements_for(emails):
        people = [berlin_week(client, e) for e in emails]
        db.session.remove()
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            send_due(SEND)
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count, people

    few, _ = statements_for(["a1@example.com", "a2@example.com"])
    many, people = statements_for([f"b{i}@example.com" for i in range(10)])
    assert len(smtp_server.received) == 12
    assert many == few
