"""`dovecote admin bootstrap` (functions/admin/bootstrap.py): the first platform key, against moto."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from moto.server import ThreadedMotoServer

from functions.admin.bootstrap import main
from functions.authorizer.handler import authorize
from functions.store.api_keys import ApiKeyGrants, ApiKeyStore, hash_api_key, is_well_formed
from tests.integration.conftest import TABLE_NAME, AwsResources, create_table

STACK_TEMPLATE = {
    "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "TableName": {"Value": TABLE_NAME},
        "ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/"},
    },
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def stack(aws: AwsResources) -> str:
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="Dovecote", TemplateBody=json.dumps(STACK_TEMPLATE)
    )
    return "Dovecote"


def test_bootstrap_reads_the_stack_outputs_and_prints_a_platform_key_once(aws: AwsResources, stack: str):
    code, out, err = run("bootstrap", "--stack", stack, "--region", "us-east-1")

    assert (code, err) == (0, "")
    lines = out.strip().splitlines()
    key = lines[1]
    assert key.startswith("dvc_plat_")
    assert is_well_formed(key)
    assert lines[2] == "API: https://abc123.execute-api.us-east-1.amazonaws.com/"
    stored = ApiKeyStore(aws.dynamodb, aws.table_name).find_by_hash(hash_api_key(key))
    assert stored is not None
    assert stored.kind.value == "platform"
    assert stored.application_id is None
    assert key not in json.dumps(aws.dynamodb.scan(TableName=aws.table_name)["Items"])


def test_the_bootstrapped_key_is_a_platform_credential_for_the_authorizer(aws: AwsResources, stack: str):
    code, out, _ = run("bootstrap", "--stack", stack, "--region", "us-east-1", "--json")

    assert code == 0
    document = json.loads(out)
    decision = authorize(ApiKeyGrants(aws.dynamodb, aws.table_name), f"Bearer {document['key']}")
    assert decision["context"] == {"credential": "platform", "key_id": document["id"]}


def test_an_unknown_stack_is_a_usage_error_naming_it(aws: AwsResources):
    code, out, err = run("bootstrap", "--stack", "NoSuchStack", "--region", "us-east-1")

    assert (code, out) == (2, "")
    assert "--stack" in err
    assert "NoSuchStack" in err


def test_a_stack_without_a_table_output_is_refused(aws: AwsResources):
    template = {"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="Other", TemplateBody=json.dumps(template)
    )

    code, _, err = run("bootstrap", "--stack", "Other", "--region", "us-east-1")

    assert code == 2
    assert "no TableName output" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["bootstrap"], ["bootstrap", "--endpoint-url", "http://127.0.0.1:1"], ["frobnicate"]],
)
def test_usage_errors_exit_with_2(aws: AwsResources, argv: list[str]):
    assert run(*argv)[0] == 2


def test_bootstrap_reaches_a_moto_server_through_endpoint_url(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server._server.server_address
        endpoint = f"http://{host}:{port}"
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        create_table(client, TABLE_NAME)
        code, out, _ = run("bootstrap", "--table", TABLE_NAME, "--endpoint-url", endpoint, "--region", "us-east-1")
        key = out.strip().splitlines()[1]
        stored = ApiKeyStore(client, TABLE_NAME).find_by_hash(hash_api_key(key))
    finally:
        server.stop()

    assert code == 0
    assert stored is not None
    assert stored.kind.value == "platform"
