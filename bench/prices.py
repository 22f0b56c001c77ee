"""The one price table the benchmarks convert usage with: AWS list prices, us-east-1.

Published on-demand prices past the free tiers, in the first volume tier, as on the pricing
pages named below. The benchmarks have no network: these figures were not fetched by them.
Re-check the pages before quoting a figure, and update PRICES_AS_OF with the table.

Notes on the figures:
- Lambda: the functions run on arm64 (infra/lambda_code.py ARCHITECTURE), $0.0000133334 per
  GB-second, i.e. $0.0000000016667 per ms at 128 MB ($0.0000000021 per ms at 128 MB is the
  x86_64 price). Duration is billed per 1 ms, rounded up, per invocation.
- DynamoDB on-demand: the prices after the 50 % reduction of 2024-11-01 (Standard table class).
- SQS: each 64 KiB chunk of a request's payload is billed as one request.
- HTTP API: each 512 KiB of a request is billed as one request.
- Step Functions Standard: billed per state transition; API calls (StartExecution…) are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

PRICES_AS_OF = "2025-01 (list prices in force since the DynamoDB on-demand cut of 2024-11-01)"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    """Dollars per `per` units."""
    per: int
    unit: str
    source: str

    def cost(self, quantity: float) -> float:
        return quantity * self.usd / self.per


PRICES = MappingProxyType(
    {
        "apigw_http_request": Price(
            1.00, 1_000_000, "HTTP API request (512 KiB)", "https://aws.amazon.com/api-gateway/pricing/"
        ),
        "lambda_request": Price(0.20, 1_000_000, "Lambda invocation", "https://aws.amazon.com/lambda/pricing/"),
        "lambda_arm64_gb_second": Price(
            0.0000133334, 1, "Lambda arm64 GB-second", "https://aws.amazon.com/lambda/pricing/"
        ),
        "sqs_standard_request": Price(
            0.40, 1_000_000, "SQS standard request (64 KiB chunk)", "https://aws.amazon.com/sqs/pricing/"
        ),
        "dynamodb_write_request_unit": Price(
            0.625,
            1_000_000,
            "DynamoDB on-demand write request unit",
            "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        ),
        "dynamodb_read_request_unit": Price(
            0.125,
            1_000_000,
            "DynamoDB on-demand read request unit",
            "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        ),
        "sfn_standard_transition": Price(
            0.025, 1_000, "Step Functions Standard state transition", "https://aws.amazon.com/step-functions/pricing/"
        ),
        # AWS destinations (bench/destination_cost.py): billed to the account that owns the role Dovecote
        # assumes, i.e. the customer's, since the request is made as that role.
        "sqs_fifo_request": Price(
            0.50, 1_000_000, "SQS FIFO request (64 KiB chunk)", "https://aws.amazon.com/sqs/pricing/"
        ),
        "sns_publish_request": Price(
            0.50, 1_000_000, "SNS standard topic publish (64 KiB chunk)", "https://aws.amazon.com/sns/pricing/"
        ),
        "eventbridge_custom_event": Price(
            1.00, 1_000_000, "EventBridge custom event (64 KiB chunk)", "https://aws.amazon.com/eventbridge/pricing/"
        ),
        "sts_assume_role": Price(0.0, 1_000_000, "STS AssumeRole (no charge)", "https://aws.amazon.com/iam/faqs/"),
        # Optional lines, reported beside the total, not in it (see bench/cost_model.py).
        "cloudwatch_logs_ingested_gb": Price(
            0.50, 1, "CloudWatch Logs ingestion (Standard), GB", "https://aws.amazon.com/cloudwatch/pricing/"
        ),
        "xray_trace_recorded": Price(5.00, 1_000_000, "X-Ray trace recorded", "https://aws.amazon.com/xray/pricing/"),
    }
)


def price_table() -> list[dict[str, object]]:
    """The table as JSON-ready rows (for --json output)."""
    return [
        {"name": name, "usd": price.usd, "per": price.per, "unit": price.unit, "source": price.source}
        for name, price in PRICES.items()
    ]


def function_memory_mb(profile_name: str = "standard") -> dict[str, int]:
    """Memory of each function as infra/functions.py configures it (imports the CDK library)."""
    from functions.core.profile import load_profile  # noqa: PLC0415 - keeps `import bench.prices` light
    from infra.functions import function_specs  # noqa: PLC0415

    return {name: spec.memory_mb for name, spec in function_specs(load_profile(profile_name)).items()}
