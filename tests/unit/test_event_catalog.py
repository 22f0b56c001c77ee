"""The event-type catalog's rules without AWS: schemas (functions/core/json_schemas.py), the merge of the
profile's types with the platform's and the publishing lookup (functions/core/catalog.py), who may change it
(functions/api/auth.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from functions.api import app as api_app
from functions.api.auth import Caller, check_access
from functions.core.catalog import EventCatalog
from functions.core.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from functions.core.json_schemas import SchemaError, check_schema, validate_data
from functions.core.profile import EventType, ProfileError, load_profile, parse_profile, profile_json
from functions.management.routes import router as management_router
from functions.store.event_types import StoredEventType

NOW = datetime(2026, 3, 4, 12, 0, 0)


class FakeEventTypeStore:
    """The store's contract in memory, counting reads."""

    def __init__(self) -> None:
        self.items: dict[str, StoredEventType] = {}
        self.reads = 0

    def find(self, name: str) -> StoredEventType | None:
        self.reads += 1
        return self.items.get(name)

    find_consistent = find

    def list(self) -> list[StoredEventType]:
        return [self.items[name] for name in sorted(self.items)]

    def create(self, stored: StoredEventType) -> None:
        if stored.event_type.name in self.items:
            raise ConflictError("exists")
        self.items[stored.event_type.name] = stored

    def save(self, stored: StoredEventType, *, expected_updated_at: datetime | None) -> None:
        self.items[stored.event_type.name] = stored

    def delete(self, name: str) -> bool:
        return self.items.pop(name, None) is not None


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def catalog(profile_types: list[EventType] | None, store: FakeEventTypeStore, ticker: Ticker | None = None):
    return EventCatalog(profile_types, store, clock=lambda: NOW, monotonic=ticker or Ticker())  # type: ignore[arg-type]


# Schemas ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference", ["https://schemas.example.com/a.json", "file:///etc/passwd", "other.json#/definitions/a"]
)
def test_a_schema_may_only_refer_to_its_own_parts(reference: str) -> None:
    with pytest.raises(SchemaError, match="may only refer to its own parts"):
        check_schema({"properties": {"a": {"$ref": reference}}})


def test_a_schema_referring_to_its_own_definitions_validates_through_them() -> None:
    schema = {"definitions": {"cents": {"type": "integer"}}, "properties": {"amount": {"$ref": "#/definitions/cents"}}}
    check_schema(schema)

    with pytest.raises(InvalidRequestError, match=r"^data\.amount: must be integer"):
        validate_data(schema, {"amount": 1.5})
    validate_data(schema, {"amount": 150})


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "strin"}, "Unknown type"),
        ({"minimum": "zero"}, "minimum must be a number"),
        ({"$schema": "https://json-schema.org/draft/2020-12/schema"}, "draft-04, draft-06, draft-07"),
        ([{"type": "object"}], "must be a JSON Schema"),
        ({"description": "x" * 70_000}, "larger than"),
    ],
)
def test_an_unusable_schema_is_refused_with_the_reason(schema: Any, reason: str) -> None:
    with pytest.raises(SchemaError, match=reason):
        check_schema(schema)


def test_a_profile_type_may_carry_a_schema_and_an_example_that_fits_it() -> None:
    document = json.loads(profile_json(load_profile("standard")))
    document["event_types"] = [
        {"name": "invoice.paid", "schema": {"type": "object", "required": ["amount"]}, "example": {"amount": 1}}
    ]
    [event_type] = parse_profile(json.dumps(document)).event_types or []
    assert event_type.json_schema == {"type": "object", "required": ["amount"]}

    document["event_types"][0]["example"] = {}
    with pytest.raises(ProfileError, match=r"event_types\.0\.example: .*does not fit the schema"):
        parse_profile(json.dumps(document))


# The catalog -----------------------------------------------------------------------------------------


def test_the_profiles_types_are_listed_first_then_the_platforms_by_name() -> None:
    store = FakeEventTypeStore()
    types = catalog([EventType(name="task.done"), EventType(name="task.failed")], store)
    types.create(EventType(name="zeta.one"))
    types.create(EventType(name="alpha.one"))
    types.update("task.failed", {"deprecated": True})

    listed = [(e.event_type.name, e.source, e.event_type.deprecated) for e in types.list()]

    assert listed == [
        ("task.done", "profile", False),
        ("task.failed", "profile", True),
        ("alpha.one", "platform", False),
        ("zeta.one", "platform", False),
    ]


def test_a_profile_type_cannot_be_registered_again_nor_deleted() -> None:
    types = catalog([EventType(name="task.done")], FakeEventTypeStore())

    with pytest.raises(ConflictError):
        types.create(EventType(name="task.done"))
    with pytest.raises(ConflictError, match="not deleted"):
        types.delete("task.done")
    with pytest.raises(NotFoundError):
        types.delete("never.registered")


def test_a_change_is_validated_as_a_whole() -> None:
    types = catalog(None, FakeEventTypeStore())
    types.create(EventType(name="a.b", example={"n": "one"}))

    with pytest.raises(InvalidRequestError, match=r"^example: does not fit the schema: example\.n"):
        types.update("a.b", {"schema": {"properties": {"n": {"type": "integer"}}}})


def test_publishing_remembers_a_looked_up_type_for_a_minute() -> None:
    store, ticker = FakeEventTypeStore(), Ticker()
    types = catalog(None, store, ticker)

    assert types.lookup("a.b") is None
    store.items["a.b"] = StoredEventType(event_type=EventType(name="a.b"), source="platform", updated_at=NOW)
    assert types.lookup("a.b") is None  # remembered, not read again
    assert store.reads == 1
    ticker.now += 60
    entry = types.lookup("a.b")
    assert entry is not None
    assert entry.event_type.name == "a.b"
    assert store.reads == 2


# Who may change it -----------------------------------------------------------------------------------

APPLICATION_KEY = Caller(credential="application", application_id="acme")
PLATFORM_KEY = Caller(credential="platform")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/event-types"), ("PATCH", "/v1/event-types/a.b"), ("DELETE", "/v1/event-types/a.b")],
)
def test_only_a_platform_key_may_change_the_catalog(method: str, path: str) -> None:
    with pytest.raises(ForbiddenError):
        check_access(APPLICATION_KEY, method, path)
    check_access(PLATFORM_KEY, method, path)
    check_access(APPLICATION_KEY, "GET", path)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/event-types"), ("POST", "/v1/event-types/a.b"), ("PUT", "/v1/event-types/a.b")],
)
def test_a_method_the_catalog_does_not_serve_is_left_to_the_405(method: str, path: str) -> None:
    check_access(APPLICATION_KEY, method, path)


def test_the_catalogs_changes_have_no_copy_under_an_application() -> None:
    scoped = {
        (key[api_app._METHODS], key[api_app._RULE])
        for key in api_app._scoped_for_platform(management_router)._routes
        if "event-types" in key[api_app._RULE]
    }
    assert scoped == {
        (("GET",), "/v1/applications/<application_id>/event-types"),
        (("GET",), "/v1/applications/<application_id>/event-types/<name>"),
    }
