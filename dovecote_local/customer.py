"""A customer's AWS account inside the local stack's moto: the targets of AWS destinations.

moto keeps one backend per account id; requests carrying `x-moto-account-id` act in that
account. `CustomerAccount` creates, in account 111122223333 by default, what a customer
would: the role Dovecote assumes (trust policy: Dovecote's account, with the endpoint's
ExternalId), an SQS queue, an SNS topic and an EventBridge bus, the latter two with an SQS
"inbox" subscribed, so what they receive can be read back. The local stack's STS checks
that trust policy (dovecote_local/trust.py).

    python -m dovecote_local.customer --endpoint http://127.0.0.1:PORT setup
    python -m dovecote_local.customer --endpoint http://127.0.0.1:PORT trust EXTERNAL_ID
    python -m dovecote_local.customer --endpoint http://127.0.0.1:PORT receive QUEUE_URL
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from dovecote_local.moto_server import REGION

CUSTOMER_ACCOUNT = "111122223333"
DOVECOTE_ACCOUNT = "123456789012"
"""moto's default account: the one the local stack (and its deliver function) runs in."""
ROLE_NAME = "dovecote-delivery-demo"
SEND_PERMISSIONS = ["sqs:SendMessage", "sns:Publish", "events:PutEvents"]


def trust_policy(external_ids: list[str], dovecote_account: str = DOVECOTE_ACCOUNT) -> dict[str, Any]:
    """The role's trust policy, as the README shows it: Dovecote's account, with the ExternalId(s)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{dovecote_account}:root"},
        "Action": "sts:AssumeRole",
    }
    statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_ids or ["none-yet"]}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def send_policy(resources: list[str]) -> dict[str, Any]:
    """The one permission the customer grants the role (per target type)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": SEND_PERMISSIONS, "Resource": resources}],
    }


@dataclass
class CustomerAccount:
    endpoint_url: str | None = None
    """The moto server; None for moto in this process (`mock_aws`)."""
    account: str = CUSTOMER_ACCOUNT
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = boto3.client(
                service,  # type: ignore[call-overload]
                region_name=REGION,
                endpoint_url=self.endpoint_url,
                aws_access_key_id="customer",
                aws_secret_access_key="customer",  # noqa: S106 - moto's fake credentials
                config=Config(retries={"max_attempts": 1}),
            )
            account = self.account

            def act_in_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign.*.*", act_in_account)
            self._clients[service] = client
        return self._clients[service]

    # set-up -------------------------------------------------------------------------------

    def role(self, name: str = ROLE_NAME, external_ids: list[str] | None = None) -> str:
        iam = self.client("iam")
        arn = str(
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy(external_ids or [])))[
                "Role"
            ]["Arn"]
        )
        iam.put_role_policy(RoleName=name, PolicyName="dovecote-send", PolicyDocument=json.dumps(send_policy(["*"])))
        return arn

    def trust(self, external_ids: list[str], name: str = ROLE_NAME) -> None:
        """Let Dovecote assume the role with these ExternalIds (what the customer does after registering)."""
        self.client("iam").update_assume_role_policy(
            RoleName=name, PolicyDocument=json.dumps(trust_policy(external_ids))
        )

    def queue(self, name: str) -> str:
        """The queue's URL as AWS writes it (moto's server answers with its own address, which works too)."""
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        self.client("sqs").create_queue(QueueName=name, Attributes=attributes)
        return f"https://sqs.{REGION}.amazonaws.com/{self.account}/{name}"

    def queue_arn(self, queue_url: str) -> str:
        return str(
            self.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        )

    def topic(self, name: str) -> tuple[str, str]:
        """A topic and an SQS inbox subscribed to it (raw delivery: the message as published, attributes too)."""
        arn = str(self.client("sns").create_topic(Name=name)["TopicArn"])
        inbox = self.queue(f"{name}-inbox")
        self.client("sns").subscribe(
            TopicArn=arn,
            Protocol="sqs",
            Endpoint=self.queue_arn(inbox),
            Attributes={"RawMessageDelivery": "true"},
        )
        return arn, inbox

    def bus(self, name: str) -> tuple[str, str]:
        """An event bus and an SQS inbox that a catch-all rule sends its events to."""
        events = self.client("events")
        arn = str(events.create_event_bus(Name=name)["EventBusArn"])
        inbox = self.queue(f"{name}-inbox")
        events.put_rule(Name=f"{name}-all", EventBusName=name, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        events.put_targets(
            Rule=f"{name}-all", EventBusName=name, Targets=[{"Id": "inbox", "Arn": self.queue_arn(inbox)}]
        )
        return arn, inbox

    def delete_queue(self, queue_url: str) -> None:
        self.client("sqs").delete_queue(QueueUrl=queue_url)

    # reading ------------------------------------------------------------------------------

    def receive(self, queue_url: str, max_messages: int = 10) -> list[dict[str, Any]]:
        """Messages waiting in a queue of this account (with their attributes), removed from it."""
        sqs = self.client("sqs")
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=max_messages, MessageAttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = list(response.get("Messages", []))
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


def headers_of(message: dict[str, Any]) -> dict[str, str]:
    """An SQS message's attributes as the headers a verifier reads."""
    return {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dovecote_local.customer", description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True, help="the local stack's aws_endpoint_url")
    parser.add_argument("--account", default=CUSTOMER_ACCOUNT)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="create the role, a queue, a topic and a bus; print their ARNs")
    trust = commands.add_parser("trust", help="let Dovecote assume the role with these ExternalIds")
    trust.add_argument("external_ids", nargs="+")
    receive = commands.add_parser("receive", help="print (and remove) the messages in a queue")
    receive.add_argument("queue_url")
    args = parser.parse_args(argv)
    customer = CustomerAccount(args.endpoint, args.account)
    if args.command == "setup":
        topic, topic_inbox = customer.topic("orders-topic")
        bus, bus_inbox = customer.bus("orders-bus")
        print(
            json.dumps(
                {
                    "role_arn": customer.role(),
                    "queue_url": customer.queue("orders"),
                    "topic_arn": topic,
                    "topic_inbox_url": topic_inbox,
                    "event_bus_arn": bus,
                    "event_bus_inbox_url": bus_inbox,
                },
                indent=2,
            )
        )
    elif args.command == "trust":
        customer.trust(args.external_ids)
        print(f"{ROLE_NAME} now trusts Dovecote's account with ExternalId {', '.join(args.external_ids)}")
    else:
        for message in customer.receive(args.queue_url):
            print(json.dumps({"body": message["Body"], "attributes": headers_of(message)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
