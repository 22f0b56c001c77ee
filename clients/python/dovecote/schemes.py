"""Signature schemes: how a delivery is signed and how a receiver checks it, side by side.

Standard library only: the server signs with these classes (functions/core/signing.py) and
receivers check with them (`dovecote.verify`). A scheme is one subclass of `Scheme` with a
`name`; defining it registers it, and profiles may then name it.

- `standard-webhooks`: `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`, keyed
  with the base64-decoded secret after its prefix (`whsec_`). During a secret rotation
  every live secret signs and the signatures are space-separated, as the specification
  allows; receivers accept any of them.
- `standard-webhooks-v1a`: `v1a,<base64 Ed25519 signature of "{msg_id}.{timestamp}.{body}">`
  (Standard Webhooks' asymmetric signature). Dovecote signs with the secret key `whsk_` +
  base64 of the 32-byte Ed25519 secret key; receivers check with the public key `whpk_` +
  base64 of its 32 bytes, and need no secret at all. The `standard-webhooks` scheme signs
  `v1a` for an endpoint whose secret is a `whsk_` key, and checks `v1a` signatures against
  `whpk_` keys. Test vectors: docs/v1a-test-vectors.json.
- `hmac-sha256-hex`: `<prefix><hex HMAC-SHA256 of body>`, keyed with the secret string's
  UTF-8 bytes (the seeds' snippets use the secret string as given).
- `hmac-sha256-hex-timestamped`: `<prefix><hex HMAC-SHA256 of "{timestamp}.{body}">`, same
  key, with the Unix timestamp in its own header.

The two hex schemes carry exactly one signature: the seeds' receivers compare the whole
header with one expected value (`timingSafeEqual`), so a second signature would make every
delivery fail. During a rotation the OLDEST live secret signs, so receivers that still hold
it keep working until the grace period ends; they switch to the new secret (or accept both,
as `dovecote.verify` does) within that period, after which the new secret signs.

Every HMAC comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from dovecote import _ed25519

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SCHEMES",
    "HmacSha256Hex",
    "HmacSha256HexTimestamped",
    "Scheme",
    "SignedContent",
    "SigningError",
    "StandardWebhooks",
    "StandardWebhooksAsymmetric",
    "WebhookVerificationError",
    "scheme_named",
    "verification_key",
]

DEFAULT_TOLERANCE_SECONDS = 300
"""How far a signed timestamp may be from now, either way, before a delivery counts as a replay."""


class SigningError(ValueError):
    """A delivery that cannot be signed or checked: no secret, or a secret the scheme cannot use."""


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh delivery: reject it (e.g. answer 401)."""


@dataclass(frozen=True)
class SignedContent:
    """What a signature covers: the raw body and, where the scheme signs them, the message id and timestamp."""

    body: bytes
    message_id: str = ""
    timestamp: int | None = None
    """Unix seconds."""


SCHEMES: dict[str, type[Scheme]] = {}
"""Every scheme by name, in the order they were defined."""


