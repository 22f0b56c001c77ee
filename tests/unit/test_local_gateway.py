"""The local HTTP API (dovecote_local/gateway.py): routing as API Gateway does, `$default` included."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dovecote_local.gateway import GatewayRoute, GatewayServer, HttpApi, IncomingRequest
from dovecote_local.lambdas import LambdaRuntime, LocalFunction

REGION = "us-east-1"


def recording_function(name: str, calls: list[dict[str, Any]]) -> LocalFunction:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(name)}

    return LocalFunction(
        logical_id=name, name=name, arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
        handler_path="unused.handler", _handler=handler,
    )  # fmt: skip


def api_with(routes: list[GatewayRoute], *functions: LocalFunction) -> HttpApi:
    runtime = LambdaRuntime()
    for function in functions:
        runtime.register(function)
    return HttpApi(runtime, routes, authorizer=None, region=REGION)


def request(method: str, target: str) -> IncomingRequest:
    return IncomingRequest(method=method, target=target, headers=[], body=b"", source_ip="127.0.0.1", host="localhost")


WEBHOOKS = GatewayRoute("GET", "/v1/webhooks/{id}", "management", authorized=False)
DEFAULT = GatewayRoute("$default", "", "management", authorized=False)


def test_a_request_no_route_takes_goes_to_the_default_route_whatever_its_method():
    calls: list[dict[str, Any]] = []
    api = api_with([WEBHOOKS, DEFAULT], recording_function("management", calls))

    for method, target in [("TRACE", "/v1/webhooks/wh_1"), ("PUT", "/v1/webhooks/wh_1"), ("GET", "/nowhere?x=1")]:
        assert api.handle(request(method, target)).status == 200

    assert [(c["routeKey"], c["requestContext"]["http"]["method"], c["rawPath"]) for c in calls] == [
        ("$default", "TRACE", "/v1/webhooks/wh_1"),
        ("$default", "PUT", "/v1/webhooks/wh_1"),
        ("$default", "GET", "/nowhere"),
    ]
    assert all("pathParameters" not in c for c in calls)


def test_a_matching_route_comes_before_the_default_route():
    calls: list[dict[str, Any]] = []
    api = api_with([DEFAULT, WEBHOOKS], recording_function("management", calls))

    api.handle(request("GET", "/v1/webhooks/wh_1"))

    assert calls[0]["routeKey"] == "GET /v1/webhooks/{id}"
    assert calls[0]["pathParameters"] == {"id": "wh_1"}


def test_without_a_default_route_the_gateway_answers_404_itself():
    calls: list[dict[str, Any]] = []
    api = api_with([WEBHOOKS], recording_function("management", calls))

    response = api.handle(request("TRACE", "/v1/webhooks/wh_1"))

    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert calls == []


@pytest.fixture
def served() -> Iterator[Callable[[HttpApi], int]]:
    servers: list[GatewayServer] = []

    def serve(api: HttpApi) -> int:
        server = GatewayServer(0, api)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.port

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_the_server_passes_any_method_on_instead_of_answering_501(served, method: str):
    calls: list[dict[str, Any]] = []
    port = served(api_with([WEBHOOKS, DEFAULT], recording_function("management", calls)))

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/v1/webhooks")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert (response.status, json.loads(body)) == (200, "management")
    assert calls[0]["requestContext"]["http"]["method"] == method


def test_a_function_serves_one_request_at_a_time_as_one_lambda_container_does():
    """The Powertools resolver keeps the current request on itself: two at once can mix them up."""
    calls: list[dict[str, Any]] = []
    active = {"now": 0, "most": 0}
    lock = threading.Lock()

    def counting(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
        time.sleep(0.005)
        with lock:
            active["now"] -= 1
        calls.append(event)
        return {"statusCode": 204}

    function = recording_function("management", [])
    function._handler = counting
    api = api_with([WEBHOOKS], function)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: api.handle(request("GET", f"/v1/webhooks/wh_{n}")).status, range(40)))

    assert statuses == [204] * 40
    assert len(calls) == 40
    assert active["most"] == 1


def test_different_functions_still_run_side_by_side():
    started, release = threading.Event(), threading.Event()

    def blocking(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started.set()
        release.wait(timeout=10)
        return {"statusCode": 200}

    slow = recording_function("slow", [])
    slow._handler = blocking
    routes = [
        GatewayRoute("GET", "/slow", "slow", authorized=False),
        GatewayRoute("GET", "/fast", "fast", authorized=False),
    ]
    api = api_with(routes, slow, recording_function("fast", []))

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(api.handle, request("GET", "/slow"))
        assert started.wait(timeout=10)
        fast = pool.submit(api.handle, request("GET", "/fast")).result(timeout=10)  # not held behind /slow
        still_held = not held.done()
        release.set()
        assert held.result(timeout=10).status == 200

    assert fast.status == 200
    assert still_held
