"""Cold start of the management function against a function that imports only boto3.

Each figure is the median over fresh Python processes (interleaved, so drift hits both
sides alike) of the time from the first import to the end of the step:

- import: `import functions.management.handler` (what Lambda's INIT runs) against `import boto3`;
- first request: import, then one authenticated GET /v1/webhooks/{id}, against import boto3,
  build a DynamoDB client and call GetItem. DynamoDB points at a closed local port and
  botocore does not retry, so both include building the client and the request but no network.

The functions run with PYDANTIC_DISABLE_PLUGINS=__all__ (no pydantic plugin is used, and
looking for them scans every installed distribution); the last row shows the cost without.

    python -m bench.cold_start_management [--runs 15] [--check]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.3
MARKER = "ELAPSED_MS="

_TIMED = """
import time
_started = time.perf_counter()
{body}
print("{marker}%.3f" % ((time.perf_counter() - _started) * 1000))
"""

BOTO3_IMPORT = "import boto3"
HANDLER_IMPORT = "import functions.management.handler"
BOTO3_FIRST_REQUEST = """
import boto3
client = boto3.client("dynamodb")
try:
    client.get_item(TableName="dovecote-bench", Key={"pk": {"S": "T#bench"}, "sk": {"S": "WH#wh_x"}})
except Exception:
    pass
"""
HANDLER_FIRST_REQUEST = """
import functions.management.handler as management
class Context:
    function_name = "bench"; memory_limit_in_mb = 256; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
management.handler({
    "version": "2.0", "routeKey": "$default", "rawPath": "/v1/webhooks/wh_01jdq3xk5m8n2p4r6t8v0w2y4z",
    "rawQueryString": "", "headers": {},
    "requestContext": {"http": {"method": "GET", "path": "/v1/webhooks/wh_01jdq3xk5m8n2p4r6t8v0w2y4z"},
                       "requestId": "bench", "stage": "$default",
                       "authorizer": {"lambda": {"application_id": "bench"}}},
    "isBase64Encoded": False,
}, Context())
"""

FUNCTION_ENVIRONMENT = {
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
    "DOVECOTE_TABLE_NAME": "dovecote-bench",
    "DOVECOTE_PROFILE": "standard",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
}


def time_once(body: str, environment: dict[str, str]) -> float:
    code = _TIMED.format(body=body, marker=MARKER)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARKER)]
    return float(lines[-1].removeprefix(MARKER))


def medians(bodies: dict[str, str], environment: dict[str, str], runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    for round_number in range(runs):
        order = list(bodies) if round_number % 2 == 0 else list(reversed(bodies))
        for name in order:
            samples[name].append(time_once(bodies[name], environment))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per figure (at least 10)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the import ratio exceeds {TARGET_RATIO}")
    arguments = parser.parse_args(argv)
    runs = max(arguments.runs, 10)

    environment = {**os.environ, **FUNCTION_ENVIRONMENT, "PYTHONPATH": str(ROOT)}
    figures = medians(
        {
            "boto3 import": BOTO3_IMPORT,
            "handler import": HANDLER_IMPORT,
            "boto3 first request": BOTO3_FIRST_REQUEST,
            "handler first request": HANDLER_FIRST_REQUEST,
        },
        environment,
        runs,
    )
    with_plugin_scan = {k: v for k, v in environment.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    scanned = medians({"boto3 import": BOTO3_IMPORT, "handler import": HANDLER_IMPORT}, with_plugin_scan, runs)

    rows = [
        ("import", figures["boto3 import"], figures["handler import"]),
        ("import + first request", figures["boto3 first request"], figures["handler first request"]),
        ("import, pydantic plugin scan on", scanned["boto3 import"], scanned["handler import"]),
    ]
    print(f"Management function cold start: median of {runs} fresh processes (Python {sys.version.split()[0]})")
    print(f"{'':34}{'boto3 only':>12}{'management':>12}{'ratio':>8}")
    for label, baseline, measured in rows:
        print(f"{label:34}{baseline:>9.1f} ms{measured:>9.1f} ms{measured / baseline:>7.2f}x")
    import_ratio = figures["handler import"] / figures["boto3 import"]
    verdict = "within" if import_ratio <= TARGET_RATIO else "ABOVE"
    print(f"import ratio {import_ratio:.2f}x: {verdict} the {TARGET_RATIO}x target")
    return 1 if arguments.check and import_ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
