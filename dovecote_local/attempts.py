"""One readable line per delivery attempt, read from the delivery record after each deliver run.

    12:00:01 attempt 2/5 del_… → http://127.0.0.1:9000/hook 500 (31 ms), next retry in 120 s

The deliver function is observed, not changed: after each invocation (an SQS batch or a
Step Functions task) the deliveries it named are queued, and a printer thread reads them back
and prints their new attempts, so printing never holds up a poller.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from dovecote_local.lambdas import LocalFunction
from functions.core.models import Attempt, Delivery, DeliveryStatus
from functions.store.deliveries import DeliveryStore
from functions.store.webhooks import WebhookStore

_MAX_TRACKED_DELIVERIES = 10_000
_STOP_SECONDS = 5
log = logging.getLogger("dovecote-local")


def delivery_references(event: Any) -> Iterator[tuple[str, str]]:
    """(application id, delivery id) pairs named by a deliver event: a task input (a retry group's
    members) or SQS records."""
    if not isinstance(event, dict):
        return
    application_id = event.get("application_id")
    if isinstance(application_id, str) and isinstance(event.get("delivery_id"), str):
        yield application_id, event["delivery_id"]
    if isinstance(application_id, str) and isinstance(event.get("members"), list):
        for member in event["members"]:
            if isinstance(member, dict) and isinstance(member.get("delivery_id"), str):
                yield application_id, member["delivery_id"]
    for record in event.get("Records") or []:
        try:
            body = json.loads(record.get("body") or "")
        except (TypeError, ValueError):
            continue
        yield from delivery_references(body)


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


def describe_attempt(delivery: Delivery, attempt: Attempt, max_attempts: int, url: str) -> str:
    outcome = str(attempt.response_status) if attempt.response_status is not None else (attempt.error or "error")
    line = (
        f"{attempt.attempted_at.astimezone().strftime('%H:%M:%S')} attempt {attempt.number}/{max_attempts} "
        f"{delivery.id} → {url} {outcome} ({attempt.latency_ms} ms)"
    )
    is_last = attempt is delivery.last_attempt
    if is_last and delivery.status is not DeliveryStatus.PENDING:
        return f"{line}, {delivery.status.value}"
    if attempt.next_retry_at is not None:
        seconds = (attempt.next_retry_at - attempt.attempted_at).total_seconds()
        return f"{line}, next retry in {_seconds(seconds)}"
    return line


class AttemptLog:
    def __init__(self, client: Any, table_name: str, max_attempts: int, write: Callable[[str], None]) -> None:
        self._deliveries = DeliveryStore(client, table_name)
        self._webhooks = WebhookStore(client, table_name)
        self._max_attempts = max_attempts
        self._write = write
        self._printed: dict[str, int] = {}
        self._urls: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._reported: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._printer = threading.Thread(target=self._print_until_stopped, name="attempt-log", daemon=True)

    def observer(self, deliver_function_name: str) -> Callable[[LocalFunction, Any, Any], None]:
        def observe(function: LocalFunction, event: Any, _result: Any) -> None:
            if function.name == deliver_function_name:
                for reference in set(delivery_references(event)):
                    self._reported.put(reference)

        return observe

    def start(self) -> None:
        self._printer.start()

    def stop(self) -> None:
        """Print what is already queued, then stop."""
        if self._printer.is_alive():
            self._reported.put(None)
            self._printer.join(_STOP_SECONDS)

    def _print_until_stopped(self) -> None:
        while (reference := self._reported.get()) is not None:
            try:
                self.report(*reference)
            except Exception:
                log.debug("could not print the attempts of %s", reference[1], exc_info=True)

    def report(self, application_id: str, delivery_id: str) -> None:
        delivery = self._deliveries.find(application_id, delivery_id)
        if delivery is None:
            return
        with self._lock:
            key = delivery.id
            already = self._printed.get(key, 0)
            if already > len(delivery.attempts):  # a new series restarted the attempt list
                already = 0
            fresh = delivery.attempts[already:]
            if not fresh:
                return
            if len(self._printed) >= _MAX_TRACKED_DELIVERIES:
                self._printed.clear()
            self._printed[key] = len(delivery.attempts)
        url = self._url(application_id, delivery.webhook_id)
        for attempt in fresh:
            self._write(describe_attempt(delivery, attempt, self._max_attempts, url))

    def _url(self, application_id: str, webhook_id: str) -> str:
        key = (application_id, webhook_id)
        if key not in self._urls:
            webhook = self._webhooks.find(application_id, webhook_id)
            if webhook is None:
                return webhook_id
            self._urls[key] = webhook.url
        return self._urls[key]
