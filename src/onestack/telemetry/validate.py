"""Body checks that answer as Gnocchi's schema validation does.

Gnocchi validates bodies with voluptuous and answers 400 with
``{"cause": "Invalid input", "reason": "<voluptuous message>", "detail": [path]}``.
These helpers raise :class:`InvalidInput` with the same reasons for the same
mistakes (unknown key, missing key, wrong type, empty list).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onestack.telemetry.exceptions import BadRequest, InvalidInput


def _where(path: list[str]) -> str:
    return "".join(f"[{p!r}]" for p in path)


def invalid(reason: str, path: list[str]) -> InvalidInput:
    suffix = f" @ data{_where(path)}" if path else ""
    return InvalidInput(reason + suffix, path)


def mapping(value: Any, path: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("expected a dictionary", path)
    return value


def keys(
    value: dict[str, Any],
    path: list[str],
    allowed: Iterable[str],
    required: Iterable[str] = (),
) -> None:
    allowed_set = set(allowed)
    for key in value:
        if key not in allowed_set:
            raise invalid("extra keys not allowed", [*path, str(key)])
    for key in required:
        if key not in value:
            raise invalid("required key not provided", [*path, key])


def string(value: Any, path: list[str], max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise invalid("expected str", path)
    if max_length is not None and len(value) > max_length:
        raise invalid(f"length of value must be at most {max_length}", path)
    return value


def integer(value: Any, path: list[str], minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise invalid("expected int", path)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid("expected int", path) from None
    if minimum is not None and number < minimum:
        raise invalid(f"value must be at least {minimum}", path)
    return number


def listing(value: Any, path: list[str], min_length: int = 0) -> list[Any]:
    if not isinstance(value, list):
        raise invalid("expected a list", path)
    if len(value) < min_length:
        raise invalid(f"length of value must be at least {min_length}", path)
    return value


def boolean(value: Any, path: list[str]) -> bool:
    if not isinstance(value, bool):
        raise invalid("expected bool", path)
    return value


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    """A query-string boolean (oslo's strict ``bool_from_string``)."""
    if value is None:
        return default
    text = value.strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes"):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise BadRequest(
        f"Unable to parse `{name}': Unrecognized value '{value}', acceptable values are: "
        "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
    )
