"""GET /api/me/export: the user's data as a download (JSON, or the sessions as CSV)."""
from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..accounts import export
from ..models import utcnow
from . import limits
from .security import current_user, login_required

export_blp = Blueprint("me_export", __name__, url_prefix="/api/me", description="Download your data.")

DISPOSITION = {
    "description": "attachment; filename=\"coach-export-YYYY-MM-DD.json\" (or .csv)",
    "schema": {"type": "string"},
}
OK = {
    "200": {
        "description": "A download. `json`: everything the account owns (profile, custom routines, sessions "
        "with ratings, reminders and their deliveries, push subscriptions without their keys, weekly "
        "email deliveries). `csv`: one row per session with its ratings (UTF-8 with a byte order mark "
        "so spreadsheets read it correctly; header row with units and scale labels; text cells that "
        "would start a formula are prefixed with an apostrophe).",
        "headers": {"Content-Disposition": DISPOSITION},
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


class ExportQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(export.FORMATS))


@export_blp.route("/export")
class Export(MethodView):
    decorators = [limits.EXPORT_READS]  # per account

    @login_required
    @export_blp.alt_response(429, response="RateLimited")
    @export_blp.arguments(ExportQuerySchema(), location="query")
    @export_blp.doc(responses=OK)
    @export_blp.alt_response(422, schema="Error", description="format is neither json nor csv.")
    def get(self, query):
        """Download everything you own (?format=json, or csv for the sessions)"""
        file = export.download(current_user(), query["format"], utcnow())
        # Streamed inside the request's context, so the database session lives until the last row is sent.
        return Response(
            stream_with_context(file.body),
            content_type=file.media_type,
            headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
        )
