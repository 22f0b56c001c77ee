"""`dovecote local --state-dir DIR`: the table survives a restart of the local stack.

Every item of the stack's DynamoDB table (applications, keys, webhooks, events and the
delivery log) is written to DIR/table.json a few seconds after a function ran, and once
more when the stack stops; the next start with the same directory loads it back before
serving. DIR/keys.json keeps the printed demo and platform keys, so they stay the same.

What does not survive: messages in the SQS queues and retry executions waiting in Step
Functions. After a hard kill (SIGKILL, a crash) the last few seconds of writes are lost
too; Ctrl-C saves everything first.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

TABLE_FILE = "table.json"
KEYS_FILE = "keys.json"
SAVE_INTERVAL_SECONDS = 2.0
_BATCH_WRITE_ITEMS = 25


def _write_privately(path: Path, text: str) -> None:
    """Write atomically, readable by this user only (the files hold keys and signing secrets)."""
    partial = path.with_name(f"{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    partial.replace(path)


class StateDirectory:
    def __init__(self, directory: Path, dynamodb: Any, table_name: str) -> None:
        self.directory = directory
        self._dynamodb = dynamodb
        self._table = table_name
        self._changed = threading.Event()
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def restore(self) -> int:
        """Load the saved items into the (empty) table; returns how many."""
        path = self.directory / TABLE_FILE
        if not path.is_file():
            return 0
        items = json.loads(path.read_text(encoding="utf-8"))["items"]
        for start in range(0, len(items), _BATCH_WRITE_ITEMS):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH_WRITE_ITEMS]]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                pending = self._dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return len(items)

    def save(self) -> int:
        """Write every item of the table to DIR/table.json; returns how many."""
        with self._lock:
            self._changed.clear()
            items: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {"TableName": self._table}
            while True:
                page = self._dynamodb.scan(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            _write_privately(self.directory / TABLE_FILE, json.dumps({"version": 1, "items": items}))
            return len(items)

    def mark_changed(self, *_: object) -> None:
        """An invocation observer: a function ran, so the table may have changed."""
        self._changed.set()

    def save_until(self, stopping: threading.Event) -> None:
        """Save soon after each change until `stopping` is set, then once more."""
        while not stopping.wait(SAVE_INTERVAL_SECONDS):
            if self._changed.is_set():
                self.save()
        self.save()

    def saved_keys(self) -> dict[str, str]:
        path = self.directory / KEYS_FILE
        if not path.is_file():
            return {}
        keys = json.loads(path.read_text(encoding="utf-8"))
        return {name: value for name, value in keys.items() if isinstance(value, str)}

    def keep_keys(self, *, api_key: str, platform_key: str) -> None:
        _write_privately(
            self.directory / KEYS_FILE, json.dumps({"api_key": api_key, "platform_key": platform_key}) + "\n"
        )
