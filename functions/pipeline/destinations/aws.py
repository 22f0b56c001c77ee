"""The AWS destinations: a customer's SQS queue, SNS topic or EventBridge bus, reached as its role.

Each class sends one signed message and classifies the outcome into a `SendResult`:

- The same bytes as an HTTPS delivery: the message body (SQS, SNS) is the signed envelope;
  the contract's headers (signature, timestamp, delivery id, event type) travel as String
  message attributes named like the headers, so a consumer verifies `body` + attributes
  with the same code as an HTTPS receiver. EventBridge has no attributes: the event's
  `detail` is `{"headers": {…}, "body": "<the signed body>", "payload": <the envelope>}`
  (`payload` for rules to match on, `headers` + `body` to verify), its `detail-type` the
  event type and its `source` the endpoint's (default `dovecote`).
- FIFO queues and topics: the delivery id is the deduplication id, the message group is the
  endpoint's `message_group_id` (default: the endpoint id, so an endpoint's messages stay in order).
- Classification (`classify_aws_error`): a queue, topic or bus that does not exist is `gone`
  (the endpoint is disabled, as for a 410); everything else is retried on the table:
  throttling, 5xx-like errors, `AccessDenied` (a wrong ExternalId or missing permission, which
  the customer can fix), network errors. The log gets AWS's error code and message, with any
  access key id masked; credentials and session tokens are never in it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.classify import Verdict
from functions.core.destinations import DEFAULT_EVENTBRIDGE_SOURCE, AwsDestination, AwsTarget, target_of
from functions.core.errors import InvalidRequestError
from functions.core.models import RESPONSE_EXCERPT_BYTES, Webhook
from functions.pipeline.sender import SendResult, SignedMessage
from functions.runtime.assumed_roles import RoleClients

MISSING_CODES = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NotFound",  # SNS: the topic does not exist
        "NotFoundException",
        "ResourceNotFoundException",  # EventBridge: the bus does not exist
    }
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "Throttled",  # SNS
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
        "KMS.ThrottlingException",
    }
)
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "KMS.AccessDeniedException",
        "KMSAccessDeniedException",
    }
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")
_MAX_MESSAGE_CHARS = 400


def failure_kind(code: str, http_status: int | None) -> str:
    """`missing`, `throttled`, `denied`, `server` or `rejected`: what the delivery log's text says."""
    if code in MISSING_CODES:
        return "missing"
    if code in THROTTLING_CODES or http_status == 429:
        return "throttled"
    if code in DENIED_CODES:
        return "denied"
    if http_status is not None and http_status >= 500:
        return "server"
    return "rejected"


def classify_aws_error(code: str, http_status: int | None) -> Verdict:
    return Verdict.GONE if failure_kind(code, http_status) == "missing" else Verdict.RETRY


def _masked(text: str) -> str:
    return _ACCESS_KEY_ID.sub("[access key id]", text)[:_MAX_MESSAGE_CHARS]


