"""The pipeline's typed contract: every queue message and every retry state machine payload.

| where                         | model                 | from → to                                   |
|-------------------------------|-----------------------|---------------------------------------------|
| events queue                  | `EventReference`      | ingest (publish, test event) → fan-out      |
| deliveries queue              | `DeliveryMessage`     | fan-out, retry, recover → deliver           |
| retry execution input         | `DeliveryRef`         | deliver (StartExecution) → Step Functions   |
| `Attempt n` task              | `AttemptTask`         | state machine → deliver                     |
| `MarkFailed` task             | `MarkFailedTask`      | state machine → deliver                     |
| every task's answer           | `TaskResult`          | deliver → the state machine's Choice states |

Messages carry ids, never payloads: the event's data is stored once, at publish, and the
deliver function reads it from DynamoDB (Step Functions input is limited to 256 KiB, SQS
bills per 64 KiB). The state machine generator (infra/retry_definition.py), the deliver
handler and the stores all use these names, so a field renamed here is renamed everywhere.
"""

from __future__ import annotations

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
    """A task's answer: `retry` goes on to the next Wait (or MarkFailed after the last attempt);
    any other outcome ends the execution, the deliver function having recorded it."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"


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

    @property
    def ref(self) -> DeliveryRef:
        return DeliveryRef(application_id=self.application_id, delivery_id=self.delivery_id, series=self.series)


class TaskResult(_Message):
    outcome: Outcome


class StateError(BaseModel):
    """What a state's Catch puts in place of the result: the error and its cause."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    Error: str
    Cause: str | None = None


class AttemptTask(DeliveryRef):
    action: Literal[TaskAction.ATTEMPT]
    attempt: StrictInt = Field(ge=1)
    """The attempt's number in its series (the state machine asks for 2 and up; 1 comes from the queue)."""


class MarkFailedTask(DeliveryRef):
    action: Literal[TaskAction.MARK_FAILED]
    reason: TaskResult | StateError | None = None
    """The last attempt's result (the table ran out), or the error a Catch caught."""


Task = Annotated[AttemptTask | MarkFailedTask, Field(discriminator="action")]


@cache
def _task_adapter() -> TypeAdapter[AttemptTask | MarkFailedTask]:
    return TypeAdapter(Task)


def parse_task(payload: Any) -> AttemptTask | MarkFailedTask:
    """A state machine task's payload; pydantic's ValidationError (a ValueError) when it is not one."""
    return _task_adapter().validate_python(payload)


RESULT_FIELD = "result"
"""Where each Attempt state puts its `TaskResult` in the execution's state (`$.result`)."""
OUTCOME_FIELD = next(iter(TaskResult.model_fields))
REF_FIELDS: tuple[str, ...] = tuple(DeliveryRef.model_fields)
"""The ids every task repeats from the execution input."""
ACTION_FIELD = "action"
ATTEMPT_FIELD = "attempt"
REASON_FIELD = "reason"
