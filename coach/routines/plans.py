"""Progressive plans: a built-in routine practised over a few weeks, each week with a target.

Plans are data (`routines/plans.json`), validated when the app starts, like the routines:
`load_plans()` raises `PlanError` naming the plan and the field if one is wrong, so a typo
can never reach a person as a silly target. Two measures exist:
- `cold_seconds`: seconds of cold water per session (from the session's `details.cold_seconds`);
  the routine must be a one-round cold routine, so the front end can re-time its cold;
- `minutes`: the session's length; the routine must be a timed breathing routine (the start
  screen's length picker sets the minutes).

Where a person is in a plan comes from their own sessions of its routine since the day they
started it (the phone keeps that day and sends it): per plan week, how many sessions, how many
reached the week's lower target, the best, and today's suggested step. Nothing is stored.
"""
from __future__ import annotations

import copy
import json
import math
from datetime import date, datetime, time, timedelta
from importlib.resources import files

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ..extensions import db
from ..fields import FullMatch
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import translate
from ..models import PlanEnrolment, PracticeSession, User
from ..timeutil import local_date, local_to_utc, zone
from . import catalogue, screening
from .schema import CITATION_YEAR, MAX_PHASE_SECONDS, MAX_TOTAL_SECONDS, SLUG_PATTERN, text

DATA = files("coach.routines") / "plans.json"
MEASURES = {"cold_seconds": "seconds of cold", "minutes": "minutes"}
MAX_WEEKS = 12
# A session "reached" a target from 95 % of it: a 10-minute session at 5.5 breaths a minute
# is 55 whole breaths, 9 min 59.5 s; the cold count stops with the pacer's last frame.
REACHED_SHARE = 0.95
STEP = {"cold_seconds": 5, "minutes": 1}  # today's step is rounded to these units
MAX_START_AGE_DAYS = 366


class PlanError(RuntimeError):
    """The plans file is wrong; the app must not start with it."""


class WeekSchema(Schema):
    week = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_WEEKS))
    sessions = fields.Integer(required=True, strict=True, validate=validate.Range(1, 14))
    low = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    high = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    text = text(300, required=True)

    @validates_schema
    def _low_to_high(self, data, **kwargs):
        if data["low"] > data["high"]:
            raise ValidationError("`low` must not be above `high`.", "low")


def _cites_a_year(value: str) -> None:
    if not CITATION_YEAR.search(value):
        raise ValidationError("The evidence must cite its source with a year, e.g. (Goessl et al. 2017).")


class PlanSchema(Schema):
    slug = fields.String(required=True, validate=FullMatch(SLUG_PATTERN))
    name = text(80, required=True)
    routine = fields.String(required=True, validate=FullMatch(SLUG_PATTERN))
    measure = fields.String(required=True, validate=validate.OneOf(list(MEASURES)))
    summary = text(600, required=True)
    evidence = fields.String(required=True, validate=[validate.Length(1, 2000), _cites_a_year])
    cautions = fields.List(text(400), load_default=list, validate=validate.Length(max=10))
    weeks = fields.List(fields.Nested(WeekSchema), required=True, validate=validate.Length(1, MAX_WEEKS))

    @validates_schema
    def _weeks_in_order_and_growing(self, data, **kwargs):
        weeks = data["weeks"]
        if [w["week"] for w in weeks] != list(range(1, len(weeks) + 1)):
            raise ValidationError("Weeks must be numbered 1, 2, 3… in order.", "weeks")
        for before, after in zip(weeks, weeks[1:]):
            if after["low"] < before["low"] or after["high"] < before["high"]:
                raise ValidationError(f"Week {after['week']} asks less than week {before['week']}: a plan only grows.", "weeks")


def _fits_routine(plan: dict) -> None:
    """A plan's routine must exist and be able to carry its measure (raises PlanError)."""
    routine = catalogue.builtin(plan["routine"])
    where = f"Plan '{plan['slug']}'"
    if routine is None:
        raise PlanError(f"{where} names routine '{plan['routine']}', which is not a built-in.")
    actions = {p["action"] for p in routine["phases"]}
    top = max(w["high"] for w in plan["weeks"])
    if plan["measure"] == "cold_seconds":
        if "cold" not in actions or routine["cycles"] != 1:
            raise PlanError(f"{where}: a cold_seconds plan needs a one-round routine with cold water.")
        if top > MAX_PHASE_SECONDS:
            raise PlanError(f"{where}: at most {MAX_PHASE_SECONDS} s of cold in one go.")
    else:
        if routine["kind"] != "breathing" or any(p.get("open_ended") for p in routine["phases"]):
            raise PlanError(f"{where}: a minutes plan needs a timed breathing routine.")
        if top > MAX_TOTAL_SECONDS // 60:
            raise PlanError(f"{where}: a session lasts at most {MAX_TOTAL_SECONDS // 60} minutes.")


