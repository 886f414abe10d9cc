"""Routines: the built-in catalogue and the user's own (custom) routines."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ..i18n.selection import request_language
from ..models import utcnow
from ..routines import service
from ..routines.schema import ACTIONS, KINDS, RoutineSchema, RoutineUpdateSchema
from .security import current_user, login_required

routines_blp = Blueprint(
    "routines",
    __name__,
    url_prefix="/api/routines",
    description=(
        "A routine is data: a named, ordered list of phases, repeated `cycles` times. Built-ins are "
        f"read-only; each user may keep up to {service.MAX_CUSTOM_ROUTINES} routines of their own. The standard safety cautions "
        "(breath holds, cold water) are added by the server to every routine that needs them."
    ),
)


class KindQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "Only routines of this kind"})


class PhaseOutSchema(Schema):
    action = fields.String(metadata={"enum": list(ACTIONS)})
    seconds = fields.Float(metadata={"description": "0.5–600 s in 0.1 s steps"})
    cue = fields.String()
    open_ended = fields.Boolean(
        metadata={"description": "The person ends this hold (a tap); `seconds` is its nominal length."}
    )


class RoutineOutSchema(Schema):
    slug = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    goal = fields.String()
    summary = fields.String()
    evidence = fields.String(metadata={"description": "What was measured, on whom, with a citation (empty for a custom routine unless its owner wrote some)"})
    cautions = fields.List(fields.String(), metadata={"description": "The standard safety cautions first, then the routine's own"})
    phases = fields.List(fields.Nested(PhaseOutSchema))
    cycles = fields.Integer()
    total_seconds = fields.Float(metadata={"description": "Sum of the phases × cycles (nominal for open-ended holds)"})
    builtin = fields.Boolean()
    requires_screening = fields.Boolean(
        metadata={"description": "A session with it is refused until the safety screening clears it"}
    )


@routines_blp.route("")
class Routines(MethodView):
    @login_required
    @routines_blp.arguments(KindQuerySchema(), location="query")
    @routines_blp.response(200, RoutineOutSchema(many=True))
    def get(self, query):
        """Built-in routines, then the user's own; `resonance` is planned at the user's resonance rate"""
        return service.list_routines(current_user(), query.get("kind"), request_language())

    @login_required
    @routines_blp.arguments(RoutineSchema())
    @routines_blp.response(201, RoutineOutSchema)
    @routines_blp.alt_response(
        409, schema="Error", description=f"The slug is a built-in's or already one of yours, or you have {service.MAX_CUSTOM_ROUTINES} routines."
    )
    def post(self, body):
        """Create a custom routine (1–40 phases of 0.5–600 s, at most 60 minutes in all)"""
        try:
            return service.create_custom(current_user(), body, utcnow(), request_language())
        except service.SlugTaken:
            abort(409, message=_("There is already a routine called '%(slug)s'; choose another slug.", slug=body["slug"]))
        except service.TooManyRoutines as exc:
            abort(409, message=_("You have %(n)s routines of your own, the most there can be; delete one first.", n=exc.args[0]))


@routines_blp.route("/<string:slug>")
class RoutineBySlug(MethodView):
    @login_required
    @routines_blp.response(200, RoutineOutSchema)
    @routines_blp.alt_response(404, schema="Error", description="No such routine (or someone else's).")
    def get(self, slug):
        """One routine; `resonance` is planned at the user's resonance rate"""
        routine = service.get_routine(current_user(), slug, request_language())
        if routine is None:
            abort(404, message=_("There is no routine with that name."))
        return routine

    @login_required
    @routines_blp.arguments(RoutineUpdateSchema())
    @routines_blp.response(200, RoutineOutSchema)
    @routines_blp.alt_response(403, schema="Error", description="Built-in routines are read-only.")
    @routines_blp.alt_response(404, schema="Error", description="No such routine of yours.")
    def put(self, body, slug):
        """Replace one of your own routines (the body is a whole routine; `slug` may be left out)"""
        try:
            return service.update_custom(current_user(), slug, body, utcnow(), request_language())
        except service.BuiltinReadOnly:
            abort(403, message=_("Built-in routines cannot be changed; make a copy under a new slug instead."))
        except service.NotFound:
            abort(404, message=_("There is no routine of yours with that name."))
        except service.SlugMismatch:
            abort(
                422,
                message=_("A routine cannot be renamed."),
                messages={"slug": ["Must match the routine's slug in the URL; to rename, create a new routine."]},
            )

    @login_required
    @routines_blp.response(204)
    @routines_blp.alt_response(403, schema="Error", description="Built-in routines cannot be deleted.")
    @routines_blp.alt_response(404, schema="Error", description="No such routine of yours.")
    def delete(self, slug):
        """Delete one of your own routines"""
        try:
            service.delete_custom(current_user(), slug)
        except service.BuiltinReadOnly:
            abort(403, message=_("Built-in routines cannot be deleted."))
        except service.NotFound:
            abort(404, message=_("There is no routine of yours with that name."))
