"""Lambda authorizer for the HTTP API: bearer credential → who the caller speaks for.

API Gateway calls it with the payload format 2.0 event (identity source
`$request.header.Authorization`, SIMPLE responses, results cached for 60 seconds per key).

It always answers `isAuthorized: true`. An HTTP API cannot shape the body of an
authorizer's denial (it would be a bare `{"message":"Forbidden"}` with status 403), so the
decision travels in the context instead: the credential's kind (`platform`, `application`,
`portal_session`), its application, and for sessions `read_only` and `expires_at`, for an
active credential; `{"auth_error": "<why>"}` for a malformed, unknown, revoked or expired
one. The backend's guard (functions/api/app.py) answers 401 with Dovecote's error envelope
whenever there is no credential, and 403 where the credential may not go. A request without
an Authorization header never gets here: API Gateway answers 401 itself. Because results
are cached, a revoked key keeps working for up to 60 seconds; a session's expiry is checked
again by the backend, so it holds to the second.

Keys are looked up by their sha256 (functions/store/api_keys.py); neither the key nor its
hash is ever logged. The lookup answers with an `ApiKeyGrant` (id, kind, application, state), not the
pydantic record: nothing this function runs imports pydantic or loads the profile, which
keeps its cold start, on the path of every uncached request, close to boto3's own.
"""

# ruff: noqa: PLC0415 - the client is built on first use, never at import time

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.logging import correlation_paths

from functions.runtime.lazy import LazyDependencies
from functions.runtime.observability import logger as service_logger
from functions.store.api_keys import ApiKeyGrant, hash_api_key, is_well_formed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = service_logger()

MISSING = "a valid API key is required (Authorization: Bearer <key>)"
MALFORMED = "the Authorization header must be 'Bearer <API key>' with a Dovecote API key"
UNKNOWN = "the API key is not valid"
REVOKED = "the API key has been revoked"
EXPIRED = "the portal session has expired; open a new one"


class KeyLookup(Protocol):
    def find_by_hash(self, key_hash: str, /) -> ApiKeyGrant | None: ...


def presented_key(event: dict[str, Any]) -> str | None:
    """The Authorization header's value: from the identity source, else from the headers."""
    sources = event.get("identitySource") or []
    if sources and sources[0]:
        return str(sources[0])
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return headers.get("authorization")


def authorize(api_keys: KeyLookup, authorization: str | None) -> dict[str, Any]:
    """The SIMPLE response for this Authorization header value."""
    if not authorization or not authorization.strip():
        return _refused(MISSING)
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not is_well_formed(key):
        return _refused(MALFORMED)
    grant = api_keys.find_by_hash(hash_api_key(key))
    if grant is None:
        return _refused(UNKNOWN)
    logger.append_keys(application_id=grant.application_id, api_key_id=grant.id, credential=grant.kind)
    if grant.revoked:
        return _refused(REVOKED)
    if not grant.active_at(time.time()):
        return _refused(EXPIRED)
    logger.info("API key accepted")
    return {"isAuthorized": True, "context": grant_context(grant)}


def grant_context(grant: ApiKeyGrant) -> dict[str, Any]:
    """What the functions behind the API learn of the caller (functions/api/app.py reads it)."""
    context: dict[str, Any] = {"credential": grant.kind, "key_id": grant.id}
    if grant.application_id is not None:
        context["application_id"] = grant.application_id
    if grant.read_only:
        context["read_only"] = True
    if grant.expires_at_epoch is not None:
        context["expires_at"] = grant.expires_at_epoch
    return context


def _refused(reason: str) -> dict[str, Any]:
    logger.info("API key refused", extra={"reason": reason})
    return {"isAuthorized": True, "context": {"auth_error": reason}}


def _build_api_keys() -> KeyLookup:
    from functions.runtime.clients import aws_client
    from functions.runtime.settings import Settings
    from functions.store.api_keys import ApiKeyGrants

    return ApiKeyGrants(aws_client("dynamodb"), Settings.for_function("authorizer").table_name)


_container: LazyDependencies[KeyLookup] = LazyDependencies(_build_api_keys)
_api_keys = _container.get
reset_dependencies = _container.reset


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(_api_keys(), presented_key(event))
