"""Screening: the health questions that keep risky routines away from people they could harm."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..fields import JSONBoolean
from ..i18n.selection import request_language
from ..models import utcnow
from ..routines import screening
from .security import current_user, login_required

screening_blp = Blueprint(
    "screening", __name__, url_prefix="/api/me/screening",
    description="Health questions that keep risky routines away from people they could harm.",
)


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
        return screening.status(current_user(), request_language())

    @login_required
    @screening_blp.arguments(ScreeningPutSchema())
    @screening_blp.response(200, ScreeningSchema)
    def put(self, body):
        """Answer every screening question (replaces earlier answers)"""
        return screening.save_answers(current_user(), body["answers"], utcnow(), request_language())
