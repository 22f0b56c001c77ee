"""`dovecote api-keys` (functions/admin/api_keys.py) against moto."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from moto.server import ThreadedMotoServer

from functions.admin.api_keys import create_api_key, list_api_keys, main, revoke_api_key
from functions.core.errors import InvalidRequestError, NotFoundError
from functions.store.api_keys import ApiKeyStore, hash_api_key, is_well_formed
from tests.integration.conftest import TABLE_NAME, AwsResources, create_table


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def store(aws: AwsResources) -> ApiKeyStore:
    return ApiKeyStore(aws.dynamodb, aws.table_name)


def test_create_prints_the_key_once_and_stores_only_its_hash(store, aws):
    code, out, err = run("create", "--application", "acme", "--description", "CI")

    assert (code, err) == (0, "")
    key = out.strip().splitlines()[-1]
    assert is_well_formed(key)
    assert store.find_by_hash(hash_api_key(key)).application_id == "acme"
    assert key not in json.dumps(aws.dynamodb.scan(TableName=aws.table_name)["Items"])


def test_list_shows_prefixes_never_keys(store):
    _, key = create_api_key(store, "acme", "first")
    create_api_key(store, "globex")

    code, out, _ = run("list", "--application", "acme", "--json")

    listed = json.loads(out)
    assert code == 0
    assert len(listed) == 1
    assert listed[0]["display_prefix"] == key[:13]
    assert listed[0]["status"] == "active"
    assert key not in out


def test_revoke_marks_the_key_revoked(store):
    api_key, _ = create_api_key(store, "acme")

    code, out, _ = run("revoke", api_key.id, "--application", "acme", "--json")

    assert code == 0
    assert json.loads(out)["status"] == "revoked"
    assert [k.active for k in list_api_keys(store, "acme")] == [False]


def test_revoking_is_idempotent_and_scoped_to_the_application(store):
    api_key, _ = create_api_key(store, "acme")
    first = revoke_api_key(store, "acme", api_key.id)

    assert revoke_api_key(store, "acme", api_key.id).revoked_at == first.revoked_at
    with pytest.raises(NotFoundError):
        revoke_api_key(store, "globex", api_key.id)


def test_an_unknown_key_id_fails_with_exit_code_1(aws):
    code, _, err = run("revoke", "key_01jdq3xk5m8n2p4r6t8v0w2y4z", "--application", "acme")

    assert code == 1
    assert "no API key" in err


@pytest.mark.parametrize("application", ["", "has space", "a#b", "x" * 65, "-leading"])
def test_an_invalid_application_id_is_refused(store, application: str):
    with pytest.raises(InvalidRequestError, match="application"):
        create_api_key(store, application)


def test_usage_errors_exit_with_2(aws, monkeypatch):
    monkeypatch.delenv("DOVECOTE_TABLE_NAME")

    assert run("create")[0] == 2
    assert run("frobnicate", "--application", "acme")[0] == 2
    code, _, err = run("list", "--application", "acme")
    assert code == 2
    assert "DOVECOTE_TABLE_NAME" in err


def test_the_table_can_be_named_on_the_command_line(aws, monkeypatch):
    monkeypatch.delenv("DOVECOTE_TABLE_NAME")

    code, out, _ = run("create", "--application", "acme", "--table", aws.table_name, "--region", "us-east-1", "--json")

    assert code == 0
    assert json.loads(out)["application_id"] == "acme"


def test_the_commands_reach_a_moto_server_through_endpoint_url(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server._server.server_address
        endpoint = f"http://{host}:{port}"
        create_table(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint), TABLE_NAME)
        options = ["--application", "acme", "--table", TABLE_NAME, "--endpoint-url", endpoint, "--region", "us-east-1"]

        created = run("create", *options, "--json")
        listed = run("list", *options, "--json")
    finally:
        server.stop()

    assert created[0] == 0
    assert listed[0] == 0
    assert [k["id"] for k in json.loads(listed[1])] == [json.loads(created[1])["id"]]
