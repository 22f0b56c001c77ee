"""Property: what functions/core/signing.py signs, dovecote/verify.py verifies, for every scheme.

For every shipped profile and for arbitrary contracts of each scheme (header names, prefixes),
random secrets in the profile's format (and arbitrary printable ones where the scheme allows),
random bodies, delivery ids and timestamps: the signed delivery verifies with its secret, and
fails with another secret, with a changed body, with a changed timestamp or id where those are
signed, and outside the replay tolerance. Standard Webhooks deliveries also verify with the
reference `standardwebhooks` package.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as StandardWebhook

from dovecote.profiles import shipped_profile_names
from dovecote.schemes import SCHEMES, HmacSha256Hex, StandardWebhooks, StandardWebhooksAsymmetric
from dovecote.verify import DEFAULT_TOLERANCE_SECONDS, WebhookVerificationError, verify
from functions.core.envelope import compact_json
from functions.core.profile import Profile, load_profile
from functions.core.signing import delivery_headers
from functions.management.secrets import generate_secret

PROFILES = {name: load_profile(name) for name in shipped_profile_names()}
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
NOW = 1_800_000_000

header_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,30}\Z")
bodies = st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(lambda text: text.encode("utf-8")))
delivery_ids = st.from_regex(r"\Adel_[0-9a-z]{26}\Z")
printable_secrets = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=80)


STANDARD_WEBHOOKS_SCHEMES = (StandardWebhooks.name, StandardWebhooksAsymmetric.name)


def _custom_profile(scheme: str, signature: str, timestamp: str, delivery: str, prefix: str) -> Profile:
    base = load_profile("standard" if scheme in STANDARD_WEBHOOKS_SCHEMES else "meetloyd")
    document = base.model_dump(mode="json")
    document["signing"] = {
        "scheme": scheme,
        "signature_prefix": "" if scheme in STANDARD_WEBHOOKS_SCHEMES else prefix,
    }
    if scheme == StandardWebhooksAsymmetric.name:
        document["secret"] = {"prefix": "whsk_", "encoding": "base64", "random_bytes": 32}
    document["headers"] = {"signature": signature, "timestamp": timestamp, "delivery_id": delivery, "event_type": None}
    return Profile.model_validate(document)


contracts = st.builds(
    _custom_profile,
    st.sampled_from(list(SCHEMES)),
    header_names,
    header_names,
    header_names,
    st.sampled_from(["", "sha256=", "v1=", "SHA256:"]),
).filter(lambda p: len({p.headers.signature.lower(), p.headers.timestamp.lower(), p.headers.delivery_id.lower()}) == 3)


def _secret(data: st.DataObject, profile: Profile) -> str:
    if profile.signing.scheme in STANDARD_WEBHOOKS_SCHEMES:
        return generate_secret(profile.secret)
    return data.draw(st.one_of(st.just(generate_secret(profile.secret)), printable_secrets))


def _sign(profile: Profile, secrets: list[str], body: bytes, delivery_id: str, timestamp: int) -> dict[str, str]:
    return delivery_headers(
        profile,
        secrets,
        delivery_id=delivery_id,
        event_type="order.created",
        timestamp=timestamp,
        body=body,
        user_agent="Dovecote/test",
    )


def _rejected(profile: Profile, body: bytes, headers: dict[str, str], secrets: str | list[str], now: int) -> bool:
    try:
        verify(profile, body, headers, secrets, now=now)
    except WebhookVerificationError:
        return True
    return False


@pytest.mark.parametrize("profile_name", sorted(PROFILES))
@EXAMPLES
@given(data=st.data(), body=bodies, delivery_id=delivery_ids, skew=st.integers(-DEFAULT_TOLERANCE_SECONDS, 300))
def test_every_shipped_profile_signs_what_the_verifier_accepts(
    profile_name: str, data: st.DataObject, body: bytes, delivery_id: str, skew: int
) -> None:
    profile = PROFILES[profile_name]
    secret = _secret(data, profile)
    headers = _sign(profile, [secret], body, delivery_id, NOW)
    assert verify(profile_name, body, headers, secret, now=NOW + skew)
    assert verify(profile, body, headers, [generate_secret(profile.secret), secret], now=NOW - skew)


@EXAMPLES
@given(data=st.data(), profile=contracts, body=bodies, delivery_id=delivery_ids)
def test_any_contract_of_any_scheme_round_trips_and_rejects_forgeries(
    data: st.DataObject, profile: Profile, body: bytes, delivery_id: str
) -> None:
    secret = _secret(data, profile)
    headers = _sign(profile, [secret], body, delivery_id, NOW)
    assert verify(profile, body, headers, secret, now=NOW)
    # Header names are matched case-insensitively, as HTTP requires.
    assert verify(profile, body, {k.upper(): v for k, v in headers.items()}, secret, now=NOW)
    other = generate_secret(profile.secret)
    assert other != secret
    assert _rejected(profile, body, headers, other, NOW)
    assert _rejected(profile, body + b" ", headers, secret, NOW)
    if body:
        flipped = bytes([body[0] ^ 0x01]) + body[1:]
        assert _rejected(profile, flipped, headers, secret, NOW)
    timestamped = profile.signing.scheme != HmacSha256Hex.name
    if timestamped:
        later = {**headers, profile.headers.timestamp: str(NOW + 1)}
        assert _rejected(profile, body, later, secret, NOW)
        assert _rejected(profile, body, headers, secret, NOW + DEFAULT_TOLERANCE_SECONDS + 1)
    if profile.signing.scheme in STANDARD_WEBHOOKS_SCHEMES:
        renamed = {**headers, profile.headers.delivery_id: delivery_id[:-1] + ("0" if delivery_id[-1] != "0" else "1")}
        assert _rejected(profile, body, renamed, secret, NOW)


@EXAMPLES
@given(body=bodies, delivery_id=delivery_ids, count=st.integers(1, 4))
def test_during_a_rotation_each_live_standard_webhooks_secret_verifies_alone(
    body: bytes, delivery_id: str, count: int
) -> None:
    profile = PROFILES["standard"]
    secrets = [generate_secret(profile.secret) for _ in range(count)]
    headers = _sign(profile, secrets, body, delivery_id, NOW)
    assert len(headers["webhook-signature"].split()) == count
    for secret in secrets:
        assert verify(profile, body, headers, secret, now=NOW)


json_bodies = st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=16)), max_size=4).map(
    lambda document: compact_json(document).encode("utf-8")
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(body=json_bodies, delivery_id=delivery_ids)
def test_standard_webhooks_deliveries_verify_with_the_reference_package(body: bytes, delivery_id: str) -> None:
    """The reference receiver verifies, then parses the body as JSON (so the bodies here are JSON)."""
    profile = PROFILES["standard"]
    secret = generate_secret(profile.secret)
    headers = _sign(profile, [secret], body, delivery_id, int(time.time()))
    StandardWebhook(secret).verify(body, headers)
