"""The deployment's event-type catalog: the profile's types plus the ones the platform registers.

- The profile's `event_types` seed the catalog. They are not copied into the table: a type of the
  profile is served from the profile until the platform changes it (PATCH), which stores the changed
  type and from then on replaces the profile's entry. A profile type cannot be deleted (409): it
  belongs to the deploy-time contract; deploy another profile to drop it.
- The platform registers more types (POST), changes (PATCH) and deletes (DELETE) them. A name the
  catalog already has is a 409.
- A profile with `event_types` makes the catalog closed: publishing a type outside it is refused.
  A profile without a catalog (`event_types: null`) accepts any dotted type; registered types then
  only document types and give them schemas.
- A `deprecated` type is still accepted for publishing; listings mark it.

Publishing looks a type up with `find`: one eventually consistent GetItem, remembered by the function
instance for LOOKUP_TTL_SECONDS, so a steady stream of events costs no read per publish; a type
registered, changed or deleted applies to publishing within that minute (the authorizer caches
credentials as long). The API's own reads are consistent and never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions.core.errors import ConflictError, InvalidRequestError, NotFoundError
from functions.core.profile import EventType, is_event_type
from functions.core.timestamps import utc_now

if TYPE_CHECKING:
    from functions.store.event_types import EventTypeStore, Source, StoredEventType


LOOKUP_TTL_SECONDS = 60.0
"""How long a function instance remembers a type it looked up for publishing (found or not)."""
MAX_REMEMBERED_TYPES = 1000
"""Past this many names (a client publishing ever new types) the memory starts again."""


@dataclass(frozen=True)
class CatalogEntry:
    event_type: EventType
    source: Source
    updated_at: datetime | None = None
    """When the platform last wrote it; None for a profile type it never changed."""


def _validation_message(error: ValidationError) -> str:
    problems = []
    for problem in error.errors()[:5]:
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        field = "schema" if field == "json_schema" else field
        problems.append(f"{field}: {str(problem['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)


class EventCatalog:
    def __init__(
        self,
        profile_types: list[EventType] | None,
        store: EventTypeStore,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        lookup_ttl_seconds: float = LOOKUP_TTL_SECONDS,
    ) -> None:
        self._profile = {t.name: t for t in profile_types or []}
        self.closed = profile_types is not None
        self._store = store
        self._clock = clock
        self._monotonic = monotonic
        self._ttl = lookup_ttl_seconds
        self._looked_up: dict[str, tuple[float, CatalogEntry | None]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _entry(stored: StoredEventType) -> CatalogEntry:
        return CatalogEntry(event_type=stored.event_type, source=stored.source, updated_at=stored.updated_at)

    def list(self) -> list[CatalogEntry]:
        """The profile's types in the profile's order (as changed by the platform), then the platform's by name."""
        stored = {s.event_type.name: s for s in self._store.list()}
        entries = [
            self._entry(stored.pop(name)) if name in stored else CatalogEntry(event_type=event_type, source="profile")
            for name, event_type in self._profile.items()
        ]
        entries.extend(self._entry(s) for s in stored.values() if s.source == "platform")
        return entries

    def lookup(self, name: str) -> CatalogEntry | None:
        """For publishing: `find`, remembered for LOOKUP_TTL_SECONDS (see the module's notes)."""
        now = self._monotonic()
        with self._lock:
            remembered = self._looked_up.get(name)
        if remembered is not None and now - remembered[0] < self._ttl:
            return remembered[1]
        entry = self.find(name)
        with self._lock:
            if len(self._looked_up) >= MAX_REMEMBERED_TYPES:
                self._looked_up.clear()
            self._looked_up[name] = (now, entry)
        return entry

    def find(self, name: str, *, consistent: bool = False) -> CatalogEntry | None:
        """None for a name that is no event type at all, without reading (it cannot be a key of the table)."""
        if not is_event_type(name):
            return None
        stored = self._store.find_consistent(name) if consistent else self._store.find(name)
        if stored is not None and (stored.source == "platform" or name in self._profile):
            return self._entry(stored)
        profile_type = self._profile.get(name)
        return None if profile_type is None else CatalogEntry(event_type=profile_type, source="profile")

    def get(self, name: str) -> CatalogEntry:
        entry = self.find(name, consistent=True)
        if entry is None:
            raise NotFoundError(f"no event type {name[:128]}")
        return entry

    def create(self, event_type: EventType) -> CatalogEntry:
        if event_type.name in self._profile:
            raise ConflictError(f"event type {event_type.name} already exists (it is one of the profile's)")
        from functions.store.event_types import StoredEventType  # noqa: PLC0415

        stored = StoredEventType(event_type=event_type, source="platform", updated_at=self._clock())
        self._store.create(stored)
        return self._entry(stored)

    def update(self, name: str, changes: dict[str, Any]) -> CatalogEntry:
        """Apply `changes` (fields by their API names; `schema: null` removes the schema)."""
        from functions.store.event_types import StoredEventType  # noqa: PLC0415

        current = self.get(name)
        document = {**current.event_type.model_dump(by_alias=True), **changes, "name": name}
        try:
            changed = EventType.model_validate(document)
        except ValidationError as error:
            raise InvalidRequestError(_validation_message(error)) from None
        stored = StoredEventType(event_type=changed, source=current.source, updated_at=self._clock())
        self._store.save(stored, expected_updated_at=current.updated_at)
        return self._entry(stored)

    def delete(self, name: str) -> None:
        if not is_event_type(name):
            raise NotFoundError(f"no event type {name[:128]}")
        if name in self._profile:
            raise ConflictError(
                f"event type {name} is one of the profile's: it can be changed or deprecated, not deleted"
            )
        if not self._store.delete(name):
            raise NotFoundError(f"no event type {name[:128]}")
