"""Fuzzing: schemathesis against docs/openapi.json, over HTTP on the local stack.

Every operation of the committed document gets 25 generated requests (valid and invalid
ones, derandomized: the same requests every run), sent with a valid API key of an application of its own; path ids are
real ids of that application half of the time so the generated bodies reach the code behind the
lookups. Expected: no 5xx, no status the document does not declare for the operation, and
every answer in the declared content type, headers and schema. Then what the fuzzer found,
pinned as plain tests: bodies that are not JSON (415), integers too long to convert (422),
methods the document does not list for a path (405 with `Allow`). The network guard of this
folder keeps any generated endpoint URL on loopback.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.api.auth import PLATFORM_PATHS
from tests.reliability.reliability_support import LocalStackHarness, endpoints, eventually, report_figures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

LOCAL_STACK_OPTIONS = {"profile": "mutx"}
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 25
EXAMPLES_PER_MIRRORED_OPERATION = 10
"""An application's routes again under /v1/applications/{application_id}: the same functions."""
SEED = 20_261_122
APPLICATION = "fuzz"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
DOCUMENT = json.loads(OPENAPI.read_text(encoding="utf-8"))
SCHEMA = schemathesis.openapi.from_path(str(OPENAPI))
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
sent: Counter[str] = Counter()
statuses: Counter[int] = Counter()


@pytest.fixture(scope="module")
def fuzz_world(local_stack: LocalStackHarness) -> Iterator[dict[str, Any]]:
    stack = local_stack
    platform_key = str(stack.stack.platform_key)
    created = stack.api("POST", "/v1/applications", platform_key, json_body={"id": APPLICATION, "name": "Fuzz"})
    assert created.status_code == 201, created.text
    key = stack.new_key(APPLICATION)
    with endpoints() as receivers:
        webhook = stack.api("POST", "/v1/webhooks", key, json_body={"url": receivers.add(410), "events": ["agent.*"]})
        assert webhook.status_code == 201, webhook.text
        event = stack.api("POST", "/v1/events", key, json_body={"type": "agent.status", "data": {"n": 1}})
        assert event.status_code == 202, event.text
        webhook_id = webhook.json()["id"]

        def delivery() -> str | None:
            listed = stack.api("GET", f"/v1/webhooks/{webhook_id}/deliveries", key).json()["data"]
            return listed[0]["id"] if listed and listed[0]["status"] != "pending" else None

        delivery_id = eventually(delivery, message="the seed delivery")
        yield {
            "stack": stack,
            "key": key,
            "platform_key": platform_key,
            "ids": {
                "application_id": APPLICATION,
                "webhook_id": webhook_id,
                "event_id": event.json()["id"],
                "delivery_id": delivery_id,
            },
        }
    report_figures(
        "fuzz",
        cases=sum(sent.values()),
        operations=len(sent),
        server_errors=sum(count for status, count in statuses.items() if status >= 500),
        statuses=dict(sorted(statuses.items())),
    )


def key_for(fuzz_world: dict[str, Any], path: str) -> str:
    """The platform key on the platform's paths (and an application's routes under them), else the application key."""
    return str(fuzz_world["platform_key"] if path.startswith(PLATFORM_PATHS) else fuzz_world["key"])


