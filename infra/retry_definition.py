"""The retry state machine's Amazon States Language, generated from a profile's retry table.

Every payload is a model of functions/pipeline/contract.py. Execution input is a
`DeliveryRef` (ids only: `{"application_id", "delivery_id", "series"}`). For each retry
n = 2..max_attempts the machine runs `Wait n` (the table's delay before attempt n), then
`Attempt n` (the deliver function with `action: attempt`), then `Choice n`: outcome `retry`
goes on to the next Wait, or to `MarkFailed` after the last attempt; any other outcome
(`succeeded`, `failed`, `cancelled`: the deliver function already recorded it) ends in `Done`.
An Attempt that errors is retried briefly (it is idempotent), then caught and ends in
`MarkFailed`, so no delivery stays pending.

`MarkFailed` invokes the deliver function with `action: mark_failed` and a `reason` object:
`{"outcome": "retry"}` when the table ran out, or `{"Error": …, "Cause": …}` when an attempt
failed in a way its Retry could not absorb.

Pure Python (no CDK import): the stack passes the deliver function's ARN token and the
local stack can render the same definition with a local ARN.
"""

from __future__ import annotations

from typing import Any

from functions.core.profile import Profile
from functions.pipeline.contract import (
    ACTION_FIELD,
    ATTEMPT_FIELD,
    OUTCOME_FIELD,
    REASON_FIELD,
    REF_FIELDS,
    RESULT_FIELD,
    Outcome,
    TaskAction,
)

MARK_FAILED = "MarkFailed"
DONE = "Done"
RESULT_PATH = f"$.{RESULT_FIELD}"

LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
_SERVICE_ERROR_RETRY = {
    "ErrorEquals": list(LAMBDA_SERVICE_ERRORS),
    "IntervalSeconds": 2,
    "MaxAttempts": 3,
    "BackoffRate": 2,
}
_FUNCTION_ERROR_RETRY = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 1,
    "MaxAttempts": 2,
    "BackoffRate": 2,
}
"""An attempt is idempotent, so a crash or a throttled read inside it is retried before the Catch."""
_IDS = {f"{name}.$": f"$.{name}" for name in REF_FIELDS}


def wait_state(attempt: int) -> str:
    return f"Wait {attempt}"


def attempt_state(attempt: int) -> str:
    return f"Attempt {attempt}"


def choice_state(attempt: int) -> str:
    return f"Choice {attempt}"


def _invoke_deliver(deliver_function_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": deliver_function_arn, "Payload": payload},
        "Retry": [dict(_SERVICE_ERROR_RETRY)],
    }


def retry_state_machine_definition(profile: Profile, deliver_function_arn: str) -> dict[str, Any]:
    """The ASL document for `profile`'s retry table, invoking `deliver_function_arn`."""
    retry_attempts = list(range(2, profile.max_attempts + 1))
    states: dict[str, Any] = {}
    for attempt in retry_attempts:
        is_last = attempt == profile.max_attempts
        states[wait_state(attempt)] = {
            "Type": "Wait",
            "Seconds": profile.delay_before_attempt(attempt),
            "Next": attempt_state(attempt),
        }
        states[attempt_state(attempt)] = {
            **_invoke_deliver(
                deliver_function_arn, {ACTION_FIELD: TaskAction.ATTEMPT.value, **_IDS, ATTEMPT_FIELD: attempt}
            ),
            "Retry": [dict(_SERVICE_ERROR_RETRY), dict(_FUNCTION_ERROR_RETRY)],
            "ResultSelector": {f"{OUTCOME_FIELD}.$": f"$.Payload.{OUTCOME_FIELD}"},
            "ResultPath": RESULT_PATH,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": RESULT_PATH, "Next": MARK_FAILED}],
            "Next": choice_state(attempt),
        }
        states[choice_state(attempt)] = {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": f"{RESULT_PATH}.{OUTCOME_FIELD}",
                    "StringEquals": Outcome.RETRY.value,
                    "Next": MARK_FAILED if is_last else wait_state(attempt + 1),
                }
            ],
            "Default": DONE,
        }
    states[MARK_FAILED] = {
        **_invoke_deliver(
            deliver_function_arn,
            {
                ACTION_FIELD: TaskAction.MARK_FAILED.value,
                **_IDS,
                f"{REASON_FIELD}.$": RESULT_PATH if retry_attempts else "$",
            },
        ),
        "End": True,
    }
    if retry_attempts:
        states[DONE] = {"Type": "Succeed"}
    delays = ", ".join(f"{seconds}s" for seconds in profile.retry_delays_seconds) or "none"
    return {
        "Comment": f"Dovecote retries ({profile.name}): waits before attempts 2..{profile.max_attempts}: {delays}",
        "StartAt": wait_state(2) if retry_attempts else MARK_FAILED,
        "States": states,
    }
