"""Destination types: where an endpoint's deliveries go, and how its AWS target is named.

An endpoint is `https` (a signed POST, the default) or an AWS destination in the customer's
own account: `sqs` (a queue, by URL or ARN), `sns` (a topic ARN) or `eventbridge` (an
event bus ARN). Dovecote reaches an AWS destination by assuming the customer's `role_arn`
with the `ExternalId` it generated for the endpoint (AWS's guard against the confused
deputy: another customer cannot point Dovecote at your role).

Everything here is plain parsing and validation: the senders are in
functions/pipeline/destinations/, the credentials in functions/runtime/assumed_roles.py.
Every refusal names the request field (`InvalidRequestError`, answered 422).
"""

from __future__ import annotations

import fnmatch
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from functions.core.errors import InvalidRequestError


class DestinationType(StrEnum):
    HTTPS = "https"
    SQS = "sqs"
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"

    @property
    def is_aws(self) -> bool:
        return self is not DestinationType.HTTPS


DEFAULT_ROLE_PATTERN = "arn:aws:iam::*:role/dovecote-delivery-*"
"""The roles the deliver function may assume unless the deployment sets another pattern
(`cdk deploy -c destinationRoles=…`): a customer names its role `dovecote-delivery-…`."""
EXTERNAL_ID_PREFIX = "dvc_ext_"
"""Every generated ExternalId starts so; the deliver function's policy requires it."""
DEFAULT_EVENTBRIDGE_SOURCE = "dovecote"
MAX_GROUP_ID_CHARS = 128
MAX_SOURCE_CHARS = 256

_PARTITION = r"aws(?:-cn|-us-gov)?"
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"
_ACCOUNT = r"\d{12}"
_ROLE_ARN = re.compile(rf"^arn:{_PARTITION}:iam::(?P<account>{_ACCOUNT}):role/(?P<path>[\w+=,.@/-]{{1,512}})$")
_QUEUE_ARN = re.compile(
    rf"^arn:{_PARTITION}:sqs:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):(?P<name>[A-Za-z0-9_-]{{1,75}}(?:\.fifo)?)$"
)
_QUEUE_URL = re.compile(
    rf"^https://sqs\.(?P<region>{_REGION})\.amazonaws\.com(?:\.cn)?/(?P<account>{_ACCOUNT})/"
    r"(?P<name>[A-Za-z0-9_-]{1,75}(?:\.fifo)?)$"
)
_TOPIC_ARN = re.compile(
    rf"^arn:{_PARTITION}:sns:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):(?P<name>[A-Za-z0-9_-]{{1,251}}(?:\.fifo)?)$"
)
_BUS_ARN = re.compile(
    rf"^arn:{_PARTITION}:events:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):event-bus/(?P<name>[\w.\-/]{{1,256}})$"
)
_GROUP_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_SOURCE = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")


class AwsDestination(BaseModel):
    """What Dovecote keeps of an AWS destination, beside the endpoint's target (its `url`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    role_arn: str
    external_id: str
    region: str
    account: str
    message_group_id: str | None = None
    """FIFO queues and topics: the message group; the endpoint id when unset."""
    source: str | None = None
    """EventBridge: the events' `source`; `dovecote` when unset."""


@dataclass(frozen=True)
class AwsTarget:
    """A validated target: its canonical address (stored as the endpoint's `url`), region, account, name."""

    address: str
    region: str
    account: str
    name: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def new_external_id() -> str:
    return EXTERNAL_ID_PREFIX + secrets.token_hex(16)


def parse_target(kind: DestinationType, value: str, field: str = "target") -> AwsTarget:
    """The target of an AWS destination: a queue URL or ARN, a topic ARN, an event bus ARN."""
    if kind is DestinationType.SQS:
        found = _QUEUE_URL.fullmatch(value) or _QUEUE_ARN.fullmatch(value)
        if not found:
            raise InvalidRequestError(
                f"{field}: not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) "
                "or queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
            )
        region, account, name = found["region"], found["account"], found["name"]
        return AwsTarget(f"https://sqs.{region}.amazonaws.com/{account}/{name}", region, account, name)
    if kind is DestinationType.SNS:
        found = _TOPIC_ARN.fullmatch(value)
        if not found:
            raise InvalidRequestError(f"{field}: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        return AwsTarget(value, found["region"], found["account"], found["name"])
    if kind is DestinationType.EVENTBRIDGE:
        found = _BUS_ARN.fullmatch(value)
        if not found:
            raise InvalidRequestError(
                f"{field}: not an EventBridge event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"
            )
        return AwsTarget(value, found["region"], found["account"], found["name"])
    raise InvalidRequestError(f"{field}: an https endpoint has a url, not a target")


def target_of(kind: DestinationType, address: str) -> AwsTarget:
    """The stored (already validated) target of an endpoint."""
    return parse_target(kind, address)


def validate_role_arn(value: str, pattern: str, field: str = "role_arn") -> str:
    if not _ROLE_ARN.fullmatch(value):
        raise InvalidRequestError(f"{field}: not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    if not fnmatch.fnmatchcase(value, pattern):
        raise InvalidRequestError(f"{field}: this deployment may only assume roles matching {pattern}")
    return value


def role_account(role_arn: str) -> str:
    found = _ROLE_ARN.fullmatch(role_arn)
    return found["account"] if found else ""


def validate_message_group_id(value: str | None, kind: DestinationType, target: AwsTarget) -> str | None:
    if value is None:
        return None
    if kind not in {DestinationType.SQS, DestinationType.SNS} or not target.fifo:
        raise InvalidRequestError("message_group_id: only for FIFO queues and topics (names ending .fifo)")
    if not _GROUP_ID.fullmatch(value):
        raise InvalidRequestError(
            f"message_group_id: 1 to {MAX_GROUP_ID_CHARS} letters, digits or punctuation (SQS's rule)"
        )
    return value


def validate_source(value: str | None, kind: DestinationType) -> str | None:
    if value is None:
        return None
    if kind is not DestinationType.EVENTBRIDGE:
        raise InvalidRequestError("source: only for eventbridge endpoints")
    if not _SOURCE.fullmatch(value) or value.startswith("aws."):
        raise InvalidRequestError(
            f"source: 1 to {MAX_SOURCE_CHARS} letters, digits, '.', '_', '-' or '/', not starting with 'aws.'"
        )
    return value
