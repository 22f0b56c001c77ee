"""What the consumer portal costs: nothing at zero traffic, and per million page views.

The portal is one 128 MB arm64 function behind the stack's HTTP API (infra/portal.py): no
bucket, distribution or provisioned capacity, so with no visitors nothing is billed (its log
group stores nothing). A page view is billed as the requests it makes:

- to the portal function: the page and `GET /portal/session` on every view, plus the script,
  stylesheet and icon on a first visit (they are cached for a year by content hash);
- to the API: the views' own reads (the endpoints page lists endpoints, then one page of each
  endpoint's log for its health), billed like any API call and counted here, not priced
  beyond their requests.

This script times the portal handler in this process (warm, many calls) and its import in a
fresh interpreter (the cold start), and prices the requests with bench/prices.py.

    python -m bench.portal_cost [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.prices import PRICES, PRICES_AS_OF
from functions.portal.handler import respond
from infra.handlers import PORTAL_MEMORY_MB

CALLS = 2000
IMPORT_RUNS = 5
FIRST_VISIT = ("page", "session", "portal.js", "portal.css", "icon.svg")
REPEAT_VISIT = ("page", "session")
ENDPOINTS_ON_THE_PAGE = 5

_SESSION_CONTEXT = {"credential": "portal_session", "application_id": "acme", "expires_at": str(2**31)}


def _event(kind: str) -> dict[str, Any]:
    if kind == "page":
        return {"routeKey": "GET /portal"}
    if kind == "session":
        return {"routeKey": "GET /portal/session", "requestContext": {"authorizer": {"lambda": _SESSION_CONTEXT}}}
    return {"routeKey": "GET /portal/assets/{asset}", "pathParameters": {"asset": kind}}


def warm_milliseconds(kind: str) -> float:
    """The median duration of one warm invocation of the handler for `kind`."""
    event = _event(kind)
    respond(event, time.time())
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter_ns()
        response = respond(event, time.time())
        samples.append((time.perf_counter_ns() - start) / 1e6)
        assert response["statusCode"] == 200
    return statistics.median(samples)


def import_milliseconds() -> float:
    """The handler module's import in a fresh interpreter (the part of a cold start that is ours)."""
    code = (
        "import time; start = time.perf_counter(); import functions.portal.handler; "
        "print((time.perf_counter() - start) * 1000)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(IMPORT_RUNS)
    ]
    return statistics.median(runs)


def invocation_usd(milliseconds: float) -> float:
    billed_ms = max(1, math.ceil(milliseconds))
    gb_seconds = billed_ms / 1000 * PORTAL_MEMORY_MB / 1024
    return (
        PRICES["apigw_http_request"].cost(1)
        + PRICES["lambda_request"].cost(1)
        + PRICES["lambda_arm64_gb_second"].cost(gb_seconds)
    )


def report() -> dict[str, Any]:
    kinds = sorted(set(FIRST_VISIT))
    durations = {kind: warm_milliseconds(kind) for kind in kinds}
    per_request = {kind: invocation_usd(ms) for kind, ms in durations.items()}
    first_visit = sum(per_request[kind] for kind in FIRST_VISIT)
    repeat_visit = sum(per_request[kind] for kind in REPEAT_VISIT)
    api_calls = 1 + ENDPOINTS_ON_THE_PAGE
    api_requests_usd = api_calls * (PRICES["apigw_http_request"].cost(1) + PRICES["lambda_request"].cost(1))
    return {
        "prices_as_of": PRICES_AS_OF,
        "zero_traffic_usd_per_month": 0.0,
        "warm_handler_ms": {kind: round(ms, 3) for kind, ms in durations.items()},
        "handler_import_ms": round(import_milliseconds(), 1),
        "portal_usd_per_million_first_visits": round(first_visit * 1e6, 2),
        "portal_usd_per_million_repeat_visits": round(repeat_visit * 1e6, 2),
        "api_calls_per_endpoints_page_view": api_calls,
        "endpoints_on_the_page": ENDPOINTS_ON_THE_PAGE,
        "api_request_usd_per_million_endpoints_page_views": round(api_requests_usd * 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    arguments = parser.parse_args(argv)
    figures = report()
    for name, value in figures.items():
        print(f"{name}: {value}")
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
