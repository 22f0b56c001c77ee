"""The sender seam: a signed message in, a classified result out.

An attempt (functions/pipeline/attempt.py) signs the message and hands it to the `Sender`
for the endpoint; it never knows how the message travels. HTTPS
(functions/pipeline/http.py `HttpSender`) is the first implementation; each destination
type is one class with a `send` method, and classifies its own failures into a `Verdict`
(delivered, retry on the table, or gone: stop and disable the endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.core.classify import Verdict
from functions.core.models import Webhook


@dataclass(frozen=True)
class SignedMessage:
    delivery_id: str
    event_type: str
    body: bytes
    """The same bytes on every attempt: the envelope around the stored event."""
    headers: dict[str, str]
    """The contract's headers: signature, timestamp, delivery id, event type, content type."""


@dataclass(frozen=True)
class SendResult:
    verdict: Verdict
    latency_ms: int
    status: int | None = None
    """The receiver's status code; None when no answer came (timeout, refused, unreachable)."""
    error: str | None = None
    response_excerpt: str = ""
    """The start of what the receiver answered, as text, capped for the delivery log."""
    gone_reason: str | None = None
    """With a `gone` verdict: why the endpoint is disabled, when not the HTTPS 410."""
    retry_after_seconds: int | None = None
    """What a throttling receiver asked to wait before the next attempt (`Retry-After`), already
    capped at the profile's longest delay; None when it asked nothing."""


class Sender(Protocol):
    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult: ...
