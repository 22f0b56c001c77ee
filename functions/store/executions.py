"""Executions of the retry state machine, one per retry group (functions/pipeline/contract.py
`RetryGroup`: one endpoint's deliveries whose attempt 1 failed in the same deliver batch).

The execution is named after the group's first member: its delivery id (series 1) or
`<delivery id>-s<series>` (a manual retry's series), so starting it twice is harmless: Step
Functions refuses a second execution with the same name (for 90 days). Stopping a delivery's
execution stops its group when the delivery leads it; cancellation (functions/pipeline/
cancellation.py) cancels every pending delivery of the endpoint, so it reaches each group's
leader while the group still has pending members, and a group whose leader ended earlier
finds its other members cancelled at its next attempt and ends there.

StartExecution is throttled per account and region (a token bucket: 300 a second refilled,
1,300 burst in us-east-1). The client's own retries absorb a short burst; when they give up,
`start` raises `StartThrottled`, and the caller decides what the delivery does next
(functions/pipeline/delivery.py: the queue message comes back later, and on its last receive
the delivery ends with a reason in its log instead of a silent dead letter).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.pipeline.contract import RetryGroup

SETTLED_ERROR = "Dovecote.Settled"
"""The error of an execution its group ended early (status ABORTED, as a cancelled one's, whose
error is `Dovecote.Cancelled`)."""
THROTTLING_ERROR_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})


class StartThrottled(RuntimeError):
    """Step Functions refused StartExecution as throttled, after the client's own retries."""


def execution_name(delivery_id: str, series: int) -> str:
    return delivery_id if series == 1 else f"{delivery_id}-s{series}"


class RetryExecutions:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def execution_arn(self, delivery_id: str, series: int) -> str:
        # arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
        prefix = self._state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        return f"{prefix}:{execution_name(delivery_id, series)}"

    def start(self, group: RetryGroup) -> bool:
        """Start the group's retries (the execution's input is `group`); False when they were started before.

        Raises `StartThrottled` when Step Functions throttles the start."""
        leader = group.members[0]
        try:
            self._client.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=execution_name(leader.delivery_id, leader.series),
                input=group.to_json(),
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            return False
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in THROTTLING_ERROR_CODES:
                raise StartThrottled(f"StartExecution throttled ({code})") from error
            raise
        return True

    def end_settled(self, execution_arn: str, members: int) -> None:
        """End a group's execution from its own Attempt task once none of its `members` is pending (the
        machine has no Choice to end it). Raises on failure: the task is retried and stops it again."""
        try:
            self._client.stop_execution(
                executionArn=execution_arn,
                error=SETTLED_ERROR,
                cause=f"every member of the group is settled ({members} attempted in its last step)",
            )
        except self._client.exceptions.ExecutionDoesNotExist:
            return

    def stop(self, delivery_id: str, series: int, cause: str) -> bool:
        """Stop the series' retries if they are running; False when there was nothing to stop."""
        try:
            self._client.stop_execution(
                executionArn=self.execution_arn(delivery_id, series),
                error="Dovecote.Cancelled",
                cause=cause[:32_000],
            )
        except self._client.exceptions.ExecutionDoesNotExist:
            return False
        return True
