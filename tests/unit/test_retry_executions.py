"""How the deliver function ends a retry group's execution once none of its members is pending."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from functions.store.executions import SETTLED_ERROR, RetryExecutions

ARN = "arn:aws:states:us-east-1:123456789012:execution:Dovecote-retries:del_01jd2q8x4m7n3p5r9t1v6w8y0z"


class ExecutionDoesNotExist(Exception):
    pass


@dataclass
class StubStepFunctions:
    stopped: list[dict[str, Any]] = field(default_factory=list)
    missing: bool = False

    class exceptions:  # boto3 clients name their errors here
        ExecutionDoesNotExist = ExecutionDoesNotExist

    def stop_execution(self, **request: Any) -> dict[str, Any]:
        if self.missing:
            raise ExecutionDoesNotExist(request["executionArn"])
        self.stopped.append(request)
        return {}


def test_a_settled_group_stops_its_execution_with_the_settled_error_not_the_cancelled_one() -> None:
    client = StubStepFunctions()

    RetryExecutions(client, "arn:aws:states:us-east-1:123456789012:stateMachine:Dovecote-retries").end_settled(ARN, 3)

    [request] = client.stopped
    assert request["executionArn"] == ARN
    assert request["error"] == SETTLED_ERROR == "Dovecote.Settled"
    assert "3 attempted" in request["cause"]


def test_ending_an_execution_that_is_gone_is_not_an_error() -> None:
    client = StubStepFunctions(missing=True)

    RetryExecutions(client, "arn:aws:states:us-east-1:123456789012:stateMachine:Dovecote-retries").end_settled(ARN, 1)

    assert client.stopped == []
