"""Attribute validation in Neutron's words ("Invalid input for X. Reason: ...").

Request bodies are plain JSON objects whose keys include colons
(``router:external``, ``binding:host_id``), so they are checked here by
hand rather than by a pydantic model; every failure is a 400 HTTPBadRequest.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from onestack.network.exceptions import HTTPBadRequest

_TRUE = ("true", "1", "yes", "on", "t", "y")
_FALSE = ("false", "0", "no", "off", "f", "n")


def invalid(name: str, reason: str) -> HTTPBadRequest:
    return HTTPBadRequest(detail=f"Invalid input for {name}. Reason: {reason}.")


def check_known(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise HTTPBadRequest(detail=f"Unrecognized attribute(s) '{', '.join(unknown)}'")


def reject_read_only(body: Mapping[str, Any], read_only: Iterable[str], resource: str) -> None:
    for name in read_only:
        if name in body:
            raise HTTPBadRequest(
                detail=f"Attribute '{name}' not allowed in POST"
                if resource == "POST"
                else f"Cannot update read-only attribute {name}"
            )


def as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise invalid(name, f"'{value}' cannot be converted to boolean")


def as_str(name: str, value: Any, *, max_len: int = 255, allow_none: bool = False) -> str:
    if value is None and allow_none:
        return ""
    if not isinstance(value, str):
        raise invalid(name, f"'{value}' is not a valid string")
    if len(value) > max_len:
        raise invalid(name, f"'{value}' exceeds maximum length of {max_len}")
    return value


def as_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise invalid(name, f"'{value}' is not an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(name, f"'{value}' is not an integer") from None
    if isinstance(value, float) and value != number:
        raise invalid(name, f"'{value}' is not an integer")
    if low is not None and number < low:
        raise invalid(name, f"'{number}' should be greater than or equal to {low}")
    if high is not None and number > high:
        raise invalid(name, f"'{number}' should be smaller than or equal to {high}")
    return number


def as_uuid(name: str, value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid UUID") from None


def as_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(name, f"'{value}' is not a list")
    return value


def as_str_list(name: str, value: Any, *, unique: bool = True) -> list[str]:
    items = as_list(name, value)
    for item in items:
        if not isinstance(item, str):
            raise invalid(name, f"'{item}' is not a valid string")
    if unique and len(set(items)) != len(items):
        raise invalid(name, f"Duplicate items in the list: '{', '.join(items)}'")
    return items


def new_id() -> str:
    return str(uuid.uuid4())
