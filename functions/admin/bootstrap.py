"""`dovecote admin bootstrap`: the first platform key of a deployment, printed once.

    dovecote admin bootstrap --stack Dovecote [--region eu-west-1] [--description "backend"]

Reads the stack's outputs (its table and API URL) with your AWS credentials, stores a new
platform key's hash in the table and prints the key. Everything else (applications, their
keys, portal sessions, more platform keys) then goes through the HTTP API with that key.
`--table NAME --endpoint-url URL` writes to a table directly instead (e.g. the local
stack's moto server).
"""

# ruff: noqa: PLC0415 - boto3 and the stores are imported when the command runs

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from functions.core.errors import DovecoteError, InvalidRequestError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TABLE_OUTPUT = "TableName"
API_URL_OUTPUT = "ApiUrl"


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        raise InvalidRequestError(f"--stack: {error.response['Error']['Message']}") from None
    outputs = stacks[0].get("Outputs", []) if stacks else []
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dovecote admin", description="Administer a Dovecote deployment.")
    commands = parser.add_subparsers(dest="command", required=True)
    bootstrap = commands.add_parser("bootstrap", help="create a platform key and print it once")
    where = bootstrap.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="the deployed stack's name (cdk deploy's, e.g. Dovecote)")
    where.add_argument("--table", help="write to this DynamoDB table directly")
    bootstrap.add_argument("--endpoint-url", help="DynamoDB endpoint, with --table (e.g. the local stack's)")
    bootstrap.add_argument("--region", help="AWS region (default: your AWS configuration's)")
    bootstrap.add_argument("--description", default="bootstrap", help="what the key is for")
    bootstrap.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _bootstrap(arguments: argparse.Namespace, out: TextIO) -> None:
    from functions.management.credentials import create_platform_key
    from functions.runtime.clients import aws_client
    from functions.store.api_keys import ApiKeyStore

    api_url = None
    table = arguments.table
    if arguments.stack:
        outputs = stack_outputs(aws_client("cloudformation", region=arguments.region), arguments.stack)
        if TABLE_OUTPUT not in outputs:
            raise InvalidRequestError(f"--stack: {arguments.stack} has no {TABLE_OUTPUT} output; is it Dovecote?")
        table, api_url = outputs[TABLE_OUTPUT], outputs.get(API_URL_OUTPUT)
    dynamodb = aws_client("dynamodb", region=arguments.region, endpoint_url=arguments.endpoint_url)
    api_key, plaintext = create_platform_key(ApiKeyStore(dynamodb, table), arguments.description)
    if arguments.json:
        document = {"id": api_key.id, "object": "platform_key", "key": plaintext, "api_url": api_url}
        print(json.dumps(document, indent=2), file=out)
        return
    print(f"Created platform key {api_key.id}. It is shown this once; keep it as a secret:", file=out)
    print(plaintext, file=out)
    if api_url:
        print(f"API: {api_url}", file=out)


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage or the help
        return EXIT_OK if exit_.code in (0, None) else EXIT_USAGE
    if arguments.endpoint_url and not arguments.table:
        print("error: --endpoint-url goes with --table", file=err)
        return EXIT_USAGE
    try:
        _bootstrap(arguments, out)
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
