"""Safety and personal tools: screening, the resonance finder, "what helps me", care resources."""
from __future__ import annotations

import os
import secrets
from decimal import Decimal

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from .. import care, resonance, screening, what_helps
from ..models import utcnow
from ..fields import JSONBoolean, JSONNumber
from .paths import ROW_ID
from .security import current_user, login_required

screening_blp = Blueprint(
    "screening", __name__, url_prefix="/api/me/screening",
    description="Health questions that keep risky routines away from people they could harm.",
)
resonance_blp = Blueprint(
    "resonance", __name__, url_prefix="/api/resonance",
    description="The resonance finder: the breathing rate at which the heart-rate swing is largest.",
)
what_helps_blp = Blueprint(
    "what_helps", __name__, url_prefix="/api/insights",
    description="Which routines go with a lift in mood, allowing for the starting rating; a fair random pick.",
)
care_blp = Blueprint(
    "care", __name__, url_prefix="/api/care", description="Where to find help: crisis lines by country."
)
blueprints = (screening_blp, resonance_blp, what_helps_blp, care_blp)


# --- screening -----------------------------------------------------------------------------

ScreeningAnswersSchema = Schema.from_dict(
    {
        key: JSONBoolean(required=True, metadata={"description": text})
        for key, text in screening.QUESTIONS.items()
    },
    name="ScreeningAnswers",
)


class ScreeningPutSchema(Schema):
    answers = fields.Nested(ScreeningAnswersSchema, required=True, metadata={"description": "true means yes, this applies to me."})


class ScreeningBlockSchema(Schema):
    slug = fields.String()
    reason = fields.String(metadata={"description": "Why, in plain words, with the advice to talk to a doctor."})
    alternative = fields.String(
        allow_none=True, metadata={"description": "A gentler routine this person may do instead (never a blocked one)."}
    )


class ScreeningQuestionSchema(Schema):
    key = fields.String()
    text = fields.String()


class ScreeningSchema(Schema):
    answers = fields.Nested(ScreeningAnswersSchema, allow_none=True, metadata={"description": "null until answered."})
    answered_at = fields.DateTime(allow_none=True)
    cleared = fields.List(
        fields.String(),
        metadata={"description": "Routines screening covers that may be done now (before answering: those covered "
                                 "that do not require screening, e.g. cold-face)."},
    )
    blocked = fields.List(fields.Nested(ScreeningBlockSchema), metadata={"description": "Refused, with the reason."})
    needs_screening = fields.List(
        fields.String(),
        metadata={"description": "Before the questions are answered: routines with requires_screening, refused "
                                 "until screening clears them. Empty once answered."},
    )
    questions = fields.List(fields.Nested(ScreeningQuestionSchema), metadata={"description": "The questions to ask, in order."})


@screening_blp.route("")
class Screening(MethodView):
    @login_required
    @screening_blp.response(200, ScreeningSchema)
    def get(self):
        """The screening answers and which routines they clear or block"""
        return screening.status(current_user())

    @login_required
    @screening_blp.arguments(ScreeningPutSchema())
    @screening_blp.response(200, ScreeningSchema)
    def put(self, body):
        """Answer every screening question (replaces earlier answers)"""
        return screening.save_answers(current_user(), body["answers"], utcnow())


# --- resonance finder -------------------------------------------------------------------------

def _tenth_of_a_breath(value: float) -> None:
    if not resonance.MIN_BPM <= value <= resonance.MAX_BPM:
        return  # the range validator says so (and a huge value would overflow the quantize: a 500)
    exact = Decimal(repr(value))
    if exact != exact.quantize(Decimal("0.1")):
        raise ValidationError("Use at most one decimal place, e.g. 5.5.")


class ResonanceStepInSchema(Schema):
    bpm = JSONNumber(
        required=True,
        validate=[validate.Range(resonance.MIN_BPM, resonance.MAX_BPM), _tenth_of_a_breath],
        metadata={"description": "Breaths a minute paced in this step, 4.5–7.0 (0.1 steps)", "example": 5.5},
    )
    calm = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10), metadata={"description": "0 not calm … 10 very calm"})
    comfort = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 10), metadata={"description": "0 strained … 10 easy"}
    )
    rr_ms = fields.List(
        JSONNumber(validate=validate.Range(resonance.MIN_RR_MS, resonance.MAX_RR_MS)),
        validate=validate.Length(2, resonance.MAX_RR_PER_STEP),
        metadata={"description": "RR intervals in ms (250–2000 each, 2–2000 per step) from a heart-rate strap, "
                                 "in order. Used for the figures, not stored."},
    )


class ResonanceAssessmentInSchema(Schema):
    steps = fields.List(
        fields.Nested(ResonanceStepInSchema), required=True, validate=validate.Length(1, resonance.MAX_STEPS)
    )


class ResonanceStepSchema(Schema):
    bpm = fields.Float()
    calm = fields.Integer()
    comfort = fields.Integer()
    score = fields.Float(metadata={"description": "The mean of calm and comfort, 0–10."})
    hr_swing_bpm = fields.Float(
        allow_none=True,
        metadata={"description": "Mean peak-to-trough heart-rate swing per breath (beats a minute); "
                                 "null without RR data or with less than one full breath."},
    )
    rmssd_ms = fields.Float(allow_none=True, metadata={"description": "Root mean square of successive RR differences."})
    breaths = fields.Integer(metadata={"description": "Full breaths the swing was averaged over."})


