"""A software authenticator for the API tests: an EC P-256 key that answers WebAuthn options
with the bytes a real platform authenticator makes (CTAP2 authenticator data, a CBOR
"none" attestation, a COSE key, client data JSON, and an ECDSA signature over
authenticatorData ‖ SHA-256(clientDataJSON)), as `credential.toJSON()` would send them.

Every field can be bent (origin, challenge, counter) to build the answers an attacker would.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str, sign_count: int = 0):
        self.origin = origin
        self.rp_id = urlsplit(origin).hostname
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = sign_count
        self.user_handle: str | None = None

    def _auth_data(self, flags: int, count: int, attested: bytes = b"") -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count) + attested

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict, origin: str | None = None) -> dict:
        """The answer to creation options (RegistrationResponseJSON)."""
        assert options["rp"]["id"] == self.rp_id, (options["rp"], self.rp_id)
        self.user_handle = options["user"]["id"]
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = self._auth_data(UP | UV | AT, self.sign_count, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        cid = b64url(self.credential_id)
        return {
            "id": cid, "rawId": cid, "type": "public-key", "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(self, options: dict, origin: str | None = None, count: int | None = None) -> dict:
        """The answer to request options (AuthenticationResponseJSON); the counter moves on by one
        unless `count` says what to claim."""
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        auth_data = self._auth_data(UP | UV, count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        cid = b64url(self.credential_id)
        return {
            "id": cid, "rawId": cid, "type": "public-key", "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                "signature": b64url(signature), "userHandle": self.user_handle,
            },
        }
