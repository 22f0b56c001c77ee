"""What `GET /portal/session` tells the portal page, for each kind of caller, through the real authorizer."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from functions.authorizer.handler import authorize
from functions.core.models import utc_now
from functions.management.credentials import create_api_key, create_platform_key, open_portal_session
from functions.portal.handler import handler
from functions.store.api_keys import ApiKeyGrants, ApiKeyStore
from tests.integration.conftest import APPLICATION, AwsResources


def _session_of(aws: AwsResources, token: str) -> tuple[int, dict[str, Any]]:
    decision = authorize(ApiKeyGrants(aws.dynamodb, aws.table_name), f"Bearer {token}")
    event = {
        "version": "2.0",
        "routeKey": "GET /portal/session",
        "rawPath": "/portal/session",
        "requestContext": {"authorizer": {"lambda": decision["context"]}},
    }
    response = handler(event, None)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def keys(aws: AwsResources) -> ApiKeyStore:
    return ApiKeyStore(aws.dynamodb, aws.table_name)


def test_a_session_learns_its_application_and_expiry(aws: AwsResources, keys: ApiKeyStore) -> None:
    session, token = open_portal_session(keys, APPLICATION, ttl_seconds=600)

    status, body = _session_of(aws, token)

    assert status == 200
    assert body["application_id"] == APPLICATION
    assert body["read_only"] is False
    assert body["credential"] == "portal_session"
    assert session.expires_at is not None
    assert body["expires_at"] == session.expires_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_read_only_session_is_told_so(aws: AwsResources, keys: ApiKeyStore) -> None:
    _, token = open_portal_session(keys, APPLICATION, read_only=True)

    status, body = _session_of(aws, token)

    assert status == 200
    assert body["read_only"] is True


def test_an_expired_or_revoked_credential_is_refused_with_the_reason(aws: AwsResources, keys: ApiKeyStore) -> None:
    _, expired = open_portal_session(keys, APPLICATION, ttl_seconds=60, now=utc_now() - timedelta(hours=1))
    revoked, revoked_token = open_portal_session(keys, APPLICATION)
    keys.revoke(APPLICATION, revoked.id, "portal_session")

    assert _session_of(aws, expired) == (
        401,
        {"error": {"type": "unauthorized", "message": "the portal session has expired; open a new one"}},
    )
    assert _session_of(aws, revoked_token)[0] == 401


def test_a_platform_key_has_no_application_to_show(aws: AwsResources, keys: ApiKeyStore) -> None:
    _, token = create_platform_key(keys)

    assert _session_of(aws, token)[0] == 403


def test_an_application_key_opens_the_portal_of_its_application(aws: AwsResources, keys: ApiKeyStore) -> None:
    _, token = create_api_key(keys, APPLICATION)

    status, body = _session_of(aws, token)

    assert status == 200
    assert body["application_id"] == APPLICATION
    assert body["expires_at"] is None
