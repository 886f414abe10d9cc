"""Where to find help: crisis lines by country."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from .. import crisis_lines as care
from ..i18n.selection import request_language
from .security import current_user, login_required

care_blp = Blueprint(
    "care", __name__, url_prefix="/api/care", description="Where to find help: crisis lines by country."
)


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
        return care.resources(
            country, current_user().timezone, current_app.config["COACH_CRISIS_LINES"], request_language()
        )