class ResonanceAssessmentSchema(Schema):
    id = fields.Integer()
    steps = fields.List(fields.Nested(ResonanceStepSchema))
    best_bpm = fields.Float(metadata={"description": "Confirm it with PATCH /api/me {resonance_bpm}."})
    basis = fields.String(
        validate=validate.OneOf(["hr_swing", "ratings"]),
        metadata={"description": "hr_swing: the largest swing (every step had RR data); ratings: calm + comfort. "
                                 "Ties go to the rate nearer 6.0, then the slower."},
    )
    created_at = fields.DateTime()


class ResonanceAssessmentListSchema(Schema):
    assessments = fields.List(fields.Nested(ResonanceAssessmentSchema), metadata={"description": "Newest first, at most 50."})


@resonance_blp.route("/assessments")
class ResonanceAssessments(MethodView):
    @login_required
    @resonance_blp.response(200, ResonanceAssessmentListSchema)
    def get(self):
        """The user's own resonance-finder runs, newest first"""
        return {"assessments": resonance.list_assessments(current_user())}

    @login_required
    @resonance_blp.arguments(ResonanceAssessmentInSchema())
    @resonance_blp.response(201, ResonanceAssessmentSchema)
    def post(self, body):
        """Work out a resonance-finder run and keep its result"""
        try:
            return resonance.create_assessment(current_user(), body["steps"], utcnow())
        except resonance.InvalidAssessment as exc:
            abort(422, message="Some fields are not valid.", messages=exc.errors)


@resonance_blp.route(f"/assessments/<{ROW_ID}:assessment_id>")
class ResonanceAssessmentOne(MethodView):
    @login_required
    @resonance_blp.response(200, ResonanceAssessmentSchema)
    @resonance_blp.alt_response(404, schema="Error", description="No such run of this user's.")
    def get(self, assessment_id):
        """One of the user's resonance-finder runs"""
        found = resonance.get_assessment(current_user(), assessment_id)
        if found is None:
            abort(404, message="No such resonance-finder run.")
        return found


# --- what helps me ----------------------------------------------------------------------------

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
    @login_required
    @what_helps_blp.arguments(WhatHelpsQuerySchema(), location="query")
    @what_helps_blp.response(200, WhatHelpsSchema)
    def get(self, query):
        """What helps me: mood change per routine, allowing for the starting rating"""
        return what_helps.what_helps(current_user(), utcnow(), query.get("days"))


@what_helps_blp.route("/surprise")
class Surprise(MethodView):
    @login_required
    @what_helps_blp.arguments(SurpriseInSchema(), required=False)  # no body: the most practised routines
    @what_helps_blp.response(200, SurpriseSchema)
    def post(self, body):
        """Surprise me: one of my favourite routines, chosen fairly at random"""
        try:
            return what_helps.pick_surprise(current_user(), body.get("favourites"), secrets.SystemRandom())
        except what_helps.InvalidFavourites as exc:
            abort(422, message="Some fields are not valid.", messages=exc.errors)


# --- care resources ---------------------------------------------------------------------------

def _country(value: str) -> None:
    if care.normalise_country(value) is None:
        raise ValidationError("Use a two-letter country code, e.g. DE or GB.")


class CareQuerySchema(Schema):
    country = fields.String(
        validate=[validate.Length(2, 2), _country],
        metadata={
            "description": "ISO 3166-1 alpha-2 (UK is read as GB). Absent: the country of the user's time zone.",
            "pattern": "^[A-Za-z]{2}$",
            "example": "DE",
        },
    )


class CareLineSchema(Schema):
    name = fields.String()
    description = fields.String()
    phone = fields.String()
    sms = fields.String()
    url = fields.String()
    hours = fields.String()


class CareWordsSchema(Schema):
    title = fields.String()
    body = fields.String()
    not_treatment = fields.String()
    emergency = fields.String()


class CareResourcesSchema(Schema):
    country = fields.String(allow_none=True)
    country_guessed = fields.Boolean(metadata={"description": "true when taken from the time zone: let the person change it."})
    emergency = fields.String(allow_none=True, metadata={"description": "The local emergency number, when known."})
    lines = fields.List(fields.Nested(CareLineSchema), metadata={"description": "Lines for this country (may be empty)."})
    international = fields.List(
        fields.Nested(CareLineSchema), metadata={"description": "Always at least one: an international directory."}
    )
    words = fields.Nested(CareWordsSchema)


@care_blp.route("/resources")
class CareResources(MethodView):
    @login_required
    @care_blp.arguments(CareQuerySchema(), location="query")
    @care_blp.response(200, CareResourcesSchema)
    def get(self, query):
        """Where to find help: supportive words and crisis lines (configurable: COACH_CRISIS_LINES)"""
        country = care.normalise_country(query["country"]) if "country" in query else None
        path = current_app.config.get("COACH_CRISIS_LINES") or os.environ.get("COACH_CRISIS_LINES")
        return care.resources(country, current_user().timezone, path)