def load_plans(source=None) -> dict[str, dict]:
    """Read and validate the plans (after the catalogue); raises PlanError. Returns {slug: plan}."""
    global _PLANS
    source = source or DATA
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanError(f"The plans file {source} cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("plans"), list) or set(raw) - {"_about", "plans"}:
        raise PlanError(f"{source} must be an object with a `plans` list.")
    plans: dict[str, dict] = {}
    for index, item in enumerate(raw["plans"]):
        label = item.get("slug") if isinstance(item, dict) else None
        label = f"'{label}'" if isinstance(label, str) else f"number {index + 1}"
        try:
            plan = PlanSchema().load(item)
        except ValidationError as exc:
            raise PlanError(f"Plan {label} is not valid: {exc.messages}") from exc
        _fits_routine(plan)
        if plan["slug"] in plans:
            raise PlanError(f"Plan '{plan['slug']}' appears twice.")
        plans[plan["slug"]] = plan
    _PLANS = plans
    return copy.deepcopy(plans)


def _in(language: str, plan: dict) -> dict:
    """The plan's texts in `language` (each is a catalogue msgid, like a routine's)."""
    out = copy.deepcopy(plan)
    for field in ("name", "summary", "evidence"):
        out[field] = translate(language, plan[field])
    out["cautions"] = [translate(language, c) for c in plan["cautions"]]
    out["weeks"] = [{**w, "text": translate(language, w["text"])} for w in out["weeks"]]
    return out


def _described(user: User, plan: dict, blocks: dict[str, dict], start: date | None, language: str) -> dict:
    routine = catalogue.builtin(plan["routine"])
    block = blocks.get(plan["routine"])
    reason = screening.verdict(routine, screening.answers_of(user), language)
    return {
        **_in(language, plan),
        "routine_name": translate(language, routine["name"]),
        "kind": routine["kind"],
        "unit": MEASURES[plan["measure"]],
        "blocked": reason,
        "alternative": block["alternative"] if block and reason else None,
        "start": start,
    }


def _blocks(user: User) -> dict[str, dict]:
    return {b["slug"]: b for b in screening.status(user)["blocked"]}


def list_plans(user: User, language: str = DEFAULT_LANGUAGE) -> list[dict]:
    """Every plan, with whether this person's safety screening lets them do its routine;
    texts in `language`."""
    blocks = _blocks(user)
    starts = _starts(user)
    return [_described(user, plan, blocks, starts.get(slug), language) for slug, plan in _PLANS.items()]


def get_plan(user: User, slug: str, language: str = DEFAULT_LANGUAGE) -> dict | None:
    plan = _PLANS.get(slug)
    return None if plan is None else _described(user, plan, _blocks(user), _starts(user).get(slug), language)


# --- enrolment: the day a plan began, on the server so every device agrees -----------------

def _starts(user: User) -> dict[str, date]:
    rows = db.session.execute(select(PlanEnrolment.plan, PlanEnrolment.start).where(PlanEnrolment.user_id == user.id))
    return {plan: start for plan, start in rows}


def _enrolment(user: User, slug: str) -> PlanEnrolment | None:
    return db.session.scalar(select(PlanEnrolment).where(PlanEnrolment.user_id == user.id, PlanEnrolment.plan == slug))


def enrol(user: User, slug: str, start: date, now: datetime, language: str = DEFAULT_LANGUAGE) -> dict | None:
    """Begin (or begin again) plan `slug` on local day `start`; the plan with its progress, or
    None if there is no such plan. InvalidStart for a day out of range (nothing written)."""
    if slug not in _PLANS:
        return None
    check_start(user, start, now)
    row = _enrolment(user, slug)
    if row is None:
        db.session.add(PlanEnrolment(user_id=user.id, plan=slug, start=start, created_at=now, updated_at=now))
    else:
        row.start, row.updated_at = start, now
    db.session.commit()
    return plan_with_progress(user, slug, None, now, language)


class NoSuchPlan(LookupError):
    pass


def stop(user: User, slug: str) -> None:
    """Stop plan `slug` (its sessions stay); stopping a plan one is not in is no error."""
    if slug not in _PLANS:
        raise NoSuchPlan(slug)
    row = _enrolment(user, slug)
    if row is not None:
        db.session.delete(row)
        db.session.commit()


class InvalidStart(ValueError):
    pass


def check_start(user: User, start: date, now: datetime) -> None:
    """A plan starts on a local day from a year ago up to tomorrow (the phone's day may be
    ahead of the account's time zone)."""
    today = local_date(now, zone(user.timezone))
    if start > today + timedelta(days=1):
        raise InvalidStart("A plan cannot start later than tomorrow.")
    if start < today - timedelta(days=MAX_START_AGE_DAYS):
        raise InvalidStart("That is more than a year ago; start the plan again from this week.")


def _value(session: PracticeSession, measure: str) -> float | None:
    if measure == "minutes":
        return None if session.duration_seconds is None else session.duration_seconds / 60
    seconds = (session.details or {}).get("cold_seconds")
    return float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None


def _step(week: dict, reached: int, measure: str) -> int:
    """Today's target within a week: from `low` at its first session up to `high` at its last."""
    if week["sessions"] == 1 or week["low"] == week["high"]:
        return week["low"]
    share = min(reached, week["sessions"] - 1) / (week["sessions"] - 1)
    unit = STEP[measure]
    value = week["low"] + (week["high"] - week["low"]) * share
    return int(min(week["high"], max(week["low"], math.floor(value / unit + 0.5) * unit)))


def progress(user: User, plan: dict, start: date, now: datetime) -> dict:
    """Where the person is in `plan` begun on local day `start`, from their own sessions."""
    tz = zone(user.timezone)
    today = local_date(now, tz)
    weeks = plan["weeks"]
    end = start + timedelta(days=7 * len(weeks))  # the day after the last
    rows = db.session.scalars(
        select(PracticeSession)
        .where(
            PracticeSession.user_id == user.id,
            PracticeSession.routine == plan["routine"],
            PracticeSession.started_at >= local_to_utc(start, time(0), tz),
            PracticeSession.started_at < local_to_utc(end, time(0), tz),
        )
        .order_by(PracticeSession.started_at)
    )
    out = [
        {"week": w["week"], "first_day": start + timedelta(days=7 * i), "last_day": start + timedelta(days=7 * i + 6),
         "target_sessions": w["sessions"], "low": w["low"], "high": w["high"], "sessions": 0, "reached": 0, "best": None}
        for i, w in enumerate(weeks)
    ]
    done_today = False
    for row in rows:
        day = local_date(row.started_at, tz)
        done_today = done_today or day == today
        week = out[(day - start).days // 7]
        week["sessions"] += 1
        value = _value(row, plan["measure"])
        if value is None:
            continue
        week["best"] = round(value if week["best"] is None else max(week["best"], value), 1)
        if value >= week["low"] * REACHED_SHARE:
            week["reached"] += 1
    days_in = (today - start).days
    if days_in < 0:
        state, current = "not_started", None
    elif days_in >= 7 * len(weeks):
        state, current = "finished", None
    else:
        state, current = "in_progress", days_in // 7 + 1
    if current is not None:
        step = _step(weeks[current - 1], out[current - 1]["reached"], plan["measure"])
    elif state == "finished":
        step = weeks[-1]["high"]  # keep going at the last week's level
    else:
        step = weeks[0]["low"]
    return {
        "start": start,
        "last_day": end - timedelta(days=1),
        "state": state,
        "week": current,
        "today": {"value": step, "done_today": done_today},
        "weeks": out,
    }


def plan_with_progress(
    user: User, slug: str, start: date | None, now: datetime, language: str = DEFAULT_LANGUAGE
) -> dict | None:
    """GET /api/plans/<slug>: the plan and, from the day it began (`start`, else the person's
    enrolment), the progress; texts in `language`."""
    plan = get_plan(user, slug, language)
    if plan is None:
        return None
    if start is not None:
        check_start(user, start, now)
    start = start if start is not None else plan["start"]
    plan["progress"] = None if start is None else progress(user, _PLANS[slug], start, now)
    return plan


def all_plans() -> dict[str, dict]:
    return copy.deepcopy(_PLANS)


_PLANS: dict[str, dict] = {}
load_plans()
