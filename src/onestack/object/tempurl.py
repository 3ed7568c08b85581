"""Temporary URLs: an HMAC over method, expiry and path with an account or container key.

The signature is ``HMAC(key, "<METHOD>\\n<expires>\\n<path>")`` with SHA1,
SHA256 or SHA512, hex-encoded or as ``<digest>:<base64>``; with
``temp_url_prefix`` the path is ``prefix:/v1/AUTH_x/container/<prefix>``.
Keys are the account's and the container's ``Temp-URL-Key`` and
``Temp-URL-Key-2`` metadata.  An expired URL is a 401 "Temp URL expired", a
wrong one 401 "Temp URL invalid".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from onestack.object.exceptions import TempUrlExpired, TempUrlInvalid

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}


def is_tempurl(query: Mapping[str, str]) -> bool:
    return "temp_url_sig" in query or "temp_url_expires" in query


def parse_expires(value: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise TempUrlInvalid() from None
    return int(parsed.timestamp() - time.timezone)


def _decode_signature(sig: str) -> tuple[str, bytes]:
    if ":" in sig:
        name, _, encoded = sig.partition(":")
        if name not in DIGESTS:
            raise TempUrlInvalid()
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            return name, base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            raise TempUrlInvalid() from None
    hex_name = _HEX_LENGTHS.get(len(sig))
    if hex_name is None:
        raise TempUrlInvalid()
    try:
        return hex_name, bytes.fromhex(sig)
    except ValueError:
        raise TempUrlInvalid() from None


def check(
    query: Mapping[str, str],
    method: str,
    account: str,
    container: str,
    obj: str,
    keys: Iterable[str],
    now: float | None = None,
) -> None:
    """Raise TempUrlInvalid/TempUrlExpired unless the query signs this request."""
    sig = query.get("temp_url_sig")
    expires_raw = query.get("temp_url_expires")
    if not sig or not expires_raw or not container or not obj:
        raise TempUrlInvalid()
    expires = parse_expires(expires_raw)
    if method not in METHODS:
        raise TempUrlInvalid()
    digest_name, signature = _decode_signature(sig)
    prefix = query.get("temp_url_prefix")
    if prefix is not None:
        if not obj.startswith(prefix):
            raise TempUrlInvalid()
        path = f"prefix:/v1/{account}/{container}/{prefix}"
    else:
        path = f"/v1/{account}/{container}/{obj}"
    # A HEAD may use a signature made for GET, PUT or POST (as Swift allows).
    methods = [method] if method != "HEAD" else ["HEAD", "GET", "PUT", "POST"]
    valid = False
    for key in keys:
        for candidate in methods:
            body = f"{candidate}\n{expires_raw}\n{path}".encode()
            expected = hmac.new(key.encode(), body, DIGESTS[digest_name]).digest()
            if hmac.compare_digest(expected, signature):
                valid = True
    if not valid:
        raise TempUrlInvalid()
    if expires < (now if now is not None else time.time()):
        raise TempUrlExpired()


def signature_matches(signed: str, sig: str, keys: Iterable[str]) -> bool:
    """Whether ``sig`` (hex, or ``<digest>:<base64>``) is an HMAC of ``signed`` with a key."""
    try:
        digest_name, signature = _decode_signature(sig)
    except TempUrlInvalid:
        return False
    valid = False
    for key in keys:
        expected = hmac.new(key.encode(), signed.encode(), DIGESTS[digest_name]).digest()
        if hmac.compare_digest(expected, signature):
            valid = True
    return valid
