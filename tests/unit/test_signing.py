"""Signing, checked by independent verifiers: the standardwebhooks package and each seed's own recipe.

Seeds 003 (Delegated) and 004 (MUTX) verify `JSON.stringify(req.body)`, the body parsed and
serialised again by JavaScript; when node is installed their Node snippets run verbatim
as receivers. The other seeds are checked against an HMAC computed here from their text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError as StandardVerificationError

from dovecote.schemes import SigningError
from functions.core.envelope import delivery_body
from functions.core.models import Event
from functions.core.profile import Profile, load_profile
from functions.core.signing import delivery_headers, signature_header_value
from functions.management.secrets import generate_secret
from tests.unit.seed_examples import SEED_003_EXAMPLE_DATA

NODE = shutil.which("node")
DELIVERY_ID = "del_01jd2q8x4m7n3p5r9t1v6w8y0z"
USER_AGENT = "Dovecote/test"
TRICKY_DATA = {
    "title": 'Générer 5 créas ✨ \u2028 "quoted" back\\slash',
    "duration_seconds": 900.0,
    "ratio": 1e-7,
    "big": 1e21,
    "2": "integer-like keys move first in JavaScript",
    "nested": {"10": [1.5, -0.0, None, True], "a": 0.1},
}

# The seeds' verification snippets, verbatim (the files the e2e seed tests run): their verifySignature function.
SEED_SNIPPETS = Path(__file__).parents[1] / "e2e" / "seed_snippets"


def _verify_signature_function(snippet: str) -> str:
    source = (SEED_SNIPPETS / snippet).read_text(encoding="utf-8")
    function = re.search(r"^function verifySignature\(.*?^}$", source, re.MULTILINE | re.DOTALL)
    assert function is not None, f"{snippet} defines no verifySignature function"
    return "const crypto = require('crypto');\n" + function.group(0) + "\n"


SEED_003_NODE = _verify_signature_function("003_delegated_express.js")
SEED_004_NODE = _verify_signature_function("004_mutx_express.js")
# Each case is an Express handler's view: req.body = JSON.parse(raw body); verify JSON.stringify(req.body).
NODE_RECEIVER = """
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const results = cases.map(({body, signature, secret}) => {
  const reqBody = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  try { return verifySignature(JSON.stringify(reqBody), signature, secret); } catch (e) { return false; }
});
process.stdout.write(JSON.stringify(results));
"""


def sample_event(data: object = None, event_type: str = "task.completed") -> Event:
    return Event(
        id="evt_01jd2q8x4m7n3p5r9t1v6w8y0z",
        application_id="acme",
        type=event_type,
        data=TRICKY_DATA if data is None else data,
        created_at=datetime(2026, 3, 4, 12, 45, tzinfo=UTC),
    )


def signed_delivery(profile: Profile, secrets: list[str], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = delivery_body(sample_event(), profile.envelope)
    headers = delivery_headers(
        profile,
        secrets,
        delivery_id=DELIVERY_ID,
        event_type="task.completed",
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=body,
        user_agent=USER_AGENT,
    )
    return body, headers


def as_standard_headers(profile: Profile, headers: dict[str, str]) -> dict[str, str]:
    names = profile.headers
    assert names.delivery_id
    assert names.timestamp
    return {
        "webhook-id": headers[names.delivery_id],
        "webhook-timestamp": headers[names.timestamp],
        "webhook-signature": headers[names.signature],
    }


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# Standard Webhooks ------------------------------------------------------------------------


@pytest.mark.parametrize("profile_name", ["standard", "mynd"])
def test_standard_webhooks_signature_verifies_with_the_standardwebhooks_package(profile_name: str) -> None:
    profile = load_profile(profile_name)
    secret = generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [secret])
    payload = StandardWebhook(secret).verify(body, as_standard_headers(profile, headers))
    assert payload["data"]["duration_seconds"] == 900


def test_standard_webhooks_message_id_is_the_delivery_id() -> None:
    profile = load_profile("standard")
    _, headers = signed_delivery(profile, [generate_secret(profile.secret)])
    assert headers["webhook-id"] == DELIVERY_ID


def test_standard_webhooks_rejects_a_changed_body_or_another_secret() -> None:
    profile = load_profile("standard")
    secret = generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [secret])
    with pytest.raises(StandardVerificationError):
        StandardWebhook(secret).verify(body.replace(b"900", b"901"), headers)
    with pytest.raises(StandardVerificationError):
        StandardWebhook(generate_secret(profile.secret)).verify(body, headers)


def test_during_a_rotation_every_live_secret_signs_and_each_verifies() -> None:
    profile = load_profile("standard")
    new_secret, old_secret = generate_secret(profile.secret), generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [new_secret, old_secret])
    assert len(headers["webhook-signature"].split(" ")) == 2
    StandardWebhook(new_secret).verify(body, headers)
    StandardWebhook(old_secret).verify(body, headers)


def test_a_standard_webhooks_secret_must_be_base64() -> None:
    with pytest.raises(SigningError):
        signature_header_value(
            load_profile("standard"), ["whsec_not base64!"], msg_id=DELIVERY_ID, timestamp=1, body=b"{}"
        )


def test_the_signature_changes_with_the_timestamp() -> None:
    profile = load_profile("standard")
    secret = generate_secret(profile.secret)
    first = signature_header_value(profile, [secret], msg_id=DELIVERY_ID, timestamp=1, body=b"{}")
    second = signature_header_value(profile, [secret], msg_id=DELIVERY_ID, timestamp=2, body=b"{}")
    assert first != second
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{DELIVERY_ID}.1.{{}}".encode(), hashlib.sha256).digest()).decode()
    assert first == f"v1,{expected}"


# Hex schemes (seeds 000, 002, 003, 004) ----------------------------------------------------


def test_seed_000_miteos_signature_is_sha256_hex_of_the_raw_body() -> None:
    profile = load_profile("miteos")
    secret = generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [secret])
    assert headers["X-Miteos-Signature"] == "sha256=" + hex_hmac(secret, body)


def test_seed_002_meetloyd_signature_is_hex_hmac_of_timestamp_dot_payload() -> None:
    profile = load_profile("meetloyd")
    secret = generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [secret], timestamp=1772628300)
    assert headers["X-MeetLoyd-Timestamp"] == "1772628300"
    assert headers["X-MeetLoyd-Signature"] == hex_hmac(secret, b"1772628300." + body)


@pytest.mark.parametrize(
    ("profile_name", "header"), [("delegated", "X-Delegated-Signature"), ("mutx", "X-Webhook-Signature")]
)
def test_seed_003_and_004_sign_a_body_that_stringifies_to_itself(profile_name: str, header: str) -> None:
    profile = load_profile(profile_name)
    secret = "your-webhook-secret"  # the seeds let the caller choose the secret string
    body = delivery_body(sample_event(SEED_003_EXAMPLE_DATA), profile.envelope)
    headers = delivery_headers(
        profile,
        [secret],
        delivery_id=DELIVERY_ID,
        event_type="task.completed",
        timestamp=int(time.time()),
        body=body,
        user_agent=USER_AGENT,
    )
    restringified = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    assert restringified == body
    assert headers[header] == "sha256=" + hex_hmac(secret, restringified)


def test_seed_004_flask_receiver_accepts_the_raw_body() -> None:
    profile = load_profile("mutx")
    webhook_secret = generate_secret(profile.secret)
    payload, headers = signed_delivery(profile, [webhook_secret])
    signature = headers["X-Webhook-Signature"]
    expected = f"sha256={hmac.new(webhook_secret.encode(), payload, hashlib.sha256).hexdigest()}"
    assert hmac.compare_digest(signature, expected)


@pytest.mark.parametrize("profile_name", ["miteos", "meetloyd", "delegated", "mutx"])
def test_single_signature_schemes_sign_once_with_the_oldest_live_secret_during_a_rotation(profile_name: str) -> None:
    profile = load_profile(profile_name)
    current, previous = generate_secret(profile.secret), generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [current, previous], timestamp=1772628300)
    value = headers[profile.headers.signature]
    assert " " not in value
    message = b"1772628300." + body if profile.headers.timestamp else body
    assert value == profile.signing.signature_prefix + hex_hmac(previous, message)
    _, after_grace = signed_delivery(profile, [current], timestamp=1772628300)
    assert after_grace[profile.headers.signature] == profile.signing.signature_prefix + hex_hmac(current, message)


@pytest.mark.parametrize(
    ("profile_name", "present", "absent"),
    [
        ("miteos", ["X-Miteos-Signature", "X-Miteos-Event", "X-Miteos-Delivery"], ["X-Miteos-Timestamp"]),
        ("delegated", ["X-Delegated-Signature", "X-Delegated-Event", "X-Delegated-Delivery"], []),
        ("meetloyd", ["X-MeetLoyd-Signature", "X-MeetLoyd-Timestamp", "X-MeetLoyd-Event"], []),
        ("standard", ["webhook-id", "webhook-timestamp", "webhook-signature"], []),
    ],
)
def test_delivery_headers_follow_the_profile(profile_name: str, present: list[str], absent: list[str]) -> None:
    profile = load_profile(profile_name)
    _, headers = signed_delivery(profile, [generate_secret(profile.secret)])
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == USER_AGENT
    assert all(name in headers for name in present)
    assert not any(name in headers for name in absent)
    if profile.headers.delivery_id:
        assert headers[profile.headers.delivery_id] == DELIVERY_ID
    if profile.headers.event_type:
        assert headers[profile.headers.event_type] == "task.completed"


def test_a_webhook_without_secrets_cannot_be_signed() -> None:
    with pytest.raises(SigningError):
        signature_header_value(load_profile("miteos"), [], msg_id=DELIVERY_ID, timestamp=1, body=b"{}")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("profile_name", "snippet", "header"),
    [("delegated", SEED_003_NODE, "X-Delegated-Signature"), ("mutx", SEED_004_NODE, "X-Webhook-Signature")],
)
def test_seed_node_snippets_accept_our_deliveries_and_reject_forgeries(
    profile_name: str, snippet: str, header: str
) -> None:
    assert NODE is not None
    profile = load_profile(profile_name)
    secret = generate_secret(profile.secret)
    body, headers = signed_delivery(profile, [secret])
    forged = body.replace("créas".encode(), b"creas")
    cases = [
        {"body": base64.b64encode(body).decode(), "signature": headers[header], "secret": secret},
        {"body": base64.b64encode(forged).decode(), "signature": headers[header], "secret": secret},
        {"body": base64.b64encode(body).decode(), "signature": headers[header], "secret": "another-secret"},
    ]
    completed = subprocess.run(
        [NODE, "-e", snippet + NODE_RECEIVER],
        input=json.dumps(cases).encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    assert json.loads(completed.stdout) == [True, False, False]
