"""Platform routes (platform key only): applications, their API keys and portal sessions, platform keys.

An application is one customer of the platform. Its own routes (webhooks, events, the delivery
log) are reached with its application key on `/v1/…`, or with a platform key on
`/v1/applications/{application_id}/…` (functions/api/auth.py). Deleting an application
revokes its keys and sessions, deletes its webhooks (cancelling their pending retries) and
removes it, leaving a tombstone while its events and deliveries expire.
"""

# ruff: noqa: PLC0415 - a route imports what only it needs when first called (cold start)

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2
from pydantic import BaseModel

from functions.api.app import PlatformCaller, logger
from functions.api.auth import directory
from functions.api.operations import operation
from functions.api.responses import (
    ApiKeyList,
    ApiKeyObject,
    ApiKeyWithSecret,
    ApplicationList,
    ApplicationObject,
    DeletedApplication,
    PortalSessionObject,
)
from functions.core.errors import NotFoundError
from functions.management import credentials
from functions.management.dependencies import dependencies
from functions.management.platform_bodies import ApiKeyCreate, ApplicationCreate, ApplicationUpdate, PortalSessionCreate
from functions.management.routes import DEFAULT_PAGE_SIZE, Cursor, PageSize
from functions.portal import PORTAL_PATH

if TYPE_CHECKING:
    from functions.core.models import Application
    from functions.management.dependencies import ManagementDependencies

router = Router()

ApplicationId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="The application's id.")
]
KeyId = Annotated[str, Path(min_length=1, max_length=64, description="The key's id (`key_…`).")]
_TAG = "platform"
BodyT = TypeVar("BodyT", bound=BaseModel)
MAX_WEBHOOK_PAGES = 1_000


def _application(application_id: str) -> Application:
    logger.append_keys(application_id=application_id)
    return dependencies().applications.get(application_id)


def _for_application(application_id: str, body: BodyT | None, defaults: type[BodyT]) -> BodyT:
    """What to create under an application: it must exist (else 404); no body means every default."""
    _application(application_id)
    return body or defaults()


@router.post("/v1/applications", **operation("createApplication"))
def create_application(body: ApplicationCreate, caller: PlatformCaller) -> ApplicationObject:
    from functions.core.ids import new_id
    from functions.core.models import Application, utc_now

    now = utc_now()
    application = Application(
        id=body.id or new_id("app"),
        name=body.name,
        metadata=body.metadata,
        rate_limit_per_second=body.rate_limit_per_second,
        created_at=now,
        updated_at=now,
    )
    dependencies().applications.create(application)
    logger.info("application created", extra={"application_id": application.id})
    return ApplicationObject.from_record(application)


