"""Executions of the retry state machine, one per delivery attempt series.

The execution name is the delivery id (series 1) or `<delivery id>-s<series>` (a manual
retry's series), so starting it twice is harmless: Step Functions refuses a second
execution with the same name (for 90 days), which is exactly the idempotency we need.

StartExecution is throttled per account and region (a token bucket: 300 a second refilled,
1,300 burst in us-east-1). The client's own retries absorb a short burst; when they give up,
`start` raises `StartThrottled`, and the caller decides what the delivery does next
(functions/pipeline/delivery.py: the queue message comes back later, and on its last receive
the delivery ends with a reason in its log instead of a silent dead letter).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.pipeline.contract import DeliveryRef

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

    def start(self, ref: DeliveryRef) -> bool:
        """Start the series' retries (the execution's input is `ref`); False when they were started before.

        Raises `StartThrottled` when Step Functions throttles the start."""
        try:
            self._client.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=execution_name(ref.delivery_id, ref.series),
                input=ref.to_json(),
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            return False
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in THROTTLING_ERROR_CODES:
                raise StartThrottled(f"StartExecution throttled ({code})") from error
            raise
        return True

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
