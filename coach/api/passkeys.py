"""Passkeys (WebAuthn): options and answers in the WebAuthn JSON forms, and the user's list."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..accounts import devices, passkeys, tokens
from ..extensions import limiter
from ..models import utcnow
from .accounts import LoginAnswerSchema
from .paths import ROW_ID
from .security import current_user, login_required

passkeys_blp = Blueprint(
    "passkeys",
    __name__,
    url_prefix="/api/auth/passkeys",
    description=(
        "Sign in with a passkey (WebAuthn). Options are the WebAuthn JSON forms "
        "(`PublicKeyCredentialCreationOptionsJSON`, `PublicKeyCredentialRequestOptionsJSON`) and an "
        "answer is the browser's `credential.toJSON()`. The relying party id is the host of the "
        "coach's public URL, and answers from any other origin are refused. Each challenge works "
        f"once, for {int(passkeys.CHALLENGE_TTL.total_seconds() // 60)} minutes: a registration "
        "challenge only for the user who asked for it, a sign-in challenge only for its own "
        "ceremony. A passkey is added next to the password, never in its place, so deleting the "
        f"last one locks nobody out. At most {passkeys.MAX_PASSKEYS} passkeys per account."
    ),
)

ANY = {"type": "object"}


class CreationOptionsSchema(Schema):
    """PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3)."""

    rp = fields.Dict(metadata={"example": {"id": "coach.example", "name": passkeys.RP_NAME}})
    user = fields.Dict(metadata={"description": "`{id, name, displayName}`; `id` is a random handle, base64url."})
    challenge = fields.String(metadata={"description": "base64url"})
    pubKeyCredParams = fields.List(fields.Dict())
    timeout = fields.Integer(metadata={"description": "milliseconds"})
    excludeCredentials = fields.List(fields.Dict(), metadata={"description": "The user's passkeys already registered."})
    authenticatorSelection = fields.Dict(
        metadata={"example": {"residentKey": "required", "requireResidentKey": True, "userVerification": "preferred"}}
    )
    attestation = fields.String(metadata={"example": "none"})


class RequestOptionsSchema(Schema):
    """PublicKeyCredentialRequestOptionsJSON: no allowCredentials (discoverable credentials)."""

    challenge = fields.String(metadata={"description": "base64url"})
    timeout = fields.Integer(metadata={"description": "milliseconds"})
    rpId = fields.String()
    allowCredentials = fields.List(fields.Dict())
    userVerification = fields.String(metadata={"example": "preferred"})


class WebAuthnCredentialSchema(Schema):
    """A `PublicKeyCredential.toJSON()`: RegistrationResponseJSON or AuthenticationResponseJSON."""

    class Meta:
        unknown = EXCLUDE  # members a newer browser adds are not ours to refuse

    id = fields.String(required=True, validate=validate.Length(max=1400))
    rawId = fields.String(required=True, validate=validate.Length(max=1400))
    type = fields.String(required=True, validate=validate.Equal("public-key"))
    response = fields.Dict(
        required=True,
        metadata={"description": "`{clientDataJSON, attestationObject, transports?}` to register; "
                                 "`{clientDataJSON, authenticatorData, signature, userHandle?}` to sign in (base64url)."},
    )
    authenticatorAttachment = fields.String(allow_none=True)
    clientExtensionResults = fields.Dict()


class PasskeyRegisterSchema(Schema):
    credential = fields.Nested(WebAuthnCredentialSchema, required=True)
    name = fields.String(
        validate=validate.Length(max=passkeys.NAME_MAX),
        metadata={"description": "What to call it, e.g. “Phone”; default “Passkey N”."},
    )


class PasskeyLoginSchema(Schema):
    credential = fields.Nested(WebAuthnCredentialSchema, required=True)


class NoBodySchema(Schema):
    pass


class PasskeySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True, metadata={"description": "null until first used to sign in"})


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("A name needs at least one letter or number.")


class PasskeyRenameSchema(Schema):
    # `pattern` as OpenAPI states it (a search: some character that is not space).
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=passkeys.NAME_MAX), not_blank], metadata={"pattern": r"\S"}
    )


def _public_url() -> str:
    return current_app.config["COACH_PUBLIC_URL"]


@passkeys_blp.route("/register/options")
class RegisterOptions(MethodView):
    @login_required
    @passkeys_blp.response(200, CreationOptionsSchema)
    def post(self):
        """Creation options for a new passkey of the signed-in user"""
        return passkeys.registration_options(current_user(), _public_url(), utcnow())


@passkeys_blp.route("/register")
class Register(MethodView):
    @login_required
    @passkeys_blp.arguments(PasskeyRegisterSchema())
    @passkeys_blp.response(201, PasskeySchema)
    @passkeys_blp.alt_response(400, schema="Error", description="The challenge is unknown, used, expired or another's, or the credential does not verify.")
    @passkeys_blp.alt_response(409, schema="Error", description="That passkey is already registered, or the account has the most it may keep.")
    def post(self, body):
        """Keep a new passkey (the browser's answer to the creation options)"""
        try:
            return passkeys.register(current_user(), body["credential"], body.get("name"), _public_url(), utcnow())
        except passkeys.ChallengeRefused:
            abort(400, message=_("That passkey request has expired or was already used. Please try again."))
        except passkeys.RegistrationRefused:
            abort(400, message=_("That passkey could not be checked, so it was not added."))
        except passkeys.PasskeyTaken:
            abort(409, message=_("That passkey is already added."))
        except passkeys.TooManyPasskeys:
            abort(409, message=_("An account keeps at most %(n)s passkeys. Delete one first.", n=passkeys.MAX_PASSKEYS))


@passkeys_blp.route("")
class PasskeyList(MethodView):
    @login_required
    @passkeys_blp.response(200, PasskeySchema(many=True))
    def get(self):
        """The signed-in user's passkeys, oldest first"""
        return passkeys.list_passkeys(current_user())


@passkeys_blp.route(f"/<{ROW_ID}:passkey_id>")
class PasskeyItem(MethodView):
    @login_required
    @passkeys_blp.arguments(PasskeyRenameSchema())
    @passkeys_blp.response(200, PasskeySchema)
    @passkeys_blp.alt_response(404, schema="Error", description="No such passkey of yours.")
    def patch(self, body, passkey_id):
        """Rename a passkey"""
        try:
            return passkeys.rename(current_user(), passkey_id, body["name"])
        except passkeys.NotFound:
            abort(404, message=_("No such passkey."))

    @login_required
    @passkeys_blp.response(204)
    @passkeys_blp.alt_response(404, schema="Error", description="No such passkey of yours.")
    def delete(self, passkey_id):
        """Delete a passkey; the password and signed-in devices are untouched"""
        try:
            passkeys.delete_passkey(current_user(), passkey_id)
        except passkeys.NotFound:
            abort(404, message=_("No such passkey."))


@passkeys_blp.route("/login/options")
class LoginOptions(MethodView):
    decorators = [limiter.limit("30 per minute")]  # per address: each one stores a challenge

    @passkeys_blp.doc(security=[])
    @passkeys_blp.arguments(NoBodySchema(), required=False)
    @passkeys_blp.response(200, RequestOptionsSchema)
    @passkeys_blp.alt_response(429, schema="Error", description="Too many requests from this address.")
    def post(self, _body):
        """Request options to sign in with any passkey on the device (no email needed)"""
        return passkeys.authentication_options(_public_url(), utcnow())


@passkeys_blp.route("/login")
class Login(MethodView):
    decorators = [limiter.limit("10 per minute")]  # per address, as password login

    @passkeys_blp.doc(security=[])
    @passkeys_blp.arguments(PasskeyLoginSchema())
    @passkeys_blp.response(200, LoginAnswerSchema)
    @passkeys_blp.alt_response(401, schema="Error", description="The passkey did not sign in: unknown, replayed, from another origin, a lowered sign counter, or an unknown, used or expired challenge.")
    @passkeys_blp.alt_response(409, schema="Error", description=f"Signed in on {tokens.MAX_DEVICES} devices already.")
    @passkeys_blp.alt_response(429, schema="Error", description="Too many attempts.")
    def post(self, body):
        """Sign in with a passkey: returns a bearer token like password login"""
        try:
            return passkeys.sign_in(
                body["credential"], _public_url(), utcnow(), current_app.config["TOKEN_TTL_DAYS"],
                devices.device_label(request.headers.get("User-Agent", "")),
            )
        except passkeys.SignInRefused:
            abort(401, message=_("That passkey did not sign you in. Please try again, or use your password."))
        except tokens.TooManyDevices:
            abort(409, message=_("This account is signed in on %(count)s devices already. Sign one out in "
                                 "Settings on another device, or reset your password to sign out everywhere.",
                                 count=tokens.MAX_DEVICES))
