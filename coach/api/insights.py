"""GET /api/insights: what the user's own sessions say, with honest uncertainty."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..i18n.selection import request_language
from ..models import utcnow
from ..practice import insights_cache
from . import limits
from .security import current_user, login_required

insights_blp = Blueprint(
    "insights", __name__, url_prefix="/api/insights", description="Totals, streak, what seems to help, care."
)


class InsightsQuerySchema(Schema):
    days = fields.Integer(load_default=90, validate=validate.Range(1, 3650), metadata={"description": "The window, in days back from now."})


class TotalsSchema(Schema):
    sessions = fields.Integer()
    minutes = fields.Float(metadata={"description": "Sum of session durations (sessions without ended_at add nothing)."})
    streak_days = fields.Integer(
        metadata={"description": "Consecutive days in the user's time zone with a session, ending today or yesterday."}
    )


class DeltaSchema(Schema):
    n = fields.Integer(metadata={"description": "Sessions rated both before and after."})
    mean = fields.Float(allow_none=True, metadata={"description": "Mean of after − before."})
    ci95 = fields.List(
        fields.Float(), allow_none=True, metadata={"description": "95 % t interval [lo, hi] of the mean; null when n < 2."}
    )
    adjusted_mean = fields.Float(
        allow_none=True,
        metadata={"description": "The mean change as if every routine had started from the same rating "
                                 "(low starting ratings tend to rise anyway)."},
    )


class RoutineInsightSchema(Schema):
    routine = fields.String()
    name = fields.String()
    n = fields.Integer(metadata={"description": "Sessions of this routine in the window."})
    minutes = fields.Float()
    mood_delta = fields.Nested(DeltaSchema)
    anxiety_delta = fields.Nested(DeltaSchema, metadata={"description": "Negative is calmer."})
    energy_delta = fields.Nested(DeltaSchema)


class WeekSchema(Schema):
    week = fields.String(metadata={"example": "2026-W48"})
    starts_on = fields.Date(metadata={"description": "The local Monday."})
    sessions = fields.Integer()
    minutes = fields.Float()
    mood_delta_mean = fields.Float(allow_none=True)


class RecommendationSchema(Schema):
    routine = fields.String(
        allow_none=True,
        metadata={"description": "The routine GET /api/insights/what-helps ranks first (over all sessions, whatever `days`); "
                                 "null when the data do not point anywhere yet."},
    )
    text = fields.String()
    confidence = fields.String(
        validate=validate.OneOf(["none", "low", "moderate", "high"]),
        metadata={"description": "low with < 5 rated sessions or an interval that includes no change."},
    )
    based_on = fields.Integer(metadata={"description": "Rated sessions behind it."})


class CareSchema(Schema):
    show = fields.Boolean(metadata={"description": "Mood 2 or lower in 3 of the last 5 rated sessions."})
    reason = fields.String(allow_none=True)


class InsightsSchema(Schema):
    days = fields.Integer()
    totals = fields.Nested(TotalsSchema)
    by_routine = fields.List(fields.Nested(RoutineInsightSchema))
    weekly = fields.List(fields.Nested(WeekSchema), metadata={"description": "ISO weeks in the user's zone, oldest first."})
    recommendation = fields.Nested(RecommendationSchema)
    care = fields.Nested(CareSchema)


@insights_blp.route("")
class Insights(MethodView):
    decorators = [limits.INSIGHTS_READS]  # per account, with what-helps

    @login_required
    @insights_blp.alt_response(429, response="RateLimited")
    @insights_blp.arguments(InsightsQuerySchema(), location="query")
    @insights_blp.response(200, InsightsSchema)
    @insights_blp.alt_response(422, schema="Error", description="days outside 1–3650.")
    def get(self, query):
        """Insights over the last `days` days"""
        cache = current_app.extensions["coach.practice.insights_cache"]
        body = insights_cache.summary(cache, current_user(), utcnow(), query["days"], render=_render, language=request_language())
        return current_app.response_class(body, mimetype=current_app.json.mimetype)


_INSIGHTS = InsightsSchema()


def _render(answer: dict) -> bytes:
    """The body flask-smorest would send for `answer` (kept rendered by the cache)."""
    return current_app.json.response(_INSIGHTS.dump(answer)).get_data()
