"""Accounts: register, login, logout, the profile, export and erasure."""
from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..accounts import passwords, profile, tokens
from ..fields import JSONBoolean, JSONNumber
from ..i18n import SUPPORTED as LANGUAGES
from ..i18n import best_language
from ..models import utcnow
from ..timeutil import is_valid_zone, parse_hhmm
from . import input_guard
from .security import current_user, login_required

auth_blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Register, log in and out.")
me_blp = Blueprint("me", __name__, url_prefix="/api/me", description="The signed-in user's profile and data.")


def validate_zone(value: str) -> None:
    if not is_valid_zone(value):
        raise ValidationError("Not a known IANA time zone, e.g. Europe/Berlin.")


# HH:MM as OpenAPI states it (the validator below is the rule; this documents it).
HHMM = {"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}
ZONE = {"description": "An IANA time zone name.", "example": "Europe/Berlin"}


def validate_hhmm(value: str) -> None:
    try:
        parse_hhmm(value)
    except ValueError as exc:
        raise ValidationError(f"Use HH:MM (24-hour), e.g. 07:30: {exc}.") from exc


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=1024))
    timezone = fields.String(required=True, validate=[validate.Length(max=64), validate_zone], metadata=ZONE)


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class DigestSettingsSchema(Schema):
    enabled = JSONBoolean()
    weekday = fields.Integer(strict=True, validate=validate.Range(0, 6), metadata={"description": "0 = Monday … 6 = Sunday"})
    local_time = fields.String(validate=validate_hhmm, metadata={**HHMM, "example": "18:00"})
    send_empty = JSONBoolean(
        metadata={"description": "Send the weekly summary even for a week without sessions (default false)."}
    )


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


LANGUAGE = {"description": "What everything the user reads is written in (api.md, Languages).", "example": "de"}


class MeSchema(UserSchema):
    digest = fields.Nested(DigestSettingsSchema, dump_only=True)
    resonance_bpm = fields.Float(dump_only=True)
    language = fields.String(dump_only=True, metadata={**LANGUAGE, "enum": list(LANGUAGES)})


class MePatchSchema(Schema):
    timezone = fields.String(validate=[validate.Length(max=64), validate_zone], metadata=ZONE)
    digest = fields.Nested(DigestSettingsSchema)
    resonance_bpm = JSONNumber(validate=validate.Range(4.0, 7.5))
    language = fields.String(validate=validate.OneOf(LANGUAGES), metadata=LANGUAGE)


class LoginAnswerSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


class PasswordSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


@auth_blp.route("/register")
class Register(MethodView):
    from ..extensions import limiter

    decorators = [limiter.limit("20 per hour")]  # per address: sign-up spam, email probing

    @auth_blp.doc(security=[])
    @auth_blp.arguments(RegisterSchema())
    @auth_blp.response(201, UserSchema)
    @auth_blp.alt_response(409, schema="Error", description="The email is taken.")
    @auth_blp.alt_response(429, schema="Error", description="Too many sign-ups from this address.")
    def post(self, body):
        """Create an account

        Its `language` is the best match of `Accept-Language` (else `en`); `PATCH /api/me` changes it."""
        try:
            language = best_language(request.headers.get("Accept-Language"))
            return profile.register(body["email"], body["password"], body["timezone"], utcnow(), language)
        except profile.EmailTaken:
            abort(409, message=_("An account with that email already exists."))


def _login_email_key() -> str:
    body = input_guard.json_body()  # the limiter asks before the input guard has run
    email = body.get("email") if isinstance(body, dict) else None
    return f"login-email:{profile.normalise_email(email) if isinstance(email, str) else ''}"


@auth_blp.route("/login")
class Login(MethodView):
    from ..extensions import limiter

    decorators = [
        limiter.limit("10 per minute"),  # per address
        limiter.limit("5 per minute", key_func=_login_email_key),  # per email
    ]

    @auth_blp.doc(security=[])
    @auth_blp.arguments(LoginSchema())
    @auth_blp.response(200, LoginAnswerSchema)
    @auth_blp.alt_response(401, schema="Error", description="Wrong email or password.")
    @auth_blp.alt_response(429, schema="Error", description="Too many attempts.")
    def post(self, body):
        """Log in: returns a bearer token"""
        try:
            return tokens.login(body["email"], body["password"], utcnow(), current_app.config["TOKEN_TTL_DAYS"])
        except passwords.WrongPassword:
            abort(401, message=_("That email and password do not match."))


@auth_blp.route("/logout")
class Logout(MethodView):
    @login_required
    @auth_blp.response(204)
    def post(self):
        """Log out: the token stops working at once"""
        tokens.logout(g.token)


@me_blp.route("")
class Me(MethodView):
    @login_required
    @me_blp.response(200, MeSchema)
    def get(self):
        """The profile"""
        return current_user()

    @login_required
    @me_blp.arguments(MePatchSchema(), required=False)  # no body: nothing changes
    @me_blp.response(200, MeSchema)
    def patch(self, changes):
        """Change time zone, weekly email schedule, resonance rate or language"""
        return profile.update_profile(current_user(), changes, utcnow())

    @login_required
    @me_blp.arguments(PasswordSchema())
    @me_blp.response(204)
    @me_blp.alt_response(403, schema="Error", description="Wrong password.")
    def delete(self, body):
        """Erase the account and everything it owns"""
        try:
            profile.erase(current_user(), body["password"])
        except passwords.WrongPassword:
            abort(403, message=_("That password is not right; nothing was deleted."))
