"""A platform passkey authenticator in software, for the SDK tests: what a browser's
`navigator.credentials.create()` / `.get()` return, as `PublicKeyCredential.toJSON()`.
Each registration makes a discoverable ES256 credential (attestation `none`, user verified);
each assertion counts its signature counter up, so a copy (`clone()`) is a cloned
authenticator the server can catch."""

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# Authenticator data flags: user present, user verified, backup eligible, backed up, attested
# credential data.
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


class SoftPasskey:
    def __init__(self, origin, synced=False):
        self.origin = origin
        # A synced passkey (a password manager's) says so in every answer: eligible for backup
        # and backed up. Changing it between answers is what the server must catch.
        self.synced = synced
        # credential id -> {key, rp_id, user_handle, counter}
        self.credentials = {}

    def clone(self):
        twin = SoftPasskey(self.origin, self.synced)
        twin.credentials = {k: dict(v) for k, v in self.credentials.items()}
        return twin

    def _backup(self):
        return BE | BS if self.synced else 0

    def _client_data(self, kind, challenge, origin):
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def create(self, options, origin=None):
        rp_id = options["rp"]["id"]
        assert options["authenticatorSelection"]["userVerification"] == "required"
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        credential_id = os.urandom(32)
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | UV | AT | self._backup()])
            + (0).to_bytes(4, "big")
            + bytes(16)  # AAGUID: none
            + len(credential_id).to_bytes(2, "big")
            + credential_id
            + cbor2.dumps(cose)
        )
        self.credentials[credential_id] = {
            "key": key,
            "rp_id": rp_id,
            "user_handle": unb64u(options["user"]["id"]),
            "counter": 0,
        }
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64u(credential_id),
            "rawId": b64u(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64u(self._client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(self, options, origin=None):
        """Signs with the first credential for the relying party (usernameless)."""
        rp_id = options["rpId"]
        credential_id, c = next((i, c) for i, c in self.credentials.items() if c["rp_id"] == rp_id)
        c["counter"] += 1
        flags = UP | UV | self._backup()
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + c["counter"].to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = c["key"].sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64u(credential_id),
            "rawId": b64u(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(c["user_handle"]),
            },
            "clientExtensionResults": {},
        }


