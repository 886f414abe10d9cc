"""The HTTP API: flask-smorest blueprints, each translating HTTP into one service call."""
from __future__ import annotations

from flask_smorest import Api

from . import openapi_rules
from .accounts import auth_blp, me_blp
from .care import care_blp
from .digest import digest_blp
from .export import export_blp
from .health import health_blp
from .insights import insights_blp
from .passkeys import passkeys_blp
from .plans import plans_blp
from .push import push_blp
from .reminders import reminders_blp
from .resonance import resonance_blp
from .routines import routines_blp
from .screening import screening_blp
from .sessions import sessions_blp
from .what_helps import what_helps_blp

# In the order the OpenAPI document lists them.
BLUEPRINTS = (
    auth_blp,
    passkeys_blp,
    me_blp,
    health_blp,
    routines_blp,
    sessions_blp,
    insights_blp,
    export_blp,
    digest_blp,
    push_blp,
    reminders_blp,
    screening_blp,
    resonance_blp,
    what_helps_blp,
    care_blp,
    plans_blp,
)


def register_blueprints(api: Api) -> None:
    openapi_rules.install(api)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A token from POST /api/auth/login"}
    )
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
