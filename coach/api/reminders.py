"""Reminders: when to be reminded, of which routine; each answer shows `next_fire_at`."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from .. import reminders
from ..fields import JSONBoolean
from ..models import utcnow
from .accounts import HHMM, validate_hhmm
from .paths import ROW_ID
from .security import current_user, login_required

reminders_blp = Blueprint(
    "reminders",
    __name__,
    url_prefix="/api/reminders",
    description=(
        "Weekly reminders sent by Web Push, planned in the user's time zone. A local time "
        "that does not exist on a day (spring forward) fires at the first minute after the "
        "gap; one that occurs twice (fall back) fires once, at the first. At most "
        f"{reminders.MAX_REMINDERS} reminders per user (more: 409). A reminder is not sent "
        "if the user practised in the two hours before it, nor when it is over an hour late."
    ),
)


def validate_weekdays(value: list[int]) -> None:
    if len(set(value)) != len(value):
        raise ValidationError("Each weekday only once.")


class ReminderSchema(Schema):
    id = fields.Integer(dump_only=True)
    local_time = fields.String(required=True, validate=validate_hhmm, metadata={**HHMM, "example": "07:30"})
    weekdays = fields.List(
        fields.Integer(validate=validate.Range(0, 6), strict=True),
        required=True,
        validate=[validate.Length(min=1, max=7), validate_weekdays],
        metadata={"description": "0 = Monday … 6 = Sunday", "example": [0, 1, 2, 3, 4], "uniqueItems": True},
    )
    routine = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=64), metadata={"example": "resonance"}
    )
    enabled = JSONBoolean(load_default=True)
    next_fire_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "The UTC instant it will be sent; null while off."}
    )
    created_at = fields.DateTime(dump_only=True)


class ReminderPatchSchema(Schema):
    local_time = fields.String(validate=validate_hhmm, metadata=HHMM)
    weekdays = fields.List(
        fields.Integer(validate=validate.Range(0, 6), strict=True),
        validate=[validate.Length(min=1, max=7), validate_weekdays],
        metadata={"uniqueItems": True},
    )
    routine = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    enabled = JSONBoolean()


class SnoozeSchema(Schema):
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(*reminders.SNOOZE_MINUTES))


def _unknown_routine(slug: str):
    abort(422, message=_("There is no routine with that name."), messages={"routine": [f"Unknown routine {slug!r}."]})


def _own(reminder_id: int):
    reminder = reminders.get_reminder(current_user(), reminder_id)
    if reminder is None:
        abort(404, message=_("There is no such reminder."))
    return reminder


@reminders_blp.route("")
class Reminders(MethodView):
    @login_required
    @reminders_blp.response(200, ReminderSchema(many=True))
    def get(self):
        """The user's reminders"""
        return reminders.list_reminders(current_user())

    @login_required
    @reminders_blp.arguments(ReminderSchema())
    @reminders_blp.response(201, ReminderSchema)
    @reminders_blp.alt_response(409, schema="Error", description=f"Already {reminders.MAX_REMINDERS} reminders.")
    @reminders_blp.alt_response(422, schema="Error", description="Invalid fields or an unknown routine.")
    def post(self, body):
        """Create a reminder"""
        try:
            return reminders.create_reminder(current_user(), body, utcnow())
        except reminders.UnknownRoutine as exc:
            _unknown_routine(str(exc))
        except reminders.TooManyReminders:
            abort(409, message=_("You already have %(n)s reminders; remove one to add another.", n=reminders.MAX_REMINDERS))


@reminders_blp.route(f"/<{ROW_ID}:reminder_id>")
class ReminderById(MethodView):
    @login_required
    @reminders_blp.response(200, ReminderSchema)
    @reminders_blp.alt_response(404, schema="Error", description="No such reminder (or someone else's).")
    def get(self, reminder_id):
        """One reminder"""
        return _own(reminder_id)

    @login_required
    @reminders_blp.arguments(ReminderPatchSchema(), required=False)  # no body: nothing changes
    @reminders_blp.response(200, ReminderSchema)
    @reminders_blp.alt_response(404, schema="Error", description="No such reminder (or someone else's).")
    @reminders_blp.alt_response(422, schema="Error", description="Invalid fields or an unknown routine.")
    def patch(self, changes, reminder_id):
        """Change a reminder (a new time, weekdays or on/off re-plans it)"""
        reminder = _own(reminder_id)
        try:
            return reminders.update_reminder(current_user(), reminder, changes, utcnow())
        except reminders.UnknownRoutine as exc:
            _unknown_routine(str(exc))

    @login_required
    @reminders_blp.response(204)
    @reminders_blp.alt_response(404, schema="Error", description="No such reminder (or someone else's).")
    def delete(self, reminder_id):
        """Delete a reminder"""
        reminders.delete_reminder(_own(reminder_id))


@reminders_blp.route(f"/<{ROW_ID}:reminder_id>/snooze")
class Snooze(MethodView):
    @login_required
    @reminders_blp.arguments(SnoozeSchema())
    @reminders_blp.response(200, ReminderSchema)
    @reminders_blp.alt_response(404, schema="Error", description="No such reminder (or someone else's).")
    @reminders_blp.alt_response(409, schema="Error", description="The reminder is off.")
    def post(self, body, reminder_id):
        """Remind again in 1–240 minutes; then the weekly plan goes on"""
        reminder = _own(reminder_id)
        try:
            return reminders.snooze(current_user(), reminder, body["minutes"], utcnow())
        except reminders.ReminderOff:
            abort(409, message=_("This reminder is off; turn it on to snooze it."))
