"""Accounts: register, confirm, log in and out, devices, password reset and change, the profile, erasure."""
from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..accounts import addresses, confirmation, devices, links, passwords, profile, reset, tokens
from ..fields import JSONBoolean, JSONNumber
from ..i18n import SUPPORTED as LANGUAGES
from ..i18n import N_, best_language
from ..models import utcnow
from ..timeutil import is_valid_zone, parse_hhmm
from . import limits
from .paths import ROW_ID
from .security import current_token_id, current_user, login_required

auth_blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Register, confirm the address, log in and out, devices, password reset.")
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


def validate_address(value: str) -> None:
    try:
        addresses.checked_address(value)
    except addresses.BadAddress as exc:
        raise ValidationError(str(exc)) from exc


EMAIL = {"format": "email", "maxLength": addresses.MAX_LENGTH}


class RegisterSchema(Schema):
    email = fields.String(required=True, validate=validate_address, metadata=EMAIL)
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
    email_confirmed = fields.Boolean(dump_only=True, metadata={"description": "No email but the confirmation goes to an unconfirmed address."})
    pending_email = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "An address asked for with PATCH /api/me, waiting for its confirmation link (null when none)."})
    language = fields.String(dump_only=True, metadata={**LANGUAGE, "enum": list(LANGUAGES)})


class MePatchSchema(Schema):
    email = fields.String(validate=validate_address, metadata={**EMAIL, "description": (
        "A new address: it takes effect when the link sent to it is used; the old (confirmed) address is told. "
        "The current address again cancels a pending change.")})
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


NEW_PASSWORD = validate.Length(min=10, max=1024)
LINK_TOKEN = {"description": "The token from the link in the email."}


class LogoutSchema(Schema):
    push_endpoint = fields.String(validate=validate.Length(max=2048), metadata={
        "description": "This browser's push endpoint: its subscription is deleted with the token."})


class LinkTokenSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=links.MAX_TOKEN), metadata=LINK_TOKEN)


class ResetRequestSchema(Schema):
    email = fields.String(required=True, validate=validate_address, metadata=EMAIL)


class ResetSchema(LinkTokenSchema):
    password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)


class AcceptedSchema(Schema):
    message = fields.String()


class DeviceSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(metadata={"description": "Kept to the minute."})
    label = fields.String(metadata={"example": "Chrome on Android"})
    current = fields.Boolean(metadata={"description": "The device this request came from."})


BAD_LINK = N_("This link does not work any more: it was used, replaced by a newer one, or has expired. Please ask for a new one.")
RESET_SENT = "If an account with a confirmed address uses that email, a link to choose a new password is on its way."


@auth_blp.route("/register")
class Register(MethodView):
    decorators = limits.SIGNUP_LIMITS  # per address, per email, and for everyone together

    @auth_blp.doc(security=[])
    @auth_blp.arguments(RegisterSchema())
    @auth_blp.response(201, UserSchema)
    @auth_blp.alt_response(409, schema="Error", description="The email is taken.")
    @auth_blp.alt_response(429, schema="Error", description="Too many sign-ups from this address or for this email, "
                           "or from everyone together; wait as long as Retry-After says.")
    def post(self, body):
        """Create an account; a confirmation email goes to the address

        Its `language` is the best match of `Accept-Language` (else `en`); `PATCH /api/me` changes it."""
        language = best_language(request.headers.get("Accept-Language"))
        try:
            return profile.register(body["email"], body["password"], body["timezone"], utcnow(), language)
        except profile.EmailTaken:
            abort(409, message=_("An account with that email already exists."))


@auth_blp.route("/login")
class Login(MethodView):
    decorators = limits.LOGIN_LIMITS  # per address, failed ones per email, and for everyone together

    @auth_blp.doc(security=[])
    @auth_blp.arguments(LoginSchema())
    @auth_blp.response(200, LoginAnswerSchema)
    @auth_blp.alt_response(401, schema="Error", description="Wrong email or password.")
    @auth_blp.alt_response(409, schema="Error", description=f"Signed in on {tokens.MAX_DEVICES} devices already.")
    @auth_blp.alt_response(429, schema="Error", description="Too many attempts from this address, failed ones "
                           "for this email, or from everyone together; wait as long as Retry-After says.")
    def post(self, body):
        """Log in: returns a bearer token"""
        label = devices.device_label(request.headers.get("User-Agent", ""))
        try:
            return tokens.login(body["email"], body["password"], utcnow(), current_app.config["TOKEN_TTL_DAYS"], label)
        except passwords.WrongPassword:
            abort(401, message=_("That email and password do not match."))
        except tokens.TooManyDevices:
            abort(409, message=_("This account is signed in on %(count)s devices already. Sign one out in "
                                 "Settings on another device, or reset your password to sign out everywhere.",
                                 count=tokens.MAX_DEVICES))


