"""A delivery's way through the deliver function: attempt 1 from the queue, retries from the
state machine, and the end of a delivery whose retries ran out.

One walk, each module once: open the row (delivery_log) → read the endpoint and the event
(reads) → make the attempt (attempt: sign, send, classify) → record it (delivery_log) →
account for the endpoint's health (core/health). The deliveries of one endpoint still
pending after attempt 1 in the same deliver batch become one retry group, and one execution
(store/executions) attempts them together, each on its own log. Repeats are harmless at
each step: the log refuses a second entry for the same attempt, and the execution is named
after the group's first member and its series.

Each member's next attempt is due at its own time (functions/core/schedule.py
`next_attempts_at`: the table's delay from its own attempt, or later when a 429 or 503 among
the group's answers asked for more with `Retry-After`). So a step sends first and logs after:
every member's attempt is made, the due times are taken from all of them, then each attempt
is logged with its own as `next_retry_at`, and the earliest goes to the state machine (the
execution input's `next_attempt_at` for Wait 2, each Attempt's `TaskResult` for the later
Waits). When that Wait ends, the Attempt task sends each member as much later than its start
as the member's own due time is later than the earliest (at most MAX_MEMBER_HOLD_SECONDS), so
every delivery follows the table, however spread out its group's attempts were. An attempt that
ends its delivery (delivered, gone, the last) is logged at once: the happy path waits for no one.

A throttled StartExecution never loses a delivery: attempt 1 is already in its log, the
queue message comes back (a later receive starts the execution without repeating the
attempt), and on the message's last receive, rather than leaving it to the dead-letter
queue with the delivery pending for ever, the delivery ends `failed` with the reason in its
log (`POST /v1/deliveries/{id}/retry` or `/recover` sends it again).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from functions.core.constants import DELIVERIES_BATCH_SIZE, MAX_MEMBER_HOLD_SECONDS
from functions.core.health import EndpointHealth, HealthView
from functions.core.models import Delivery, DeliveryStatus, Webhook, utc_now
from functions.pipeline.attempt import Attempter, AttemptOutcome, Unsendable
from functions.pipeline.contract import (
    AttemptTask,
    DeliveryMessage,
    DeliveryRef,
    MarkFailedTask,
    NewDelivery,
    Outcome,
    RetryGroup,
    RetryMember,
    StateError,
    TaskResult,
)
from functions.pipeline.delivery_log import DeliveryLog, OpenDelivery, Settled
from functions.pipeline.reads import SharedReads
from functions.runtime.observability import logger as service_logger
from functions.store.batch_reads import BatchReader
from functions.store.events import EventStore
from functions.store.executions import RetryExecutions, StartThrottled
from functions.store.queues import Queue
from functions.store.webhooks import WebhookStore

if TYPE_CHECKING:
    # Operational events and rate limits are for failing deliveries and limited endpoints: their
    # modules are imported where they are used, not by every deliver cold start.
    from functions.pipeline.operational import OperationalEvents
    from functions.pipeline.rate_limit import RateLimiter

log = service_logger(child=True)

MAX_REASON_CHARS = 500
UNSCHEDULED_REASON = (
    "its retries could not be scheduled: Step Functions throttled StartExecution on every receive of its "
    "queue message (retry the delivery to send it again)"
)
RATE_LIMITED_REASON = (
    "the endpoint's rate limit left no slot for its last attempt: its retries exceeded what the limit lets "
    "through (retry the delivery to send it again)"
)
OUTCOME_OF_STATUS = {
    DeliveryStatus.PENDING: Outcome.RETRY,
    DeliveryStatus.SUCCEEDED: Outcome.SUCCEEDED,
    DeliveryStatus.FAILED: Outcome.FAILED,
    DeliveryStatus.CANCELLED: Outcome.CANCELLED,
}


@dataclass(frozen=True)
class StepResult:
    """What one step did, for the state machine (`outcome`) and the metrics."""

    outcome: Outcome
    pending: bool = False
    """The delivery is still pending in this series after the step: its retries must run."""
    latency_ms: int | None = None
    """Set when this step sent a request."""
    finished_as: DeliveryStatus | None = None
    """Set when this step ended the delivery."""
    retry_scheduled: bool = False
    """This step logged an attempt after which another is due."""
    webhook_id: str | None = None
    event_id: str | None = None
    repeated: bool = False
    """This attempt had been logged already: the step only repeated it (an SQS redelivery)."""
    next_attempt_at: datetime | None = None
    """With `pending`: when the next attempt is due, as logged."""


@dataclass(frozen=True)
class Sent:
    """An attempt made and not logged yet: its group's due time becomes its `next_retry_at`."""

    opened: OpenDelivery
    webhook: Webhook
    made: AttemptOutcome
    health: HealthView
    """The invocation's view of its endpoints' health, which the attempt's logging accounts in."""


