"""Bearer credentials: platform keys, application keys and portal sessions, and their items.

A credential is its kind's prefix + 43 base62 characters (32 random bytes):
`dvc_plat_…` (platform key), `dvc_live_…` (application key), `dvc_sess_…` (portal session
token). Only its sha256 is stored (the item's partition key, so the authorizer finds any
credential with one GetItem), with a short display prefix so people can tell their keys
apart. An index partition lists an application's keys, its sessions, or the platform's keys.

The authorizer reads credentials through `ApiKeyGrants`, which answers with the facts it
decides on and never builds the pydantic record, so its cold start does not import
pydantic; everything else uses `ApiKeyStore` and the `ApiKey` record.
"""

# ruff: noqa: PLC0415 - the pydantic record is imported on first use (the authorizer never uses it)

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.core.errors import NotFoundError
from functions.core.ids import new_id
from functions.store.pagination import Page, decode_cursor, encode_cursor
from functions.store.table import GSI1, api_key_index_keys, api_key_key, credentials_partition, from_item, to_item

if TYPE_CHECKING:
    from functions.core.models import ApiKey

PLATFORM, APPLICATION, PORTAL_SESSION = "platform", "application", "portal_session"
"""The `CredentialKind` values, spelled here so the authorizer does not import the records."""
KEY_PREFIXES = {PLATFORM: "dvc_plat_", APPLICATION: "dvc_live_", PORTAL_SESSION: "dvc_sess_"}
API_KEY_PREFIX = KEY_PREFIXES[APPLICATION]
API_KEY_RANDOM_BYTES = 32
DISPLAY_CHARS = len(API_KEY_PREFIX) + 4
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY_CHARS = 43  # 62**43 > 2**256
_KEY_SHAPE = re.compile(rf"^dvc_(plat|live|sess)_[0-9A-Za-z]{{{_BODY_CHARS}}}$")
_MAX_KEY_PAGES = 50


def generate_api_key(kind: str = APPLICATION) -> str:
    value = int.from_bytes(secrets.token_bytes(API_KEY_RANDOM_BYTES), "big")
    chars = []
    for _ in range(_BODY_CHARS):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return KEY_PREFIXES[kind] + "".join(reversed(chars))


def is_well_formed(plaintext: str) -> bool:
    return bool(_KEY_SHAPE.fullmatch(plaintext))


def kind_of(plaintext: str) -> str | None:
    """The kind a well-formed credential's prefix names."""
    for kind, prefix in KEY_PREFIXES.items():
        if plaintext.startswith(prefix):
            return kind
    return None


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def display_prefix(plaintext: str) -> str:
    return plaintext[:DISPLAY_CHARS]


