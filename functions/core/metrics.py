"""CloudWatch metric names the functions emit and the dashboard and alarms read."""

from __future__ import annotations

NAMESPACE = "Dovecote"

DELIVERIES_SUCCEEDED = "DeliveriesSucceeded"
DELIVERIES_FAILED = "DeliveriesFailed"
DELIVERIES_CANCELLED = "DeliveriesCancelled"
DELIVERIES_CREATED = "DeliveriesCreated"
RETRIES_SCHEDULED = "RetriesScheduled"
ATTEMPT_LATENCY = "AttemptLatency"
