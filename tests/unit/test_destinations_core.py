"""functions/core/destinations.py: targets parsed to their canonical form, roles checked against the pattern;
dovecote_local/trust.py: the local emulation of a trust policy's ExternalId condition."""

from __future__ import annotations

import json

import pytest

from dovecote_local.trust import trust_allows
from functions.core.destinations import (
    DEFAULT_ROLE_PATTERN,
    DestinationType,
    new_external_id,
    parse_target,
    validate_role_arn,
)
from functions.core.errors import InvalidRequestError


def test_a_queue_arn_and_its_url_name_the_same_target() -> None:
    by_arn = parse_target(DestinationType.SQS, "arn:aws:sqs:eu-west-1:111122223333:orders.fifo")
    by_url = parse_target(DestinationType.SQS, "https://sqs.eu-west-1.amazonaws.com/111122223333/orders.fifo")
    assert by_arn == by_url
    assert by_arn.address == "https://sqs.eu-west-1.amazonaws.com/111122223333/orders.fifo"
    assert (by_arn.region, by_arn.account, by_arn.fifo) == ("eu-west-1", "111122223333", True)


def test_a_bus_and_a_topic_keep_their_arn() -> None:
    bus = parse_target(DestinationType.EVENTBRIDGE, "arn:aws:events:us-west-2:111122223333:event-bus/orders")
    assert (bus.address, bus.region, bus.name) == (
        "arn:aws:events:us-west-2:111122223333:event-bus/orders",
        "us-west-2",
        "orders",
    )
    topic = parse_target(DestinationType.SNS, "arn:aws:sns:us-east-1:111122223333:orders")
    assert not topic.fifo


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::111122223333:role/admin",
        "arn:aws:iam::111122223333:user/dovecote-delivery-x",
        "arn:aws:iam::11112222333:role/dovecote-delivery-x",
    ],
)
def test_roles_outside_the_pattern_or_malformed_are_refused_naming_role_arn(role: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"^role_arn: "):
        validate_role_arn(role, DEFAULT_ROLE_PATTERN)


def test_a_role_matches_the_pattern_by_its_full_arn_account_included() -> None:
    role = "arn:aws:iam::111122223333:role/dovecote-delivery-orders"
    assert validate_role_arn(role, DEFAULT_ROLE_PATTERN) == role
    with pytest.raises(InvalidRequestError):
        validate_role_arn(role, "arn:aws:iam::444455556666:role/dovecote-delivery-*")


def test_external_ids_are_fresh_and_carry_the_prefix_the_policy_requires() -> None:
    ids = {new_external_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("dvc_ext_") and len(i) == 40 for i in ids)


def policy(external_id: object = "dvc_ext_1", principal: object = "arn:aws:iam::123456789012:root") -> str:
    statement: dict[str, object] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    ("document", "external_id", "allowed"),
    [
        (policy(), "dvc_ext_1", True),
        (policy(), "dvc_ext_2", False),
        (policy(), None, False),
        (policy(["dvc_ext_1", "dvc_ext_2"]), "dvc_ext_2", True),
        (policy(None), "anything", True),  # no condition: any ExternalId (AWS allows it too)
        (policy(principal="arn:aws:iam::999999999999:root"), "dvc_ext_1", False),
        (policy(principal="123456789012"), "dvc_ext_1", True),
        (policy(principal="arn:aws:iam::123456789012:role/deliver"), "dvc_ext_1", True),
        (policy().replace('"Allow"', '"Deny"'), "dvc_ext_1", False),
    ],
)
def test_the_local_trust_emulation_checks_principal_and_external_id(
    document: str, external_id: str | None, allowed: bool
) -> None:
    assert trust_allows(document, "123456789012", external_id) is allowed
