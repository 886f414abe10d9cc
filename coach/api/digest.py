"""GET /api/digest/preview: the weekly summary as the email would show it (HTML)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ..digest.preview import preview_html
from ..models import utcnow
from .security import current_user, login_required

digest_blp = Blueprint(
    "digest", __name__, url_prefix="/api/digest", description="The weekly summary email, previewed."
)

# The preview is the email's own HTML: inline styles, nothing to load, no script, no forms.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"


@digest_blp.route("/preview")
class Preview(MethodView):
    @login_required
    @digest_blp.response(
        200,
        {"type": "string"},
        content_type="text/html",
        description="This week so far (local Monday to now) against last week, as the email's HTML.",
    )
    def get(self):
        """This week's summary, as the email would show it"""
        response = Response(preview_html(current_user(), utcnow()), mimetype="text/html")
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        response.headers["Cache-Control"] = "no-store"
        return response
