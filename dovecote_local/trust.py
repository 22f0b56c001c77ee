"""Local emulation: moto's `sts:AssumeRole` made to honour the role's trust policy.

moto lets anyone assume any role, existing or not, with any ExternalId. AWS does not: the
role must exist, and its trust policy must allow the caller's account with the ExternalId
the caller passes. Dovecote's AWS destinations depend on exactly that check (a wrong
ExternalId is `AccessDenied`), so the local stack and the tests patch moto's STS backend to
make it, for the subset of trust policies Dovecote documents:

- an `Allow` statement for `sts:AssumeRole` (or `sts:*`, `*`),
- whose `Principal.AWS` names the caller's account (`ACCOUNT`, `arn:aws:iam::ACCOUNT:root`
  or any ARN in it) or is `*`,
- and whose `StringEquals` `sts:ExternalId` condition, when present, equals the ExternalId.

Anything else is `AccessDenied` with AWS's wording. This is an emulation of IAM, not IAM:
it does not evaluate Deny statements, other condition operators or the caller's own policy.
In AWS, IAM does all of it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.core.exceptions import ServiceException
from moto.iam.models import iam_backends
from moto.sts.models import STSBackend

_ASSUME_ACTIONS = {"sts:assumerole", "sts:*", "*"}


class AccessDenied(ServiceException):
    code = "AccessDenied"
    http_status_code = 403


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_allows(principal: Any, caller_account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in _listed(principal.get("AWS", [])):
        text = str(entry)
        if text in {"*", caller_account} or text.split(":")[4:5] == [caller_account]:
            return True
    return False


def _external_id_allows(condition: dict[str, Any], external_id: str | None) -> bool:
    expected = condition.get("StringEquals", {}).get("sts:ExternalId")
    if expected is None:
        return True
    return external_id is not None and external_id in _listed(expected)


def trust_allows(policy_document: str, caller_account: str, external_id: str | None) -> bool:
    """Whether the trust policy lets `caller_account` assume the role with `external_id` (the subset above)."""
    policy = json.loads(unquote(policy_document)) if policy_document else {}
    for statement in _listed(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        if not {str(a).lower() for a in _listed(statement.get("Action", []))} & _ASSUME_ACTIONS:
            continue
        if not _principal_allows(statement.get("Principal"), caller_account):
            continue
        if _external_id_allows(statement.get("Condition", {}), external_id):
            return True
    return False


def check_assume_role(caller_account: str, role_arn: str, external_id: str | None) -> None:
    """Raise AccessDenied (AWS's wording) unless the role exists and its trust policy allows the caller."""
    denied = AccessDenied(
        f"User: arn:aws:iam::{caller_account}:user/dovecote is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn}"
    )
    parts = role_arn.split(":")
    if len(parts) != 6 or not parts[5].startswith("role/"):
        raise denied
    account, name = parts[4], parts[5].rsplit("/", 1)[-1]
    try:
        role = iam_backends[account]["aws"].get_role(name)
    except Exception:
        raise denied from None
    if not trust_allows(role.assume_role_policy_document, caller_account, external_id):
        raise denied


def patch_trust_policies() -> Callable[[], None]:
    """Make moto's AssumeRole check the role's trust policy (above); returns the undo."""
    original = STSBackend.assume_role
    # STS's model has no AccessDenied shape (AWS returns it anyway); moto warns when serializing it.
    warnings.filterwarnings("ignore", message=r"Exception\(AccessDenied\)", category=UserWarning)

    def assume_role(self: Any, **kwargs: Any) -> Any:
        check_assume_role(self.account_id, kwargs["role_arn"], kwargs.get("external_id"))
        return original(self, **kwargs)

    STSBackend.assume_role = assume_role  # type: ignore[method-assign,assignment]

    def undo() -> None:
        STSBackend.assume_role = original  # type: ignore[method-assign]

    return undo