class Scheme:
    """One way of signing; an instance carries the signature prefix a profile chose (hex schemes)."""

    name: ClassVar[str]
    signs_timestamp: ClassVar[bool] = False
    signs_message_id: ClassVar[bool] = False
    signs_with_every_secret: ClassVar[bool] = False
    """True: every live secret signs (several signatures). False: only the oldest live one does."""
    fixed_prefix: ClassVar[str | None] = None
    """A prefix the scheme itself fixes (so a profile may not choose one); None lets the profile choose."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is not None:
            if name in SCHEMES:
                raise ValueError(f"a signature scheme named {name!r} is defined twice")
            SCHEMES[name] = cls

    def __init__(self, signature_prefix: str = "") -> None:
        if signature_prefix and self.fixed_prefix is not None:
            raise SigningError(f"signature_prefix is fixed to {self.fixed_prefix!r} by the {self.name} scheme")
        self.signature_prefix = self.fixed_prefix if self.fixed_prefix is not None else signature_prefix

    def key(self, secret: str) -> bytes:
        """The HMAC key of a secret; raises SigningError for a secret the scheme cannot use."""
        return secret.encode("utf-8")

    def check_secret(self, secret: str) -> None:
        """Raise SigningError for a caller-chosen secret this scheme should not sign with."""
        self.key(secret)

    def signed_bytes(self, content: SignedContent) -> bytes:
        return content.body

    def signature(self, secret: str, content: SignedContent) -> str:
        """One signature, as it stands in the header."""
        digest = hmac.new(self.key(secret), self.signed_bytes(content), hashlib.sha256).digest()
        return self.signature_prefix + self.encode_digest(digest)

    def encode_digest(self, digest: bytes) -> str:
        return digest.hex()

    def normalized(self, signature: str) -> str:
        """The form two signatures are compared in (hex is case-insensitive)."""
        return signature.lower()

    def sign(self, secrets: Sequence[str], content: SignedContent) -> str:
        """The signature header's value; `secrets` lists the live secrets, the current one first."""
        if not secrets:
            raise SigningError("the webhook has no signing secret")
        self._check_content(content)
        signing = secrets if self.signs_with_every_secret else [secrets[-1]]
        return " ".join(self.signature(secret, content) for secret in signing)

    def verify(
        self,
        header_value: str,
        secrets: Sequence[str],
        content: SignedContent,
        *,
        now: float,
        tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        """Raise WebhookVerificationError unless one received signature matches one of `secrets`."""
        if not secrets:
            raise SigningError("pass at least one secret")
        self._check_content(content)
        if content.timestamp is not None and abs(now - content.timestamp) > tolerance:
            raise WebhookVerificationError("the timestamp is outside the tolerance (an old or replayed delivery?)")
        if not self.matches(header_value, secrets, content):
            raise WebhookVerificationError("no signature matches (wrong secret or key, or the body was changed)")

    def matches(self, header_value: str, secrets: Sequence[str], content: SignedContent) -> bool:
        """Whether one signature of the header is one of `secrets`' signatures (compared in constant time)."""
        received = [self.normalized(value) for value in header_value.split()]
        expected = [self.normalized(self.signature(secret, content)) for secret in secrets]
        matched = False
        for candidate in received:
            for value in expected:
                matched |= hmac.compare_digest(candidate.encode(), value.encode())
        return matched

    def _check_content(self, content: SignedContent) -> None:
        if self.signs_timestamp and content.timestamp is None:
            raise SigningError(f"the {self.name} scheme signs a timestamp: give one")
        if self.signs_message_id and not content.message_id:
            raise SigningError(f"the {self.name} scheme signs a message id: give one")


class StandardWebhooks(Scheme):
    name = "standard-webhooks"
    signs_timestamp = True
    signs_message_id = True
    signs_with_every_secret = True
    fixed_prefix = "v1,"
    secret_prefix: ClassVar[str] = "whsec_"  # noqa: S105 - a format prefix, not a secret
    key_bytes: ClassVar[tuple[int, int]] = (24, 64)
    """The key sizes a caller-chosen secret may have."""

    def key(self, secret: str) -> bytes:
        try:
            return base64.b64decode(secret.removeprefix(self.secret_prefix), validate=True)
        except (binascii.Error, ValueError):
            raise SigningError(f"a {self.name} secret must be {self.secret_prefix} followed by base64") from None

    def check_secret(self, secret: str) -> None:
        if type(self) is StandardWebhooks and secret.startswith(StandardWebhooksAsymmetric.secret_prefix):
            StandardWebhooksAsymmetric().check_secret(secret)
            return
        low, high = self.key_bytes
        try:
            size = len(self.key(secret))
        except SigningError:
            size = 0
        if not secret.startswith(self.secret_prefix) or not low <= size <= high:
            raise SigningError(
                f"the {self.name} scheme needs {self.secret_prefix} followed by "
                f"the base64 encoding of {low} to {high} random bytes"
            )

    def signed_bytes(self, content: SignedContent) -> bytes:
        return f"{content.message_id}.{content.timestamp}.".encode() + content.body

    def encode_digest(self, digest: bytes) -> str:
        return base64.b64encode(digest).decode("ascii")

    def normalized(self, signature: str) -> str:
        return signature  # base64 is case-sensitive

    def signature(self, secret: str, content: SignedContent) -> str:
        """`v1,` with a `whsec_` secret; `v1a,` (Ed25519) with a `whsk_` secret key."""
        if secret.startswith(StandardWebhooksAsymmetric.secret_prefix):
            return StandardWebhooksAsymmetric().signature(secret, content)
        return super().signature(secret, content)

    def matches(self, header_value: str, secrets: Sequence[str], content: SignedContent) -> bool:
        """Public keys (`whpk_…`) check the `v1a,` signatures of the header, secrets (`whsec_…`) the `v1,` ones."""
        asymmetric = StandardWebhooksAsymmetric
        keys = [key for key in secrets if key.startswith((asymmetric.public_prefix, asymmetric.secret_prefix))]
        shared = [key for key in secrets if key not in keys]
        return bool(keys and asymmetric().matches(header_value, keys, content)) or bool(
            shared and super().matches(header_value, shared, content)
        )


class StandardWebhooksAsymmetric(StandardWebhooks):
    """Ed25519 signatures: Dovecote holds the `whsk_` secret key, receivers the `whpk_` public key."""

    name = "standard-webhooks-v1a"
    fixed_prefix = "v1a,"
    secret_prefix = "whsk_"  # noqa: S105 - a format prefix, not a secret
    public_prefix: ClassVar[str] = "whpk_"
    key_bytes = (_ed25519.KEY_BYTES, _ed25519.KEY_BYTES)

    def check_secret(self, secret: str) -> None:
        self._secret_key(secret)

    @classmethod
    def new_secret_key(cls) -> str:
        return cls.secret_prefix + base64.b64encode(os.urandom(_ed25519.KEY_BYTES)).decode("ascii")

    def public_key(self, secret: str) -> str:
        """The `whpk_` public key receivers check this `whsk_` secret key's signatures with."""
        public = _ed25519.public_key(self._secret_key(secret))
        return self.public_prefix + base64.b64encode(public).decode("ascii")

    def signature(self, secret: str, content: SignedContent) -> str:
        signed = _ed25519.sign(self._secret_key(secret), self.signed_bytes(content))
        return self.signature_prefix + base64.b64encode(signed).decode("ascii")

    def matches(self, header_value: str, secrets: Sequence[str], content: SignedContent) -> bool:
        """`secrets` are public keys (`whpk_…`); a `whsk_` secret key stands for its public key."""
        public_keys = [self._public_key_bytes(key) for key in secrets]
        message = self.signed_bytes(content)
        for candidate in header_value.split():
            if not candidate.startswith(self.signature_prefix):
                continue
            try:
                signature = base64.b64decode(candidate.removeprefix(self.signature_prefix), validate=True)
            except (binascii.Error, ValueError):
                continue
            if any(_ed25519.verify(public, message, signature) for public in public_keys):
                return True
        return False

    def _secret_key(self, secret: str) -> bytes:
        key = self.key(secret)
        if not secret.startswith(self.secret_prefix) or len(key) != _ed25519.KEY_BYTES:
            raise SigningError(
                f"a {self.name} secret key is {self.secret_prefix} followed by base64 of {_ed25519.KEY_BYTES} bytes"
            )
        return key

    def _public_key_bytes(self, key: str) -> bytes:
        if key.startswith(self.secret_prefix):
            return _ed25519.public_key(self._secret_key(key))
        try:
            public = base64.b64decode(key.removeprefix(self.public_prefix), validate=True)
        except (binascii.Error, ValueError):
            public = b""
        if not key.startswith(self.public_prefix) or len(public) != _ed25519.KEY_BYTES:
            raise SigningError(
                f"a {self.name} public key is {self.public_prefix} followed by base64 of {_ed25519.KEY_BYTES} bytes"
            )
        return public


class HmacSha256Hex(Scheme):
    name = "hmac-sha256-hex"


class HmacSha256HexTimestamped(Scheme):
    name = "hmac-sha256-hex-timestamped"
    signs_timestamp = True

    def signed_bytes(self, content: SignedContent) -> bytes:
        return f"{content.timestamp}.".encode() + content.body


def verification_key(secret: str) -> str:
    """What a receiver checks this secret's signatures with: the secret itself, or a v1a secret key's public key."""
    if secret.startswith(StandardWebhooksAsymmetric.secret_prefix):
        return StandardWebhooksAsymmetric().public_key(secret)
    return secret


def scheme_named(name: str, signature_prefix: str = "") -> Scheme:
    """The scheme of this name, with the profile's signature prefix."""
    try:
        scheme_class = SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown signing scheme {name!r}; use one of {', '.join(SCHEMES)}") from None
    return scheme_class(signature_prefix)
