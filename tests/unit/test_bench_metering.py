"""The benchmarks' pure arithmetic: item sizes, request units, billed requests, dollars."""

from __future__ import annotations

import math

import pytest

from bench.batch_concurrency import queueing_ms
from bench.cold_start import excess_imports
from bench.cost_model import floor_per_million
from bench.fanout_scale import worst_step
from bench.instrument import function_of_handler, index_write_units, trigger_of
from bench.metering import (
    CallStats,
    InvocationStats,
    Usage,
    adjusted_duration_ms,
    attribute_value_size,
    by_service_usd,
    cost_lines,
    eventbridge_billed_events,
    gb_seconds,
    http_api_billed_requests,
    item_kind,
    item_size,
    lambda_billed_ms,
    naive_usage,
    number_size,
    per_million,
    read_units,
    sqs_billed_requests,
    state_transitions,
    total_usd,
    write_units,
)
from bench.prices import PRICES
from bench.report import Target

MEMORY = {"ingest": 256, "fanout": 256, "deliver": 512}


# DynamoDB item sizes and request units


def test_item_size_adds_attribute_names_and_values() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"é": {"S": "ü"}}) == 2 + 2  # UTF-8 bytes
    assert item_size({"b": {"B": b"\x00\x01\x02"}, "t": {"BOOL": True}, "n": {"NULL": True}}) == 1 + 3 + 1 + 1 + 1 + 1
    assert item_size(None) == 0
    assert item_size({}) == 0


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 1), ("7", 2), ("12", 2), ("123", 3), ("1000", 2), ("0.001", 2), ("-12", 3), ("123456789", 6)],
)
def test_number_size_counts_significant_digits(text: str, size: int) -> None:
    assert number_size(text) == size


def test_lists_and_maps_cost_three_bytes_plus_one_per_element() -> None:
    assert attribute_value_size({"L": []}) == 3
    assert attribute_value_size({"L": [{"S": "ab"}, {"N": "7"}]}) == 3 + (1 + 2) + (1 + 2)
    assert attribute_value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert attribute_value_size({"SS": ["a", "bc"]}) == 3


def test_write_units_are_one_per_kib_started() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(3000, transactional=True) == 6


def test_read_units_are_one_per_4_kib_halved_when_eventually_consistent() -> None:
    assert read_units(0, consistent=True) == 1
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(8192, consistent=False) == 1
    assert read_units(100, consistent=False) == 0.5
    assert read_units(5000, consistent=False, transactional=True) == 4


def test_index_write_units_follow_the_index_keys() -> None:
    keys = ("gsi1pk", "gsi1sk")
    indexed = {"pk": {"S": "a"}, "gsi1pk": {"S": "x"}, "gsi1sk": {"S": "y"}}
    moved = {**indexed, "gsi1sk": {"S": "z"}}
    plain = {"pk": {"S": "a"}}
    assert index_write_units(None, indexed, keys) == 1  # put into the index
    assert index_write_units(indexed, indexed, keys) == 1  # updated in place
    assert index_write_units(indexed, moved, keys) == 2  # key changed: delete + put
    assert index_write_units(indexed, None, keys) == 1  # deleted
    assert index_write_units(plain, plain, keys) == 0  # never in the index


@pytest.mark.parametrize(
    ("pk", "sk", "kind"),
    [
        ("T#t1", "WH#wh_1", "webhook"),
        ("T#t1", "", "webhook"),
        ("T#t1#EVT#evt_1", "EVT", "event"),
        ("T#t1#DEL#del_1", "DEL", "delivery"),
        ("T#t1#WH#wh_1", "", "delivery"),
        ("T#t1#IDEM#key:abc", "IDEM", "idempotency"),
        ("KEY#abcdef", "KEY", "api_key"),
    ],
)
def test_item_kind_reads_the_single_table_layout(pk: str, sk: str, kind: str) -> None:
    assert item_kind(pk, sk) == kind


# SQS, HTTP API, Lambda, Step Functions


def test_sqs_bills_each_64_kib_chunk() -> None:
    assert sqs_billed_requests(0) == 1
    assert sqs_billed_requests(64 * 1024) == 1
    assert sqs_billed_requests(64 * 1024 + 1) == 2
    assert sqs_billed_requests(256 * 1024) == 4


def test_http_api_bills_each_512_kib() -> None:
    assert http_api_billed_requests(100) == 1
    assert http_api_billed_requests(512 * 1024 + 1) == 2


