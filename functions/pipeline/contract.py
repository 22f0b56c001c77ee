"""The pipeline's typed contract: every queue message and every retry state machine payload.

| where                         | model                 | from → to                                   |
|-------------------------------|-----------------------|---------------------------------------------|
| events queue                  | `EventReference`      | ingest (publish, test event) → fan-out      |
| deliveries queue              | `DeliveryMessage`     | fan-out, retry, recover → deliver           |
| retry execution input         | `RetryGroup`          | deliver (StartExecution) → Step Functions   |
| `Attempt n` task              | `AttemptTask`         | state machine → deliver                     |
| `MarkFailed` task             | `MarkFailedTask`      | state machine → deliver                     |
| every task's answer           | `TaskResult`          | deliver → the state machine's next Wait     |

A retry execution serves a group: the deliveries to one endpoint whose attempt 1 failed in
the same deliver batch (one batch gathers at most a second of messages, the event source
mapping's batching window). Its input names them (`members`, ids only: 256 KiB holds
thousands); each `Attempt n` attempts every member still pending, each at its own due time,
and its answer carries the ones still pending (`TaskResult.members`) to the next Wait; an
Attempt that leaves none pending stops its execution (`AttemptTask.execution_arn`).

Each Wait waits until a time the deliver function computed (`next_attempt_at`: the
execution input's for Wait 2, the previous Attempt's `TaskResult` for the later ones): the
earliest of the members' due times (each the table's delay after the member's own attempt,
or later when a 429 or 503 asked for more with `Retry-After`), which their logs show as
`next_retry_at`.

Messages carry ids, never payloads: the event's data is stored once, at publish, and the
deliver function reads it from DynamoDB (Step Functions input is limited to 256 KiB, SQS
bills per 64 KiB). The state machine generator (infra/retry_definition.py), the deliver
handler and the stores all use these names, so a field renamed here is renamed everywhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from functions.core.timestamps import ApiTime


class TaskAction(StrEnum):
    """What a state machine task asks the deliver function to do."""

    ATTEMPT = "attempt"
    MARK_FAILED = "mark_failed"


class Outcome(StrEnum):
    """A task's answer: `retry` goes on to the next Wait (some member is still pending); any other
    outcome ends the execution, the deliver function having recorded it. The last Attempt ends
    the execution whatever it answers: it ends every member it attempts."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SETTLED = "settled"
    """Every member of a group has ended, not all the same way."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


class EventReference(_Message):
    """A stored event to fan out: what matching and the delivery rows need, never the data."""

    application_id: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    created_at: ApiTime
    webhook_id: str | None = None
    """Set on test events: deliver to this endpoint only, whatever the subscriptions."""


class NewDelivery(_Message):
    """A delivery the fan-out created but did not store: what its row needs besides the ids."""

    webhook_id: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    created_at: ApiTime
    expires_at: StrictInt
    """Epoch seconds when the delivery expires with its event (the table's TTL)."""


class DeliveryRef(_Message):
    """One attempt series of one delivery; the retry execution's input."""

    application_id: str = Field(min_length=1)
    delivery_id: str = Field(min_length=1)
    series: StrictInt = Field(default=1, ge=1)
    """1, then one more for each manual retry or recovery of the delivery."""


class DeliveryMessage(DeliveryRef):
    """Attempt 1 of a series. From the fan-out it carries `new`: the deliver function stores the
    row once, with the outcome of that attempt."""

    new: NewDelivery | None = None
    webhook_id: str | None = Field(default=None, min_length=1)
    """The endpoint, on messages without `new` (manual retries, recoveries): its rate limit applies."""
    slot_at: StrictInt | None = Field(default=None, ge=0)
    """Epoch microseconds of the send slot this delivery holds at its endpoint's rate limiter: set when
    the deliver function requeues it to wait for that slot (functions/pipeline/rate_limit.py)."""

    @property
    def endpoint_id(self) -> str | None:
        """The endpoint it goes to, when the message says (messages from before `webhook_id` do not)."""
        return self.new.webhook_id if self.new else self.webhook_id

    @property
    def ref(self) -> DeliveryRef:
        return DeliveryRef(application_id=self.application_id, delivery_id=self.delivery_id, series=self.series)


class RetryMember(_Message):
    """One delivery series in a retry group."""

    delivery_id: str = Field(min_length=1)
    series: StrictInt = Field(default=1, ge=1)


class GroupTask(_Message):
    """Deliveries to one endpoint that wait for the same attempts: what every task names."""

    application_id: str = Field(min_length=1)
    webhook_id: str = Field(min_length=1)
    members: list[RetryMember] = Field(min_length=1)

    def refs(self) -> list[DeliveryRef]:
        return [
            DeliveryRef(application_id=self.application_id, delivery_id=m.delivery_id, series=m.series)
            for m in self.members
        ]


class RetryGroup(GroupTask):
    """The retry execution's input: the group, and when its attempt 2 is due."""

    next_attempt_at: ApiTime
    """Wait 2 waits until then: the earliest of its members' `next_retry_at`."""

    @classmethod
    def of(cls, webhook_id: str, refs: list[DeliveryRef], next_attempt_at: datetime) -> RetryGroup:
        """The group of `refs` (one application's deliveries to `webhook_id`), members in a stable order."""
        ordered = sorted({(ref.delivery_id, ref.series) for ref in refs})
        return cls(
            application_id=refs[0].application_id,
            webhook_id=webhook_id,
            members=[RetryMember(delivery_id=delivery_id, series=series) for delivery_id, series in ordered],
            next_attempt_at=next_attempt_at,
        )


class TaskResult(_Message):
    outcome: Outcome
    members: list[RetryMember] = Field(default_factory=list)
    """The group's members still pending after this step: the next Attempt attempts these."""
    next_attempt_at: ApiTime | None = None
    """With outcome `retry`: when the next Attempt is due (the next Wait waits until then): the
    earliest of the pending members' `next_retry_at`."""


class StateError(BaseModel):
    """What a state's Catch puts in place of the result: the error and its cause."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    Error: str
    Cause: str | None = None


class AttemptTask(GroupTask):
    action: Literal[TaskAction.ATTEMPT]
    attempt: StrictInt = Field(ge=1)
    """The attempt's number in each member's series (the state machine asks for 2 and up; 1 comes
    from the queue)."""
    next_attempt_at: ApiTime | None = None
    """When the Wait before this Attempt ended (the earliest member's `next_retry_at`): each member is
    sent as much later than the task's start as its own `next_retry_at` is later than this. None in
    executions started before the field: every member is sent at once."""
    execution_arn: str | None = Field(default=None, min_length=1)
    """The execution running this task (`$$.Execution.Id`): the deliver function stops it once no
    member is pending (the machine has no Choice to end it). None in executions started before the
    field, whose Choice states end them."""


class MarkFailedTask(GroupTask):
    action: Literal[TaskAction.MARK_FAILED]
    reason: TaskResult | StateError | None = None
    """The error a Catch caught (or, for a table without retries, a `retry` result)."""


Task = Annotated[AttemptTask | MarkFailedTask, Field(discriminator="action")]


@cache
def _task_adapter() -> TypeAdapter[AttemptTask | MarkFailedTask]:
    return TypeAdapter(Task)


def parse_task(payload: Any) -> AttemptTask | MarkFailedTask:
    """A state machine task's payload; pydantic's ValidationError (a ValueError) when it is not one."""
    return _task_adapter().validate_python(payload)


RESULT_FIELD = "result"
"""Where each Attempt state puts its `TaskResult` in the execution's state (`$.result`)."""
ERROR_FIELD = "error"
"""Where a Catch puts the error it caught (`$.error`)."""
OUTCOME_FIELD, MEMBERS_FIELD, NEXT_ATTEMPT_AT_FIELD = tuple(TaskResult.model_fields)
EXECUTION_ARN_FIELD = "execution_arn"
"""Where an Attempt task names its execution (`AttemptTask.execution_arn`)."""
"""`next_attempt_at` is also the execution input's (`RetryGroup`): each Wait's `TimestampPath`."""
GROUP_ID_FIELDS: tuple[str, ...] = tuple(name for name in GroupTask.model_fields if name != MEMBERS_FIELD)
"""The ids every task repeats from the execution input (the members come from the last result)."""
ACTION_FIELD = "action"
ATTEMPT_FIELD = "attempt"
REASON_FIELD = "reason"
