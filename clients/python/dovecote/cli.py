"""The `dovecote` command line: the HTTP API from a shell, plus `local` and `admin`.

Output is an aligned table or field list by default, the API's JSON with `--json`.
Failures exit non-zero with one line on stderr (set DOVECOTE_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dovecote._errors import APIConnectionError, ConfigurationError, DovecoteError
from dovecote._models import DovecoteObject
from dovecote._pagination import ListPage
from dovecote._transport import API_KEY_ENV, API_URL_ENV
from dovecote.client import KEEP, ApplicationScope, Dovecote

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "DOVECOTE_DEBUG"
DELIVERY_STATUSES = ("succeeded", "failed", "pending", "cancelled")
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--api-url", "--api-key", "--timeout", "--app"})
_RELATIVE_TIME = re.compile(r"(\d+)([smhd])")
_TIME_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class UsageError(Exception):
    """A command-line value the API never saw is wrong (exit status 2)."""


@dataclass(frozen=True)
class Output:
    document: Any
    """What `--json` prints: the API's JSON."""
    text: str
    """What a person sees."""
    note: str | None = None
    """An aside for a person, printed to stderr (never with `--json`)."""
    status: int = 0
    """The exit status: 0, or 1 when part of the work failed (the output says which)."""


Handler = Callable[[Dovecote, argparse.Namespace], Output]


@dataclass(frozen=True)
class Column:
    header: str
    field: str | Callable[[dict[str, Any]], Any]
    max_width: int | None = None

    def cell(self, document: dict[str, Any]) -> str:
        value = document.get(self.field) if isinstance(self.field, str) else self.field(document)
        text = _display(value)
        if self.max_width is not None and len(text) > self.max_width:
            text = text[: self.max_width - 1] + "…"
        return text


WEBHOOK_COLUMNS = (
    Column("ID", "id"),
    Column("URL", "url"),
    Column("EVENTS", "events"),
    Column("STATUS", "status"),
    Column("CREATED", "created_at"),
)
APPLICATION_COLUMNS = (
    Column("ID", "id"),
    Column("NAME", "name", max_width=40),
    Column("CREATED", "created_at"),
)
KEY_COLUMNS = (
    Column("ID", "id"),
    Column("PREFIX", "display_prefix"),
    Column("DESCRIPTION", "description", max_width=40),
    Column("CREATED", "created_at"),
    Column("REVOKED", "revoked_at"),
)
DELIVERY_COLUMNS = (
    Column("ID", "id"),
    Column("EVENT", "event"),
    Column("STATUS", "status"),
    Column("ATTEMPTS", "attempt_count"),
    Column("RESPONSE", "response_status"),
    Column("NEXT RETRY", "next_retry_at"),
    Column("CREATED", "created_at"),
)
ATTEMPT_COLUMNS = (
    Column("#", "number"),
    Column("ATTEMPTED", "attempted_at"),
    Column("RESPONSE", "response_status"),
    Column("LATENCY", lambda attempt: None if attempt.get("latency_ms") is None else f"{attempt['latency_ms']}ms"),
    Column("ERROR", "error", max_width=60),
)
EVENT_TYPE_COLUMNS = (
    Column("NAME", "name"),
    Column("DEPRECATED", lambda document: "yes" if document.get("deprecated") else "-"),
    Column("SCHEMA", lambda document: "yes" if document.get("schema") is not None else "-"),
    Column("DESCRIPTION", "description"),
)


# Rendering


def _display(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value) or "-"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return " ".join(str(value).split())


def render_table(columns: Sequence[Column], documents: Iterable[dict[str, Any]]) -> str:
    rows = [[column.header for column in columns]]
    rows += [[column.cell(document) for column in columns] for document in documents]
    widths = [max(len(row[index]) for row in rows) for index in range(len(columns))]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def render_fields(document: dict[str, Any], *, skip: Sequence[str] = ("object",)) -> str:
    fields = [(name, _display(value)) for name, value in document.items() if name not in skip]
    width = max((len(name) for name, _ in fields), default=0)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in fields)