def new_api_key(
    application_id: str | None,
    plaintext: str,
    description: str = "",
    *,
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> ApiKey:
    """The record of `plaintext`, of the kind its prefix names."""
    from functions.core.models import ApiKey, CredentialKind, utc_now

    kind = CredentialKind(kind_of(plaintext) or APPLICATION)
    if (kind is CredentialKind.PLATFORM) != (application_id is None):
        raise ValueError("a platform key has no application; every other credential has one")
    return ApiKey(
        id=new_id("key"),
        kind=kind,
        application_id=application_id,
        key_hash=hash_api_key(plaintext),
        display_prefix=display_prefix(plaintext),
        created_at=utc_now(),
        description=description,
        read_only=read_only,
        expires_at=expires_at,
    )


class ApiKeyStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, api_key: ApiKey) -> dict[str, Any]:
        expires_epoch = int(api_key.expires_at.timestamp()) + 86_400 if api_key.expires_at else None
        return to_item(
            {
                **api_key_key(api_key.key_hash),
                **api_key_index_keys(api_key.kind.value, api_key.application_id, api_key.id),
                "kind": "api_key",
                **api_key.model_dump(mode="json", exclude={"kind"}),
                "credential": api_key.kind.value,
                "expires_at_epoch": expires_epoch,  # a session's item goes a day after it stops working
            }
        )

    def create(self, api_key: ApiKey) -> None:
        self._client.put_item(
            TableName=self._table, Item=self._item(api_key), ConditionExpression="attribute_not_exists(pk)"
        )

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        item = _get_by_hash(self._client, self._table, key_hash)
        return _record(item) if item else None

    def _query(self, kind: str, application_id: str | None, **extra: Any) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :key)",
            "ExpressionAttributeValues": to_item({":pk": credentials_partition(kind, application_id), ":key": "KEY#"}),
            **extra,
        }
        for _ in range(_MAX_KEY_PAGES):
            response = self._client.query(**kwargs)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list(self, application_id: str | None, kind: str = APPLICATION) -> list[ApiKey]:
        """Every credential of the kind (revoked ones included), oldest first."""
        return [_record(item) for item in self._query(kind, application_id)]

    def page(
        self, application_id: str | None, kind: str = APPLICATION, *, limit: int, cursor: str | None = None
    ) -> Page[ApiKey]:
        """A page of the kind's credentials, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :key)",
            "ExpressionAttributeValues": to_item({":pk": credentials_partition(kind, application_id), ":key": "KEY#"}),
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor:
            last_id = decode_cursor(cursor, "key")
            found = self.find(application_id, last_id, kind)
            if found is None:
                return Page(items=[], next_cursor=None)
            kwargs["ExclusiveStartKey"] = to_item(
                {**api_key_key(found.key_hash), **api_key_index_keys(kind, application_id, last_id)}
            )
        response = self._client.query(**kwargs)
        items = [_record(item) for item in response["Items"]]
        page = items[:limit]
        more = len(items) > limit
        return Page(items=page, next_cursor=encode_cursor(page[-1].id) if more and page else None)

    def find(self, application_id: str | None, key_id: str, kind: str = APPLICATION) -> ApiKey | None:
        keys = api_key_index_keys(kind, application_id, key_id)
        response = self._client.query(
            TableName=self._table,
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk = :sk",
            ExpressionAttributeValues=to_item({":pk": keys["gsi1pk"], ":sk": keys["gsi1sk"]}),
        )
        items = response["Items"]
        return _record(items[0]) if items else None

    def revoke(self, application_id: str | None, key_id: str, kind: str = APPLICATION) -> ApiKey:
        """Revoke the credential (idempotent: a revoked one keeps its first revocation time)."""
        api_key = self.find(application_id, key_id, kind)
        if api_key is None:
            owner = "the platform" if application_id is None else f"application {application_id}"
            raise NotFoundError(f"no API key {key_id} of {owner}")
        return self._revoke(api_key)

    def revoke_all(self, application_id: str) -> int:
        """Revoke every key and portal session of the application; returns how many were active."""
        revoked = 0
        for kind in (APPLICATION, PORTAL_SESSION):
            for api_key in self.list(application_id, kind):
                if api_key.revoked_at is None:
                    self._revoke(api_key)
                    revoked += 1
        return revoked

    def _revoke(self, api_key: ApiKey) -> ApiKey:
        from functions.core.models import utc_now

        if api_key.revoked_at is not None:
            return api_key
        revoked = api_key.model_copy(update={"revoked_at": utc_now()})
        self._client.update_item(
            TableName=self._table,
            Key=to_item(api_key_key(api_key.key_hash)),
            UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
            ExpressionAttributeValues=to_item({":now": revoked.model_dump(mode="json")["revoked_at"]}),
        )
        return revoked


def _record(item: dict[str, Any]) -> ApiKey:
    from functions.core.models import ApiKey

    document = from_item(item)
    document["kind"] = document.pop("credential", APPLICATION)
    return ApiKey.model_validate(document)


def _get_by_hash(client: Any, table_name: str, key_hash: str) -> dict[str, Any] | None:
    """The key's item, read consistently so a revocation is seen at once."""
    response = client.get_item(TableName=table_name, Key=to_item(api_key_key(key_hash)), ConsistentRead=True)
    item: dict[str, Any] | None = response.get("Item")
    return item


@dataclass(frozen=True)
class ApiKeyGrant:
    """What the authorizer decides on: which credential, of what kind, for which application."""

    id: str
    kind: str
    application_id: str | None
    revoked: bool
    read_only: bool = False
    expires_at_epoch: int | None = None

    def active_at(self, now_epoch: float) -> bool:
        return not self.revoked and (self.expires_at_epoch is None or now_epoch < self.expires_at_epoch)

    @property
    def active(self) -> bool:
        return self.active_at(time.time())


class ApiKeyGrants:
    """The authorizer's read path: the same consistent GetItem as `ApiKeyStore.find_by_hash`,
    answered with an `ApiKeyGrant` instead of the pydantic `ApiKey` record."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def find_by_hash(self, key_hash: str) -> ApiKeyGrant | None:
        item = _get_by_hash(self._client, self._table, key_hash)
        if not item:
            return None
        document = from_item(item)
        key_id, kind = document.get("id"), document.get("credential", APPLICATION)
        application_id = document.get("application_id") or document.get("tenant_id")
        if not isinstance(key_id, str) or not key_id or kind not in KEY_PREFIXES:
            raise ValueError("the API key item has no id or an unknown kind")
        if kind != PLATFORM and not (isinstance(application_id, str) and application_id):
            raise ValueError("the API key item has no application")
        expires_at = document.get("expires_at")
        return ApiKeyGrant(
            id=key_id,
            kind=kind,
            application_id=application_id if kind != PLATFORM else None,
            revoked=document.get("revoked_at") is not None,
            read_only=bool(document.get("read_only", False)),
            expires_at_epoch=_epoch(expires_at) if isinstance(expires_at, str) else None,
        )


def _epoch(stored: str) -> int:
    """A stored timestamp (functions/core/timestamps.py) as epoch seconds, without building a record."""
    return int(datetime.fromisoformat(stored).timestamp())
