"""Publishing an event: validate, store, queue. Nothing is accepted unless it is in SQS.

The event is stored first, with one conditional put of its row (so it can be read back at
once), then sent to the events queue. The row is the idempotency claim: a caller-chosen `id`
dedupes on it, and so does an `Idempotency-Key` without an id, whose event id is derived
from (application, key), the same for every repeat:

- a repeat of an accepted request answers the same 202 with the same id and created_at,
  and queues the event again: the first request may have stopped between storing and
  queueing, and fan-out and deliver absorb a duplicate (delivery ids are deterministic,
  an attempt that is logged is not repeated);
- a repeat with a different type or data answers 409 (the key or id was reused by mistake);
- when SendMessage fails the event row is deleted again and the answer is 503, so the
  caller's retry (with the same key or id) starts afresh.

So a publish costs one DynamoDB write, with or without an Idempotency-Key; the first publish of a
type in a function instance each minute also reads the type's catalog entry (functions/core/catalog.py),
whose schema, when it has one, `data` must fit (422 naming the path, e.g. `data.amount: …`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.catalog import CatalogEntry, EventCatalog
from functions.core.constants import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_CHARS
from functions.core.envelope import NotJsonError, compact_json, javascript_unsafe_number
from functions.core.errors import (
    ConflictError,
    DovecoteError,
    InvalidRequestError,
    PayloadTooLargeError,
    ServiceUnavailableError,
)
from functions.core.ids import MAX_EVENT_ID_CHARS, is_event_id, keyed_id, new_id
from functions.core.models import Event
from functions.core.profile import Profile, is_event_type
from functions.core.timestamps import milliseconds, utc_now
from functions.pipeline.contract import EventReference
from functions.runtime.observability import logger as service_logger
from functions.store.events import EventStore
from functions.store.queues import SQS_BATCH_SIZE, Queue, QueueSendError
from functions.store.table import retention_expiry

log = service_logger(child=True)


def validate_event_type(event_type: str, catalog: EventCatalog) -> CatalogEntry | None:
    """The type's catalog entry (None when the catalog is open and does not have it); 422 if it may not be published.

    A deprecated type may still be published: deprecation tells subscribers, it does not break publishers.
    """
    if not is_event_type(event_type):
        raise InvalidRequestError("type: must be a dotted lower-case name such as task.completed")
    entry = catalog.lookup(event_type)
    if entry is None and catalog.closed:
        raise InvalidRequestError(f"type: {event_type!r} is not in this deployment's event catalog")
    return entry


def validate_data(entry: CatalogEntry | None, data: Any) -> None:
    """422 naming the JSON path (`data.amount: …`) when the type has a schema that `data` does not fit.

    Only a type with a schema imports the validator: publishing other types never loads it.
    """
    if entry is None or entry.event_type.json_schema is None:
        return
    from functions.core.json_schemas import validate_data as validate  # noqa: PLC0415

    validate(entry.event_type.json_schema, data)


def request_fingerprint(event_type: str, data_json: str) -> str:
    return hashlib.sha256(f"{event_type}\n{data_json}".encode()).hexdigest()


MAX_PARALLEL_WRITES = 16


@dataclass(frozen=True)
class PreparedEvent:
    """A valid event, ready to be stored: its row's fingerprint and expiry, and the size of its data."""

    event: Event
    fingerprint: str
    expires_at_epoch: int
    data_bytes: int


@dataclass(frozen=True)
class Published:
    event: Event
    repeat: bool
    """Published before with the same id or Idempotency-Key (and the same content): nothing new was stored."""


