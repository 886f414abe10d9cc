"""The resonance finder: paced steps rated (and measured) to find a person's own breathing rate."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..fields import JSONNumber
from ..models import utcnow
from ..practice import resonance
from .paths import ROW_ID
from .security import current_user, login_required

resonance_blp = Blueprint(
    "resonance", __name__, url_prefix="/api/resonance",
    description="The resonance finder: the breathing rate at which the heart-rate swing is largest.",
)


def _pace(value: float) -> None:
    problem = resonance.bpm_problem(value)
    if problem:
        raise ValidationError(problem)


class ResonanceStepInSchema(Schema):
    bpm = JSONNumber(
        required=True,
        validate=_pace,
        metadata={
            "description": f"Breaths a minute paced in this step, {resonance.MIN_BPM}–{resonance.MAX_BPM} (0.1 steps)",
            "minimum": resonance.MIN_BPM,
            "maximum": resonance.MAX_BPM,
            "example": 5.5,
        },
    )
    calm = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10), metadata={"description": "0 not calm … 10 very calm"})
    comfort = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 10), metadata={"description": "0 strained … 10 easy"}
    )
    rr_ms = fields.List(
        JSONNumber(validate=validate.Range(resonance.MIN_RR_MS, resonance.MAX_RR_MS)),
        validate=validate.Length(2, resonance.MAX_RR_PER_STEP),
        metadata={"description": "RR intervals in ms (250–2000 each, 2–2000 per step) from a heart-rate strap "
                                 "or the phone's camera, in order. Ectopic, missed and extra beats are corrected "
                                 "before any figure. Used for the figures, not stored."},
    )
    source = fields.String(
        validate=validate.OneOf(resonance.SOURCES),
        metadata={"description": "Where rr_ms came from: a chest strap or the phone's camera over a fingertip "
                                 "(default strap). Only with rr_ms."},
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
    source = fields.String(
        allow_none=True, metadata={"description": "strap or camera; null without RR data."}
    )
    beats = fields.Integer(metadata={"description": "RR intervals received (0 without RR data)."})
    corrected_beats = fields.Integer(
        metadata={"description": "Ectopic (premature), missed and extra beats found and corrected before the "
                                 "figures were computed (Lipponen & Tarvainen 2019)."},
    )
    reliable = fields.Boolean(
        allow_none=True,
        metadata={"description": "false when more than 5 % of the beats were corrected: the figures are shown "
                                 "but the step never wins best_bpm; null without RR data."},
    )
    mean_hr_bpm = fields.Float(
        allow_none=True, metadata={"description": "Mean heart rate of the cleaned beats; null without RR data."}
    )


class ResonanceAssessmentSchema(Schema):
    id = fields.Integer()
    steps = fields.List(fields.Nested(ResonanceStepSchema))
    best_bpm = fields.Float(metadata={"description": "Confirm it with PATCH /api/me {resonance_bpm}."})
    basis = fields.String(
        validate=validate.OneOf(["hr_swing", "ratings"]),
        metadata={"description": "hr_swing: the largest swing among the steps that count (every step had RR "
                                 "data; a step counts when reliable and at least one full breath long); "
                                 "ratings: calm + comfort. "
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
            abort(422, message=_("Some fields are not valid."), messages=exc.errors)


@resonance_blp.route(f"/assessments/<{ROW_ID}:assessment_id>")
class ResonanceAssessmentOne(MethodView):
    @login_required
    @resonance_blp.response(200, ResonanceAssessmentSchema)
    @resonance_blp.alt_response(404, schema="Error", description="No such run of this user's.")
    def get(self, assessment_id):
        """One of the user's resonance-finder runs"""
        found = resonance.get_assessment(current_user(), assessment_id)
        if found is None:
            abort(404, message=_("No such resonance-finder run."))
        return found
