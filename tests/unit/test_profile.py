"""Profile validation (functions/core/profile.py): shipped profiles load, bad ones name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dovecote.profiles import shipped_profile_names
from dovecote.schemes import StandardWebhooks
from functions.core.profile import ProfileError, load_profile, parse_profile, profile_json


def standard_document() -> dict[str, Any]:
    return json.loads(profile_json(load_profile("standard")))


def test_every_seed_has_a_shipped_profile_besides_the_standard_one():
    assert shipped_profile_names() == ["delegated", "meetloyd", "miteos", "mutx", "mynd", "standard"]


@pytest.mark.parametrize("name", ["delegated", "meetloyd", "miteos", "mutx", "mynd", "standard"])
def test_a_shipped_profile_round_trips(name: str):
    profile = load_profile(name)

    assert parse_profile(profile_json(profile)) == profile
    assert profile.retry_schedule_seconds[0] == 0


def test_the_standard_profile_is_standard_webhooks_without_a_catalog():
    profile = load_profile("standard")

    assert profile.signing.scheme == StandardWebhooks.name
    assert profile.headers.signature == "webhook-signature"
    assert profile.catalog_names() is None


def test_a_profile_is_loaded_from_a_path(tmp_path: Path):
    document = standard_document() | {"name": "custom"}
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(document))

    assert load_profile(path).name == "custom"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"retry_schedule_seconds": [5, 10]}, "retry_schedule_seconds"),
        ({"retry_schedule_seconds": [0, -1]}, "retry_schedule_seconds"),
        ({"retry_schedule_seconds": []}, "retry_schedule_seconds"),
        ({"attempt_timeout_seconds": 0}, "attempt_timeout_seconds"),
        ({"attempt_timeout_seconds": 61}, "attempt_timeout_seconds"),
        ({"name": "Not Valid"}, "name"),
        ({"headers": {"signature": "bad header", "timestamp": "t", "delivery_id": "i"}}, "headers.signature"),
        ({"secret": {"random_bytes": 8}}, "secret.random_bytes"),
        ({"event_types": [{"name": "Not.Dotted Lower"}]}, "event_types.0.name"),
        ({"rotation_grace_seconds": -1}, "rotation_grace_seconds"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_profile_error_names_the_field(change: dict[str, Any], field: str):
    document = standard_document() | change

    with pytest.raises(ProfileError) as caught:
        parse_profile(json.dumps(document), origin="custom.json")

    assert str(caught.value).startswith("invalid profile custom.json: ")
    assert f"{field}:" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"headers": {"signature": "s", "timestamp": None, "delivery_id": "i"}}, "headers.timestamp is required"),
        ({"headers": {"signature": "s", "timestamp": "t", "delivery_id": None}}, "headers.delivery_id"),
        ({"signing": {"scheme": "standard-webhooks", "signature_prefix": "x="}}, "signature_prefix"),
        ({"event_types": [{"name": "a.b"}, {"name": "a.b"}]}, "duplicate"),
    ],
)
def test_inconsistent_profiles_are_refused_with_the_reason(change: dict[str, Any], message: str):
    with pytest.raises(ProfileError, match=message):
        parse_profile(json.dumps(standard_document() | change))


def test_an_unknown_profile_name_lists_the_shipped_ones():
    with pytest.raises(ProfileError, match="use one of delegated, meetloyd"):
        load_profile("nonexistent")


def test_invalid_json_is_a_profile_error():
    with pytest.raises(ProfileError):
        parse_profile("{not json")
