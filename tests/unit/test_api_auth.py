"""Who may call what (functions/api/auth.py), without AWS."""

from __future__ import annotations

import time

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api import app as api_app
from functions.api.auth import (
    ApplicationDirectory,
    Caller,
    application_of,
    caller_of,
    check_access,
    scoped_application,
)
from functions.core.errors import ForbiddenError, InvalidRequestError, NotFoundError, UnauthorizedError

PLATFORM = Caller(credential="platform", key_id="key_p")
KEY_A = Caller(credential="application", key_id="key_a", application_id="acme")
READ_ONLY_A = Caller(credential="portal_session", application_id="acme", read_only=True)


def always(_: str) -> bool:
    return True


def never(_: str) -> bool:
    return False


@pytest.mark.parametrize("context", [None, {}, {"credential": "application"}, {"key_id": "key_x"}])
def test_no_credential_is_unauthorized(context: dict[str, str] | None) -> None:
    with pytest.raises(UnauthorizedError):
        caller_of(context)


def test_the_authorizers_refusal_is_passed_on() -> None:
    with pytest.raises(UnauthorizedError, match="revoked"):
        caller_of({"auth_error": "the API key has been revoked"})


def test_a_session_past_its_expiry_is_unauthorized_even_while_the_authorizer_cache_holds_it() -> None:
    context = {"credential": "portal_session", "application_id": "acme", "expires_at": 1_000}

    assert caller_of(context, now=999).application_id == "acme"
    with pytest.raises(UnauthorizedError, match="expired"):
        caller_of(context, now=1_000)


def test_a_context_with_only_an_application_is_an_application_key() -> None:
    assert caller_of({"application_id": "acme"}) == Caller(credential="application", application_id="acme")


def test_read_only_travels_as_a_string_in_the_context() -> None:
    assert caller_of({"credential": "portal_session", "application_id": "a", "read_only": "true"}).read_only
    assert not caller_of({"credential": "portal_session", "application_id": "a", "read_only": "false"}).read_only


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_a_read_only_session_may_not_change_anything(method: str) -> None:
    with pytest.raises(ForbiddenError, match="read-only"):
        check_access(READ_ONLY_A, method, "/v1/webhooks")
    check_access(READ_ONLY_A, "GET", "/v1/webhooks")


@pytest.mark.parametrize("path", ["/v1/applications", "/v1/applications/acme/webhooks", "/v1/platform-keys/key_1"])
def test_platform_paths_need_a_platform_key(path: str) -> None:
    with pytest.raises(ForbiddenError):
        check_access(KEY_A, "GET", path)
    check_access(PLATFORM, "GET", path)


def test_a_platform_key_acts_for_the_application_in_the_path() -> None:
    assert application_of(PLATFORM, "/v1/applications/globex/webhooks/wh_1", always) == "globex"


def test_an_invalid_application_id_in_the_path_names_the_field() -> None:
    with pytest.raises(InvalidRequestError, match=r"^application_id: "):
        application_of(PLATFORM, "/v1/applications/no%20spaces/webhooks", always)


def test_an_unknown_application_in_the_path_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        application_of(PLATFORM, "/v1/applications/nobody/webhooks", never)


def test_a_platform_key_has_no_application_of_its_own() -> None:
    with pytest.raises(ForbiddenError, match="/v1/applications/"):
        application_of(PLATFORM, "/v1/webhooks", always)


def test_an_application_key_acts_for_its_own_application_only() -> None:
    assert application_of(KEY_A, "/v1/webhooks", never) == "acme"
    with pytest.raises(ForbiddenError):
        application_of(KEY_A, "/v1/applications/acme/webhooks", always)


def test_the_scoped_application_is_read_from_the_path() -> None:
    assert scoped_application("/v1/applications/acme/events") == "acme"
    assert scoped_application("/v1/applications/acme") is None
    assert scoped_application("/v1/webhooks/wh_1") is None


def test_the_directory_reads_an_application_once_per_ttl() -> None:
    reads: list[str] = []

    def find(application_id: str) -> object | None:
        reads.append(application_id)
        return object()

    directory = ApplicationDirectory(find, ttl_seconds=60)
    assert all(directory.exists("acme") for _ in range(100))
    assert reads == ["acme"]

    directory.forget("acme")
    assert directory.exists("acme")
    assert reads == ["acme", "acme"]


def test_the_directory_does_not_remember_what_does_not_exist() -> None:
    reads: list[str] = []

    def find(application_id: str) -> object | None:
        reads.append(application_id)
        return None

    directory = ApplicationDirectory(find, ttl_seconds=60)
    assert not directory.exists("nobody")
    assert not directory.exists("nobody")
    assert reads == ["nobody", "nobody"]


def test_a_remembered_application_is_read_again_after_the_ttl() -> None:
    reads: list[str] = []
    directory = ApplicationDirectory(lambda a: reads.append(a) or object(), ttl_seconds=0.01)
    directory.exists("acme")
    time.sleep(0.02)
    directory.exists("acme")

    assert reads == ["acme", "acme"]


def test_the_route_key_positions_the_mirroring_relies_on() -> None:
    router = Router()

    @router.get("/v1/webhooks", operation_id="listWebhooks")
    def listing() -> dict[str, str]:
        return {}

    (route_key,) = router._routes
    assert route_key[api_app._RULE] == "/v1/webhooks"
    assert route_key[api_app._OPERATION_ID] == "listWebhooks"
