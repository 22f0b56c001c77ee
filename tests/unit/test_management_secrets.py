"""Signing secrets: generation per profile, caller secrets, rotation (functions/management/secrets.py)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from dovecote.schemes import StandardWebhooks
from functions.core.errors import InvalidRequestError
from functions.core.models import SigningSecret
from functions.core.profile import SecretEncoding, SecretFormat, load_profile
from functions.management.secrets import (
    MAX_SECRETS_PER_WEBHOOK,
    generate_secret,
    rotated_secrets,
    validate_caller_secret,
)
from tests.unit.records import NOW, STANDARD

DELEGATED = load_profile("delegated")


@pytest.mark.parametrize("random_bytes", [24, 32, 64])
def test_a_base64_secret_is_the_prefix_and_that_many_random_bytes(random_bytes: int):
    secret = generate_secret(SecretFormat(prefix="whsec_", encoding=SecretEncoding.BASE64, random_bytes=random_bytes))

    assert secret.startswith("whsec_")
    assert len(StandardWebhooks().key(secret)) == random_bytes


def test_a_hex_secret_is_the_prefix_and_lower_case_hex():
    secret = generate_secret(SecretFormat(prefix="mx_", encoding=SecretEncoding.HEX, random_bytes=32))

    body = secret.removeprefix("mx_")
    assert len(body) == 64
    assert bytes.fromhex(body)
    assert body == body.lower()


def test_every_shipped_profile_generates_a_secret_its_signer_accepts():
    for name in ("standard", "mynd"):
        assert len(StandardWebhooks().key(generate_secret(load_profile(name).secret))) == 32
    for name in ("delegated", "meetloyd", "miteos", "mutx"):
        assert len(generate_secret(load_profile(name).secret)) == len("whsec_") + 64


def test_secrets_are_random():
    assert len({generate_secret(STANDARD.secret) for _ in range(100)}) == 100


@pytest.mark.parametrize("key_bytes", [24, 32, 64])
def test_a_standard_webhooks_caller_secret_is_whsec_and_base64_of_24_to_64_bytes(key_bytes: int):
    secret = "whsec_" + base64.b64encode(b"k" * key_bytes).decode()

    assert validate_caller_secret(secret, STANDARD) == secret


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + base64.b64encode(b"k" * 23).decode(),
        "whsec_" + base64.b64encode(b"k" * 65).decode(),
        base64.b64encode(b"k" * 32).decode(),
        "whsec_not*base64",
        "my-own-secret-string",
        "whsec_ " + base64.b64encode(b"k" * 32).decode(),
    ],
)
def test_other_caller_secrets_are_refused_under_standard_webhooks(secret: str):
    with pytest.raises(InvalidRequestError, match=r"^secret: "):
        validate_caller_secret(secret, STANDARD)


@pytest.mark.parametrize("secret", ["my-own-secret", "whsec_" + "ab" * 32, "!~" * 4])
def test_a_hex_scheme_accepts_any_printable_caller_secret(secret: str):
    assert validate_caller_secret(secret, DELEGATED) == secret


@pytest.mark.parametrize("secret", ["has space1", "tab\there1", "naïve-secret", "line\nbreak"])
def test_a_caller_secret_must_be_printable_ascii_without_spaces(secret: str):
    with pytest.raises(InvalidRequestError, match="printable"):
        validate_caller_secret(secret, DELEGATED)


def test_rotation_drops_secrets_whose_grace_period_is_over():
    current = [
        SigningSecret(value="current"),
        SigningSecret(value="recent", expires_at=NOW + timedelta(hours=1)),
        SigningSecret(value="expired", expires_at=NOW - timedelta(seconds=1)),
    ]

    rotated = rotated_secrets(current, "new", NOW, grace_seconds=600)

    assert [(s.value, s.expires_at) for s in rotated] == [
        ("new", None),
        ("current", NOW + timedelta(seconds=600)),
        ("recent", NOW + timedelta(hours=1)),
    ]


def test_rotation_keeps_a_bounded_number_of_secrets():
    secrets = [SigningSecret(value="s0")]
    for n in range(1, 30):
        secrets = rotated_secrets(secrets, f"s{n}", NOW, grace_seconds=86_400)

    assert len(secrets) == MAX_SECRETS_PER_WEBHOOK
    assert secrets[0].value == "s29"
    assert secrets[0].expires_at is None