def _client_error_result(error: ClientError, action: str, latency_ms: int, *, target_noun: str | None) -> SendResult:
    """`target_noun` ("queue"…) when a missing target means gone; None for STS (a role's absence is AccessDenied)."""
    details = error.response.get("Error", {})
    code = str(details.get("Code") or "UnknownError")
    message = _masked(str(details.get("Message") or ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    kind = failure_kind(code, status)
    verdict = classify_aws_error(code, status) if target_noun else Verdict.RETRY
    text = f"{action} failed ({kind}): {code}: {message}" if message else f"{action} failed ({kind}): {code}"
    gone = f"the {target_noun} no longer exists ({code})" if verdict is Verdict.GONE else None
    return SendResult(verdict, latency_ms, status=status, error=text, gone_reason=gone)


def message_attributes(headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """The contract's headers as String message attributes (SQS and SNS), named like the headers."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in headers.items() if value}


@dataclass(frozen=True)
class AwsPut:
    """One send to an AWS destination: the assumed role's client, and what goes where."""

    client: Any
    endpoint: Webhook
    destination: AwsDestination
    target: AwsTarget
    message: SignedMessage

    @property
    def fifo_fields(self) -> dict[str, str]:
        """A FIFO queue's or topic's message group (the endpoint id unless set) and deduplication id."""
        if not self.target.fifo:
            return {}
        return {
            "MessageGroupId": self.destination.message_group_id or self.endpoint.id,
            "MessageDeduplicationId": self.message.delivery_id,
        }


class AwsSender:
    """Shared by the three types: assume the role, call the service, classify what happened."""

    service = ""
    action = ""
    target_noun = ""

    def __init__(self, clients: RoleClients) -> None:
        self._clients = clients

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        started = time.monotonic()

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        destination = endpoint.destination
        if destination is None:
            return SendResult(Verdict.RETRY, 0, error=f"the {endpoint.type} endpoint has no role to assume")
        try:
            target = target_of(endpoint.type, endpoint.url)
        except InvalidRequestError as invalid:
            return SendResult(Verdict.RETRY, 0, error=f"the endpoint's target is not valid: {invalid.message}")
        try:
            client = self._clients.client(self.service, target.region, destination.role_arn, destination.external_id)
        except ClientError as error:
            return _client_error_result(error, "sts:AssumeRole", elapsed_ms(), target_noun=None)
        except BotoCoreError as error:
            return SendResult(Verdict.RETRY, elapsed_ms(), error=f"sts:AssumeRole failed: {_masked(str(error))}")
        action = f"{self.service}:{self.action}"
        try:
            outcome = self._put(AwsPut(client, endpoint, destination, target, message))
        except ClientError as error:
            return _client_error_result(error, action, elapsed_ms(), target_noun=self.target_noun)
        except BotoCoreError as error:
            return SendResult(Verdict.RETRY, elapsed_ms(), error=f"{action} failed: {_masked(str(error))}")
        if isinstance(outcome, SendResult):
            return dataclasses.replace(outcome, latency_ms=elapsed_ms())
        excerpt = outcome[:RESPONSE_EXCERPT_BYTES]
        return SendResult(Verdict.SUCCEEDED, elapsed_ms(), status=200, response_excerpt=excerpt)

    def _put(self, put: AwsPut) -> str | SendResult:
        """Send; the success's excerpt for the log (the message id), or a failure found in the answer."""
        raise NotImplementedError


class _MessageSender(AwsSender):
    """SQS and SNS: the body as the message, the contract's headers as its attributes, FIFO fields when needed."""

    method = ""
    address_parameter = ""
    body_parameter = ""

    def _put(self, put: AwsPut) -> str | SendResult:
        response = getattr(put.client, self.method)(
            **{self.address_parameter: put.target.address, self.body_parameter: put.message.body.decode("utf-8")},
            MessageAttributes=message_attributes(put.message.headers),
            **put.fifo_fields,
        )
        return f"MessageId: {response['MessageId']}"


class SqsSender(_MessageSender):
    service = "sqs"
    action = "SendMessage"
    target_noun = "queue"
    method = "send_message"
    address_parameter = "QueueUrl"
    body_parameter = "MessageBody"


class SnsSender(_MessageSender):
    service = "sns"
    action = "Publish"
    target_noun = "topic"
    method = "publish"
    address_parameter = "TopicArn"
    body_parameter = "Message"


def eventbridge_detail(message: SignedMessage) -> str:
    """The event's `detail`: the headers and the exact signed body (to verify), the envelope (to match on)."""
    text = message.body.decode("utf-8")
    return json.dumps({"headers": message.headers, "body": text, "payload": json.loads(text)}, separators=(",", ":"))


class EventBridgeSender(AwsSender):
    service = "events"
    action = "PutEvents"
    target_noun = "event bus"

    def _put(self, put: AwsPut) -> str | SendResult:
        response = put.client.put_events(
            Entries=[
                {
                    "Source": put.destination.source or DEFAULT_EVENTBRIDGE_SOURCE,
                    "DetailType": put.message.event_type,
                    "Detail": eventbridge_detail(put.message),
                    "EventBusName": put.target.address,
                }
            ]
        )
        entry = (response.get("Entries") or [{}])[0]
        if response.get("FailedEntryCount") or entry.get("ErrorCode"):
            code = str(entry.get("ErrorCode") or "UnknownError")
            kind = failure_kind(code, None)
            text = f"events:PutEvents failed ({kind}): {code}: {_masked(str(entry.get('ErrorMessage') or ''))}"
            verdict = classify_aws_error(code, None)
            gone = f"the {self.target_noun} no longer exists ({code})" if verdict is Verdict.GONE else None
            return SendResult(verdict, 0, status=200, error=text, gone_reason=gone)
        return f"EventId: {entry.get('EventId', '')}"
