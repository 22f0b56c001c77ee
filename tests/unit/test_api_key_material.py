"""API key material (functions/store/api_keys.py) and the authorizer's decision without AWS."""

from __future__ import annotations

import hashlib

import pytest

from functions.authorizer.handler import MALFORMED, MISSING, REVOKED, UNKNOWN, authorize, presented_key
from functions.core.models import ApiKey, utc_now
from functions.store.api_keys import (
    API_KEY_PREFIX,
    ApiKeyGrant,
    display_prefix,
    generate_api_key,
    hash_api_key,
    is_well_formed,
    new_api_key,
)


def test_a_key_is_the_prefix_and_43_base62_characters():
    key = generate_api_key()

    assert key.startswith(API_KEY_PREFIX)
    assert len(key) == len(API_KEY_PREFIX) + 43
    assert key[len(API_KEY_PREFIX) :].isalnum()
    assert is_well_formed(key)


def test_keys_are_random():
    assert len({generate_api_key() for _ in range(1000)}) == 1000


def test_a_key_is_known_by_its_sha256_and_shown_by_a_short_prefix():
    key = generate_api_key()
    api_key = new_api_key("acme", key, "ci")

    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_api_key(key)
    assert api_key.display_prefix == display_prefix(key) == key[: len(API_KEY_PREFIX) + 4]
    assert key not in api_key.model_dump_json()
    assert api_key.id.startswith("key_")
    assert api_key.active


@pytest.mark.parametrize(
    "candidate",
    ["", "dvc_live_", "dvc_live_" + "a" * 42, "dvc_live_" + "a" * 44, "dvc_test_" + "a" * 43, "dvc_live_" + "-" * 43],
)
def test_anything_else_is_not_a_well_formed_key(candidate: str):
    assert not is_well_formed(candidate)


class FakeKeys:
    """The authorizer's lookup over records kept in memory, answering with grants as ApiKeyGrants does."""

    def __init__(self, *keys: ApiKey) -> None:
        self._by_hash = {k.key_hash: k for k in keys}
        self.lookups = 0

    def find_by_hash(self, key_hash: str) -> ApiKeyGrant | None:
        self.lookups += 1
        record = self._by_hash.get(key_hash)
        if record is None:
            return None
        return ApiKeyGrant(
            id=record.id,
            kind=record.kind.value,
            application_id=record.application_id,
            revoked=record.revoked_at is not None,
            read_only=record.read_only,
            expires_at_epoch=int(record.expires_at.timestamp()) if record.expires_at else None,
        )


def test_an_active_key_authorizes_its_application():
    key = generate_api_key()

    record = new_api_key("acme", key)
    assert authorize(FakeKeys(record), f"Bearer {key}") == {
        "isAuthorized": True,
        "context": {"credential": "application", "key_id": record.id, "application_id": "acme"},
    }


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, MISSING),
        ("   ", MISSING),
        ("dvc_live_" + "a" * 43, MALFORMED),
        ("Basic dXNlcjpwYXNz", MALFORMED),
        ("Bearer sk_live_123", MALFORMED),
        ("Bearer dvc_live_" + "a" * 43, UNKNOWN),
    ],
)
def test_other_headers_are_refused_with_the_reason_in_the_context(header: str | None, reason: str):
    keys = FakeKeys()

    assert authorize(keys, header) == {"isAuthorized": True, "context": {"auth_error": reason}}
    assert keys.lookups == (1 if reason == UNKNOWN else 0)


def test_a_revoked_key_is_refused():
    key = generate_api_key()
    revoked = new_api_key("acme", key).model_copy(update={"revoked_at": utc_now()})

    assert authorize(FakeKeys(revoked), f"bearer  {key} ")["context"] == {"auth_error": REVOKED}


def test_the_presented_key_comes_from_the_identity_source_or_the_header():
    assert presented_key({"identitySource": ["Bearer a"], "headers": {"authorization": "Bearer b"}}) == "Bearer a"
    assert presented_key({"headers": {"Authorization": "Bearer b"}}) == "Bearer b"
    assert presented_key({"identitySource": [""], "headers": {}}) is None
