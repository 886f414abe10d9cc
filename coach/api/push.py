"""Web Push: the application server key and the browser's subscriptions."""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..fields import JSONNumber
from ..models import utcnow
from ..push import subscriptions, vapid
from ..push.guard import MAX_ENDPOINT_LENGTH, EndpointRefused
from .security import current_token_id, current_user, login_required

push_blp = Blueprint(
    "push",
    __name__,
    url_prefix="/api/push",
    description=(
        "Web Push subscriptions. A subscription's endpoint must be an https URL of a public "
        "host. Subscribing an endpoint that is already stored updates its keys; if it was "
        "stored under another account it moves to the signed-in one (the device changed "
        "hands, so the other account's reminders stop going there). A user keeps at most "
        f"{subscriptions.MAX_SUBSCRIPTIONS} devices: a new one beyond that replaces the one "
        "subscribed longest ago."
    ),
)

_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
MAX_EXPIRATION_MS = 253402300799000  # 9999-12-31


def _b64url_bytes(value: str, expected: int, what: str) -> bytes:
    if not _B64URL.match(value):
        raise ValidationError(f"The {what} must be base64url.")
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"The {what} must be base64url.") from exc
    if len(raw) != expected:
        raise ValidationError(f"The {what} must decode to {expected} bytes.")
    return raw


def validate_p256dh(value: str) -> None:
    raw = _b64url_bytes(value, 65, "p256dh key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise ValidationError("The p256dh key is not a P-256 public key.") from exc


def validate_auth(value: str) -> None:
    _b64url_bytes(value, 16, "auth secret")


class KeysSchema(Schema):
    # The patterns state the lengths (65 and 16 bytes in base64url); p256dh must also be a point on P-256.
    p256dh = fields.String(
        required=True,
        validate=[validate.Length(max=128), validate_p256dh],
        metadata={
            "pattern": "^[A-Za-z0-9_-]{87}=?$",
            "description": "An uncompressed P-256 public key, base64url.",
            "example": "BL4EEyb7R3NawhRHZKLDfJzHq20-CaV7AjlCUK1vl5ulG1A0m7j7-o8eEm-TFsBiV1lM9eOTSCWncV3ql4__AHw",
        },
    )
    auth = fields.String(
        required=True,
        validate=[validate.Length(max=64), validate_auth],
        metadata={
            "pattern": "^[A-Za-z0-9_-]{22}(==)?$",
            "description": "16 random bytes, base64url.",
            "example": "Is_uhy5Eq3ZhQwKx8upnjQ",
        },
    )


class SubscriptionInSchema(Schema):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_ENDPOINT_LENGTH),
        metadata={"example": "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH"},
    )
    expirationTime = JSONNumber(  # noqa: N815 (the browser's name)
        allow_none=True,
        load_default=None,
        validate=validate.Range(0, MAX_EXPIRATION_MS),
        metadata={"description": "Milliseconds since the epoch, or null."},
    )
    keys = fields.Nested(KeysSchema, required=True)


class SubscriptionOutSchema(Schema):
    id = fields.Integer()
    endpoint = fields.String()
    expirationTime = fields.Method("_expiration", allow_none=True)  # noqa: N815
    created_at = fields.DateTime()

    def _expiration(self, sub):
        return int(sub.expires_at.timestamp() * 1000) if sub.expires_at else None


class EndpointSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=MAX_ENDPOINT_LENGTH))


class VapidKeySchema(Schema):
    key = fields.String(metadata={"description": "base64url of the uncompressed P-256 public key (65 bytes)"})


@push_blp.route("/vapid-public-key")
class VapidPublicKey(MethodView):
    @push_blp.doc(security=[])
    @push_blp.response(200, VapidKeySchema)
    def get(self):
        """The application server key for PushManager.subscribe"""
        return {"key": vapid.public_key(vapid.load(current_app._get_current_object()))}


@push_blp.route("/subscriptions")
class Subscriptions(MethodView):
    @login_required
    @push_blp.arguments(SubscriptionInSchema())
    @push_blp.response(201, SubscriptionOutSchema, description="A new subscription.")
    @push_blp.alt_response(200, schema=SubscriptionOutSchema, description="Already known: keys updated.")
    @push_blp.alt_response(422, schema="Error", description="Invalid keys, or an endpoint that is not https to a public host.")
    def post(self, body):
        """Store this browser's push subscription"""
        expires = body.get("expirationTime")
        expires_at = datetime.fromtimestamp(expires / 1000, tz=timezone.utc) if expires is not None else None
        try:
            sub, created = subscriptions.subscribe(
                current_user(),
                body["endpoint"],
                body["keys"]["p256dh"],
                body["keys"]["auth"],
                expires_at,
                utcnow(),
                current_app.config.get("COACH_PUSH_INSECURE_HOSTS") or (),
                token_id=current_token_id(),
            )
        except EndpointRefused as exc:
            abort(422, message=str(exc), messages={"endpoint": [str(exc)]})
        return sub, (201 if created else 200)

    @login_required
    @push_blp.arguments(EndpointSchema())
    @push_blp.response(204, description="Gone (also when there was nothing to delete).")
    def delete(self, body):
        """Forget this browser's push subscription"""
        subscriptions.unsubscribe(current_user(), body["endpoint"])
