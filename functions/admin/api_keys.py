"""`dovecote api-keys create|list|revoke`: manage the API keys that map callers to applications.

    create --application T [--description D]   prints the new key; it is shown this once only
    list --application T                        every key of the application (display prefix, never the key)
    revoke KEY_ID --application T               stops the key (within the authorizer's 60 s cache)

Options: --table NAME (default $DOVECOTE_TABLE_NAME), --endpoint-url URL (e.g. the local
stack's moto server), --region, --json. The plain functions below are what the local
stack calls to create its development key.
"""

# ruff: noqa: PLC0415 - boto3 is imported only by the commands that reach DynamoDB

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, TextIO

from functions.core.errors import DovecoteError, InvalidRequestError
from functions.core.models import ApiKey, iso
from functions.runtime.settings import ENV_TABLE
from functions.store.api_keys import ApiKeyStore, generate_api_key, new_api_key

APPLICATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DESCRIPTION_CHARS = 256
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def validate_application_id(application_id: str) -> str:
    if not APPLICATION_ID.fullmatch(application_id):
        raise InvalidRequestError(
            f"application: {application_id!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return application_id


def create_api_key(store: ApiKeyStore, application_id: str, description: str = "") -> tuple[ApiKey, str]:
    """A new active key for the application, and its plaintext (which is not stored anywhere)."""
    validate_application_id(application_id)
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(f"description: longer than {MAX_DESCRIPTION_CHARS} characters")
    plaintext = generate_api_key()
    api_key = new_api_key(application_id, plaintext, description)
    store.create(api_key)
    return api_key, plaintext


def list_api_keys(store: ApiKeyStore, application_id: str) -> list[ApiKey]:
    return store.list(validate_application_id(application_id))


def revoke_api_key(store: ApiKeyStore, application_id: str, key_id: str) -> ApiKey:
    return store.revoke(validate_application_id(application_id), key_id)


def api_key_document(api_key: ApiKey) -> dict[str, Any]:
    return {
        "id": api_key.id,
        "object": "api_key",
        "application_id": api_key.application_id,
        "display_prefix": api_key.display_prefix,
        "description": api_key.description,
        "status": "active" if api_key.active else "revoked",
        "created_at": iso(api_key.created_at),
        "revoked_at": iso(api_key.revoked_at),
    }


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--application", required=True, help="application id the key maps to")
    common.add_argument("--table", default=None, help=f"DynamoDB table (default ${ENV_TABLE})")
    common.add_argument("--endpoint-url", default=None, help="DynamoDB endpoint, e.g. the local stack's")
    common.add_argument("--region", default=None, help="AWS region (default: the AWS configuration's)")
    common.add_argument("--json", action="store_true", help="print JSON")
    parser = argparse.ArgumentParser(prog="dovecote api-keys", description="Manage Dovecote API keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", parents=[common], help="create a key and print it once")
    create.add_argument("--description", default="", help="what the key is for")
    commands.add_parser("list", parents=[common], help="list an application's keys")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_…), as shown by list")
    return parser


def _store(arguments: argparse.Namespace) -> ApiKeyStore:
    from functions.runtime.clients import aws_client

    table = arguments.table or os.environ.get(ENV_TABLE)
    if not table:
        raise InvalidRequestError(f"no table: pass --table or set {ENV_TABLE}")
    client = aws_client("dynamodb", region=arguments.region, endpoint_url=arguments.endpoint_url)
    return ApiKeyStore(client, table)


def _print_key(api_key: ApiKey, out: TextIO) -> None:
    document = api_key_document(api_key)
    description = f"  {document['description']}" if document["description"] else ""
    print(
        f"{document['id']}  {document['display_prefix']}…  {document['status']:<7}  {document['created_at']}"
        f"{description}",
        file=out,
    )


def _run(arguments: argparse.Namespace, out: TextIO) -> None:
    store = _store(arguments)
    if arguments.command == "create":
        api_key, plaintext = create_api_key(store, arguments.application, arguments.description)
        if arguments.json:
            print(json.dumps({**api_key_document(api_key), "key": plaintext}, indent=2), file=out)
        else:
            print(
                f"Created {api_key.id} for application {api_key.application_id}. The key is shown this once:", file=out
            )
            print(plaintext, file=out)
    elif arguments.command == "list":
        keys = list_api_keys(store, arguments.application)
        if arguments.json:
            print(json.dumps([api_key_document(k) for k in keys], indent=2), file=out)
        elif not keys:
            print(f"No API keys for application {arguments.application}.", file=out)
        else:
            for api_key in keys:
                _print_key(api_key, out)
    else:
        api_key = revoke_api_key(store, arguments.application, arguments.key_id)
        if arguments.json:
            print(json.dumps(api_key_document(api_key), indent=2), file=out)
        else:
            print(
                f"Revoked {api_key.id} ({api_key.display_prefix}…) of application {api_key.application_id}.", file=out
            )


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage or the help
        return EXIT_OK if exit_.code in (0, None) else EXIT_USAGE
    try:
        _run(arguments, out)
    except InvalidRequestError as error:
        print(f"error: {error.message}", file=err)
        return EXIT_USAGE
    except DovecoteError as error:
        print(f"error: {error.message}", file=err)
        return EXIT_FAILED
    except (BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=err)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