def test_lambda_duration_rounds_up_to_the_millisecond() -> None:
    assert lambda_billed_ms(0.2) == 1
    assert lambda_billed_ms(12.01) == 13
    assert gb_seconds(1000, 128) == 0.125
    # arm64: $0.0000133334 per GB-second, i.e. about $0.0000000016667 per ms at 128 MB
    assert PRICES["lambda_arm64_gb_second"].cost(gb_seconds(1, 128)) == pytest.approx(1.6667e-9, rel=1e-4)


def test_state_transitions_count_states_entered() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "WaitStateEntered"},
        {"type": "WaitStateExited"},
        {"type": "TaskStateEntered"},
        {"type": "LambdaFunctionScheduled"},
        {"type": "ChoiceStateEntered"},
        {"type": "SucceedStateEntered"},
        {"type": "ExecutionSucceeded"},
    ]
    assert state_transitions(history) == 4


def test_prices_are_the_published_list_prices() -> None:
    assert PRICES["apigw_http_request"].cost(1_000_000) == pytest.approx(1.00)
    assert PRICES["lambda_request"].cost(1_000_000) == pytest.approx(0.20)
    assert PRICES["sqs_standard_request"].cost(1_000_000) == pytest.approx(0.40)
    assert PRICES["dynamodb_write_request_unit"].cost(1_000_000) == pytest.approx(0.625)
    assert PRICES["dynamodb_read_request_unit"].cost(1_000_000) == pytest.approx(0.125)
    assert PRICES["sfn_standard_transition"].cost(1_000) == pytest.approx(0.025)
    assert all(price.source.startswith("https://aws.amazon.com/") for price in PRICES.values())


# Usage → dollars


def _usage() -> Usage:
    """1,000 deliveries at fan-out 10 through ingest, fan-out and deliver batches of 10."""
    usage = Usage(deliveries=1000, events=100, api_requests=100, api_billed_requests=100)
    usage.calls[("ingest", "sqs", "SendMessage")] = CallStats(calls=100, billed_requests=100)
    usage.calls[("fanout", "dynamodb", "PutItem:delivery")] = CallStats(
        calls=1000, billed_requests=1000, write_units=2000
    )
    usage.calls[("fanout", "sqs", "SendMessageBatch")] = CallStats(calls=100, billed_requests=100)
    usage.calls[("esm:deliver", "sqs", "ReceiveMessage")] = CallStats(calls=100, billed_requests=100)
    usage.calls[("deliver", "dynamodb", "GetItem:delivery")] = CallStats(
        calls=1000, billed_requests=1000, read_units=1000
    )
    usage.calls[("deliver", "events", "PutEvents")] = CallStats(calls=5, billed_requests=6)
    for _ in range(100):
        usage.invocation(("deliver", "sqs")).record(250.0, records=10)
    for _ in range(100):
        usage.invocation(("ingest", "api")).record(20.0)
    return usage


def test_cost_lines_price_every_counted_quantity() -> None:
    lines = cost_lines(_usage(), MEMORY)
    services = by_service_usd(lines)
    assert services["API Gateway"] == pytest.approx(100 * 1.00 / 1e6)
    assert services["SQS"] == pytest.approx(300 * 0.40 / 1e6)
    assert services["DynamoDB"] == pytest.approx(2000 * 0.625 / 1e6 + 1000 * 0.125 / 1e6)
    assert services["EventBridge"] == pytest.approx(6 * 1.00 / 1e6)  # events, not calls
    assert services["Step Functions"] == 0
    deliver_seconds = 100 * 0.250 * 512 / 1024
    ingest_seconds = 100 * 0.020 * 256 / 1024
    expected_lambda = 200 * 0.20 / 1e6 + (deliver_seconds + ingest_seconds) * 0.0000133334
    assert services["Lambda"] == pytest.approx(expected_lambda)
    assert per_million(total_usd(lines), 1000) == pytest.approx(total_usd(lines) * 1000)


def test_an_eventbridge_entry_is_one_event_per_64_kib_chunk() -> None:
    assert eventbridge_billed_events([300, 64 * 1024, 64 * 1024 + 1]) == 1 + 1 + 2
    assert eventbridge_billed_events([]) == 0


def test_per_million_without_deliveries_is_not_a_number() -> None:
    assert math.isnan(per_million(1.0, 0))


