"""Progressive plans: a routine over a few weeks, each week with a target (coach/routines/plans.py)."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ..i18n.selection import request_language
from ..models import utcnow
from ..routines import plans
from .security import current_user, login_required

plans_blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/api/plans",
    description=(
        "Progressive plans, e.g. a cold finish from 15 s to 2–3 minutes, or resonance breathing from "
        "5 to 20 minutes, over four weeks. Plans are data, validated when the app starts. Where you "
        "are in a plan comes from your own sessions of its routine since the day you started it."
    ),
)


class PlanWeekSchema(Schema):
    week = fields.Integer(metadata={"description": "1, 2, 3…"})
    sessions = fields.Integer(metadata={"description": "Sessions to aim for in this week."})
    low = fields.Integer(metadata={"description": "Per session, in the plan's measure: the week starts here…"})
    high = fields.Integer(metadata={"description": "…and grows to this by its last session."})
    text = fields.String(metadata={"description": "The week in plain words."})


class PlanSchema(Schema):
    slug = fields.String()
    name = fields.String()
    routine = fields.String(metadata={"description": "The routine practised (a built-in slug)."})
    routine_name = fields.String()
    kind = fields.String(metadata={"enum": ["breathing", "cold", "combined"]})
    measure = fields.String(
        validate=validate.OneOf(list(plans.MEASURES)),
        metadata={"description": "cold_seconds: seconds of cold per session (the session's details.cold_seconds); "
                                 "minutes: the session's length."},
    )
    unit = fields.String(metadata={"description": "The measure in words, e.g. 'seconds of cold'."})
    summary = fields.String()
    evidence = fields.String()
    cautions = fields.List(fields.String(), metadata={"description": "The plan's own; the routine's come with the routine."})
    weeks = fields.List(fields.Nested(PlanWeekSchema))
    blocked = fields.String(
        allow_none=True, metadata={"description": "Why the safety screening does not allow the routine now (null: allowed)."}
    )
    alternative = fields.String(allow_none=True, metadata={"description": "A gentler routine to offer when blocked."})
    start = fields.Date(
        allow_none=True,
        metadata={"description": "The local day you began this plan (PUT …/enrolment), the same on every device; "
                                 "null when you are not in it."},
    )


class WeekProgressSchema(Schema):
    week = fields.Integer()
    first_day = fields.Date()
    last_day = fields.Date()
    target_sessions = fields.Integer()
    low = fields.Integer()
    high = fields.Integer()
    sessions = fields.Integer(metadata={"description": "Sessions of the plan's routine started in this week."})
    reached = fields.Integer(metadata={"description": "Of those, how many reached the week's `low` (from 95 % of it)."})
    best = fields.Float(allow_none=True, metadata={"description": "The most in one session, in the plan's measure."})


class TodaySchema(Schema):
    value = fields.Integer(metadata={"description": "Today's suggested step, in the plan's measure."})
    done_today = fields.Boolean(metadata={"description": "A session of the plan's routine was started today."})


class ProgressSchema(Schema):
    start = fields.Date()
    last_day = fields.Date()
    state = fields.String(validate=validate.OneOf(["not_started", "in_progress", "finished"]))
    week = fields.Integer(allow_none=True, metadata={"description": "The current plan week (null before or after)."})
    today = fields.Nested(TodaySchema)
    weeks = fields.List(fields.Nested(WeekProgressSchema))


class PlanDetailSchema(PlanSchema):
    progress = fields.Nested(ProgressSchema, allow_none=True, metadata={"description": "null without `start`."})


class PlanQuerySchema(Schema):
    start = fields.Date(
        metadata={"description": "The local day the person began the plan (YYYY-MM-DD; up to a year ago, at the "
                                 "latest tomorrow). With it the answer carries `progress`."}
    )


class EnrolmentSchema(Schema):
    start = fields.Date(
        required=True,
        metadata={"description": "The local day the plan begins (YYYY-MM-DD; up to a year ago, at the latest tomorrow)."},
    )


@plans_blp.route("")
class Plans(MethodView):
    @login_required
    @plans_blp.response(200, PlanSchema(many=True))
    def get(self):
        """Every progressive plan, each week with its target"""
        return plans.list_plans(current_user(), request_language())


@plans_blp.route("/<string:slug>")
class PlanBySlug(MethodView):
    @login_required
    @plans_blp.arguments(PlanQuerySchema(), location="query")
    @plans_blp.response(200, PlanDetailSchema)
    @plans_blp.alt_response(404, schema="Error", description="No such plan.")
    def get(self, query, slug):
        """One plan; with `start`, where you are in it, from your own sessions"""
        try:
            found = plans.plan_with_progress(current_user(), slug, query.get("start"), utcnow(), request_language())
        except plans.InvalidStart as exc:
            abort(422, message=_("Some fields are not valid."), messages={"start": [str(exc)]})
        if found is None:
            abort(404, message=_("There is no plan with that name."))
        return found


@plans_blp.route("/<string:slug>/enrolment")
class PlanEnrolment(MethodView):
    @login_required
    @plans_blp.arguments(EnrolmentSchema())
    @plans_blp.response(200, PlanDetailSchema)
    @plans_blp.alt_response(404, schema="Error", description="No such plan.")
    def put(self, body, slug):
        """Begin a plan (or begin it again) on a local day; every device then shows that day"""
        try:
            found = plans.enrol(current_user(), slug, body["start"], utcnow(), request_language())
        except plans.InvalidStart as exc:
            abort(422, message="Some fields are not valid.", messages={"start": [str(exc)]})
        if found is None:
            abort(404, message="There is no plan with that name.")
        return found

    @login_required
    @plans_blp.response(204)
    @plans_blp.alt_response(404, schema="Error", description="No such plan.")
    def delete(self, slug):
        """Stop a plan (its sessions stay); stopping one you are not in changes nothing"""
        try:
            plans.stop(current_user(), slug)
        except plans.NoSuchPlan:
            abort(404, message="There is no plan with that name.")