@router.get("/v1/applications", **operation("listApplications"))
def list_applications(
    caller: PlatformCaller, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> ApplicationList:
    page = dependencies().applications.list(limit=limit, cursor=cursor)
    return ApplicationList.from_page(page, url="/v1/applications")


@router.get("/v1/applications/<application_id>", **operation("getApplication"))
def get_application(application_id: ApplicationId, caller: PlatformCaller) -> ApplicationObject:
    return ApplicationObject.from_record(_application(application_id))


@router.patch("/v1/applications/<application_id>", **operation("updateApplication"))
def update_application(
    application_id: ApplicationId, body: ApplicationUpdate, caller: PlatformCaller
) -> ApplicationObject:
    from functions.core.models import utc_now

    application = _application(application_id)
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if "rate_limit_per_second" in body.model_fields_set:
        changes["rate_limit_per_second"] = body.rate_limit_per_second
    updated = application.model_copy(update={**changes, "updated_at": utc_now()})
    deps = dependencies()
    deps.applications.save(updated)
    if updated.rate_limit_per_second != application.rate_limit_per_second:
        _copy_rate_limit_to_webhooks(deps, application_id, updated.rate_limit_per_second)
    return ApplicationObject.from_record(updated)


def _copy_rate_limit_to_webhooks(deps: ManagementDependencies, application_id: str, limit: int | None) -> None:
    """Each webhook carries its application's default rate limit: the deliver function reads it there."""
    cursor = None
    while True:
        page = deps.webhooks.list(application_id, limit=100, cursor=cursor)
        for webhook in page.items:
            deps.webhooks.set_application_rate_limit(application_id, webhook.id, limit)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@router.delete("/v1/applications/<application_id>", **operation("deleteApplication"))
def delete_application(application_id: ApplicationId, caller: PlatformCaller) -> DeletedApplication:
    from functions.pipeline.cancellation import cancel_pending_deliveries

    _application(application_id)
    deps = dependencies()
    retention_seconds = deps.settings.profile.event_retention_days * 86_400
    revoked = deps.api_keys.revoke_all(application_id)
    deleted_webhooks, cursor = 0, None
    for _ in range(MAX_WEBHOOK_PAGES):
        page = deps.webhooks.list(application_id, limit=100, cursor=cursor)
        for webhook in page.items:
            deps.webhooks.delete(application_id, webhook.id, remember_seconds=retention_seconds)
            cancel_pending_deliveries(
                deps.deliveries, deps.executions, application_id, webhook.id, "application deleted"
            )
            deleted_webhooks += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    if not deps.applications.delete(application_id, remember_seconds=retention_seconds):
        raise NotFoundError(f"no application {application_id}")
    directory().forget(application_id)
    logger.info("application deleted", extra={"credentials_revoked": revoked, "webhooks_deleted": deleted_webhooks})
    return DeletedApplication.of(application_id)


@router.post("/v1/applications/<application_id>/api-keys", **operation("createApplicationKey"))
def create_application_key(
    application_id: ApplicationId, caller: PlatformCaller, body: ApiKeyCreate | None = None
) -> ApiKeyWithSecret:
    description = _for_application(application_id, body, ApiKeyCreate).description
    api_key, plaintext = credentials.create_api_key(dependencies().api_keys, application_id, description)
    logger.info("application key created", extra={"new_key_id": api_key.id})
    return ApiKeyWithSecret.with_key(api_key, plaintext)


@router.get("/v1/applications/<application_id>/api-keys", **operation("listApplicationKeys"))
def list_application_keys(
    application_id: ApplicationId, caller: PlatformCaller, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> ApiKeyList:
    _application(application_id)
    page = dependencies().api_keys.page(application_id, limit=limit, cursor=cursor)
    return ApiKeyList.from_page(page, url=f"/v1/applications/{application_id}/api-keys")


@router.delete("/v1/applications/<application_id>/api-keys/<key_id>", **operation("revokeApplicationKey"))
def revoke_application_key(application_id: ApplicationId, key_id: KeyId, caller: PlatformCaller) -> ApiKeyObject:
    _application(application_id)
    revoked = dependencies().api_keys.revoke(application_id, key_id)
    logger.info("application key revoked", extra={"revoked_key_id": key_id})
    return ApiKeyObject.from_record(revoked)


@router.post("/v1/applications/<application_id>/portal-sessions", **operation("createPortalSession"))
def create_portal_session(
    application_id: ApplicationId, caller: PlatformCaller, body: PortalSessionCreate | None = None
) -> PortalSessionObject:
    request = _for_application(application_id, body, PortalSessionCreate)
    session, token = credentials.open_portal_session(
        dependencies().api_keys, application_id, ttl_seconds=request.ttl_seconds, read_only=request.read_only
    )
    logger.info("portal session opened", extra={"session_id": session.id, "read_only": session.read_only})
    return PortalSessionObject.from_record(session, token, _portal_url())


def _portal_url() -> str:
    """The portal on the host this request came to (the API's own domain, or the local stack)."""
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEventV2)
    scheme = event.headers.get("x-forwarded-proto") or "https"
    host = event.request_context.domain_name or event.headers.get("host", "")
    return f"{scheme}://{host}{PORTAL_PATH}"


@router.post("/v1/platform-keys", **operation("createPlatformKey"))
def create_platform_key(caller: PlatformCaller, body: ApiKeyCreate | None = None) -> ApiKeyWithSecret:
    description = (body or ApiKeyCreate()).description
    api_key, plaintext = credentials.create_platform_key(dependencies().api_keys, description)
    logger.info("platform key created", extra={"new_key_id": api_key.id})
    return ApiKeyWithSecret.with_key(api_key, plaintext)


@router.get("/v1/platform-keys", **operation("listPlatformKeys"))
def list_platform_keys(
    caller: PlatformCaller, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> ApiKeyList:
    from functions.store.api_keys import PLATFORM

    page = dependencies().api_keys.page(None, PLATFORM, limit=limit, cursor=cursor)
    return ApiKeyList.from_page(page, url="/v1/platform-keys")


@router.delete("/v1/platform-keys/<key_id>", **operation("revokePlatformKey"))
def revoke_platform_key(key_id: KeyId, caller: PlatformCaller) -> ApiKeyObject:
    from functions.core.errors import ConflictError
    from functions.store.api_keys import PLATFORM

    if key_id == caller.key_id:
        raise ConflictError("this request is made with that key; revoke it with another platform key")
    revoked = dependencies().api_keys.revoke(None, key_id, PLATFORM)
    logger.info("platform key revoked", extra={"revoked_key_id": key_id})
    return ApiKeyObject.from_record(revoked)
