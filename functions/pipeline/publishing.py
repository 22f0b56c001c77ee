"""Publishing an event: validate, dedupe, queue. Nothing is accepted unless it is in SQS.

Without a caller id or Idempotency-Key there is nothing to dedupe: the event gets a new
`evt_` id and goes straight to the events queue (no DynamoDB write at all). With one, a
claim record is written first with a conditional put, keyed `id:<event id>` when the
caller chose the event id and `key:<Idempotency-Key>` otherwise:

- a repeat of a request whose event is queued answers the same 202 and queues nothing;
- a repeat with a different type or data answers 409 (the key was reused by mistake);
- a repeat while the first request is still between its claim and its SendMessage
  answers 409 "in progress" (as Stripe does); a claim abandoned for longer than
  CLAIM_TIMEOUT (the first request crashed) is taken over and the event queued by the
  repeat, with the same id and created_at;
- when SendMessage fails the claim is released and the answer is 503, so the caller's
  retry starts afresh.

Fan-out dedupes again on the event id, so even a duplicate message (a claim that could
not be marked as queued) never creates a second delivery.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from functions.core.envelope import NotJsonError, compact_json
from functions.core.errors import ConflictError, DovecoteError, InvalidRequestError, PayloadTooLargeError
from functions.core.ids import has_prefix, new_id
from functions.core.models import Event, utc_now
from functions.core.profile import EVENT_TYPE_PATTERN, Profile
from functions.pipeline.fanout import retention_expiry
from functions.pipeline.messages import event_message
from functions.store.events import IdempotencyStore, PublishClaim
from functions.store.queues import Queue, QueueSendError

log = Logger(service="dovecote", child=True)

CLAIM_TIMEOUT = timedelta(seconds=60)
MAX_EVENT_TYPE_CHARS = 128
MAX_IDEMPOTENCY_KEY_CHARS = 255
_IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]+$")


class ServiceUnavailableError(DovecoteError):
    status_code = 503
    error_type = "service_unavailable"


def milliseconds(moment: datetime) -> datetime:
    """Timestamps are kept to the millisecond, the precision the API shows."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def validate_event_type(event_type: str, profile: Profile) -> None:
    if len(event_type) > MAX_EVENT_TYPE_CHARS or not EVENT_TYPE_PATTERN.fullmatch(event_type):
        raise InvalidRequestError("type: must be a dotted lower-case name such as task.completed")
    catalog = profile.catalog_names()
    if catalog is not None and event_type not in catalog:
        raise InvalidRequestError(f"type: {event_type!r} is not in this deployment's event catalog")


def request_fingerprint(event_type: str, data_json: str) -> str:
    return hashlib.sha256(f"{event_type}\n{data_json}".encode()).hexdigest()


class EventPublisher:
    def __init__(
        self,
        *,
        events_queue: Queue,
        idempotency: IdempotencyStore,
        profile: Profile,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._queue = events_queue
        self._idempotency = idempotency
        self._profile = profile
        self._clock = clock

    def publish(
        self,
        tenant_id: str,
        *,
        event_type: str,
        data: Any,
        request_bytes: int,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Event:
        if request_bytes > self._profile.max_payload_bytes:
            raise PayloadTooLargeError(f"the event exceeds this deployment's {self._profile.max_payload_bytes} bytes")
        validate_event_type(event_type, self._profile)
        if event_id is not None and not has_prefix(event_id, "evt"):
            raise InvalidRequestError("id: must be an evt_ id (26 base32 characters after evt_), or leave it out")
        if idempotency_key is not None and (
            len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS or not _IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key)
        ):
            raise InvalidRequestError(
                f"Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces"
            )
        try:
            data_json = compact_json(data)
        except NotJsonError as error:
            raise InvalidRequestError(f"data: {error}") from None
        now = milliseconds(self._clock())
        event = Event(
            id=event_id or new_id("evt"),
            tenant_id=tenant_id,
            type=event_type,
            data=data,
            created_at=now,
            idempotency_key=idempotency_key,
        )
        if event_id is None and idempotency_key is None:
            self._enqueue(event)
            return event
        dedupe_key = f"id:{event_id}" if event_id is not None else f"key:{idempotency_key}"
        return self._publish_once(event, dedupe_key, request_fingerprint(event_type, data_json), now)

    def _publish_once(self, event: Event, dedupe_key: str, fingerprint: str, now: datetime) -> Event:
        claim = PublishClaim(
            event_id=event.id, event_type=event.type, created_at=now, request_hash=fingerprint, claimed_at=now
        )
        expires = retention_expiry(now, self._profile.event_retention_days)
        existing = self._idempotency.claim(event.tenant_id, dedupe_key, claim, expires)
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise ConflictError(
                    "this event id or Idempotency-Key was already used for a different event; use a new one"
                )
            event = event.model_copy(update={"id": existing.event_id, "created_at": existing.created_at})
            if existing.enqueued:
                return event
            abandoned = existing.claimed_at < now - CLAIM_TIMEOUT
            if not abandoned or not self._idempotency.take_over(
                event.tenant_id, dedupe_key, existing.event_id, now - CLAIM_TIMEOUT, now
            ):
                raise ConflictError("a request with this event id or Idempotency-Key is in progress; retry shortly")
        try:
            self._enqueue(event)
        except ServiceUnavailableError:
            self._idempotency.release(event.tenant_id, dedupe_key, event.id)
            raise
        try:
            self._idempotency.mark_enqueued(event.tenant_id, dedupe_key, event.id)
        except Exception:
            # The event is queued; a later repeat may queue it again, which fan-out absorbs.
            log.exception("could not mark an idempotency claim as queued", extra={"event_id": event.id})
        return event

    def _enqueue(self, event: Event) -> None:
        try:
            self._queue.send(event_message(event))
        except QueueSendError as error:
            log.error("the events queue refused an event", extra={"event_id": event.id, "error": str(error)})
            raise ServiceUnavailableError("the event could not be queued; retry the request") from None
        log.info("event queued", extra={"event_id": event.id, "event_type": event.type})
