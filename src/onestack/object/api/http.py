"""HTTP details of the Swift API: metadata headers, dates, ranges, conditions, formats."""

from __future__ import annotations

import math
import mimetypes
import time
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime

from starlette.requests import Request

from onestack.common.exceptions import BadRequest, MethodNotAllowed
from onestack.object.exceptions import ConditionFailed, RangeNotSatisfiable


def not_allowed(what: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"The method is not allowed for {what}.")


def http_date(timestamp: str | float) -> str:
    return formatdate(math.ceil(float(timestamp)), usegmt=True)


def title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def meta_changes(request: Request, kind: str) -> dict[str, str | None]:
    """``X-<Kind>-Meta-*`` values and ``X-Remove-<Kind>-Meta-*`` removals."""
    prefix = f"x-{kind}-meta-"
    remove = f"x-remove-{kind}-meta-"
    changes: dict[str, str | None] = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name.startswith(prefix):
            changes[name] = value.strip() or None
        elif name.startswith(remove):
            changes[prefix + name[len(remove) :]] = None
    return changes


#: the account quotas (Swift 2.34's names; reseller admins set them)
ACCOUNT_QUOTAS = ("x-account-quota-bytes", "x-account-quota-count")


def account_quota_changes(request: Request) -> dict[str, str | None]:
    """``X-Account-Quota-Bytes``/``-Count`` values and ``X-Remove-Account-Quota-*`` removals."""
    changes: dict[str, str | None] = {}
    for name in ACCOUNT_QUOTAS:
        remove = "x-remove-" + name[len("x-") :]
        if name in request.headers:
            value = request.headers[name].strip()
            if value and not value.isdigit():
                raise BadRequest(f"Invalid {title(name)}: an integer is required.")
            changes[name] = value or None
        elif remove in request.headers:
            changes[name] = None
    return changes


def guess_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


#: The latest expiry time Swift represents (its timestamps have ten digits).
MAX_DELETE_AT = 9_999_999_999


def delete_at(request: Request) -> str | None:
    """X-Delete-At from X-Delete-At or X-Delete-After; 400 when in the past or bad."""
    return expiry(request.headers.get("x-delete-at"), request.headers.get("x-delete-after"))


def expiry(at: str | None, after: str | None) -> str | None:
    """The expiry time from an X-Delete-At or X-Delete-After value (headers, form
    fields); 400 when it is not an integer, in the past, or past ``MAX_DELETE_AT``
    (checked before anything is stored)."""
    now = time.time()
    if after is not None:
        if not after.strip().isdigit():
            raise BadRequest("Non-integer X-Delete-After")
        when = int(now + min(int(after.strip()), MAX_DELETE_AT))
        if when > MAX_DELETE_AT:
            raise BadRequest(f"X-Delete-After too large (expiry past {MAX_DELETE_AT})")
        return str(when)
    if at is not None:
        if not at.strip().isdigit():
            raise BadRequest("Non-integer X-Delete-At")
        when = int(at.strip())
        if when < now:
            raise BadRequest("X-Delete-At in past")
        if when > MAX_DELETE_AT:
            raise BadRequest(f"X-Delete-At too large (at most {MAX_DELETE_AT})")
        return str(when)
    return None


def parse_ranges(header: str | None, length: int) -> list[tuple[int, int]] | None:
    """The satisfiable ranges (start, end exclusive); None to ignore the header.

    Raises RangeNotSatisfiable when the header is valid but no range fits.
    """
    if not header or length == 0:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    ranges: list[tuple[int, int]] = []
    any_valid = False
    for item in spec.split(","):
        first, dash, last = item.strip().partition("-")
        if not dash:
            return None
        first, last = first.strip(), last.strip()
        if (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
            return None
        if first:
            start = int(first)
            if last and int(last) < start:
                return None
            any_valid = True
            if start >= length:
                continue
            end = min(int(last) + 1, length) if last else length
        else:
            any_valid = True
            suffix = int(last)
            if suffix == 0:
                continue
            start, end = max(length - suffix, 0), length
        ranges.append((start, end))
    if not ranges:
        if any_valid:
            raise RangeNotSatisfiable()
        return None
    return ranges[:100]


def _etags(value: str) -> list[str]:
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _when(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def check_conditions(
    headers: Mapping[str, str], etag: str, timestamp: str, *, exists: bool = True
) -> bool:
    """Apply If-* headers for GET/HEAD; False means 304 Not Modified, 412 raises."""
    modified = math.ceil(float(timestamp))
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = _etags(if_match)
        if not exists or ("*" not in tags and etag not in tags):
            raise ConditionFailed()
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        if exists and ("*" in tags or etag in tags):
            return False
    else:
        since = _when(headers.get("if-modified-since"))
        if since is not None and since <= time.time() and modified <= since:
            return False
    unmodified = _when(headers.get("if-unmodified-since"))
    if unmodified is not None and modified > unmodified:
        raise ConditionFailed()
    return True


def listing_format(request: Request) -> str:
    fmt = request.query_params.get("format", "").lower()
    if fmt in ("json", "xml", "plain"):
        return fmt
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"
