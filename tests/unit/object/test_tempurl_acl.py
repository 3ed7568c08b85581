"""Temp URL signatures and container ACL matching."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from onestack.common.context import RequestContext
from onestack.object import exceptions, tempurl
from onestack.object.acl import Caller, read_allowed, write_allowed


def sign(key: str, method: str, expires: int, path: str, digest: str = "sha256") -> str:
    body = f"{method}\n{expires}\n{path}".encode()
    return hmac.new(key.encode(), body, getattr(hashlib, digest)).hexdigest()


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_valid_signature(digest: str) -> None:
    expires = int(time.time()) + 60
    sig = sign("k", "GET", expires, "/v1/AUTH_a/c/o", digest)
    query = {"temp_url_sig": sig, "temp_url_expires": str(expires)}
    tempurl.check(query, "GET", "AUTH_a", "c", "o", ["other", "k"])
    tempurl.check(query, "HEAD", "AUTH_a", "c", "o", ["k"])


def test_wrong_key_method_or_expired() -> None:
    expires = int(time.time()) + 60
    sig = sign("k", "GET", expires, "/v1/AUTH_a/c/o")
    query = {"temp_url_sig": sig, "temp_url_expires": str(expires)}
    with pytest.raises(exceptions.TempUrlInvalid):
        tempurl.check(query, "GET", "AUTH_a", "c", "o", ["nope"])
    with pytest.raises(exceptions.TempUrlInvalid):
        tempurl.check(query, "PUT", "AUTH_a", "c", "o", ["k"])
    old = {"temp_url_sig": sign("k", "GET", 1000, "/v1/AUTH_a/c/o"), "temp_url_expires": "1000"}
    with pytest.raises(tempurl.TempUrlExpired):
        tempurl.check(old, "GET", "AUTH_a", "c", "o", ["k"])


def test_prefix_signature() -> None:
    expires = int(time.time()) + 60
    sig = sign("k", "GET", expires, "prefix:/v1/AUTH_a/c/dir/")
    query = {"temp_url_sig": sig, "temp_url_expires": str(expires), "temp_url_prefix": "dir/"}
    tempurl.check(query, "GET", "AUTH_a", "c", "dir/file", ["k"])
    with pytest.raises(exceptions.TempUrlInvalid):
        tempurl.check(query, "GET", "AUTH_a", "c", "other", ["k"])


def test_acl_matching() -> None:
    user = Caller(RequestContext(user_id="u1", project_id="p1", roles=("member",)))
    anonymous = Caller(RequestContext(), referrer="http://web.example/page")
    assert read_allowed("p1:*", user, listing=True)
    assert read_allowed("*:u1", user, listing=False)
    assert not read_allowed("p2:*", user, listing=False)
    assert write_allowed("p1:u1", user)
    assert read_allowed("member", user, listing=False)
    assert read_allowed(".r:*", anonymous, listing=False)
    assert not read_allowed(".r:*", anonymous, listing=True)
    assert read_allowed(".r:*,.rlistings", anonymous, listing=True)
    assert read_allowed(".r:.example", anonymous, listing=False)
    assert not read_allowed(".r:*,.r:-web.example", anonymous, listing=False)
    assert not write_allowed(".r:*", anonymous)


def test_owner_levels() -> None:
    member = Caller(RequestContext(user_id="u", project_id="p", roles=("member",)))
    reader = Caller(RequestContext(user_id="u", project_id="p", roles=("reader",)))
    assert member.owner_level("AUTH_p") == "write"
    assert reader.owner_level("AUTH_p") == "read"
    assert member.owner_level("AUTH_q") is None
