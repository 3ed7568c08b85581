"""Symlinks (Swift's symlink middleware): objects that point at another object.

A ``PUT`` with ``X-Symlink-Target: <container>/<object>`` (and, across accounts,
``X-Symlink-Target-Account``) and an empty body stores a link: a zero-byte object
whose system metadata names the target (``application/symlink`` unless the request
gives a content type).  With ``X-Symlink-Target-Etag`` the link is static: the
target must exist with that ETag when the link is made (409 otherwise), and its
ETag and size are kept with the link.

``GET``/``HEAD`` of a link follow it (the caller needs access to the target too)
and answer the target with ``Content-Location`` naming it; at most
``SYMLOOP_MAX`` links are followed in a row (409 past that, and for loops); a
static link whose target changed answers 409.  ``?symlink=get`` answers the link
itself with its ``X-Symlink-Target*`` headers.  ``POST`` to a link changes the
link's metadata and answers 307 with the target in ``Location``; ``DELETE``
removes the link, never the target; ``COPY`` copies the target's bytes.
Container listings show ``symlink_path`` (and a static link's
``symlink_etag``/``symlink_bytes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote

from onestack.common.exceptions import BadRequest, Conflict, PreconditionFailed
from onestack.object.store import StoredObject

SYMLOOP_MAX = 2
CONTENT_TYPE = "application/symlink"
SYSMETA = "x-object-sysmeta-symlink-"
TARGET = "x-object-sysmeta-symlink-target"
TARGET_ACCOUNT = "x-object-sysmeta-symlink-target-account"
TARGET_ETAG = "x-object-sysmeta-symlink-target-etag"
TARGET_BYTES = "x-object-sysmeta-symlink-target-bytes"


def requested(headers: Mapping[str, str]) -> bool:
    return "x-symlink-target" in headers


def parse_target(value: str) -> tuple[str, str]:
    """(container, object) of an X-Symlink-Target value; 412 when it is not one."""
    container, _, obj = unquote(value).lstrip("/").partition("/")
    if not container or not obj:
        raise PreconditionFailed(
            "X-Symlink-Target header must be of the form <container name>/<object name>"
        )
    return container, obj


def link_headers(headers: Mapping[str, str], body_length: int | None) -> dict[str, str]:
    """The system metadata a symlink PUT stores (400/412 for a bad request)."""
    if body_length != 0:
        raise BadRequest("Symlink requests require a zero byte body")
    container, obj = parse_target(headers["x-symlink-target"])
    stored = {TARGET: f"{container}/{obj}"}
    account = headers.get("x-symlink-target-account")
    if account is not None:
        account = unquote(account).strip()
        if not account or "/" in account:
            raise PreconditionFailed("Account name cannot contain slashes")
        stored[TARGET_ACCOUNT] = account
    return stored


def target_of(account: str, stored: StoredObject) -> tuple[str, str, str] | None:
    """(account, container, object) a stored link points at; None for other objects."""
    target = stored.headers.get(TARGET)
    if not target:
        return None
    container, _, obj = target.partition("/")
    return stored.headers.get(TARGET_ACCOUNT) or account, container, obj


def path_of(target: tuple[str, str, str]) -> str:
    return quote(f"/v1/{target[0]}/{target[1]}/{target[2]}")


def check_static(stored: StoredObject, target_etag: str) -> None:
    """409 when a static link's target no longer has the ETag the link was made with."""
    expected = stored.headers.get(TARGET_ETAG)
    actual = target_etag.strip('"')
    if expected is not None and expected != actual:
        raise Conflict(
            f"Object Etag {actual!r} does not match X-Symlink-Target-Etag header {expected!r}"
        )


def too_many_hops() -> Conflict:
    return Conflict(f"Too many levels of symbolic links, maximum allowed is {SYMLOOP_MAX}")


def client_headers(account: str, stored: StoredObject) -> dict[str, str]:
    """The ``X-Symlink-Target*`` headers of a link itself (``?symlink=get``)."""
    target = target_of(account, stored)
    if target is None:
        return {}
    headers = {"x-symlink-target": quote(f"{target[1]}/{target[2]}")}
    if TARGET_ACCOUNT in stored.headers:
        headers["x-symlink-target-account"] = quote(target[0])
    if TARGET_ETAG in stored.headers:
        headers["x-symlink-target-etag"] = stored.headers[TARGET_ETAG]
        headers["x-symlink-target-bytes"] = stored.headers.get(TARGET_BYTES, "0")
    return headers
