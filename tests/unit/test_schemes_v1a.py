"""Standard Webhooks v1a (Ed25519): Dovecote's signatures against an independent implementation and the vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from dovecote.schemes import (
    SignedContent,
    SigningError,
    StandardWebhooks,
    StandardWebhooksAsymmetric,
    WebhookVerificationError,
    verification_key,
)
from dovecote.verify import verify

VECTORS = json.loads((Path(__file__).parents[2] / "docs" / "v1a-test-vectors.json").read_text(encoding="utf-8"))
V1A = StandardWebhooksAsymmetric()


def _raw(key: str, prefix: str) -> bytes:
    return base64.b64decode(key.removeprefix(prefix))


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda vector: vector["id"])
def test_dovecote_signs_each_published_vector_exactly(vector: dict) -> None:
    content = SignedContent(vector["body"].encode(), vector["id"], vector["timestamp"])

    assert V1A.public_key(vector["secret_key"]) == vector["public_key"]
    assert V1A.sign([vector["secret_key"]], content) == vector["signature"]
    assert StandardWebhooks().sign([vector["secret_key"]], content) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda vector: vector["id"])
def test_each_published_vector_verifies_with_its_public_key_and_fails_with_a_changed_body(vector: dict) -> None:
    headers = {
        "webhook-id": vector["id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": vector["signature"],
    }
    now = vector["timestamp"] + 10
    for scheme in ("standard", "standard-webhooks", "standard-webhooks-v1a"):
        assert verify(scheme, vector["body"], headers, vector["public_key"], now=now)
    with pytest.raises(WebhookVerificationError):
        verify("standard", vector["body"] + " ", headers, vector["public_key"], now=now)
    other = VECTORS["vectors"][-1 if vector is not VECTORS["vectors"][-1] else 0]["public_key"]
    with pytest.raises(WebhookVerificationError):
        verify("standard", vector["body"], headers, other, now=now)


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), body=st.binary(max_size=300), timestamp=st.integers(0, 2**33))
def test_an_independent_ed25519_accepts_every_v1a_signature(seed: bytes, body: bytes, timestamp: int) -> None:
    secret_key = "whsk_" + base64.b64encode(seed).decode()
    content = SignedContent(body, "msg_property", timestamp)
    signature = _raw(V1A.sign([secret_key], content), "v1a,")
    public = Ed25519PublicKey.from_public_bytes(_raw(V1A.public_key(secret_key), "whpk_"))

    public.verify(signature, f"msg_property.{timestamp}.".encode() + body)  # raises InvalidSignature if wrong
    with pytest.raises(InvalidSignature):
        public.verify(signature, f"msg_property.{timestamp + 1}.".encode() + body)


def test_signatures_of_an_independent_ed25519_verify_with_dovecote() -> None:
    key = Ed25519PrivateKey.generate()
    public = "whpk_" + base64.b64encode(key.public_key().public_bytes_raw()).decode()
    body = '{"type":"order.created","data":{"id":1}}'
    signature = "v1a," + base64.b64encode(key.sign(b"msg_1.1700000000." + body.encode())).decode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": signature}

    assert verify("standard-webhooks-v1a", body, headers, public, now=1_700_000_000)


def test_an_endpoint_with_a_secret_key_signs_v1a_beside_v1_during_a_rotation() -> None:
    secret_key, shared = StandardWebhooksAsymmetric.new_secret_key(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    content = SignedContent(b"{}", "msg_1", 1_700_000_000)
    header = StandardWebhooks().sign([secret_key, shared], content)

    assert [part.split(",")[0] for part in header.split()] == ["v1a", "v1"]
    scheme = StandardWebhooks()
    scheme.verify(header, [verification_key(secret_key)], content, now=1_700_000_000)
    scheme.verify(header, [shared], content, now=1_700_000_000)


def test_the_key_a_receiver_verifies_with_is_public_for_v1a_and_the_secret_otherwise() -> None:
    vector = VECTORS["vectors"][0]
    assert verification_key(vector["secret_key"]) == vector["public_key"]
    assert verification_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    "secret",
    ["whsk_" + base64.b64encode(bytes(31)).decode(), "whsk_not base64", "whpk_" + base64.b64encode(bytes(32)).decode()],
)
def test_a_v1a_secret_key_must_be_whsk_and_32_bytes(secret: str) -> None:
    with pytest.raises(SigningError):
        StandardWebhooks().check_secret(secret)
    with pytest.raises(SigningError):
        V1A.check_secret(secret)


def test_a_malformed_public_key_is_refused_not_matched() -> None:
    vector = VECTORS["vectors"][0]
    headers = {"webhook-id": vector["id"], "webhook-timestamp": str(vector["timestamp"]), "webhook-signature": "x"}
    with pytest.raises(SigningError):
        verify("standard-webhooks-v1a", vector["body"], headers, "whpk_short", now=vector["timestamp"])