BatchKey = tuple[str, str, int]
"""A queued series in a deliver batch: (application id, delivery id, series)."""
MAX_GROUP_CONCURRENCY = DELIVERIES_BATCH_SIZE
"""Members of a group attempted at the same time: all of them (a group comes from one deliver
batch), so a retry task lasts one attempt timeout at most."""


NO_SLOT = float("inf")
"""A retry's slot when its endpoint's rate limit has none for it within the task's wait."""


@dataclass(frozen=True)
class GroupWake:
    """A retry task's start, against which each member is sent at its own due time."""

    due: datetime
    """When the group's Wait ended: the earliest member's `next_retry_at`."""
    started_at: datetime
    """When the task started (the deliver function's clock)."""


@dataclass(frozen=True)
class GroupStep:
    """What one state machine task did to its group: each member's step, and who is still pending."""

    steps: list[StepResult]
    pending: list[RetryMember]
    outcome: Outcome
    next_attempt_at: datetime | None = None
    """With pending members: when their next attempt is due."""

    @classmethod
    def of(cls, refs: list[DeliveryRef], steps: list[StepResult], next_attempt_at: datetime | None) -> GroupStep:
        pending = [
            RetryMember(delivery_id=ref.delivery_id, series=ref.series)
            for ref, step in zip(refs, steps, strict=True)
            if step.pending
        ]
        outcomes = {step.outcome for step in steps}
        if pending:
            outcome = Outcome.RETRY
        elif len(outcomes) == 1:
            (outcome,) = outcomes
        else:
            outcome = Outcome.SETTLED
        return cls(steps=steps, pending=pending, outcome=outcome, next_attempt_at=next_attempt_at if pending else None)

    @property
    def result(self) -> TaskResult:
        return TaskResult(outcome=self.outcome, members=self.pending, next_attempt_at=self.next_attempt_at)


def mark_failed_reason(reason: TaskResult | StateError | None, max_attempts: int) -> str:
    """Why the state machine ended the delivery: its table ran out, or an error stopped it."""
    if isinstance(reason, StateError):
        text = f"the retry schedule stopped on an error: {reason.Error}"
        return (f"{text}: {reason.Cause}" if reason.Cause else text)[:MAX_REASON_CHARS]
    return f"all {max_attempts} attempts failed"


