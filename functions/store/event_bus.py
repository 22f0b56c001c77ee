"""The deployer's EventBridge default bus: where operational events are put (source `dovecote`)."""

from __future__ import annotations

import json
from typing import Any

DEFAULT_BUS = "default"
SOURCE = "dovecote"
"""The `source` of every event Dovecote puts on the bus; a rule matches `{"source": ["dovecote"]}`."""


class EventBusError(RuntimeError):
    """EventBridge did not accept the event (a throttle, an outage): the caller's task is retried."""


class DefaultEventBus:
    def __init__(self, client: Any, bus_name: str = DEFAULT_BUS) -> None:
        self._client = client
        self._bus = bus_name

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        """One PutEvents entry; EventBusError unless EventBridge accepted it."""
        entry = {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": self._bus}
        try:
            response = self._client.put_events(Entries=[entry])
        except Exception as error:
            raise EventBusError(f"PutEvents failed: {type(error).__name__}") from error
        if response.get("FailedEntryCount"):
            failed = (response.get("Entries") or [{}])[0]
            raise EventBusError(f"PutEvents refused the event: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}")
