"""The receiver-side verifier: every shipped profile, rotations, replays and forgeries."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from dovecote.profiles import shipped_profile_names
from dovecote.verify import SigningContract, WebhookVerificationError, contract_for, verify
from functions.core.envelope import delivery_body
from functions.core.models import Event
from functions.core.profile import Profile, load_profile
from functions.core.signing import delivery_headers
from functions.management.secrets import generate_secret

DELIVERY_ID = "del_01jd2q8x4m7n3p5r9t1v6w8y0z"


def delivery(profile: Profile, secrets: list[str], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    event = Event(
        id="evt_01jd2q8x4m7n3p5r9t1v6w8y0z",
        application_id="acme",
        type="task.completed",
        data={"task_id": "task_8xK2mP", "score": 0.5},
        created_at=datetime(2026, 3, 4, 12, 45, tzinfo=UTC),
    )
    body = delivery_body(event, profile.envelope)
    headers = delivery_headers(
        profile,
        secrets,
        delivery_id=DELIVERY_ID,
        event_type=event.type,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=body,
        user_agent="Dovecote/test",
    )
    return body, headers


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_a_genuine_delivery_verifies_by_profile_name(profile_name: str) -> None:
    profile = load_profile(profile_name)
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    assert verify(profile_name, body, headers, secret) is True


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_a_changed_body_is_rejected(profile_name: str) -> None:
    profile = load_profile(profile_name)
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    with pytest.raises(WebhookVerificationError):
        verify(profile, body.replace(b"0.5", b"0.6"), headers, secret)


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_another_secret_is_rejected(profile_name: str) -> None:
    profile = load_profile(profile_name)
    body, headers = delivery(profile, [generate_secret(profile.secret)])
    with pytest.raises(WebhookVerificationError):
        verify(profile, body, headers, generate_secret(profile.secret))


@pytest.mark.parametrize("profile_name", ["standard", "mynd", "meetloyd"])
def test_a_signed_timestamp_older_than_five_minutes_is_a_replay(profile_name: str) -> None:
    profile = load_profile(profile_name)
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret], timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(profile, body, headers, secret)
    assert verify(profile, body, headers, secret, tolerance=600)


def test_a_timestamp_from_the_future_is_rejected_too() -> None:
    profile = load_profile("standard")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret], timestamp=int(time.time()) + 3600)
    with pytest.raises(WebhookVerificationError):
        verify(profile, body, headers, secret)


def test_any_of_several_signatures_and_any_of_several_secrets_passes() -> None:
    profile = load_profile("standard")
    new_secret, old_secret, unrelated = (generate_secret(profile.secret) for _ in range(3))
    body, headers = delivery(profile, [new_secret, old_secret])
    assert verify("standard", body, headers, old_secret)
    assert verify("standard", body, headers, [unrelated, new_secret])
    with pytest.raises(WebhookVerificationError):
        verify("standard", body, headers, [unrelated])


def test_a_receiver_holding_both_secrets_accepts_a_single_signature_scheme_during_rotation() -> None:
    profile = load_profile("miteos")
    current, previous = generate_secret(profile.secret), generate_secret(profile.secret)
    body, headers = delivery(profile, [current, previous])
    assert verify("miteos", body, headers, [previous, current])


def test_header_names_are_matched_case_insensitively() -> None:
    profile = load_profile("delegated")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify("delegated", body, lowered, secret)


def test_explicit_scheme_and_header_names_work_without_a_profile() -> None:
    profile = load_profile("meetloyd")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    assert verify(
        "hmac-sha256-hex-timestamped",
        body,
        headers,
        secret,
        signature_header="X-MeetLoyd-Signature",
        timestamp_header="X-MeetLoyd-Timestamp",
    )


def test_a_payload_may_be_given_as_text() -> None:
    profile = load_profile("mutx")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    assert verify("mutx", body.decode(), headers, secret)


def test_interoperates_with_the_standardwebhooks_package_signer() -> None:
    secret = generate_secret(load_profile("standard").secret)
    body = b'{"type":"user.created","timestamp":"2026-03-04T12:45:00Z","data":{}}'
    now = datetime.now(UTC)
    signature = StandardWebhook(secret).sign("msg_1", now, body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    assert verify("standard-webhooks", body, headers, secret)


def test_a_missing_signature_header_is_rejected() -> None:
    profile = load_profile("miteos")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    del headers["X-Miteos-Signature"]
    with pytest.raises(WebhookVerificationError, match="missing header"):
        verify("miteos", body, headers, secret)


def test_an_empty_or_non_v1_signature_list_is_rejected() -> None:
    profile = load_profile("standard")
    secret = generate_secret(profile.secret)
    body, headers = delivery(profile, [secret])
    headers["webhook-signature"] = "v2," + headers["webhook-signature"].removeprefix("v1,")
    with pytest.raises(WebhookVerificationError):
        verify("standard", body, headers, secret)


def test_contract_for_a_profile_takes_its_header_names() -> None:
    assert contract_for("mynd") == SigningContract(
        scheme="standard-webhooks",
        signature_header="Mynd-Signature",
        timestamp_header="Mynd-Timestamp",
        id_header="Mynd-Id",
    )
    assert contract_for("delegated").signature_prefix == "sha256="


def test_a_hex_scheme_needs_its_signature_header_named() -> None:
    with pytest.raises(ValueError, match="signature_header"):
        contract_for("hmac-sha256-hex")
