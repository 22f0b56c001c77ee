"""The authorizer's cold start: what its INIT and first request import and build (not how long they take)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.authorizer.handler import REVOKED, authorize
from functions.core.models import utc_now
from functions.store.api_keys import ApiKeyGrant, ApiKeyGrants, ApiKeyStore, generate_api_key, new_api_key
from tests.unit.fresh_python import imported_after


def test_the_authorizer_and_its_first_request_never_import_pydantic_nor_load_the_profile():
    modules = imported_after("import functions.authorizer.handler as h\nh._api_keys()")

    assert "boto3" in modules  # the lookup's client is built, so the first request's work was done
    assert not {m for m in modules if m.split(".")[0] in {"pydantic", "pydantic_core"}}
    assert "functions.core.profile" not in modules
    assert "functions.core.models" not in modules


class OneItemClient:
    """A DynamoDB client holding one API key item, as ApiKeyStore writes it."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        self.item = item
        self.requests: list[dict[str, Any]] = []

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"Item": self.item} if self.item is not None else {}


def stored(api_key: Any) -> dict[str, Any]:
    return ApiKeyStore(None, "t")._item(api_key)


@pytest.mark.parametrize("revoked", [False, True])
def test_a_grant_says_what_the_stored_record_says(revoked: bool):
    plaintext = generate_api_key()
    api_key = new_api_key("acme", plaintext)
    if revoked:
        api_key = api_key.model_copy(update={"revoked_at": utc_now()})
    client = OneItemClient(stored(api_key))

    grant = ApiKeyGrants(client, "t").find_by_hash(api_key.key_hash)
    record = ApiKeyStore(client, "t").find_by_hash(api_key.key_hash)

    assert grant == ApiKeyGrant(id=api_key.id, kind="application", application_id="acme", revoked=revoked)
    assert record is not None
    assert (grant.id, grant.application_id, grant.active) == (record.id, record.application_id, record.active)
    assert client.requests[0] == client.requests[1]  # the same consistent GetItem
    assert client.requests[0]["ConsistentRead"] is True


def test_an_unknown_hash_has_no_grant():
    assert ApiKeyGrants(OneItemClient(None), "t").find_by_hash("0" * 64) is None


def test_an_item_without_a_application_is_an_error_not_a_grant():
    item = stored(new_api_key("acme", generate_api_key()))
    del item["application_id"]

    with pytest.raises(ValueError, match="no application"):
        ApiKeyGrants(OneItemClient(item), "t").find_by_hash("0" * 64)


def test_the_authorizer_decides_on_a_grant():
    plaintext = generate_api_key()
    api_key = new_api_key("acme", plaintext).model_copy(update={"revoked_at": utc_now()})
    grants = ApiKeyGrants(OneItemClient(stored(api_key)), "t")

    assert authorize(grants, f"Bearer {plaintext}") == {"isAuthorized": True, "context": {"auth_error": REVOKED}}
