"""`dovecote local`: run the stack on this machine until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path
from types import FrameType

from dovecote_local.customer import CUSTOMER_ACCOUNT, ROLE_NAME
from dovecote_local.moto_server import REGION
from dovecote_local.stack import DEV_APPLICATION, LocalOptions, LocalStack, describe
from functions.core.profile import load_profile

DEFAULT_PORT = 8787


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dovecote local",
        description="Run Dovecote on this machine: the real handlers and the synthesized state machine "
        "against moto, with the HTTP API on 127.0.0.1. No AWS account, no Docker.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP API port (default %(default)s)")
    parser.add_argument(
        "--profile", default="standard", help="shipped profile name or profile file (default %(default)s)"
    )
    parser.add_argument(
        "--api-key", help=f"API key of application {DEV_APPLICATION!r} (default: a random one, printed)"
    )
    parser.add_argument("--platform-key", help="the platform key to accept (default: a random one, printed)")
    parser.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        help="multiply retry waits by this (0.01 plays a one-hour wait in 36 s; default 1)",
    )
    parser.add_argument(
        "--allow-http-loopback",
        action="store_true",
        help="accept receivers on 127.0.0.1 / ::1, over http too (off by default, as deployed)",
    )
    parser.add_argument("--moto-port", type=int, default=0, help="port of the moto server (default: a free one)")
    parser.add_argument("--template", type=Path, help="use this synthesized template instead of synthesizing")
    parser.add_argument("--ready-file", type=Path, help="write the stack's endpoints as JSON here once it serves")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="keep applications, keys, webhooks and the delivery log here across restarts (default: memory only)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the handlers' own (JSON) logs")
    return parser


def options_from(arguments: argparse.Namespace) -> LocalOptions:
    """The stack's options, each from the command-line option of the same name (those it has)."""
    given = vars(arguments)
    return LocalOptions(**{option.name: given[option.name] for option in fields(LocalOptions) if option.name in given})


def banner(stack: LocalStack, event_type: str) -> str:
    api = stack.api_url
    platform = f"Authorization: Bearer {stack.platform_key}"
    auth = f"Authorization: Bearer {stack.api_key}"
    json_body = "-H 'Content-Type: application/json'"
    application = json.dumps({"id": "acme", "name": "Acme Corp"})
    create = json.dumps({"url": "https://example.com/hooks/dovecote", "events": ["*"]})
    event = json.dumps({"type": event_type, "data": {"hello": "world"}})
    loopback = "allowed" if stack.options.allow_http_loopback else "refused (--allow-http-loopback)"
    return "\n".join(
        [
            f"Dovecote local stack: profile {stack.profile_name}, time scale {stack.options.time_scale:g}",
            f"  API            {api}/v1   (docs: {api}/v1/openapi.json)",
            f"  Platform key   {stack.platform_key}   (every application)",
            f"  API key        {stack.api_key}   (application {DEV_APPLICATION})",
            f"  AWS (moto)     {stack.moto_endpoint}   table {stack.table_name}",
            f"  http://127.0.0.1 receivers: {loopback}",
            "",
            "As the platform: create an application, publish an event for it, open its portal session:",
            f"  curl -s {api}/v1/applications -H {shlex.quote(platform)} {json_body} -d {shlex.quote(application)}",
            f"  curl -s {api}/v1/applications/acme/events -H {shlex.quote(platform)} {json_body} \\",
            f"    -d {shlex.quote(event)}",
            f"  curl -s -X POST {api}/v1/applications/acme/portal-sessions -H {shlex.quote(platform)}",
            f"As the customer (application {DEV_APPLICATION}): create a webhook, then publish an event:",
            f"  curl -s {api}/v1/webhooks -H {shlex.quote(auth)} {json_body} \\",
            f"    -d {shlex.quote(create)}",
            f"  curl -s {api}/v1/events -H {shlex.quote(auth)} {json_body} \\",
            f"    -d {shlex.quote(event)}",
            *aws_destinations_help(stack, auth),
            "Operational events (endpoint.disabled, delivery.exhausted, …) put on the default event bus:",
            f"  .venv/bin/python -m dovecote_local.operational --endpoint {stack.moto_endpoint}",
            "",
            "Delivery attempts are logged below. Ctrl-C stops.",
        ]
    )


def aws_destinations_help(stack: LocalStack, auth: str) -> list[str]:
    """How to deliver to an SQS queue or EventBridge bus in moto's account 111122223333 (the customer's)."""
    customer = f".venv/bin/python -m dovecote_local.customer --endpoint {stack.moto_endpoint}"
    role = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/{ROLE_NAME}"
    sqs = json.dumps(
        {
            "type": "sqs",
            "target": f"https://sqs.{REGION}.amazonaws.com/{CUSTOMER_ACCOUNT}/orders",
            "role_arn": role,
            "events": ["*"],
        }
    )
    bus = json.dumps(
        {
            "type": "eventbridge",
            "target": f"arn:aws:events:{REGION}:{CUSTOMER_ACCOUNT}:event-bus/orders-bus",
            "role_arn": role,
            "events": ["*"],
        }
    )
    return [
        f"AWS destinations: moto account {CUSTOMER_ACCOUNT} plays the customer's; AssumeRole checks the role's",
        "trust policy and ExternalId (dovecote_local/trust.py, a local emulation of IAM):",
        f"  {customer} setup      # the role, a queue, a topic and a bus (prints them)",
        f"  curl -s {stack.api_url}/v1/webhooks -H {shlex.quote(auth)} -H 'Content-Type: application/json' \\",
        f"    -d {shlex.quote(sqs)}",
        f"    (or eventbridge: -d {shlex.quote(bus)})",
        f"  {customer} trust EXTERNAL_ID   # the external_id of the answer(s): the role now trusts them",
        f"  {customer} receive https://sqs.{REGION}.amazonaws.com/{CUSTOMER_ACCOUNT}/orders   # after publishing",
        f"    (the bus's events land in https://sqs.{REGION}.amazonaws.com/{CUSTOMER_ACCOUNT}/orders-bus-inbox)",
    ]


def _example_event_type(profile_name: str) -> str:
    profile = load_profile(profile_name)
    return profile.event_types[0].name if profile.event_types else "order.created"


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def main(argv: list[str]) -> int:
    arguments = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if arguments.verbose:
        logging.getLogger("dovecote-local").setLevel(logging.DEBUG)
    options = options_from(arguments)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = LocalStack(options)
    try:
        try:
            stack.start()
        except Exception as error:
            print(f"dovecote local: {error}", file=sys.stderr)
            return 1
        print(banner(stack, _example_event_type(options.profile)), flush=True)
        if arguments.ready_file:
            _write_atomically(arguments.ready_file, json.dumps(describe(stack), indent=2) + "\n")
        while not stopping.wait(0.5):
            pass
        print("dovecote local: stopping", flush=True)
        return 0
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
