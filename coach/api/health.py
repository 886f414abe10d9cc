"""GET /healthz: is the database reachable, when did the scheduler last tick."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .. import health

health_blp = Blueprint("health", __name__, url_prefix="/healthz", description="Liveness for load balancers.")


class SchedulerStateSchema(Schema):
    last_tick_at = fields.DateTime(allow_none=True)


class HealthSchema(Schema):
    db = fields.String(metadata={"example": "ok"})
    scheduler = fields.Nested(SchedulerStateSchema)


@health_blp.route("")
class Health(MethodView):
    @health_blp.doc(security=[])
    @health_blp.response(200, HealthSchema)
    @health_blp.alt_response(503, schema=HealthSchema, description="The database is unreachable.")
    def get(self):
        """Health of the database and the scheduler"""
        report = health.check()
        return report, (200 if report["db"] == "ok" else 503)
