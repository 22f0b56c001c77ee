"""Cost per million deliveries by destination type: the pipeline, the send, and STS amortised.

Every type shares the pipeline Dovecote pays for (API, fan-out, deliver Lambda, DynamoDB,
SQS: measured by bench/cost_model.py's "happy f1" scenario on the local stack). What differs
is the send:

- `https`: a POST; no AWS request price (data transfer out is not modelled).
- `sqs` / `sqs-fifo` / `sns` / `eventbridge`: one SendMessage / Publish / PutEvents per
  delivery, billed per 64 KiB chunk of the message. The request is made as the customer's
  role, so AWS bills it to the customer's account, not to Dovecote's: the table shows it
  apart from Dovecote's figure.
- STS: `AssumeRole` has no charge; the credentials are cached per role for their hour
  (renewed 5 minutes early), so each warm deliver instance calls it about once per role per
  55 minutes. What it costs is the deliver function's time waiting for it, amortised below.

    python -m bench.destination_cost [--pipeline 5.14] [--roles 100] [--instances 10] [--rate 100]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from bench.prices import PRICES
from bench.report import table

CREDENTIAL_REUSE_MINUTES = 55
"""functions/runtime/assumed_roles.py: an hour's session, renewed 5 minutes before it ends."""
ASSUME_ROLE_SECONDS = 0.1
"""The deliver function's wait for one AssumeRole (a regional STS endpoint answers in tens of ms)."""
DELIVER_MEMORY_GB = 0.5
"""infra/functions.py: the deliver function's 512 MB."""
CHUNK_BYTES = 64 * 1024
SEND_PRICES = {
    "https": None,
    "sqs": "sqs_standard_request",
    "sqs-fifo": "sqs_fifo_request",
    "sns": "sns_publish_request",
    "eventbridge": "eventbridge_custom_event",
}


@dataclass(frozen=True)
class DestinationCost:
    type: str
    send_usd_per_million: float
    """Billed to the customer's account (the request is made as its role)."""
    sts_calls_per_million: float
    sts_usd_per_million: float
    """Dovecote's: the deliver function's duration while it waits for AssumeRole (the call itself is free)."""

    def dovecote_usd_per_million(self, pipeline: float) -> float:
        return pipeline + self.sts_usd_per_million


def sts_calls_per_million(roles: int, warm_instances: int, deliveries_per_second: float) -> float:
    """AssumeRole calls per million deliveries when `roles` roles receive `deliveries_per_second` in total."""
    calls_per_hour = roles * warm_instances * 60 / CREDENTIAL_REUSE_MINUTES
    deliveries_per_hour = deliveries_per_second * 3600
    return min(1_000_000.0, calls_per_hour / deliveries_per_hour * 1_000_000)


def destination_costs(
    *, payload_bytes: int = 1024, roles: int = 100, warm_instances: int = 10, deliveries_per_second: float = 100
) -> list[DestinationCost]:
    chunks = max(1, math.ceil(payload_bytes / CHUNK_BYTES))
    sts_calls = sts_calls_per_million(roles, warm_instances, deliveries_per_second)
    sts_usd = PRICES["sts_assume_role"].cost(sts_calls) + PRICES["lambda_arm64_gb_second"].cost(
        sts_calls * ASSUME_ROLE_SECONDS * DELIVER_MEMORY_GB
    )
    costs = []
    for kind, price_name in SEND_PRICES.items():
        send = PRICES[price_name].cost(1_000_000 * chunks) if price_name else 0.0
        aws = price_name is not None
        costs.append(DestinationCost(kind, send, sts_calls if aws else 0.0, sts_usd if aws else 0.0))
    return costs


def rows(costs: list[DestinationCost], pipeline_usd_per_million: float | None) -> list[list[object]]:
    result: list[list[object]] = []
    for cost in costs:
        dovecote = cost.dovecote_usd_per_million(pipeline_usd_per_million) if pipeline_usd_per_million else math.nan
        result.append(
            [
                cost.type,
                pipeline_usd_per_million if pipeline_usd_per_million is not None else math.nan,
                cost.sts_calls_per_million,
                cost.sts_usd_per_million,
                dovecote,
                cost.send_usd_per_million,
                dovecote + cost.send_usd_per_million,
            ]
        )
    return result


HEADERS = [
    "type",
    "pipeline $/M",
    "STS calls/M",
    "STS wait $/M",
    "Dovecote $/M",
    "send $/M (customer)",
    "all $/M",
]


def print_table(pipeline_usd_per_million: float | None, costs: list[DestinationCost]) -> None:
    print("Dollars per million deliveries by destination type (1 KiB envelope)")
    print(table(HEADERS, rows(costs, pipeline_usd_per_million)))
    print("  pipeline = bench/cost_model.py's happy path at fan-out 1 (the same for every type)")
    print("  send = SendMessage / Publish / PutEvents per 64 KiB, billed to the customer's account (made as its role)")
    print("  STS = AssumeRole is free; credentials are reused per role for 55 minutes per warm deliver instance")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cost per million deliveries by destination type")
    parser.add_argument("--pipeline", type=float, default=None, help="measured pipeline $/M (cost_model happy f1)")
    parser.add_argument("--roles", type=int, default=100, help="distinct customer roles receiving deliveries")
    parser.add_argument("--instances", type=int, default=10, help="warm deliver function instances")
    parser.add_argument("--rate", type=float, default=100, help="deliveries per second, all roles together")
    parser.add_argument("--payload-bytes", type=int, default=1024)
    args = parser.parse_args(argv)
    costs = destination_costs(
        payload_bytes=args.payload_bytes,
        roles=args.roles,
        warm_instances=args.instances,
        deliveries_per_second=args.rate,
    )
    print(f"{args.roles} roles, {args.instances} warm deliver instances, {args.rate:g} deliveries/s")
    print_table(args.pipeline, costs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