@auth_blp.route("/logout")
class Logout(MethodView):
    @login_required
    @auth_blp.arguments(LogoutSchema(), required=False)
    @auth_blp.response(204)
    def post(self, body):
        """Log out: the token stops working at once; this browser's push subscription goes too"""
        tokens.logout(g.token, (body or {}).get("push_endpoint"))


@auth_blp.route("/logout-everywhere")
class LogoutEverywhere(MethodView):
    @login_required
    @auth_blp.response(204)
    def post(self):
        """Sign out every device (this one too); every push subscription goes"""
        devices.sign_out_everywhere(current_user())


@auth_blp.route("/tokens")
class Devices(MethodView):
    @login_required
    @auth_blp.response(200, DeviceSchema(many=True))
    def get(self):
        """The signed-in devices, most recently used first"""
        return devices.listed(current_user(), current_token_id(), utcnow())


@auth_blp.route(f"/tokens/<{ROW_ID}:token_id>")
class Device(MethodView):
    @login_required
    @auth_blp.response(204)
    @auth_blp.alt_response(404, schema="Error", description="No such device on this account.")
    def delete(self, token_id):
        """Sign one device out; its push subscriptions go with it"""
        if not devices.sign_out(current_user(), token_id):
            abort(404, message=_("No such device."))


@auth_blp.route("/confirm")
class Confirm(MethodView):
    from ..extensions import limiter

    decorators = [limiter.limit("30 per hour")]  # per address: links are not guessed

    @auth_blp.doc(security=[])
    @auth_blp.arguments(LinkTokenSchema())
    @auth_blp.response(200, MeSchema)
    @auth_blp.alt_response(400, schema="Error", description="A bad, used, replaced or expired link.")
    @auth_blp.alt_response(409, schema="Error", description="Another account took the new address meanwhile.")
    def post(self, body):
        """Confirm an email address with the token from its link"""
        try:
            return confirmation.confirm(current_app.config["SECRET_KEY"], body["token"], utcnow())
        except links.BadLink:
            abort(400, message=BAD_LINK)
        except confirmation.AddressTaken:
            abort(409, message=_("Another account uses that address now; yours stays as it was."))


@auth_blp.route("/confirm/resend")
class ConfirmResend(MethodView):
    from ..extensions import limiter

    decorators = [limiter.limit("5 per hour")]

    @login_required
    @auth_blp.response(202, AcceptedSchema)
    def post(self):
        """Send the confirmation email again (for the pending address while a change waits)"""
        confirmation.resend(current_user(), utcnow())
        return {"message": "A confirmation link is on its way."}


@auth_blp.route("/password-reset")
class PasswordReset(MethodView):
    from ..extensions import limiter

    decorators = [limiter.limit("10 per hour")]  # per address

    @auth_blp.doc(security=[])
    @auth_blp.arguments(ResetRequestSchema())
    @auth_blp.response(202, AcceptedSchema)
    @auth_blp.alt_response(429, schema="Error", description="Too many requests.")
    def post(self, body):
        """Ask for a password reset link: the same answer whether or not the address has an account"""
        reset.request_link(body["email"], utcnow())
        return {"message": RESET_SENT}


@auth_blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    from ..extensions import limiter

    decorators = [limiter.limit("30 per hour")]

    @auth_blp.doc(security=[])
    @auth_blp.arguments(ResetSchema())
    @auth_blp.response(204)
    @auth_blp.alt_response(400, schema="Error", description="A bad, used, replaced or expired link.")
    def post(self, body):
        """Set a new password with the token from a reset link; every device is signed out"""
        try:
            reset.reset(current_app.config["SECRET_KEY"], body["token"], body["password"], utcnow())
        except links.BadLink:
            abort(400, message=BAD_LINK)


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
    @me_blp.alt_response(409, schema="Error", description="Another account uses that email.")
    def patch(self, changes):
        """Change time zone, weekly email schedule, resonance rate, language or email address"""
        try:
            return profile.update_profile(current_user(), changes, utcnow())
        except profile.EmailTaken:
            abort(409, message=_("An account with that email already exists."))

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


@me_blp.route("/password")
class MyPassword(MethodView):
    @login_required
    @me_blp.arguments(PasswordChangeSchema())
    @me_blp.response(204)
    @me_blp.alt_response(403, schema="Error", description="The current password is not right.")
    def put(self, body):
        """Change the password; every other device is signed out"""
        try:
            reset.change(current_user(), body["current_password"], body["new_password"], current_token_id())
        except passwords.WrongPassword:
            abort(403, message=_("That current password is not right; nothing was changed."))
