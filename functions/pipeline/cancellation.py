"""Cancelling an endpoint's pending deliveries (the webhook was deleted or disabled).

Each pending delivery is marked `cancelled` first (conditional: only while still pending
in the series that was read), then its retry execution is stopped. An execution serves a
retry group (one endpoint's deliveries from one deliver batch) and is named after its first
member: cancelling every pending delivery of the endpoint reaches that member while the
group has any pending one, and a group whose first member had already ended finds the
others cancelled at its next attempt and ends there. Marking first means an
attempt already in flight cannot log itself afterwards (its write requires `pending`);
an execution that starts or wakes up later finds the delivery cancelled and ends. The
deliver function also cancels, on its next attempt, any delivery whose webhook is gone or
disabled, so a cancellation that is interrupted midway still completes.

Management calls this with states:StopExecution permission only (no StartExecution).
"""

from __future__ import annotations

from functions.core.models import DeliveryStatus, utc_now
from functions.runtime.observability import logger as service_logger
from functions.store.deliveries import DeliveryStore
from functions.store.executions import RetryExecutions

log = service_logger(child=True)


def cancel_pending_deliveries(
    deliveries: DeliveryStore, executions: RetryExecutions, application_id: str, webhook_id: str, reason: str
) -> int:
    """Cancel every pending delivery of the webhook; returns how many were cancelled."""
    cancelled = 0
    for delivery in deliveries.iter_pending_for_webhook(application_id, webhook_id):
        if not deliveries.finish(
            application_id,
            delivery.id,
            series=delivery.series,
            status=DeliveryStatus.CANCELLED,
            reason=reason,
            now=utc_now(),
        ):
            continue
        cancelled += 1
        executions.stop(delivery.id, delivery.series, cause=reason)  # none yet before a retry: a no-op
    if cancelled:
        log.info("pending deliveries cancelled", extra={"webhook_id": webhook_id, "cancelled": cancelled})
    return cancelled
