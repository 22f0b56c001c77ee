"""bench/destination_cost.py: the send price per type and STS amortised by the credentials cache."""

from __future__ import annotations

import pytest

from bench.destination_cost import destination_costs, sts_calls_per_million


def by_type(**options: object) -> dict[str, object]:
    return {cost.type: cost for cost in destination_costs(**options)}  # type: ignore[arg-type]


def test_each_type_pays_its_services_request_price_per_64_kib_chunk() -> None:
    small = by_type(payload_bytes=1024)
    assert {kind: c.send_usd_per_million for kind, c in small.items()} == pytest.approx(  # type: ignore[attr-defined]
        {"https": 0.0, "sqs": 0.40, "sqs-fifo": 0.50, "sns": 0.50, "eventbridge": 1.00}
    )
    large = by_type(payload_bytes=100 * 1024)  # two chunks
    assert large["eventbridge"].send_usd_per_million == pytest.approx(2.00)  # type: ignore[attr-defined]


def test_sts_calls_are_one_per_role_and_warm_instance_every_55_minutes() -> None:
    # 10 roles x 1 instance: 10 x 60/55 calls an hour, against 36,000 deliveries an hour.
    assert sts_calls_per_million(10, 1, 10) == pytest.approx(10 * 60 / 55 / 36_000 * 1_000_000)
    assert sts_calls_per_million(1000, 10, 0.001) == 1_000_000  # never more than one call per delivery


def test_https_endpoints_assume_no_role() -> None:
    https = by_type()["https"]
    assert https.sts_calls_per_million == 0  # type: ignore[attr-defined]
    assert by_type()["sqs"].sts_calls_per_million > 0  # type: ignore[attr-defined]
