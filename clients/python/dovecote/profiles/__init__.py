"""The shipped profiles, one JSON document each: their only home (standard library only).

A profile fixes a deployment's webhook contract. The server validates the documents
(functions/core/profile.py); a receiver needs only their signing part, which
`dovecote.verify` reads from here by profile name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROFILES_DIR = Path(__file__).resolve().parent


class UnknownProfileError(LookupError):
    """A profile name that is not shipped; the message lists the shipped ones."""


def shipped_profile_names() -> list[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.json"))


def profile_path(name_or_path: str | Path) -> Path:
    """The file of a shipped profile by name (`standard`, `miteos`, …), or the path given (a `.json` file)."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.parent != Path("."):
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(shipped_profile_names())
        raise UnknownProfileError(f"unknown profile {name_or_path!r}: use one of {known} or a path to a .json file")
    return path


def profile_document(name_or_path: str | Path) -> dict[str, Any]:
    """A profile's JSON document, not validated (the server validates it; verify reads only its signing part)."""
    document: dict[str, Any] = json.loads(profile_path(name_or_path).read_text(encoding="utf-8"))
    return document