def test_naive_design_runs_an_execution_per_delivery() -> None:
    usage = _usage()
    usage.executions, usage.state_transitions = 100, 700  # 10 % retried: Wait, Attempt, Choice x2, Done
    usage.invocation(("deliver", "stepfunctions")).record(40.0)
    naive = naive_usage(usage)
    # every delivery: Attempt 1 + Choice 1; those not retried also Done
    assert naive.state_transitions == 700 + 2 * 1000 + (1000 - 100)
    assert naive.executions == 1000
    assert ("esm:deliver", "sqs", "ReceiveMessage") not in naive.calls
    assert ("fanout", "sqs", "SendMessageBatch") not in naive.calls
    assert naive.calls[("fanout", "stepfunctions", "StartExecution")].calls == 1000
    tasks = naive.invocations[("deliver", "stepfunctions")]
    assert tasks.invocations == 1 + 1000
    assert ("deliver", "sqs") not in naive.invocations
    assert usage.state_transitions == 700  # the measured usage is left alone


def test_adjusted_duration_removes_the_longest_threads_waiting() -> None:
    assert adjusted_duration_ms(300.0, {1: 40.0, 2: 120.0}) == 180.0
    assert adjusted_duration_ms(300.0, {}) == 300.0
    assert adjusted_duration_ms(50.0, {1: 80.0}) == 1.0


def test_adjusted_lambda_duration_is_priced_from_the_adjusted_times() -> None:
    usage = Usage(deliveries=10)
    usage.invocation(("deliver", "sqs")).record(400.0, records=10, adjusted_ms=100.0)
    measured = by_service_usd(cost_lines(usage, MEMORY))["Lambda"]
    adjusted = by_service_usd(cost_lines(usage, MEMORY, adjusted=True))["Lambda"]
    request = 0.20 / 1e6
    assert measured - request == pytest.approx(4 * (adjusted - request))


def test_invocation_stats_keep_mean_and_billed_duration() -> None:
    stats = InvocationStats()
    stats.record(10.2, records=3)
    stats.record(20.0, records=7, error=True)
    assert (stats.invocations, stats.errors, stats.records, stats.billed_ms) == (2, 1, 10, 11 + 20)
    assert stats.mean_ms == pytest.approx(15.1)


# Small helpers of the benchmark scripts


def test_triggers_and_function_names() -> None:
    assert trigger_of({"Records": []}) == "sqs"
    assert trigger_of({"action": "attempt"}) == "stepfunctions"
    assert trigger_of({"version": "2.0", "requestContext": {}}) == "api"
    assert trigger_of({"type": "REQUEST", "identitySource": ["x"]}) == "api"
    assert function_of_handler("functions.deliver.handler.handler") == "deliver"


def test_targets_compare_with_their_limit() -> None:
    assert Target("cost", 2.9, 3.0).passed
    assert not Target("cost", 3.1, 3.0).passed
    assert not Target("cost", math.nan, 3.0).passed
    assert Target("transitions", 0, 0, comparison="==").passed
    assert "MISS" in Target("cost", 7.88, 3.0, " $/M").line()


def test_worst_step_of_a_non_increasing_series_is_at_most_one() -> None:
    assert worst_step([8.1, 3.6, 3.2, 3.2]) == pytest.approx(1.0)
    assert worst_step([3.0, 3.3]) == pytest.approx(1.1)
    assert worst_step([5.0]) == 1.0


def test_queueing_is_the_slowest_threads_excess_latency() -> None:
    calls = [(1, 5.0), (1, 25.0), (2, 15.0), (2, 15.0)]
    assert queueing_ms(calls, single_call_ms=5.0) == pytest.approx(20.0)
    assert queueing_ms([], single_call_ms=5.0) == 0.0


def test_excess_imports_lists_what_the_floor_does_not_pay() -> None:
    mine = {"botocore": 25.0, "pydantic": 22.0, "functions.core": 15.0, "json": 1.2}
    floor = {"botocore": 26.0, "json": 1.0}
    assert excess_imports(mine, floor) == [("pydantic", 22.0), ("functions.core", 15.0)]


def test_the_floor_of_the_data_flow_falls_with_fan_out_towards_one_write_per_delivery() -> None:
    one_write = PRICES["dynamodb_write_request_unit"].cost(1_000_000)
    per_event = sum(
        PRICES[name].cost(1_000_000)
        for name in ("apigw_http_request", "lambda_request", "sqs_standard_request", "dynamodb_write_request_unit")
    )
    floors = [floor_per_million(n) for n in (1, 10, 100, 1000)]
    assert floors == sorted(floors, reverse=True)
    assert floors[0] > per_event + one_write  # every event pays its request, invocation, message and row
    assert one_write < floors[-1] < one_write * 1.3  # at scale, about the delivery's own row
