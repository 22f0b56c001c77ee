"""Example payloads quoted from the seed documents, shared by the tests that reproduce them."""

SEED_003_EXAMPLE_DATA = {
    "task_id": "task_8xK2mP",
    "title": "Generate weekly ad creatives",
    "status": "DONE",
    "started_at": "2026-03-04T12:30:00Z",
    "completed_at": "2026-03-04T12:45:00Z",
    "duration_seconds": 900,
    "result": "5 ad variations generated and saved",
}
"""The `data` of seed 003's example `task.completed` delivery."""
