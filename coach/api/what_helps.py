"""What helps me: routines ranked by the mood change they go with, and a fair random pick."""
from __future__ import annotations

import secrets

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ..i18n.selection import request_language
from ..models import utcnow
from ..practice import what_helps
from . import limits
from .security import current_user, login_required

what_helps_blp = Blueprint(
    "what_helps", __name__, url_prefix="/api/insights",
    description="Which routines go with a lift in mood, allowing for the starting rating; a fair random pick.",
)


class WhatHelpsQuerySchema(Schema):
    days = fields.Integer(
        validate=validate.Range(7, 3650),
        metadata={"description": "Only sessions started in the last `days` days; all of them when absent."},
    )


class MeanIntervalSchema(Schema):
    n = fields.Integer()
    mean = fields.Float(allow_none=True)
    ci95 = fields.List(fields.Float(), allow_none=True, metadata={"description": "95 % t interval; null when it cannot be told."})


class AdjustedSchema(Schema):
    mean = fields.Float(allow_none=True)
    ci95 = fields.List(fields.Float(), allow_none=True)


class WhatHelpsRoutineSchema(Schema):
    routine = fields.String()
    name = fields.String()
    n = fields.Integer(metadata={"description": "Sessions rated before and after."})
    mean_pre = fields.Float(metadata={"description": "The mean starting mood of these sessions."})
    raw = fields.Nested(MeanIntervalSchema, metadata={"description": "Mean of after − before, as it came."})
    adjusted = fields.Nested(
        AdjustedSchema, metadata={"description": "The change at the user's usual starting mood (see `method`)."}
    )
    verdict = fields.String(validate=validate.OneOf(list(what_helps.VERDICTS)))
    words = fields.String(metadata={"description": "The verdict in plain words."})
    rank = fields.Integer(
        allow_none=True,
        metadata={"description": "1 = biggest adjusted lift; null below 3 sessions or when the screening refuses it."},
    )
    blocked = fields.String(
        allow_none=True,
        metadata={"description": "Why the safety screening now refuses this routine (it is then never ranked)."},
    )


class WhatHelpsSchema(Schema):
    sessions = fields.Integer(metadata={"description": "Sessions rated before and after, all routines."})
    usual_start = fields.Float(allow_none=True, metadata={"description": "The user's mean starting mood."})
    routines = fields.List(fields.Nested(WhatHelpsRoutineSchema), metadata={"description": "Ranked first, then the rest."})
    summary = fields.String()
    method = fields.String()


class SurpriseInSchema(Schema):
    favourites = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        validate=validate.Length(1, what_helps.MAX_FAVOURITES),
        metadata={"description": "Slugs to choose among (duplicates count once). Absent: the 3 most practised routines."},
    )


class LeftOutSchema(Schema):
    slug = fields.String()
    reason = fields.String()


class SurpriseSchema(Schema):
    routine = fields.String(allow_none=True, metadata={"description": "The pick; null when there was nothing to choose from."})
    name = fields.String(allow_none=True)
    chosen_from = fields.List(fields.String(), metadata={"description": "Each had the same chance."})
    source = fields.String(validate=validate.OneOf(["favourites", "most_used"]))
    left_out = fields.List(fields.Nested(LeftOutSchema), metadata={"description": "Not allowed by the safety screening."})
    message = fields.String(allow_none=True)


@what_helps_blp.route("/what-helps")
class WhatHelps(MethodView):
    decorators = [limits.INSIGHTS_READS]  # per account, with insights

    @login_required
    @what_helps_blp.alt_response(429, response="RateLimited")
    @what_helps_blp.arguments(WhatHelpsQuerySchema(), location="query")
    @what_helps_blp.response(200, WhatHelpsSchema)
    def get(self, query):
        """What helps me: mood change per routine, allowing for the starting rating"""
        return what_helps.what_helps(current_user(), utcnow(), query.get("days"), request_language())


@what_helps_blp.route("/surprise")
class Surprise(MethodView):
    @login_required
    @what_helps_blp.arguments(SurpriseInSchema(), required=False)  # no body: the most practised routines
    @what_helps_blp.response(200, SurpriseSchema)
    def post(self, body):
        """Surprise me: one of my favourite routines, chosen fairly at random"""
        try:
            return what_helps.pick_surprise(current_user(), body.get("favourites"), secrets.SystemRandom(), request_language())
        except what_helps.InvalidFavourites as exc:
            abort(422, message=_("Some fields are not valid."), messages=exc.errors)
