"""GET /healthz: is the database reachable, when did the scheduler last tick."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .. import health
from ..models import utcnow

health_blp = Blueprint("health", __name__, url_prefix="/healthz", description="Liveness for load balancers.")


class SchedulerStateSchema(Schema):
    on = fields.Boolean(metadata={"description": "Whether this process runs the scheduler (COACH_SCHEDULER)."})
    last_tick_at = fields.DateTime(allow_none=True, metadata={"description": "The last tick of any scheduler process."})
    stale = fields.Boolean(allow_none=True, metadata={"description": "On, and no tick for over 5 minutes."})


class HealthSchema(Schema):
    db = fields.String(metadata={"example": "ok"})
    scheduler = fields.Nested(SchedulerStateSchema)


@health_blp.route("")
class Health(MethodView):
    @health_blp.doc(security=[])
    @health_blp.response(200, HealthSchema)
    @health_blp.alt_response(
        503, schema=HealthSchema, description="The database is unreachable, or the scheduler is on and has not ticked for 5 minutes."
    )
    def get(self):
        """Health of the database and the scheduler"""
        report, healthy = health.check(
            utcnow(), current_app.config["COACH_SCHEDULER"] == "on", current_app.extensions["coach_up_since"]
        )
        return report, (200 if healthy else 503)
