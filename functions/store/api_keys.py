"""API keys: the key material and its DynamoDB items.

A key is `dvc_live_` + 43 base62 characters (32 random bytes). Only its sha256 is stored
(the item's partition key, so the authorizer finds a key with one GetItem), with a short
display prefix so people can tell their keys apart. The application's GSI partition lists them.

The authorizer reads keys through `ApiKeyGrants`, which answers with the three facts it
decides on and never builds the pydantic record, so its cold start does not import pydantic;
everything else uses `ApiKeyStore` and the `ApiKey` record.
"""

# ruff: noqa: PLC0415 - the pydantic record is imported on first use (the authorizer never uses it)

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.core.errors import NotFoundError
from functions.core.ids import new_id
from functions.store.table import GSI1, api_key_index_keys, api_key_key, from_item, to_item

if TYPE_CHECKING:
    from functions.core.models import ApiKey

API_KEY_PREFIX = "dvc_live_"
API_KEY_RANDOM_BYTES = 32
DISPLAY_CHARS = len(API_KEY_PREFIX) + 4
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY_CHARS = 43  # 62**43 > 2**256
_KEY_SHAPE = re.compile(rf"^{API_KEY_PREFIX}[0-9A-Za-z]{{{_BODY_CHARS}}}$")
_MAX_KEY_PAGES = 50


def generate_api_key() -> str:
    value = int.from_bytes(secrets.token_bytes(API_KEY_RANDOM_BYTES), "big")
    chars = []
    for _ in range(_BODY_CHARS):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return API_KEY_PREFIX + "".join(reversed(chars))


def is_well_formed(plaintext: str) -> bool:
    return bool(_KEY_SHAPE.fullmatch(plaintext))


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def display_prefix(plaintext: str) -> str:
    return plaintext[:DISPLAY_CHARS]


def new_api_key(application_id: str, plaintext: str, description: str = "") -> ApiKey:
    from functions.core.models import ApiKey, utc_now

    return ApiKey(
        id=new_id("key"),
        application_id=application_id,
        key_hash=hash_api_key(plaintext),
        display_prefix=display_prefix(plaintext),
        created_at=utc_now(),
        description=description,
    )


class ApiKeyStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, api_key: ApiKey) -> dict[str, Any]:
        return to_item(
            {
                **api_key_key(api_key.key_hash),
                **api_key_index_keys(api_key.application_id, api_key.id),
                "kind": "api_key",
                **api_key.model_dump(mode="json"),
            }
        )

    def create(self, api_key: ApiKey) -> None:
        self._client.put_item(
            TableName=self._table, Item=self._item(api_key), ConditionExpression="attribute_not_exists(pk)"
        )

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        from functions.core.models import ApiKey

        item = _get_by_hash(self._client, self._table, key_hash)
        return ApiKey.model_validate(from_item(item)) if item else None

    def list(self, application_id: str) -> list[ApiKey]:
        """Every key of the application, revoked ones included, oldest first."""
        from functions.core.models import ApiKey

        keys = api_key_index_keys(application_id, "")
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :key)",
            "ExpressionAttributeValues": to_item({":pk": keys["gsi1pk"], ":key": keys["gsi1sk"]}),
        }
        found: list[ApiKey] = []
        for _ in range(_MAX_KEY_PAGES):
            response = self._client.query(**kwargs)
            found.extend(ApiKey.model_validate(from_item(i)) for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def find(self, application_id: str, key_id: str) -> ApiKey | None:
        from functions.core.models import ApiKey

        keys = api_key_index_keys(application_id, key_id)
        response = self._client.query(
            TableName=self._table,
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk = :sk",
            ExpressionAttributeValues=to_item({":pk": keys["gsi1pk"], ":sk": keys["gsi1sk"]}),
        )
        items = response["Items"]
        return ApiKey.model_validate(from_item(items[0])) if items else None

    def revoke(self, application_id: str, key_id: str) -> ApiKey:
        """Revoke the key (idempotent: a revoked key keeps its first revocation time)."""
        from functions.core.models import utc_now

        api_key = self.find(application_id, key_id)
        if api_key is None:
            raise NotFoundError(f"no API key {key_id} for application {application_id}")
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


def _get_by_hash(client: Any, table_name: str, key_hash: str) -> dict[str, Any] | None:
    """The key's item, read consistently so a revocation is seen at once."""
    response = client.get_item(TableName=table_name, Key=to_item(api_key_key(key_hash)), ConsistentRead=True)
    item: dict[str, Any] | None = response.get("Item")
    return item


@dataclass(frozen=True)
class ApiKeyGrant:
    """What the authorizer decides on: which key, whose application, and whether it still works."""

    id: str
    application_id: str
    active: bool


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
        key_id, application_id = document.get("id"), document.get("application_id")
        if not isinstance(key_id, str) or not key_id or not isinstance(application_id, str) or not application_id:
            raise ValueError("the API key item has no id or application_id")
        return ApiKeyGrant(id=key_id, application_id=application_id, active=document.get("revoked_at") is None)
