"""One `Sender` per destination type, and the one that picks among them by the endpoint's type.

The attempt (functions/pipeline/attempt.py) is given a `DestinationSender` and never learns
which type it sent to: `https` is functions/pipeline/http.py's `HttpSender`, `sqs`, `sns`
and `eventbridge` are the classes in functions/pipeline/destinations/aws.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from functions.core.classify import Verdict
from functions.core.destinations import DestinationType
from functions.core.models import Webhook
from functions.pipeline.sender import Sender, SendResult, SignedMessage
from functions.runtime.lazy import built_on_first_use


class DestinationSender:
    def __init__(self, senders: Mapping[DestinationType, Sender]) -> None:
        self._senders = dict(senders)

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        sender = self._senders.get(endpoint.type)
        if sender is None:
            return SendResult(Verdict.RETRY, 0, error=f"this deployment does not deliver to {endpoint.type} endpoints")
        return sender.send(endpoint, message)


def destination_sender(https: Sender, aws: Mapping[DestinationType, Sender] | None = None) -> DestinationSender:
    return DestinationSender({DestinationType.HTTPS: https, **(aws or {})})


def delivery_sender(https: Sender, sts_client: Callable[[], Any]) -> DestinationSender:
    """The deliver function's sender: HTTPS, and the AWS types through roles assumed with the STS client
    `sts_client` builds on first use (credentials cached per role for their lifetime). The AWS senders
    (their modules too) are built on the first send to an AWS destination: HTTPS-only batches never need them."""
    aws = built_on_first_use(functools.partial(_AwsSenders, sts_client))
    return destination_sender(
        https, dict.fromkeys((DestinationType.SQS, DestinationType.SNS, DestinationType.EVENTBRIDGE), aws)
    )


class _AwsSenders:
    """The SQS, SNS and EventBridge senders, sharing one cache of assumed-role clients."""

    def __init__(self, sts_client: Callable[[], Any]) -> None:
        from functions.pipeline.destinations.aws import EventBridgeSender, SnsSender, SqsSender  # noqa: PLC0415
        from functions.runtime.assumed_roles import CachedRoleAssumer, RoleClients, StsRoleAssumer  # noqa: PLC0415

        clients = RoleClients(CachedRoleAssumer(StsRoleAssumer(sts_client)))
        self._senders: dict[DestinationType, Sender] = {
            DestinationType.SQS: SqsSender(clients),
            DestinationType.SNS: SnsSender(clients),
            DestinationType.EVENTBRIDGE: EventBridgeSender(clients),
        }

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        return self._senders[endpoint.type].send(endpoint, message)