@dataclass(frozen=True, kw_only=True)
class EventPublisher:
    events_queue: Queue
    events: EventStore
    profile: Profile
    catalog: EventCatalog
    clock: Callable[[], datetime] = utc_now

    def publish(
        self,
        application_id: str,
        *,
        event_type: str,
        data: Any,
        request_bytes: int,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Event:
        if request_bytes > self.profile.max_payload_bytes:
            raise PayloadTooLargeError(f"the event exceeds this deployment's {self.profile.max_payload_bytes} bytes")
        prepared = self.prepare(application_id, event_type, data, event_id, idempotency_key)
        return self.store_and_enqueue(prepared.event, prepared.expires_at_epoch, prepared.fingerprint)

    def prepare(
        self, application_id: str, event_type: str, data: Any, event_id: str | None, idempotency_key: str | None
    ) -> PreparedEvent:
        """The event a publish stores, once every field is valid; InvalidRequestError naming the first that is not."""
        entry = validate_event_type(event_type, self.catalog)
        if event_id is not None and not is_event_id(event_id):
            raise InvalidRequestError(
                f"id: 1 to {MAX_EVENT_ID_CHARS} characters of A-Z, a-z, 0-9 and _ . : - (a UUID, order-42),"
                " not `batch`, or leave it out"
            )
        if idempotency_key is not None and (
            len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS or not IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key)
        ):
            raise InvalidRequestError(
                f"Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces"
            )
        try:
            data_json = compact_json(data)
        except NotJsonError as error:
            raise InvalidRequestError(f"data: {error}") from None
        validate_data(entry, data)
        if self.profile.envelope.js_reserializable:
            unsafe = javascript_unsafe_number(data)
            if unsafe is not None:
                raise InvalidRequestError(
                    f"{unsafe}: JavaScript cannot carry this number exactly (receivers of this deployment verify"
                    " JSON.stringify(JSON.parse(body))); send it as a string"
                )
        now = milliseconds(self.clock())
        if event_id is None and idempotency_key is not None:
            event_id = idempotent_event_id(application_id, idempotency_key)
        event = Event(
            id=event_id or new_id("evt", now_ms=int(now.timestamp() * 1000)),
            application_id=application_id,
            type=event_type,
            data=data,
            created_at=now,
            idempotency_key=idempotency_key,
        )
        return PreparedEvent(
            event=event,
            fingerprint=request_fingerprint(event_type, data_json),
            expires_at_epoch=retention_expiry(now, self.profile.event_retention_days),
            data_bytes=len(data_json.encode("utf-8")),
        )

    def publish_batch(self, items: Sequence[PreparedEvent | DovecoteError]) -> list[Published | DovecoteError]:
        """Store and queue every prepared event of a batch (the others keep their error), in one go:
        the rows are written in parallel, the queue gets SendMessageBatch calls of ten; each item ends
        published (a repeat of an earlier publish, or not) or with the error of that item alone."""
        outcomes: list[Published | DovecoteError | PreparedEvent] = list(items)
        stored: dict[int, bool] = {}  # position → whether this request wrote the row

        def store(position: int) -> None:
            prepared = items[position]
            assert isinstance(prepared, PreparedEvent)
            try:
                existing = self.events.put_new(prepared.event, prepared.expires_at_epoch, prepared.fingerprint)
            except Exception:  # one row that cannot be written fails its item, not the batch
                log.exception("an event of a batch could not be stored", extra={"event_id": prepared.event.id})
                outcomes[position] = ServiceUnavailableError("the event could not be stored; retry it")
                return
            if existing is None:
                outcomes[position], stored[position] = Published(prepared.event, repeat=False), True
            elif existing.request_hash != prepared.fingerprint:
                outcomes[position] = ConflictError(_REUSED)
            else:
                outcomes[position], stored[position] = Published(existing.event, repeat=True), False

        positions = [position for position, item in enumerate(items) if isinstance(item, PreparedEvent)]
        if positions:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_WRITES, len(positions))) as pool:
                list(pool.map(store, positions))
        queued = sorted(stored)
        published = {position: outcome for position, outcome in enumerate(outcomes) if isinstance(outcome, Published)}
        messages = [event_reference(published[position].event).to_json() for position in queued]
        unsent = {
            queued[start + failed]
            for start in range(0, len(messages), SQS_BATCH_SIZE)
            for failed in self.events_queue.send_batch(messages[start : start + SQS_BATCH_SIZE])
        }
        for position in unsent:
            event = published[position].event
            if stored[position]:
                self.events.forget(event.application_id, event.id)
            outcomes[position] = ServiceUnavailableError("the event could not be queued; retry it")
        log.info("event batch queued", extra={"events": len(items), "queued": len(queued) - len(unsent)})
        finished = [outcome for outcome in outcomes if not isinstance(outcome, PreparedEvent)]
        assert len(finished) == len(items), "every item of the batch ends published or with its error"
        return finished

    def store_and_enqueue(self, event: Event, expires_at_epoch: int, fingerprint: str | None = None) -> Event:
        """Store `event` (or find it stored by an earlier request with the same fingerprint) and queue it."""
        existing = self.events.put_new(event, expires_at_epoch, fingerprint)
        if existing is not None:
            _check_same_request(existing.request_hash, fingerprint)
            event = existing.event
        try:
            self.events_queue.send(event_reference(event).to_json())
        except QueueSendError as error:
            log.error("the events queue refused an event", extra={"event_id": event.id, "error": str(error)})
            if existing is None:
                self.events.forget(event.application_id, event.id)
            raise ServiceUnavailableError("the event could not be queued; retry the request") from None
        log.info("event queued", extra={"event_id": event.id, "event_type": event.type, "repeat": existing is not None})
        return event


def idempotent_event_id(application_id: str, idempotency_key: str) -> str:
    """The event an Idempotency-Key (without an id) publishes: the same key of the same application, the same row."""
    return keyed_id("evt", f"{application_id}\nidempotency-key\n{idempotency_key}")


def event_reference(event: Event) -> EventReference:
    """What the events queue carries for a stored event: ids and its type, never its data."""
    return EventReference(
        application_id=event.application_id,
        event_id=event.id,
        event_type=event.type,
        created_at=event.created_at,
        webhook_id=event.webhook_id,
    )


_REUSED = "this event id or Idempotency-Key was already used for a different event; use a new one"


def _check_same_request(stored_hash: str | None, fingerprint: str | None) -> None:
    if stored_hash != fingerprint:
        raise ConflictError(_REUSED)