@dataclass(frozen=True, kw_only=True)
class DeliveryWorker:
    log: DeliveryLog
    webhooks: WebhookStore
    events: EventStore
    attempter: Attempter
    health: EndpointHealth
    executions: RetryExecutions
    clock: Callable[[], datetime] = utc_now
    operational: OperationalEvents | None = None
    """Emits delivery.exhausted and delivery.recovered (endpoint.disabled comes through `health`)."""
    limiter: RateLimiter | None = None
    """Keeps endpoints to their rate limits (functions/pipeline/rate_limit.py); None: no endpoint is limited."""
    deferrals: Callable[[], Queue] | None = None
    """The deliveries queue (made on first use): deliveries waiting for a rate-limit slot go back to it."""
    sleep: Callable[[float], None] = time.sleep

    batch_reads: BatchReader | None = None
    """Reads a batch's deliveries, endpoints and events in a few requests; None: a GetItem each."""

    def shared_reads(self) -> SharedReads:
        return SharedReads(self.webhooks, self.events, self.batch_reads)

    def first_attempts(
        self, messages: Mapping[BatchKey, DeliveryMessage], last_receives: Collection[BatchKey], concurrency: int
    ) -> tuple[list[StepResult], dict[BatchKey, BaseException]]:
        """Attempt 1 of every message of a batch at once, and the retries of those still pending.

        Each endpoint's pending deliveries become one retry group, started as soon as the last of
        that endpoint's attempts is done (not after the whole batch: a slow endpoint does not hold
        back another's retries). A delivery whose endpoint is not known before its attempt (a
        manual retry, a recovery) is a group of its own. A message in `last_receives` comes back
        no more: a throttled start then ends its delivery in its log. Returns the results, and
        the messages that failed (they come back)."""
        reads = self.shared_reads()
        reads.prefetch(
            [message.ref for message in messages.values()],
            {(m.application_id, m.endpoint_id) for m in messages.values() if m.endpoint_id},
            {(m.application_id, m.new.event_id) for m in messages.values() if m.new},
        )
        failures: dict[BatchKey, BaseException] = {}
        slots = self._admit(messages, reads, failures)
        messages = {key: message for key, message in messages.items() if key in slots}
        group_of: dict[BatchKey, Hashable] = {
            key: (message.application_id, message.new.webhook_id) if message.new else key
            for key, message in messages.items()
        }
        remaining = Counter(group_of.values())
        ready: dict[Hashable, list[tuple[BatchKey, str, datetime | None]]] = defaultdict(list)
        unlogged: dict[Hashable, list[tuple[BatchKey, Sent]]] = defaultdict(list)
        results: list[StepResult] = []
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(messages)))) as pool:
            futures = {
                pool.submit(self._first_step, message, reads, slots[key]): key for key, message in messages.items()
            }
            for future in as_completed(futures):
                key = futures[future]
                group = group_of[key]
                remaining[group] -= 1
                failure = future.exception()
                result = future.result() if failure is None else None
                if failure is not None:
                    failures[key] = failure
                elif isinstance(result, Sent):  # pending: logged with its group's due time (_log_group)
                    unlogged[group].append((key, result))
                elif result is not None:
                    results.append(result)
                    if result.pending and result.webhook_id and result.repeated:
                        # Its message came back: its group may be running already. It starts alone,
                        # named after itself: a group it led exists (a no-op), one it was only a member
                        # of attempts it first at each step, so this one finds each attempt logged.
                        # Joined to fresh deliveries, a group named after it would leave them out.
                        alone = [(key, result.webhook_id, result.next_attempt_at)]
                        self._start_groups(alone, messages, last_receives, results, failures)
                    elif result.pending and result.webhook_id:
                        ready[group].append((key, result.webhook_id, result.next_attempt_at))
                if remaining[group] == 0 and unlogged[group]:
                    self._log_group(unlogged.pop(group), ready[group], results, failures)
                if remaining[group] == 0 and ready[group]:
                    self._start_groups(ready.pop(group), messages, last_receives, results, failures)
        return results, failures

    def _first_step(self, message: DeliveryMessage, reads: SharedReads, slot: float | None) -> StepResult | Sent:
        """Attempt 1 of a queued series (no sooner than its rate-limit `slot`), logged at once unless its
        delivery stays pending: then its group's due time is needed first (`_log_group`)."""
        sent = self._send(message.ref, 1, message.new, reads, slot)
        if isinstance(sent, Sent) and not sent.made.pending:
            return self._record(sent)
        return sent

    def _log_group(
        self,
        unlogged: list[tuple[BatchKey, Sent]],
        ready: list[tuple[BatchKey, str, datetime | None]],
        results: list[StepResult],
        failures: dict[BatchKey, BaseException],
    ) -> None:
        """Log the attempts 1 of one endpoint's deliveries still pending, with the group's due time;
        those logged join `ready` (the group to start)."""
        dues, _ = self._dues(1, [sent for _, sent in unlogged], [floor for _, _, floor in ready])
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_GROUP_CONCURRENCY, len(unlogged)))) as pool:
            logged = [
                (key, pool.submit(self._record, sent, due)) for (key, sent), due in zip(unlogged, dues, strict=True)
            ]
        for key, future in logged:
            failure = future.exception()
            if failure is not None:
                failures[key] = failure
                continue
            result = future.result()
            results.append(result)
            if result.pending and result.webhook_id:
                ready.append((key, result.webhook_id, result.next_attempt_at))

    def _dues(
        self, number: int, sents: list[Sent], floors: Collection[datetime | None]
    ) -> tuple[list[datetime | None], datetime]:
        """When attempt `number + 1` of each member in `sents` is due (in their order; None for one
        that is not pending), and when the group's next Wait ends: the earliest of those and of
        `floors` (due times logged before, by a step that is being repeated)."""
        schedule = self.attempter.schedule
        pending = [sent for sent in sents if sent.made.pending]
        due_of = dict(
            zip(map(id, pending), schedule.next_attempts_at(number, [s.made.attempt for s in pending]), strict=False)
        )
        dues = [due_of.get(id(sent)) for sent in sents]
        candidates = [moment for moment in (*dues, *floors) if moment is not None]
        if candidates:
            return dues, min(candidates)
        # Only members whose log holds no due time: the table's delay from now.
        return dues, self.clock() + timedelta(seconds=schedule.delays_seconds[min(number, schedule.max_attempts - 1)])

    def _admit(
        self, messages: Mapping[BatchKey, DeliveryMessage], reads: SharedReads, failures: dict[BatchKey, BaseException]
    ) -> dict[BatchKey, float | None]:
        """The messages to attempt now, each with its rate-limit slot (epoch seconds; None: send at once).
        The others wait for a slot on the queue (a failed requeue goes to `failures`: the message comes back).
        Endpoints without a limit cost nothing here: their webhook is the one the attempt reads anyway."""
        if self.limiter is None or self.deferrals is None:
            return dict.fromkeys(messages)
        by_endpoint: dict[tuple[str, str], list[BatchKey]] = defaultdict(list)
        slots: dict[BatchKey, float | None] = {}
        for key, message in messages.items():
            if message.endpoint_id is None:
                slots[key] = None
            else:
                by_endpoint[(message.application_id, message.endpoint_id)].append(key)
        if not by_endpoint:
            return slots
        with ThreadPoolExecutor(max_workers=min(MAX_GROUP_CONCURRENCY, len(by_endpoint))) as pool:
            webhooks = dict(zip(by_endpoint, pool.map(lambda e: reads.webhook(*e), by_endpoint), strict=True))
        deferred: list[tuple[BatchKey, DeliveryMessage, int]] = []
        for (application_id, webhook_id), keys in by_endpoint.items():
            webhook = webhooks[(application_id, webhook_id)]
            limit = webhook.effective_rate_limit if webhook is not None and webhook.enabled else None
            if limit is None:
                slots.update(dict.fromkeys(keys))
                continue
            admission = self.limiter.admit(application_id, webhook_id, limit, {k: messages[k].slot_at for k in keys})
            slots.update({key: admission.send[key] for key in keys if key in admission.send})
            for key, (slot, delay) in admission.later.items():
                deferred.append((key, messages[key].model_copy(update={"slot_at": slot}), delay))
        if deferred:
            unsent = self.deferrals().send_many([m.to_json() for _, m, _ in deferred], [d for _, _, d in deferred])
            for position in unsent:
                failures[deferred[position][0]] = RuntimeError("the rate-limited delivery could not be requeued")
            log.info("deliveries wait for the rate limit", extra={"requeued": len(deferred) - len(unsent)})
        return slots

    def _start_groups(
        self,
        members: list[tuple[BatchKey, str, datetime | None]],
        messages: Mapping[BatchKey, DeliveryMessage],
        last_receives: Collection[BatchKey],
        results: list[StepResult],
        failures: dict[BatchKey, BaseException],
    ) -> None:
        by_webhook: dict[str, list[BatchKey]] = defaultdict(list)
        floors: dict[str, list[datetime | None]] = defaultdict(list)
        for key, webhook_id, next_attempt_at in members:
            by_webhook[webhook_id].append(key)
            floors[webhook_id].append(next_attempt_at)
        for webhook_id, keys in by_webhook.items():
            _, due = self._dues(1, [], floors[webhook_id])
            try:
                self.start_retries(RetryGroup.of(webhook_id, [messages[key].ref for key in keys], due))
            except StartThrottled as throttled:
                for key in keys:
                    if key in last_receives:  # no receive left: end it in its log, not in the DLQ
                        results.append(self.unscheduled(messages[key].ref))
                    else:
                        failures[key] = throttled
            except Exception as error:
                failures.update(dict.fromkeys(keys, error))

    def first_attempt(
        self, message: DeliveryMessage, reads: SharedReads | None = None, slot: float | None = None
    ) -> StepResult:
        """Attempt 1 of a queued series, sent no sooner than `slot` (epoch seconds) when it has one. A result
        with `pending` set needs its retries started: the caller gathers those of one endpoint into a group
        (`start_retries`)."""
        return self._attempt(message.ref, 1, message.new, reads or self.shared_reads(), slot)

    def start_retries(self, group: RetryGroup) -> bool:
        """Start the group's retry execution; False when it was started before. Raises
        `StartThrottled` when Step Functions throttles the start."""
        started = self.executions.start(group)
        log.info(
            "retries started" if started else "retries already running",
            extra={"webhook_id": group.webhook_id, "members": len(group.members)},
        )
        return started

    def unscheduled(self, ref: DeliveryRef) -> StepResult:
        """End a delivery whose retries could not be started on its message's last receive."""
        return self._unscheduled(ref)

    def retry_attempt(self, task: AttemptTask) -> GroupStep:
        """Attempt `task.attempt` of every member at once, then log each with the group's due time;
        the ones still pending go on."""
        wake = None if task.next_attempt_at is None else GroupWake(due=task.next_attempt_at, started_at=self.clock())
        reads = self.shared_reads()
        refs = task.refs()
        reads.prefetch(refs, {(task.application_id, task.webhook_id)}, ())
        slots = self._retry_slots(task, reads, len(refs))
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_GROUP_CONCURRENCY, len(refs)))) as pool:
            sends = [
                pool.submit(self._no_slot, ref, task.attempt)
                if slot is NO_SLOT
                else pool.submit(self._send, ref, task.attempt, None, reads, slot, wake)
                for ref, slot in zip(refs, slots, strict=True)
            ]
            failures = [error for future in sends if (error := future.exception()) is not None]
            made = [future.result() for future in sends if future.exception() is None]
            sent = [step for step in made if isinstance(step, Sent)]
            floors = [step.next_attempt_at for step in made if isinstance(step, StepResult) and step.pending]
            dues, next_wake = self._dues(task.attempt, sent, floors)
            logged = {id(step): pool.submit(self._record, step, due) for step, due in zip(sent, dues, strict=True)}
        failures += [error for future in logged.values() if (error := future.exception()) is not None]
        if failures:
            # The task is retried by the state machine: members already attempted are not sent again
            # (those sent here were logged, whatever failed beside them).
            raise failures[0]
        results = [logged[id(step)].result() if isinstance(step, Sent) else step for step in made]
        step = GroupStep.of(refs, results, next_wake)
        if not step.pending and task.execution_arn and not self.attempter.schedule.is_last(task.attempt):
            # Every member is logged: the execution has nothing left to wait for.
            self.executions.end_settled(task.execution_arn, len(refs))
        return step

    def _retry_slots(self, task: AttemptTask, reads: SharedReads, count: int) -> list[float | None]:
        """Each member's slot at its endpoint's rate limiter (None: no limit; NO_SLOT: none within the wait)."""
        if self.limiter is None:
            return [None] * count
        webhook = reads.webhook(task.application_id, task.webhook_id)
        limit = webhook.effective_rate_limit if webhook is not None and webhook.enabled else None
        if limit is None:
            return [None] * count
        paced = self.limiter.pace(task.application_id, task.webhook_id, limit, count)
        return [NO_SLOT if slot is None else slot for slot in paced]

    def _no_slot(self, ref: DeliveryRef, number: int) -> StepResult:
        """A retry the rate limit leaves no slot for in this task: it waits for the next attempt, or, at the
        last one, ends failed with the reason in its log."""
        if number < self.attempter.schedule.max_attempts:
            log.warning("retry moved to the next attempt by the rate limit", extra={"delivery_id": ref.delivery_id})
            return StepResult(Outcome.RETRY, pending=True)
        opened = self.log.open_to_end(ref)
        if isinstance(opened, Settled):
            return _settled(opened)
        return self._end(opened, DeliveryStatus.FAILED, RATE_LIMITED_REASON, count_against_endpoint=False)

    def mark_failed(self, task: MarkFailedTask) -> GroupStep:
        reason = mark_failed_reason(task.reason, self.attempter.schedule.max_attempts)
        refs = task.refs()
        steps = []
        for ref in refs:
            opened = self.log.open_to_end(ref)
            if isinstance(opened, Settled):
                self._replay(opened)
                steps.append(StepResult(Outcome.FAILED))
                continue
            steps.append(self._end(opened, DeliveryStatus.FAILED, reason))
        return GroupStep(steps=steps, pending=[], outcome=Outcome.FAILED)

    def _unscheduled(self, ref: DeliveryRef) -> StepResult:
        opened = self.log.open_to_end(ref)
        if isinstance(opened, Settled):
            self._replay(opened)
            return _settled(opened)
        log.error("retries could not be scheduled", extra={"delivery_id": ref.delivery_id, "series": ref.series})
        # Not the endpoint's fault: its health counters are left alone.
        return self._end(opened, DeliveryStatus.FAILED, UNSCHEDULED_REASON, count_against_endpoint=False)

    def _attempt(
        self, ref: DeliveryRef, number: int, new: NewDelivery | None, reads: SharedReads, slot: float | None = None
    ) -> StepResult:
        sent = self._send(ref, number, new, reads, slot)
        return self._record(sent) if isinstance(sent, Sent) else sent

    def _send(  # noqa: PLR0917 - the walk's one step, called positionally by both kinds of attempt
        self,
        ref: DeliveryRef,
        number: int,
        new: NewDelivery | None,
        reads: SharedReads,
        slot: float | None = None,
        wake: GroupWake | None = None,
    ) -> StepResult | Sent:
        """Make attempt `number` (at its own due time in a group that woke at `wake`, no sooner than its
        rate-limit `slot`) without logging it; a StepResult when there was none to make."""
        opened = self.log.open(ref, number, new, reads.prefetched(ref))
        if isinstance(opened, Settled):
            if opened.delivery is None:
                log.warning("delivery not found", extra={"delivery_id": ref.delivery_id})
            self._replay(opened, reads)
            return _settled(opened)
        delivery = opened.delivery
        webhook = reads.webhook(delivery.application_id, delivery.webhook_id)
        if webhook is None or not webhook.enabled:
            reason = "the webhook was deleted" if webhook is None else "the webhook is disabled"
            return self._end(opened, DeliveryStatus.CANCELLED, reason)
        event = reads.event(delivery.application_id, delivery.event_id)
        if event is None:
            return self._end(opened, DeliveryStatus.FAILED, "the event is no longer stored (retention ended)")
        if wake is not None:
            self._hold(delivery, wake)
        limit = webhook.effective_rate_limit
        if slot is not None and limit is not None and self.limiter is not None:
            self.limiter.wait_for(delivery.application_id, webhook.id, limit, slot, self.sleep)
        made = self.attempter.attempt(delivery, webhook, event, number)
        if isinstance(made, Unsendable):
            return self._end(opened, made.status, made.reason)
        return Sent(opened=opened, webhook=webhook, made=made, health=reads.health)

    def _hold(self, delivery: Delivery, wake: GroupWake) -> None:
        """Hold the member back until its own due time: as far past the task's start as its due time is
        past the group's Wait, less however late the task started (at most MAX_MEMBER_HOLD_SECONDS). A
        member already due is sent at once: lateness is never added to."""
        if delivery.next_retry_at is None:
            return
        late = max(0.0, (wake.started_at - wake.due).total_seconds())
        offset = min((delivery.next_retry_at - wake.due).total_seconds(), MAX_MEMBER_HOLD_SECONDS) - late
        remaining = offset - (self.clock() - wake.started_at).total_seconds()
        if remaining > 0:
            self.sleep(remaining)

    def _record(self, sent: Sent, next_attempt_at: datetime | None = None) -> StepResult:
        """Log a sent attempt; a pending delivery's next attempt due at `next_attempt_at` when given
        (its own, delayed by a Retry-After among its group's answers), else at its own due time."""
        opened, webhook, made = sent.opened, sent.webhook, sent.made
        delivery = opened.delivery
        number = made.attempt.number
        if next_attempt_at is not None and made.pending:
            made = replace(made, attempt=made.attempt.model_copy(update={"next_retry_at": next_attempt_at}))
        latency_ms = made.attempt.latency_ms
        if not opened.record(made):
            return _settled(self.log.current(delivery), latency_ms=latency_ms)
        log.info(
            "attempt logged",
            extra={
                "delivery_id": delivery.id,
                "webhook_id": webhook.id,
                "event_id": delivery.event_id,
                "series": delivery.series,
                "attempt": number,
                "response_status": made.attempt.response_status,
                "latency_ms": latency_ms,
                "status": made.status.value,
                "retry_after_seconds": made.attempt.retry_after_seconds,
                "next_retry_at": made.attempt.next_retry_at,
            },
        )
        self.health.after_attempt(
            webhook, made.sent.verdict, made.status, made.attempt.attempted_at, made.sent.gone_reason, view=sent.health
        )
        self._after_attempt(delivery, made.status, made.reason, made.attempt.attempted_at, number)
        pending = made.pending
        return StepResult(
            OUTCOME_OF_STATUS[made.status],
            pending=pending,
            latency_ms=latency_ms,
            finished_as=None if pending else made.status,
            retry_scheduled=pending,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            next_attempt_at=made.attempt.next_retry_at if pending else None,
        )

    def _end(
        self, opened: OpenDelivery, status: DeliveryStatus, reason: str, *, count_against_endpoint: bool = True
    ) -> StepResult:
        delivery = opened.delivery
        now = self.clock()
        if not opened.end(status, reason, now):
            return _settled(self.log.current(delivery))
        log.info(
            "delivery finished",
            extra={
                "delivery_id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "event_id": delivery.event_id,
                "status": status.value,
                "reason": reason,
            },
        )
        if status is DeliveryStatus.FAILED and count_against_endpoint:
            self.health.after_delivery_failed(delivery.application_id, delivery.webhook_id, now)
        if status is DeliveryStatus.FAILED and self.operational is not None:
            from functions.pipeline.operational import delivery_exhausted, series_attempts  # noqa: PLC0415 - failure path

            self.operational.emit(delivery_exhausted(delivery, reason, now, series_attempts(delivery)))
        return StepResult(
            OUTCOME_OF_STATUS[status], finished_as=status, webhook_id=delivery.webhook_id, event_id=delivery.event_id
        )

    def _after_attempt(
        self, delivery: Delivery, status: DeliveryStatus, reason: str | None, at: datetime, number: int
    ) -> None:
        """The operational events of a logged attempt: none unless it ended the delivery failed, or
        succeeded after failed attempts (attempt 1 of series 1 succeeding, the happy path, emits nothing)."""
        failed = status is DeliveryStatus.FAILED
        recovered = status is DeliveryStatus.SUCCEEDED and bool(delivery.attempts or number > 1)
        if self.operational is None or not (failed or recovered):
            return
        from functions.pipeline.operational import (  # noqa: PLC0415 - failure and recovery paths only
            delivery_exhausted,
            delivery_recovered,
            series_attempts,
        )

        attempts = series_attempts(delivery) + 1
        if failed:
            self.operational.emit(delivery_exhausted(delivery, reason or "", at, attempts))
        else:
            self.operational.emit(delivery_recovered(delivery, at, attempts))

    def _replay(self, settled: Settled, reads: SharedReads | None = None) -> None:
        """A repeated step (its task or message came back, perhaps because emitting failed) emits again
        what the stored state says happened, under the same deterministic ids: nothing is lost, and a
        repeat is deduplicated by id. Only a delivery that failed, recovered, or whose endpoint is
        disabled has anything to emit."""
        delivery = settled.delivery
        if self.operational is None or delivery is None or settled.newer_series:
            return
        from functions.pipeline.operational import (  # noqa: PLC0415 - repeated steps only
            delivery_exhausted,
            delivery_recovered,
            endpoint_disabled,
            recovered_after_failures,
            series_attempts,
        )

        if delivery.status is DeliveryStatus.FAILED:
            self.operational.emit(
                delivery_exhausted(
                    delivery, delivery.status_reason or "", delivery.updated_at, series_attempts(delivery)
                )
            )
        elif recovered_after_failures(delivery) and delivery.last_attempt is not None:
            succeeded_at = delivery.last_attempt.attempted_at
            self.operational.emit(delivery_recovered(delivery, succeeded_at, series_attempts(delivery)))
        if reads is not None:
            webhook = reads.webhook(delivery.application_id, delivery.webhook_id)
            if webhook is not None and not webhook.enabled and webhook.disabled_at is not None:
                self.operational.emit(endpoint_disabled(webhook, webhook.disabled_reason or "", webhook.disabled_at))


def _settled(settled: Settled, latency_ms: int | None = None) -> StepResult:
    delivery = settled.delivery
    if delivery is None or settled.newer_series:
        return StepResult(
            Outcome.CANCELLED,
            latency_ms=latency_ms,
            webhook_id=delivery.webhook_id if delivery else None,
            event_id=delivery.event_id if delivery else None,
        )
    pending = settled.already_logged or delivery.status is DeliveryStatus.PENDING
    return StepResult(
        Outcome.RETRY if pending else OUTCOME_OF_STATUS[delivery.status],
        pending=pending,
        repeated=settled.already_logged,
        latency_ms=latency_ms,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        next_attempt_at=delivery.next_retry_at if pending else None,
    )
