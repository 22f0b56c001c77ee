"""Credentials of every kind in the table: minted, listed, revoked, expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.authorizer.handler import EXPIRED, REVOKED, authorize
from functions.core.errors import InvalidRequestError, NotFoundError
from functions.core.models import utc_now
from functions.management.credentials import create_api_key, create_platform_key, open_portal_session
from functions.store.api_keys import ApiKeyGrants, ApiKeyStore
from tests.integration.conftest import AwsResources


@pytest.fixture
def store(aws: AwsResources) -> ApiKeyStore:
    return ApiKeyStore(aws.dynamodb, aws.table_name)


@pytest.fixture
def grants(aws: AwsResources) -> ApiKeyGrants:
    return ApiKeyGrants(aws.dynamodb, aws.table_name)


def test_each_kind_has_its_prefix_and_the_authorizer_tells_them_apart(store, grants):
    _, platform = create_platform_key(store, "backend")
    _, application = create_api_key(store, "acme")
    _, session = open_portal_session(store, "acme", read_only=True)

    assert (platform[:9], application[:9], session[:9]) == ("dvc_plat_", "dvc_live_", "dvc_sess_")
    assert authorize(grants, f"Bearer {platform}")["context"]["credential"] == "platform"
    assert "application_id" not in authorize(grants, f"Bearer {platform}")["context"]
    assert authorize(grants, f"Bearer {application}")["context"]["application_id"] == "acme"
    session_context = authorize(grants, f"Bearer {session}")["context"]
    assert session_context["credential"] == "portal_session"
    assert session_context["read_only"] is True
    assert session_context["expires_at"] > utc_now().timestamp()


def test_an_expired_session_is_refused(store, grants):
    _, token = open_portal_session(store, "acme", ttl_seconds=60, now=utc_now() - timedelta(seconds=61))

    assert authorize(grants, f"Bearer {token}")["context"] == {"auth_error": EXPIRED}


@pytest.mark.parametrize("ttl", [59, 86_401, 0, -5])
def test_a_session_lives_one_minute_to_one_day(store, ttl: int):
    with pytest.raises(InvalidRequestError, match="ttl_seconds"):
        open_portal_session(store, "acme", ttl_seconds=ttl)


def test_revoking_is_idempotent_and_scoped_to_the_application(store):
    api_key, _ = create_api_key(store, "acme")
    first = store.revoke("acme", api_key.id)

    assert store.revoke("acme", api_key.id).revoked_at == first.revoked_at
    with pytest.raises(NotFoundError):
        store.revoke("globex", api_key.id)


def test_revoke_all_stops_an_applications_keys_and_sessions_and_no_one_elses(store, grants):
    _, acme_key = create_api_key(store, "acme")
    _, acme_session = open_portal_session(store, "acme")
    _, globex_key = create_api_key(store, "globex")
    _, platform = create_platform_key(store)

    assert store.revoke_all("acme") == 2

    assert authorize(grants, f"Bearer {acme_key}")["context"] == {"auth_error": REVOKED}
    assert authorize(grants, f"Bearer {acme_session}")["context"] == {"auth_error": REVOKED}
    assert "auth_error" not in authorize(grants, f"Bearer {globex_key}")["context"]
    assert "auth_error" not in authorize(grants, f"Bearer {platform}")["context"]


def test_platform_keys_list_apart_from_application_keys(store):
    platform, _ = create_platform_key(store)
    create_api_key(store, "acme")

    assert [k.id for k in store.list(None, "platform")] == [platform.id]
    assert len(store.list("acme")) == 1
    assert store.list("acme", "portal_session") == []


def test_a_page_of_keys_is_newest_first_with_a_cursor(store):
    made = [create_api_key(store, "acme", f"key {n}")[0].id for n in range(5)]

    first = store.page("acme", limit=2)
    second = store.page("acme", limit=2, cursor=first.next_cursor)
    third = store.page("acme", limit=2, cursor=second.next_cursor)

    assert [k.id for k in first.items + second.items + third.items] == made[::-1]
    assert third.next_cursor is None