def _object_output(item: DovecoteObject, note: str | None = None) -> Output:
    document = item.to_dict()
    return Output(document, render_fields(document), note)


def _list_output(page: ListPage[Any], columns: Sequence[Column], walk_all: bool) -> Output:
    if walk_all:
        documents = [item.to_dict() for item in page]
        listing = {"object": "list", "data": documents, "has_more": False, "next_cursor": None}
        return Output(listing, render_table(columns, documents))
    documents = [item.to_dict() for item in page.data]
    note = None
    if page.has_more and page.next_cursor:
        note = f"more results: add --cursor {page.next_cursor} (or --all)"
    return Output(page.to_dict(), render_table(columns, documents), note)


def _secret_note(webhook_id: str) -> str:
    return f"store the secret of {webhook_id} now: it is not shown again"


# Argument values


def _json_argument(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def _event_data(args: argparse.Namespace) -> Any:
    if args.data is not None:
        return _json_argument(args.data, "--data")
    if args.data_file is not None:
        if args.data_file == "-":
            return _json_argument(sys.stdin.read(), "stdin")
        try:
            text = Path(args.data_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--data-file: cannot read {args.data_file}: {exc.strerror}") from None
        return _json_argument(text, args.data_file)
    return {}


def _event_types(values: list[str] | None) -> list[str] | None:
    """`--events a,b --events c` → ["a", "b", "c"]."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _since(value: str) -> str:
    """An ISO-8601 time, or a duration back from now such as 30m, 2h, 7d."""
    relative = _RELATIVE_TIME.fullmatch(value.strip())
    if relative:
        amount, unit = relative.groups()
        moment = datetime.now(UTC) - timedelta(**{_TIME_UNITS[unit]: int(amount)})
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since: expected an ISO-8601 time or a duration like 2h, got {value!r}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"--since: give a time zone (e.g. {value}Z)")
    return value


# Commands


def _scope(client: Dovecote, args: argparse.Namespace) -> Dovecote | ApplicationScope:
    """With `--app`, the application's routes under a platform key; else the key's own application."""
    return client.application(args.app) if args.app else client


def _required_app(args: argparse.Namespace) -> str:
    if not args.app:
        raise UsageError("--app is required: the application (a platform key acts for every application)")
    return str(args.app)


def _webhooks_list(client: Dovecote, args: argparse.Namespace) -> Output:
    page = _scope(client, args).webhooks.list(limit=args.limit, cursor=args.cursor)
    return _list_output(page, WEBHOOK_COLUMNS, args.all)


def _headers_option(values: list[str] | None) -> dict[str, str] | None:
    """`--header NAME=VALUE`, repeated."""
    if values is None:
        return None
    headers: dict[str, str] = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--header {value!r}: give NAME=VALUE")
        headers[name.strip()] = text
    return headers


def _filter_option(text: str | None) -> dict[str, Any] | None:
    """`--filter '{"data": {"amount": {"$gte": 100}}}'`."""
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--filter: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise UsageError("--filter: give a JSON object")
    return document


def _webhooks_create(client: Dovecote, args: argparse.Namespace) -> Output:
    aws = args.type not in {None, "https"}
    webhook = _scope(client, args).webhooks.create(
        None if aws else args.url,
        _event_types(args.events) or [],
        description=args.description,
        secret=args.secret,
        enabled=False if args.disabled else None,
        type=args.type,
        target=args.url if aws else None,
        role_arn=args.role_arn,
        message_group_id=args.message_group_id,
        source=args.source,
        headers=_headers_option(args.header),
        filter=_filter_option(args.filter),
        signature_version=args.signature_version,
        rate_limit_per_second=args.rate_limit,
    )
    return _object_output(webhook, _secret_note(webhook.id))


def _webhooks_get(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).webhooks.get(args.webhook_id))


def _webhooks_update(client: Dovecote, args: argparse.Namespace) -> Output:
    changes: dict[str, Any] = {
        "url": args.url,
        "events": _event_types(args.events),
        "description": args.description,
        "enabled": args.enabled,
        "target": args.target,
        "role_arn": args.role_arn,
        "headers": {} if args.clear_headers else _headers_option(args.header),
        "filter": {} if args.clear_filter else _filter_option(args.filter),
        "rate_limit_per_second": args.rate_limit,
    }
    if all(value is None for value in changes.values()) and not args.clear_rate_limit:
        raise UsageError(
            "nothing to update: give --url, --events, --description, --enable, --disable, --target, --role-arn,"
            " --header, --clear-headers, --filter, --clear-filter, --rate-limit or --clear-rate-limit"
        )
    webhooks = _scope(client, args).webhooks
    return _object_output(webhooks.update(args.webhook_id, **changes, clear_rate_limit=args.clear_rate_limit))


def _webhooks_delete(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).webhooks.delete(args.webhook_id))


def _webhooks_deliveries(client: Dovecote, args: argparse.Namespace) -> Output:
    page = _scope(client, args).webhooks.deliveries(
        args.webhook_id, status=args.status, event=args.event, limit=args.limit, cursor=args.cursor
    )
    return _list_output(page, DELIVERY_COLUMNS, args.all)


def _webhooks_test(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).webhooks.test(args.webhook_id))


def _webhooks_rotate_secret(client: Dovecote, args: argparse.Namespace) -> Output:
    webhook = _scope(client, args).webhooks.rotate_secret(args.webhook_id)
    return _object_output(webhook, _secret_note(webhook.id))


def _webhooks_recover(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).webhooks.recover(args.webhook_id, _since(args.since)))


BATCH_SIZE = 100


def _batch_line(number: int, line: str) -> dict[str, Any]:
    """One JSONL line: {"type", "data", "id"?, "idempotency_key"?}; without id or key, a key from its content."""
    try:
        event = json.loads(line)
    except ValueError as error:
        raise UsageError(f"--file line {number}: not JSON ({error})") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise UsageError(f'--file line {number}: give an object with a "type" (and "data", "id", "idempotency_key")')
    if "id" not in event and "idempotency_key" not in event:
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
        event["idempotency_key"] = "file-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    return event


def _events_send_file(client: Dovecote, args: argparse.Namespace) -> Output:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--file: cannot read {args.file}: {exc.strerror}") from None
    events = [_batch_line(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not events:
        raise UsageError(f"--file: {args.file} holds no events")
    failures: list[dict[str, Any]] = []
    sent = 0
    for start in range(0, len(events), BATCH_SIZE):
        answer = _scope(client, args).events.send_batch(events[start : start + BATCH_SIZE])
        sent += answer.accepted
        failures += [
            {"line": start + item.index + 1, "status": item.status, "error": item.error.message if item.error else ""}
            for item in answer.data
            if not item.ok
        ]
        done = min(start + BATCH_SIZE, len(events))
        if not args.json:
            print(f"\rsent {done}/{len(events)} events, {len(failures)} failed", end="", file=sys.stderr, flush=True)
    if not args.json:
        print(file=sys.stderr)
    document = {"events": len(events), "accepted": sent, "failed": len(failures), "failures": failures}
    lines = [f"{sent} of {len(events)} events queued"] + [
        f"line {failure['line']}: {failure['status']} {failure['error']}" for failure in failures
    ]
    return Output(document, "\n".join(lines), status=1 if failures else 0)


def _events_send(client: Dovecote, args: argparse.Namespace) -> Output:
    if args.file is not None:
        if args.type or args.id or args.idempotency_key or args.data is not None or args.data_file is not None:
            raise UsageError("--file: give the type, data and ids in the file's lines, not as options")
        return _events_send_file(client, args)
    if not args.type:
        raise UsageError("give the event type (or --file events.jsonl)")
    event = _scope(client, args).events.send(
        args.type, _event_data(args), id=args.id, idempotency_key=args.idempotency_key
    )
    return _object_output(event)


def _events_get(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).events.get(args.event_id))


def _deliveries_get(client: Dovecote, args: argparse.Namespace) -> Output:
    document = _scope(client, args).deliveries.get(args.delivery_id).to_dict()
    text = render_fields(document, skip=("object", "attempts"))
    attempts = document.get("attempts") or []
    text += "\n\nattempts:\n" + render_table(ATTEMPT_COLUMNS, attempts) if attempts else "\n\nattempts: none yet"
    return Output(document, text)


def _deliveries_retry(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).deliveries.retry(args.delivery_id))


def _event_types_list(client: Dovecote, args: argparse.Namespace) -> Output:
    page = _scope(client, args).event_types.list()
    output = _list_output(page, EVENT_TYPE_COLUMNS, walk_all=True)
    if not output.document["data"]:
        output = replace(output, note="this deployment's profile has no catalog: any dotted event type is accepted")
    return output


def _json_option(args: argparse.Namespace, name: str) -> Any:
    """The JSON of `--NAME` or `--NAME-file` (a path, or '-' for stdin); KEEP when neither was given."""
    text, path = getattr(args, name), getattr(args, f"{name}_file")
    if text is not None:
        return _json_argument(text, f"--{name}")
    if path is None:
        return KEEP
    if path == "-":
        return _json_argument(sys.stdin.read(), "stdin")
    try:
        return _json_argument(Path(path).read_text(encoding="utf-8"), f"--{name}-file")
    except OSError as exc:
        raise UsageError(f"--{name}-file: cannot read {path}: {exc.strerror}") from None


def _event_types_get(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(_scope(client, args).event_types.get(args.name))


def _event_types_create(client: Dovecote, args: argparse.Namespace) -> Output:
    schema, example = _json_option(args, "schema"), _json_option(args, "example")
    event_type = client.event_types.create(
        args.name,
        description=args.description,
        schema=None if schema is KEEP else schema,
        example=None if example is KEEP else example,
        deprecated=args.deprecated or None,
    )
    return _object_output(event_type)


def _event_types_update(client: Dovecote, args: argparse.Namespace) -> Output:
    schema = None if args.no_schema else _json_option(args, "schema")
    example = None if args.no_example else _json_option(args, "example")
    event_type = client.event_types.update(
        args.name, description=args.description, schema=schema, example=example, deprecated=args.deprecated
    )
    return _object_output(event_type)


def _event_types_delete(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.event_types.delete(args.name))


def _applications_create(client: Dovecote, args: argparse.Namespace) -> Output:
    metadata = _json_argument(args.metadata, "--metadata") if args.metadata else None
    return _object_output(
        client.applications.create(args.name, id=args.id, metadata=metadata, rate_limit_per_second=args.rate_limit)
    )


def _applications_list(client: Dovecote, args: argparse.Namespace) -> Output:
    return _list_output(client.applications.list(limit=args.limit, cursor=args.cursor), APPLICATION_COLUMNS, args.all)


def _applications_get(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.applications.get(args.application_id))


def _applications_update(client: Dovecote, args: argparse.Namespace) -> Output:
    metadata = _json_argument(args.metadata, "--metadata") if args.metadata else None
    if args.name is None and metadata is None and args.rate_limit is None and not args.clear_rate_limit:
        raise UsageError("nothing to update: give --name, --metadata, --rate-limit or --clear-rate-limit")
    update = client.applications.update(
        args.application_id,
        name=args.name,
        metadata=metadata,
        rate_limit_per_second=args.rate_limit,
        clear_rate_limit=args.clear_rate_limit,
    )
    return _object_output(update)


def _applications_delete(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.applications.delete(args.application_id))


def _api_keys_create(client: Dovecote, args: argparse.Namespace) -> Output:
    api_key = client.application(_required_app(args)).api_keys.create(description=args.description)
    return _object_output(api_key, "the key is shown only now: store it")


def _api_keys_list(client: Dovecote, args: argparse.Namespace) -> Output:
    page = client.application(_required_app(args)).api_keys.list(limit=args.limit, cursor=args.cursor)
    return _list_output(page, KEY_COLUMNS, args.all)


def _api_keys_revoke(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.application(_required_app(args)).api_keys.revoke(args.key_id))


def _portal_sessions_create(client: Dovecote, args: argparse.Namespace) -> Output:
    session = client.application(_required_app(args)).portal_sessions.create(
        ttl_seconds=args.ttl, read_only=True if args.read_only else None
    )
    return _object_output(session)


def _platform_keys_create(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.platform_keys.create(description=args.description), "the key is shown only now")


def _platform_keys_list(client: Dovecote, args: argparse.Namespace) -> Output:
    return _list_output(client.platform_keys.list(limit=args.limit, cursor=args.cursor), KEY_COLUMNS, args.all)


def _platform_keys_revoke(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.platform_keys.revoke(args.key_id))


def _operational_webhook_set(client: Dovecote, args: argparse.Namespace) -> Output:
    webhook = client.operational_webhook.set(args.url, events=_event_types(args.events), secret=args.secret)
    note = "the signing secret is shown only now: store it" if webhook.secret else None
    return _object_output(webhook, note)


def _operational_webhook_get(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.operational_webhook.get())


def _operational_webhook_delete(client: Dovecote, args: argparse.Namespace) -> Output:
    return _object_output(client.operational_webhook.delete())


# Commands implemented elsewhere, imported only when used.

DELEGATED_COMMANDS: dict[str, tuple[str, str]] = {
    "local": ("dovecote_local", "run Dovecote on this machine (no AWS account needed)"),
    "admin": ("functions.admin.bootstrap", "admin bootstrap: print the first platform key of a deployment"),
}


def _run_delegated(command: str, argv: list[str]) -> int:
    module_name, _ = DELEGATED_COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UsageError(f"`dovecote {command}` is not available in this installation") from None
        raise
    delegate_main: Callable[[list[str]], int] = module.main
    return delegate_main(argv)


# Parser


def _global_options(parser: argparse.ArgumentParser, *, suppress_defaults: bool) -> None:
    """Accepted before and after the command; the copy after it only overrides when given."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress_defaults else value

    parser.add_argument("--api-url", default=default(None), help=f"API base URL (default: ${API_URL_ENV})")
    parser.add_argument("--api-key", default=default(None), help=f"API key (default: ${API_KEY_ENV})")
    parser.add_argument("--timeout", type=float, default=default(None), help="seconds per request (default: 30)")
    parser.add_argument(
        "--app", default=default(None), help="the application a platform key acts for (webhooks, events, …)"
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="print the API's JSON")


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, help="items per page")
    parser.add_argument("--cursor", help="continue from a previous page's next_cursor")
    parser.add_argument("--all", action="store_true", help="walk every page")


class _CommandTree:
    """Builds the subcommand parsers, each accepting the global options too."""

    def __init__(self) -> None:
        self.parser = argparse.ArgumentParser(
            prog="dovecote", description="Dovecote webhook delivery: the API from a shell."
        )
        _global_options(self.parser, suppress_defaults=False)
        self.shared = argparse.ArgumentParser(add_help=False)
        _global_options(self.shared, suppress_defaults=True)
        self.groups = self.parser.add_subparsers(dest="group", metavar="COMMAND", required=True)

    def group(self, name: str, help_text: str) -> Any:
        parser = self.groups.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(self, parent: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, parents=[self.shared]
        )
        parser.set_defaults(handler=handler)
        return parser

    def key_commands(
        self, name: str, help_text: str, handlers: tuple[Handler, Handler, Handler], *, one: str, many: str
    ) -> None:
        """A group of keys: `create` (with `--description`), `list` and `revoke KEY_ID`; `one` names a key
        in the help, `many` the keys."""
        create, list_, revoke = handlers
        keys = self.group(name, help_text)
        self.command(keys, "create", create, f"create {one}").add_argument("--description")
        _list_options(self.command(keys, "list", list_, f"list {many}"))
        self.command(keys, "revoke", revoke, f"revoke {one}").add_argument("key_id")


_RATE_LIMIT_HELP = "at most this many deliveries a second (the others wait)"
_DEFAULT_RATE_LIMIT_HELP = "the rate limit (deliveries a second) of its endpoints that set none"


def _rate_limit_options(command: argparse.ArgumentParser, clear_help: str, help: str = _RATE_LIMIT_HELP) -> None:
    limits = command.add_mutually_exclusive_group()
    limits.add_argument("--rate-limit", type=int, metavar="PER_SECOND", help=help)
    limits.add_argument("--clear-rate-limit", action="store_true", help=clear_help)


def _add_webhook_commands(tree: _CommandTree) -> None:
    webhooks = tree.group("webhooks", "manage webhook endpoints")
    _list_options(tree.command(webhooks, "list", _webhooks_list, "list webhooks"))
    create = tree.command(webhooks, "create", _webhooks_create, "register an endpoint")
    create.add_argument(
        "url", help="the HTTPS URL; with --type sqs/sns/eventbridge, the queue URL/ARN, topic or bus ARN"
    )
    create.add_argument("--events", action="append", required=True, help="event types, comma-separated")
    create.add_argument("--type", choices=["https", "sqs", "sns", "eventbridge"], help="destination type (https)")
    create.add_argument("--role-arn", help="sqs/sns/eventbridge: the role Dovecote assumes (with the external_id)")
    create.add_argument("--message-group-id", help="FIFO queues and topics: the message group id")
    create.add_argument("--source", help="eventbridge: the events' source (dovecote)")
    create.add_argument("--description")
    create.add_argument("--secret", help="signing secret to use instead of a generated one")
    create.add_argument("--disabled", action="store_true", help="create it disabled")
    create.add_argument("--header", action="append", metavar="NAME=VALUE", help="a header sent with every delivery")
    create.add_argument(
        "--filter", metavar="JSON", help='deliver only matching events: \'{"data": {"amount": {"$gte": 100}}}\''
    )
    create.add_argument(
        "--signature-version",
        choices=["v1", "v1a"],
        help="v1a: Ed25519 signatures (the secret shown is the public key)",
    )
    create.add_argument("--rate-limit", type=int, metavar="PER_SECOND", help=_RATE_LIMIT_HELP)
    tree.command(webhooks, "get", _webhooks_get, "show a webhook").add_argument("webhook_id")
    update = tree.command(webhooks, "update", _webhooks_update, "change a webhook")
    update.add_argument("webhook_id")
    update.add_argument("--url")
    update.add_argument("--target", help="sqs/sns/eventbridge: a new queue URL/ARN, topic or bus ARN")
    update.add_argument("--role-arn", help="sqs/sns/eventbridge: a new role to assume")
    update.add_argument("--events", action="append", help="event types, comma-separated (replaces the list)")
    update.add_argument("--description")
    headers = update.add_mutually_exclusive_group()
    headers.add_argument("--header", action="append", metavar="NAME=VALUE", help="replaces the custom headers")
    headers.add_argument("--clear-headers", action="store_true", help="remove every custom header")
    filtering = update.add_mutually_exclusive_group()
    filtering.add_argument("--filter", metavar="JSON", help="replaces the payload filter")
    filtering.add_argument("--clear-filter", action="store_true", help="deliver every event of the types again")
    _rate_limit_options(update, "use the application's default rate limit again")
    enabling = update.add_mutually_exclusive_group()
    enabling.add_argument("--enable", dest="enabled", action="store_const", const=True)
    enabling.add_argument("--disable", dest="enabled", action="store_const", const=False)
    tree.command(webhooks, "delete", _webhooks_delete, "delete a webhook").add_argument("webhook_id")
    deliveries = tree.command(webhooks, "deliveries", _webhooks_deliveries, "list a webhook's deliveries")
    deliveries.add_argument("webhook_id")
    deliveries.add_argument("--status", choices=DELIVERY_STATUSES)
    deliveries.add_argument("--event", help="only this event type")
    _list_options(deliveries)
    tree.command(webhooks, "test", _webhooks_test, "send a test event to a webhook").add_argument("webhook_id")
    rotate = tree.command(webhooks, "rotate-secret", _webhooks_rotate_secret, "issue a new signing secret")
    rotate.add_argument("webhook_id")
    recover = tree.command(webhooks, "recover", _webhooks_recover, "re-send failed deliveries since a time")
    recover.add_argument("webhook_id")
    recover.add_argument("--since", required=True, help="ISO-8601 time, or a duration back from now: 30m, 2h, 7d")


def _add_event_commands(tree: _CommandTree) -> None:
    events = tree.group("events", "publish and inspect events")
    send = tree.command(events, "send", _events_send, "publish an event, or a file of them")
    send.add_argument("type", nargs="?", help="event type, e.g. order.created")
    send.add_argument(
        "--file",
        help='JSON Lines, one event a line ({"type", "data", "id"?, "idempotency_key"?}; \'-\' for stdin),'
        " sent 100 a request with a progress line; a line without id or key is keyed by its content",
    )
    payload = send.add_mutually_exclusive_group()
    payload.add_argument("--data", help="event data as JSON (default: {})")
    payload.add_argument("--data-file", help="file holding the event data as JSON ('-' for stdin)")
    send.add_argument(
        "--id", help="your own event id (1-128 of A-Z a-z 0-9 _ . : -): the same id again is the same event"
    )
    send.add_argument("--idempotency-key", help="dedupe key (default: a fresh one per command)")
    tree.command(events, "get", _events_get, "show an event").add_argument("event_id")
    _add_event_type_commands(tree)


def _json_options(parser: argparse.ArgumentParser, name: str, what: str) -> argparse._MutuallyExclusiveGroup:
    given = parser.add_mutually_exclusive_group()
    given.add_argument(f"--{name}", help=f"{what} as JSON")
    given.add_argument(f"--{name}-file", help=f"file holding {what} as JSON ('-' for stdin)")
    return given


def _add_event_type_commands(tree: _CommandTree) -> None:
    """`dovecote event-types` lists the catalog (as `event-types list`); the changes need a platform key."""
    help_text = "the event-type catalog: list, get, and (platform key) create, update, delete"
    group = tree.groups.add_parser("event-types", help=help_text, description=help_text, parents=[tree.shared])
    group.set_defaults(handler=_event_types_list)
    types = group.add_subparsers(dest="command", metavar="COMMAND", required=False)
    tree.command(types, "list", _event_types_list, "list the catalog, with each type's schema")
    tree.command(types, "get", _event_types_get, "show a type with its schema and example").add_argument("name")
    create = tree.command(types, "create", _event_types_create, "register a type (platform key)")
    create.add_argument("name", help="dotted lower-case name, e.g. invoice.paid")
    create.add_argument("--description")
    _json_options(create, "schema", "a JSON Schema that published data must fit")
    _json_options(create, "example", "an example of the data")
    create.add_argument("--deprecated", action="store_true", help="mark it deprecated (still publishable)")
    update = tree.command(types, "update", _event_types_update, "change a type (platform key)")
    update.add_argument("name")
    update.add_argument("--description")
    _json_options(update, "schema", "a new JSON Schema").add_argument(
        "--no-schema", action="store_true", help="remove the schema"
    )
    _json_options(update, "example", "a new example").add_argument(
        "--no-example", action="store_true", help="remove the example"
    )
    deprecation = update.add_mutually_exclusive_group()
    deprecation.add_argument("--deprecated", dest="deprecated", action="store_const", const=True)
    deprecation.add_argument("--not-deprecated", dest="deprecated", action="store_const", const=False)
    tree.command(types, "delete", _event_types_delete, "delete a registered type (platform key)").add_argument("name")


def _add_delivery_commands(tree: _CommandTree) -> None:
    deliveries = tree.group("deliveries", "inspect and retry deliveries")
    tree.command(deliveries, "get", _deliveries_get, "show a delivery and its attempts").add_argument("delivery_id")
    tree.command(deliveries, "retry", _deliveries_retry, "deliver again now").add_argument("delivery_id")


def _add_platform_commands(tree: _CommandTree) -> None:
    applications = tree.group("applications", "manage applications, one per customer (platform key)")
    create = tree.command(applications, "create", _applications_create, "create an application")
    create.add_argument("name")
    create.add_argument("--id", help="your own id for the customer (default: a generated app_… id)")
    create.add_argument("--metadata", help='JSON object of strings, e.g. \'{"plan": "pro"}\'')
    create.add_argument("--rate-limit", type=int, metavar="PER_SECOND", help=_DEFAULT_RATE_LIMIT_HELP)
    _list_options(tree.command(applications, "list", _applications_list, "list applications"))
    tree.command(applications, "get", _applications_get, "show an application").add_argument("application_id")
    update = tree.command(
        applications, "update", _applications_update, "rename, replace the metadata, set the default rate limit"
    )
    update.add_argument("application_id")
    update.add_argument("--name")
    update.add_argument("--metadata", help="JSON object of strings (replaces the metadata)")
    _rate_limit_options(update, "remove the default rate limit", _DEFAULT_RATE_LIMIT_HELP)
    delete = tree.command(applications, "delete", _applications_delete, "delete an application and its webhooks")
    delete.add_argument("application_id")

    tree.key_commands(
        "api-keys",
        "an application's keys (platform key, with --app)",
        (_api_keys_create, _api_keys_list, _api_keys_revoke),
        one="a key of --app",
        many="the keys of --app",
    )

    sessions = tree.group("portal-sessions", "portal sessions (platform key, with --app)")
    session = tree.command(sessions, "create", _portal_sessions_create, "open a portal session for --app")
    session.add_argument("--ttl", type=int, help="seconds, 60 to 86400 (default 3600)")
    session.add_argument("--read-only", action="store_true", help="look, change nothing")

    tree.key_commands(
        "platform-keys",
        "platform keys (platform key)",
        (_platform_keys_create, _platform_keys_list, _platform_keys_revoke),
        one="a platform key",
        many="platform keys",
    )

    operational = tree.group("operational-webhook", "where operational events go (platform key)")
    set_operational = tree.command(
        operational, "set", _operational_webhook_set, "set the operational webhook (creates, or replaces and enables)"
    )
    set_operational.add_argument("url")
    set_operational.add_argument(
        "--events",
        action="append",
        help="comma-separated: endpoint.disabled, endpoint.enabled, delivery.exhausted, delivery.recovered, * (all)",
    )
    set_operational.add_argument("--secret", help="signing secret to use (a new one is generated on creation)")
    tree.command(operational, "get", _operational_webhook_get, "show the operational webhook")
    tree.command(operational, "delete", _operational_webhook_delete, "delete the operational webhook")


def build_parser() -> argparse.ArgumentParser:
    tree = _CommandTree()
    _add_webhook_commands(tree)
    _add_event_commands(tree)
    _add_delivery_commands(tree)
    _add_platform_commands(tree)
    for name, (_, help_text) in DELEGATED_COMMANDS.items():
        tree.groups.add_parser(name, help=help_text, add_help=False)
    return tree.parser


def _delegated_command(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """`local` and `admin` hand every argument after their name to their own parser."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in ("-h", "--help"):
            return None
        if token in _GLOBAL_OPTIONS_WITH_VALUE:
            index += 2
        elif token.startswith("-"):
            index += 1
        else:
            return (token, list(argv[index + 1 :])) if token in DELEGATED_COMMANDS else None
    return None


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _run(task: Callable[[], int]) -> int:
    """Run a command, turning every failure into one line on stderr and an exit status."""
    try:
        return task()
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except (UsageError, ConfigurationError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except APIConnectionError as exc:
        return _fail(exc.message)
    except DovecoteError as exc:
        return _fail(str(exc))
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for a traceback)")


def _execute(args: argparse.Namespace) -> int:
    with Dovecote(api_key=args.api_key, base_url=args.api_url, timeout=args.timeout) as client:
        output: Output = args.handler(client, args)
    if args.json:
        print(json.dumps(output.document, indent=2, ensure_ascii=False))
    else:
        print(output.text)
        if output.note:
            print(output.note, file=sys.stderr)
    return output.status


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    delegated = _delegated_command(arguments)
    if delegated is not None:
        name, rest = delegated
        return _run(lambda: _run_delegated(name, rest))
    args = build_parser().parse_args(arguments)
    return _run(lambda: _execute(args))


if __name__ == "__main__":
    sys.exit(main())