def cases_of(label: str, real_ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests of the operation; path ids replaced by real ones half of the time
    (never to delete the application the other operations work in)."""
    operation = OPERATIONS[label]
    if label == "DELETE /v1/applications/{application_id}":
        real_ids = {}
    generated = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

    def with_real_ids(pair: tuple[Any, bool]) -> Any:
        case, use_real = pair
        if use_real and case.path_parameters:
            for name in case.path_parameters:
                if name in real_ids:
                    case.path_parameters[name] = real_ids[name]
        return case

    return st.tuples(generated, st.booleans()).map(with_real_ids)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_generated_request_gets_a_5xx_or_an_answer_the_document_does_not_declare(
    label: str, fuzz_world: dict[str, Any]
) -> None:
    stack: LocalStackHarness = fuzz_world["stack"]
    path = OPERATIONS[label].path
    headers = {"Authorization": f"Bearer {key_for(fuzz_world, path)}"}
    operation_id = DOCUMENT["paths"][path][OPERATIONS[label].method.lower()]["operationId"]
    mirrored = operation_id.endswith("ForApplication")

    @settings(
        max_examples=EXAMPLES_PER_MIRRORED_OPERATION if mirrored else EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases_of(label, fuzz_world["ids"]))
    def fuzz(case: Any) -> None:
        sent[label] += 1
        response = case.call(base_url=stack.api_url, session=stack.http, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:  # keep going: every case is tried and counted
            for failure in failures.exceptions:
                detail = str(getattr(failure, "message", "")).strip().splitlines()[:1]
                problems.append(f"{label} -> {response.status_code}: {getattr(failure, 'title', failure)} {detail}")

    problems: list[str] = []
    fuzz()
    distinct = sorted(set(problems))
    assert distinct == [], f"{len(problems)} failed checks in {sent[label]} requests:\n" + "\n".join(distinct[:10])


# What the fuzzer found, pinned as plain tests -----------------------------------------------------

JSON_BODY_ROUTES = [
    ("POST", "/v1/webhooks"),
    ("PATCH", "/v1/webhooks/{webhook_id}"),
    ("POST", "/v1/events"),
    ("POST", "/v1/webhooks/{webhook_id}/recover"),
]
NOT_UTF8 = b'{"type": "agent.status", "data": {"x": "\xff\xfe"}}'


def _documented_schema(method: str, path: str, status: int) -> dict[str, Any]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    response = document["paths"][path][method.lower()]["responses"][str(status)]
    return {**response["content"]["application/json"]["schema"], "components": document["components"]}


@pytest.mark.parametrize(("method", "path"), JSON_BODY_ROUTES, ids=str)
def test_a_request_body_that_is_not_utf8_is_invalid_json_not_a_server_error(
    fuzz_world: dict[str, Any], method: str, path: str
) -> None:
    """API Gateway base64-encodes a body that is not UTF-8; decoding it must not end in a 500."""
    stack: LocalStackHarness = fuzz_world["stack"]
    url = stack.api_url + path.replace("{webhook_id}", fuzz_world["ids"]["webhook_id"])
    headers = {"Authorization": f"Bearer {fuzz_world['key']}", "Content-Type": "application/json"}
    response = stack.http.request(method, url, data=NOT_UTF8, headers=headers, timeout=30)
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.json()["error"]["type"] == "invalid_json"


def test_the_documented_401_matches_the_answer_to_a_request_without_a_key(fuzz_world: dict[str, Any]) -> None:
    """Without an Authorization header API Gateway answers 401 itself, before any Dovecote code runs."""
    stack: LocalStackHarness = fuzz_world["stack"]
    response = stack.api("GET", "/v1/webhooks")
    assert response.status_code == 401
    jsonschema.validate(response.json(), _documented_schema("GET", "/v1/webhooks", 401))


def test_the_openapi_route_returns_what_it_documents(fuzz_world: dict[str, Any]) -> None:
    stack: LocalStackHarness = fuzz_world["stack"]
    response = stack.api("GET", "/v1/openapi.json")
    assert response.status_code == 200
    jsonschema.validate(response.json(), _documented_schema("GET", "/v1/openapi.json", 200))


NOT_JSON = {
    "text/plain": b'{"type": "agent.status"}',
    "application/octet-stream": b"\x00\x01binary",
    "multipart/form-data": b'{"type": "agent.status"}',
    "application/x-www-form-urlencoded": b"type=agent.status",
}


def _url(fuzz_world: dict[str, Any], path: str) -> str:
    url = fuzz_world["stack"].api_url + path
    for name, value in fuzz_world["ids"].items():
        url = url.replace(f"{{{name}}}", value)
    return url.replace("{key_id}", "key_01jd2q8x4m7n3p5r9t1v6w8y0z")


@pytest.mark.parametrize(("method", "path"), JSON_BODY_ROUTES, ids=str)
@pytest.mark.parametrize("content_type", sorted(NOT_JSON))
def test_a_body_that_is_not_json_is_the_documented_415(
    fuzz_world: dict[str, Any], method: str, path: str, content_type: str
) -> None:
    stack: LocalStackHarness = fuzz_world["stack"]
    headers = {"Authorization": f"Bearer {fuzz_world['key']}", "Content-Type": content_type}

    response = stack.http.request(
        method, _url(fuzz_world, path), data=NOT_JSON[content_type], headers=headers, timeout=30
    )

    assert response.status_code == 415, (response.status_code, response.text)
    jsonschema.validate(response.json(), _documented_schema(method, path, 415))


@pytest.mark.parametrize(("method", "path"), JSON_BODY_ROUTES, ids=str)
def test_an_integer_too_long_to_convert_is_the_documented_422(fuzz_world: dict[str, Any], method: str, path: str):
    stack: LocalStackHarness = fuzz_world["stack"]
    headers = {"Authorization": f"Bearer {fuzz_world['key']}", "Content-Type": "application/json"}
    body = '{"type": "agent.status", "data": {"n": ' + "9" * 5_000 + "}}"

    response = stack.http.request(method, _url(fuzz_world, path), data=body, headers=headers, timeout=30)

    assert response.status_code == 422, (response.status_code, response.text[:200])
    assert "more than 4,300 digits" in response.json()["error"]["message"]
    jsonschema.validate(response.json(), _documented_schema(method, path, 422))


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
def test_a_method_the_document_does_not_list_is_405_with_the_listed_methods(fuzz_world: dict[str, Any], path: str):
    stack: LocalStackHarness = fuzz_world["stack"]
    documented = sorted(method.upper() for method in DOCUMENT["paths"][path])
    headers = {"Authorization": f"Bearer {key_for(fuzz_world, path)}"}

    for method in sorted({"TRACE", "PUT", "GET", "POST", "PATCH", "DELETE"} - set(documented)):
        response = stack.http.request(method, _url(fuzz_world, path), headers=headers, timeout=30)
        assert response.status_code == 405, (method, path, response.status_code, response.text)
        assert sorted(response.headers["Allow"].split(", ")) == documented
        assert response.json()["error"]["type"] == "method_not_allowed"


def test_an_unknown_path_is_404_in_the_error_envelope(fuzz_world: dict[str, Any]) -> None:
    stack: LocalStackHarness = fuzz_world["stack"]

    response = stack.api("GET", "/v1/no-such-thing", fuzz_world["key"])

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
