"""The retry state machine's Amazon States Language, generated from a profile's retry table.

Every payload is a model of functions/pipeline/contract.py. Execution input is a
`RetryGroup` (ids only, and when attempt 2 is due: `{"application_id", "webhook_id",
"members": [{"delivery_id", "series"}, …], "next_attempt_at"}`): the deliveries to one
endpoint whose attempt 1 failed in the same deliver batch. For each retry n = 2..max_attempts
the machine runs `Wait n`, then `Attempt n` (the deliver function with `action: attempt`:
every member still pending, each at its own due time). Its answer (`TaskResult`) carries the
members still pending and when the earliest of them is due, and the machine goes straight on
to the next Wait. There is no Choice: an Attempt that leaves no member pending stops its own
execution (`StopExecution` on `$$.Execution.Id`, error `Dovecote.Settled`), so a group that
settles early ends there, with the status ABORTED. The last Attempt ends every member it
attempts (the table ran out), and the execution ends with it (SUCCEEDED).

Each Wait waits until a timestamp from the data (`TimestampPath`: the input's
`next_attempt_at` for Wait 2, `$.result.next_attempt_at` after), not for a constant: the
deliver function computes it from the table's delay before attempt n (the table is still
the one source of the delays) counted from the members' attempts rather than from the end
of the task, delayed further by a 429 or 503's `Retry-After` (capped at the table's longest
delay). The time is one the member logs show as `next_retry_at`. The local stack's time
scale is already in it (the deliver function scales the table), so it is never scaled again.

Transitions: 2 per attempt of a group (Wait, Attempt), whatever the group's size, where a
Choice after each Attempt made it 3 (plus a `Done` for a group that settled early), and the
design before groups spent 3 per attempt of every delivery plus a `MarkFailed` task for each
delivery that exhausted the table.

An Attempt that errors is retried briefly (it is idempotent), then caught and ends in
`MarkFailed` (the deliver function with `action: mark_failed` and the caught error as its
`reason`), which ends the group's pending members as failed, so no delivery stays pending.

Pure Python (no CDK import): the stack passes the deliver function's ARN token and the
local stack can render the same definition with a local ARN.
"""

from __future__ import annotations

from typing import Any

from functions.core.profile import Profile
from functions.pipeline.contract import (
    ACTION_FIELD,
    ATTEMPT_FIELD,
    ERROR_FIELD,
    EXECUTION_ARN_FIELD,
    GROUP_ID_FIELDS,
    MEMBERS_FIELD,
    NEXT_ATTEMPT_AT_FIELD,
    OUTCOME_FIELD,
    REASON_FIELD,
    RESULT_FIELD,
    Outcome,
    TaskAction,
)

MARK_FAILED = "MarkFailed"
EXECUTION_ID_PATH = "$$.Execution.Id"
RESULT_PATH = f"$.{RESULT_FIELD}"
ERROR_PATH = f"$.{ERROR_FIELD}"

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
_IDS = {f"{name}.$": f"$.{name}" for name in GROUP_ID_FIELDS}


def wait_state(attempt: int) -> str:
    return f"Wait {attempt}"


def attempt_state(attempt: int) -> str:
    return f"Attempt {attempt}"


def members_path(attempt: int) -> str:
    """Where Attempt `attempt` finds the members to attempt: the input's for the first retry,
    then the ones the previous Attempt left pending."""
    return f"$.{MEMBERS_FIELD}" if attempt == 2 else f"{RESULT_PATH}.{MEMBERS_FIELD}"


def due_path(attempt: int) -> str:
    """Where `Wait attempt` finds when Attempt `attempt` is due: the input's for the first retry,
    then the previous Attempt's answer."""
    return f"$.{NEXT_ATTEMPT_AT_FIELD}" if attempt == 2 else f"{RESULT_PATH}.{NEXT_ATTEMPT_AT_FIELD}"


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
            "TimestampPath": due_path(attempt),
            "Next": attempt_state(attempt),
        }
        payload = {
            ACTION_FIELD: TaskAction.ATTEMPT.value,
            **_IDS,
            f"{MEMBERS_FIELD}.$": members_path(attempt),
            ATTEMPT_FIELD: attempt,
            f"{NEXT_ATTEMPT_AT_FIELD}.$": due_path(attempt),
            f"{EXECUTION_ARN_FIELD}.$": EXECUTION_ID_PATH,
        }
        route: dict[str, Any] = {"End": True} if is_last else {"Next": wait_state(attempt + 1)}
        states[attempt_state(attempt)] = {
            **_invoke_deliver(deliver_function_arn, payload),
            "Retry": [dict(_SERVICE_ERROR_RETRY), dict(_FUNCTION_ERROR_RETRY)],
            "ResultSelector": {
                f"{OUTCOME_FIELD}.$": f"$.Payload.{OUTCOME_FIELD}",
                f"{MEMBERS_FIELD}.$": f"$.Payload.{MEMBERS_FIELD}",
                f"{NEXT_ATTEMPT_AT_FIELD}.$": f"$.Payload.{NEXT_ATTEMPT_AT_FIELD}",
            },
            "ResultPath": RESULT_PATH,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": ERROR_PATH, "Next": MARK_FAILED}],
            **route,
        }
    # The group's original members: the deliver function ends those still pending.
    mark_failed_payload: dict[str, Any] = {
        ACTION_FIELD: TaskAction.MARK_FAILED.value,
        **_IDS,
        f"{MEMBERS_FIELD}.$": f"$.{MEMBERS_FIELD}",
    }
    if retry_attempts:
        mark_failed_payload[f"{REASON_FIELD}.$"] = ERROR_PATH
    else:
        mark_failed_payload[REASON_FIELD] = {OUTCOME_FIELD: Outcome.RETRY.value}
    states[MARK_FAILED] = {**_invoke_deliver(deliver_function_arn, mark_failed_payload), "End": True}
    delays = ", ".join(f"{seconds}s" for seconds in profile.retry_delays_seconds) or "none"
    return {
        "Comment": f"Dovecote retries ({profile.name}): waits before attempts 2..{profile.max_attempts}: {delays}",
        "StartAt": wait_state(2) if retry_attempts else MARK_FAILED,
        "States": states,
    }
