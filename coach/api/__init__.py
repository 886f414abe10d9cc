"""The HTTP API: flask-smorest blueprints, each translating HTTP into one service call."""
from __future__ import annotations

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from . import openapi_rules
    from .accounts import auth_blp, me_blp
    from .health import health_blp

    openapi_rules.install(api)

    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A token from POST /api/auth/login"}
    )
    for blp in (auth_blp, me_blp, health_blp):
        api.register_blueprint(blp)

    from .routines import routines_blp

    api.register_blueprint(routines_blp)

    from .export import export_blp
    from .insights import insights_blp
    from .sessions import sessions_blp

    for blp in (sessions_blp, insights_blp, export_blp):
        api.register_blueprint(blp)

    from .digest import digest_blp

    api.register_blueprint(digest_blp)

    from .push import push_blp
    from .reminders import reminders_blp

    for blp in (push_blp, reminders_blp):
        api.register_blueprint(blp)

    from .care import care_blp
    from .resonance import resonance_blp
    from .screening import screening_blp
    from .what_helps import what_helps_blp

    for blp in (screening_blp, resonance_blp, what_helps_blp, care_blp):
        api.register_blueprint(blp)

    from .plans import plans_blp

    api.register_blueprint(plans_blp)
