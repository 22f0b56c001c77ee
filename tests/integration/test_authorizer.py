"""The API key authorizer on the sample events in events/authorizer, against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.authorizer import handler as authorizer
from functions.core.models import utc_now
from functions.management.credentials import create_api_key
from functions.store.api_keys import ApiKeyStore, hash_api_key, new_api_key
from tests.integration.conftest import AwsResources, FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events" / "authorizer"
SAMPLE_KEY = "dvc_live_SamLocalExampleKeyNotASecret0123456789abcde"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def api_keys(aws: AwsResources) -> ApiKeyStore:
    return ApiKeyStore(aws.dynamodb, aws.table_name)


def test_the_valid_sample_key_maps_to_its_application(api_keys, lambda_context: FakeLambdaContext):
    api_keys.create(new_api_key("demo", SAMPLE_KEY, "sam local"))

    response = authorizer.handler(load("valid"), lambda_context)

    assert response["isAuthorized"] is True
    assert response["context"] == {
        "credential": "application",
        "key_id": api_keys.list("demo")[0].id,
        "application_id": "demo",
    }


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed", authorizer.MALFORMED),
        ("wrong-scheme", authorizer.MALFORMED),
        ("unknown", authorizer.UNKNOWN),
        ("missing", authorizer.MISSING),
    ],
)
def test_a_refused_key_passes_the_reason_instead_of_a_application(
    api_keys, lambda_context: FakeLambdaContext, name: str, reason: str
):
    api_keys.create(new_api_key("demo", SAMPLE_KEY))

    response = authorizer.handler(load(name), lambda_context)

    assert response == {"isAuthorized": True, "context": {"auth_error": reason}}


def test_a_revoked_key_is_refused(api_keys, lambda_context: FakeLambdaContext):
    api_key, plaintext = create_api_key(api_keys, "acme")
    api_keys.revoke("acme", api_key.id)
    event = load("valid")
    event["identitySource"] = [f"Bearer {plaintext}"]

    response = authorizer.handler(event, lambda_context)

    assert response == {"isAuthorized": True, "context": {"auth_error": authorizer.REVOKED}}


def test_the_header_is_read_when_the_identity_source_is_absent(api_keys, lambda_context: FakeLambdaContext):
    _, plaintext = create_api_key(api_keys, "acme")
    event = load("missing")
    event["headers"]["Authorization"] = f"bearer {plaintext}"

    assert authorizer.handler(event, lambda_context)["context"]["application_id"] == "acme"


def test_only_the_hash_of_a_key_is_stored(api_keys, aws: AwsResources):
    _, plaintext = create_api_key(api_keys, "acme", "ci")

    items = aws.dynamodb.scan(TableName=aws.table_name)["Items"]

    assert len(items) == 1
    assert plaintext not in json.dumps(items)
    assert items[0]["pk"] == {"S": f"KEY#{hash_api_key(plaintext)}"}


def test_neither_the_key_nor_its_hash_is_logged(api_keys, lambda_context, dovecote_logs):
    _, plaintext = create_api_key(api_keys, "acme")
    event = load("valid")
    event["identitySource"] = [f"Bearer {plaintext}"]

    authorizer.handler(event, lambda_context)
    authorizer.handler(load("unknown"), lambda_context)

    logged = dovecote_logs.getvalue()
    assert "API key accepted" in logged
    assert "API key refused" in logged
    assert plaintext not in logged
    assert hash_api_key(plaintext) not in logged
    assert "0" * 43 not in logged


def test_the_store_answers_with_a_consistent_read(api_keys):
    api_key, plaintext = create_api_key(api_keys, "acme")

    found = api_keys.find_by_hash(hash_api_key(plaintext))

    assert found is not None
    assert found.id == api_key.id
    assert found.created_at <= utc_now()
