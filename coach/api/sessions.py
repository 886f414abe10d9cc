"""Practice sessions: PUT by the client's uuid (idempotent), list newest first, read, delete.

A path id that is not a UUID answers 404, exactly like an unknown one (for every method).
"""
from __future__ import annotations

import re
import uuid
from datetime import timezone

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..models import utcnow
from ..practice import sessions
from .security import current_user, login_required

sessions_blp = Blueprint(
    "sessions", __name__, url_prefix="/api/sessions", description="Practice sessions and their mood ratings."
)


# --- fields -------------------------------------------------------------------------------

class Instant(fields.AwareDateTime):
    """An RFC 3339 instant with an offset; a naive time is refused, never guessed."""

    default_error_messages = {
        "invalid": "Use an RFC 3339 time with an offset, e.g. 2026-11-23T07:30:00Z.",
        "invalid_awareness": "The time needs an offset (Z or +01:00); a time without one is ambiguous.",
        "format": '"{input}" cannot be formatted as a datetime.',
    }

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError) as exc:  # e.g. year 1 with a positive offset
            raise self.make_error("invalid") from exc


class Number(fields.Float):
    """A JSON number (not a string, not a boolean, not NaN)."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _rating(description: str) -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, 10), metadata={"description": description}
    )


MOOD = "0 very bad … 10 very good"
ANXIETY = "0 none … 10 extreme"
ENERGY = "0 exhausted … 10 full of energy"


# --- schemas --------------------------------------------------------------------------------

class PreRatingSchema(Schema):
    mood = fields.Integer(strict=True, required=True, validate=validate.Range(0, 10), metadata={"description": MOOD})
    anxiety = _rating(ANXIETY)
    energy = _rating(ENERGY)

    @pre_load
    def _note_belongs_after(self, data, **kwargs):
        if isinstance(data, dict) and "note" in data:
            raise ValidationError("A note goes with the rating after the session (post), not before.", "note")
        return data


class PostRatingSchema(Schema):
    mood = fields.Integer(strict=True, required=True, validate=validate.Range(0, 10), metadata={"description": MOOD})
    anxiety = _rating(ANXIETY)
    energy = _rating(ENERGY)
    note = fields.String(allow_none=True, validate=validate.Length(max=500), metadata={"description": "At most 500 characters."})


class DetailsSchema(Schema):
    retention_seconds = fields.List(
        Number(validate=validate.Range(0, 900)),
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "One breath hold per power-breathing round, in seconds (0–900; at most 20)."},
    )
    water_temp_c = Number(allow_none=True, validate=validate.Range(-2, 40), metadata={"description": "Water temperature, °C."})
    cold_seconds = Number(allow_none=True, validate=validate.Range(0, 3600), metadata={"description": "Time in the cold, seconds."})


class SessionPutSchema(Schema):
    routine = fields.String(required=True, validate=validate.Length(1, 64), metadata={"example": "resonance"})
    started_at = Instant(required=True, metadata={"example": "2026-11-23T07:30:00Z"})
    ended_at = Instant(
        allow_none=True,
        metadata={"description": "Not before started_at; at most 24 h later; not more than a day in the future."},
    )
    completed_cycles = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 10_000))
    pre = fields.Nested(PreRatingSchema, allow_none=True, metadata={"description": "How the user felt before."})
    post = fields.Nested(PostRatingSchema, allow_none=True, metadata={"description": "How the user felt after."})
    details = fields.Nested(DetailsSchema, allow_none=True, metadata={"description": "What the routine measures."})


class RatingOutSchema(Schema):
    mood = fields.Integer()
    anxiety = fields.Integer(allow_none=True)
    energy = fields.Integer(allow_none=True)


class PostRatingOutSchema(RatingOutSchema):
    note = fields.String(allow_none=True)


class DetailsOutSchema(Schema):
    retention_seconds = fields.List(fields.Float())
    water_temp_c = fields.Float()
    cold_seconds = fields.Float()


class SessionSchema(Schema):
    uuid = fields.UUID()
    routine = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    completed_cycles = fields.Integer(allow_none=True)
    planned_cycles = fields.Integer(allow_none=True, metadata={"description": "The routine's cycles when the session was saved."})
    pre = fields.Nested(RatingOutSchema, allow_none=True)
    post = fields.Nested(PostRatingOutSchema, allow_none=True)
    details = fields.Nested(DetailsOutSchema, allow_none=True)
    duration_seconds = fields.Integer(allow_none=True, metadata={"description": "ended_at − started_at; null without ended_at."})
    partial = fields.Boolean(metadata={"description": "Fewer cycles completed than the routine plans."})
    short = fields.Boolean(
        metadata={"description": "Practised for less than 60 s (ended_at − started_at, or the completed cycles' length "
                                 "when that is less): kept and listed, but counted in no total, streak, insight, "
                                 "recommendation, what-helps or weekly email."}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class Cursor(fields.String):
    """The opaque page cursor: signed so that a tampered one is refused, not misread."""

    default_error_messages = {"invalid": "This cursor is not valid; start again from the first page."}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else sessions.encode_cursor(value, current_app.config["SECRET_KEY"])

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 512:
            raise self.make_error("invalid")
        try:
            return sessions.decode_cursor(text, current_app.config["SECRET_KEY"])
        except ValueError as exc:
            raise self.make_error("invalid") from exc


class ListQuerySchema(Schema):
    start = Instant(data_key="from", metadata={"description": "Sessions that started at or after this instant."})
    end = Instant(data_key="to", metadata={"description": "Sessions that started before this instant."})
    routine = fields.String(validate=validate.Length(1, 64))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = Cursor(metadata={"description": "next_cursor from the previous page."})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ValidationError("`to` must be after `from`.", "to")


class SessionPageSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))
    next_cursor = Cursor(allow_none=True, attribute="next_key", metadata={"description": "null on the last page."})


# --- routes -------------------------------------------------------------------------------

@sessions_blp.route("")
class SessionList(MethodView):
    @login_required
    @sessions_blp.arguments(ListQuerySchema(), location="query")
    @sessions_blp.response(200, SessionPageSchema)
    @sessions_blp.alt_response(422, schema="Error", description="A bad filter, limit (1–100) or cursor.")
    def get(self, query):
        """List sessions, newest first"""
        page = sessions.list_sessions(
            current_user(),
            start=query.get("start"),
            end=query.get("end"),
            routine=query.get("routine"),
            limit=query["limit"],
            after=query.get("cursor"),
        )
        return {"items": [sessions.to_dict(s) for s in page.items], "next_key": page.next_key}


def _session_uuid(text: str) -> uuid.UUID:
    """The path's uuid; anything else is 404. (Werkzeug's uuid converter would fall through
    to the front end's GET-only catch-all and answer 405 to PUT and DELETE.)"""
    if not UUID_TEXT.fullmatch(text):
        abort(404, message=_("No such session."))
    return uuid.UUID(text)


UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


DAY_FULL = (
    "You have saved {cap} new sessions today, the most one day can hold. New ones can be saved "
    "again tomorrow; changes to today's sessions still work."
)

SESSION_ID = {"in": "path", "name": "session_id", "required": True, "schema": {"type": "string", "format": "uuid"},
              "description": "Made by the client (a UUID); anything else answers 404."}


@sessions_blp.route("/<session_id>", parameters=[SESSION_ID])
class SessionItem(MethodView):
    @login_required
    @sessions_blp.arguments(SessionPutSchema())
    @sessions_blp.response(200, SessionSchema, description="An existing session was replaced.")
    @sessions_blp.alt_response(201, schema=SessionSchema, description="The session was created.")
    @sessions_blp.alt_response(403, schema="Error", description="This routine needs safety screening first.")
    @sessions_blp.alt_response(404, schema="Error", description="The path is not a UUID.")
    @sessions_blp.alt_response(422, schema="Error", description="A field is out of range, or the routine is unknown.")
    def put(self, body, session_id):
        """Record a session (create or replace; the same body twice keeps one session)

        At most 100 new sessions per local day (the user's zone): one more answers 429 with
        Retry-After until the user's midnight. Replacing a stored session is never refused.
        """
        try:
            # The day's cap is one of the limits RATELIMIT_ENABLED=false lifts (benchmarks, fuzzing).
            day_cap = sessions.MAX_SESSIONS_PER_DAY if current_app.config["RATELIMIT_ENABLED"] else None
            session, created = sessions.save(current_user(), _session_uuid(session_id), body, utcnow(), day_cap)
        except sessions.InvalidSession as exc:
            abort(422, message=_("Some fields are not valid."), messages=exc.errors)
        except sessions.NotAllowed as exc:
            abort(403, message=exc.reason)
        except sessions.TooManyToday as exc:
            abort(429, message=DAY_FULL.format(cap=exc.cap), headers={"Retry-After": str(exc.retry_after)})
        return sessions.to_dict(session), 201 if created else 200

    @login_required
    @sessions_blp.response(200, SessionSchema)
    @sessions_blp.alt_response(404, schema="Error", description="No such session of yours.")
    def get(self, session_id):
        """One session"""
        session = sessions.get(current_user(), _session_uuid(session_id))
        if session is None:
            abort(404, message=_("No such session."))
        return sessions.to_dict(session)

    @login_required
    @sessions_blp.response(204)
    @sessions_blp.alt_response(404, schema="Error", description="No such session of yours.")
    def delete(self, session_id):
        """Delete a session"""
        if not sessions.remove(current_user(), _session_uuid(session_id)):
            abort(404, message=_("No such session."))
