"""What a GET, HEAD or copy of an object reads: plain bytes, an SLO or a DLO.

``open_read`` resolves the object (access, expiry, manifests) into a
``ReadResult``: the stored metadata, the length and ETag clients see, and a
``Body`` that streams any byte range.  ``copy_object`` writes that body to
another name (``COPY`` and ``X-Copy-From``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from onestack.object import symlinks
from onestack.object.acl import Caller
from onestack.object.core import ObjectCore, is_expired
from onestack.object.exceptions import ObjectNotFound
from onestack.object.large import (
    Body,
    FileBody,
    SegmentedBody,
    dlo_pieces,
    is_slo,
    manifest_bytes,
    slo_pieces,
)
from onestack.object.objects import ObjectOperations
from onestack.object.store import StoredObject
from onestack.object.upload import UploadSpec

#: stored headers a client sees on GET/HEAD
PUBLIC = ("content-encoding", "content-disposition", "x-delete-at", "x-object-manifest")


@dataclass
class ReadResult:
    stored: StoredObject
    length: int
    etag: str
    quoted: bool
    content_type: str
    body: Body | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        if self.body is not None:
            self.body.close()


def public_headers(stored: StoredObject) -> dict[str, str]:
    return {
        k: v for k, v in stored.headers.items() if k.startswith("x-object-meta-") or k in PUBLIC
    }


def open_read(
    core: ObjectCore,
    caller: Caller,
    account: str,
    container: str,
    obj: str,
    *,
    manifest: str | None = None,
    with_body: bool = True,
    symlink: str | None = None,
    hops: int = 0,
) -> ReadResult:
    """What a read of the object gives ``caller``; a symlink is followed (at most
    ``symlinks.SYMLOOP_MAX`` in a row) unless ``symlink`` is "get"."""
    core.container_access(caller, account, container, write=False)
    opened = core.store.open(account, container, obj)
    if opened is None or is_expired(opened[0]):
        if opened is not None:
            opened[1].close()
        raise ObjectNotFound(name=obj)
    stored, handle = opened
    headers = public_headers(stored)
    target = symlinks.target_of(account, stored)
    if target is not None:
        if symlink == "get":
            headers.update(symlinks.client_headers(account, stored))
        else:
            handle.close()
            return _follow(core, caller, stored, target, manifest, with_body, hops)
    try:
        if is_slo(stored):
            headers["x-static-large-object"] = "True"
            data = b"".join(FileBody(handle, stored.length).read(0, stored.length))
            handle.close()
            if manifest in ("get", "raw"):
                if manifest == "raw":
                    data = raw_manifest(data)
                return _manifest_result(stored, data, headers)
            pieces = slo_pieces(core, account, data) if with_body else []
            body = SegmentedBody(core, account, pieces) if with_body else None
            return ReadResult(
                stored,
                int(stored.headers.get("x-object-sysmeta-slo-size", 0)),
                stored.headers.get("x-object-sysmeta-slo-etag", ""),
                True,
                stored.content_type,
                body,
                headers,
            )
        if "x-object-manifest" in stored.headers and manifest != "get":
            handle.close()
            pieces, etag = dlo_pieces(core, caller, account, stored.headers["x-object-manifest"])
            body = SegmentedBody(core, account, pieces)
            return ReadResult(stored, body.length, etag, True, stored.content_type, body, headers)
    except BaseException:
        handle.close()
        raise
    if not with_body:
        handle.close()
    return ReadResult(
        stored,
        stored.length,
        stored.etag,
        False,
        stored.content_type,
        FileBody(handle, stored.length) if with_body else None,
        headers,
    )


def _follow(
    core: ObjectCore,
    caller: Caller,
    link: StoredObject,
    target: tuple[str, str, str],
    manifest: str | None,
    with_body: bool,
    hops: int,
) -> ReadResult:
    if hops >= symlinks.SYMLOOP_MAX:
        raise symlinks.too_many_hops()
    result = open_read(core, caller, *target, manifest=manifest, with_body=with_body, hops=hops + 1)
    try:
        symlinks.check_static(link, result.etag)
    except BaseException:
        result.close()
        raise
    result.headers.setdefault("content-location", symlinks.path_of(target))
    return result


class BytesBody(Body):
    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.length = len(payload)

    def read(self, start: int, end: int) -> Iterator[bytes]:
        yield self.payload[start:end]


def _manifest_result(stored: StoredObject, data: bytes, headers: dict[str, str]) -> ReadResult:
    etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return ReadResult(
        stored, len(data), etag, False, "application/json; charset=utf-8", BytesBody(data), headers
    )


def raw_manifest(data: bytes) -> bytes:
    """A stored SLO manifest in the format a PUT takes (``format=raw``)."""
    entries = json.loads(data)
    return json.dumps(
        [
            {
                "path": e["name"],
                "etag": e["hash"],
                "size_bytes": e["bytes"],
                **({"range": e["range"]} if e.get("range") else {}),
            }
            for e in entries
        ]
    ).encode()


def copy_object(
    objects: ObjectOperations,
    caller: Caller,
    src: tuple[str, str, str],
    dst: tuple[str, str, str],
    *,
    headers: dict[str, str],
    content_type: str | None,
    fresh: bool,
    manifest: str | None,
    symlink: str | None = None,
) -> tuple[StoredObject, StoredObject]:
    """Copy ``src`` (account, container, object) to ``dst``; returns (source, new).
    A symlink is followed (its target copied) unless ``symlink`` is "get"."""
    raw = manifest == "get"
    source = open_read(objects.core, caller, *src, manifest=manifest, symlink=symlink)
    try:
        stored = source.stored
        kept = {} if fresh else public_headers(stored)
        target = symlinks.target_of(src[0], stored) if symlink == "get" else None
        if target is not None:
            # The link itself is copied, still pointing at the same object.
            kept.update({k: v for k, v in stored.headers.items() if k.startswith(symlinks.SYSMETA)})
            if dst[0] != src[0]:
                kept[symlinks.TARGET_ACCOUNT] = target[0]
        kept.pop("x-delete-at", None)
        if not raw:
            kept.pop("x-object-manifest", None)
        spec = UploadSpec(content_type=content_type or stored.content_type)
        if raw and is_slo(stored):
            data = manifest_bytes(objects.core, *src)
            for key in (
                "x-static-large-object",
                "x-object-sysmeta-slo-etag",
                "x-object-sysmeta-slo-size",
            ):
                if key in stored.headers:
                    kept[key] = stored.headers[key]
            spec.listing_size = int(stored.headers.get("x-object-sysmeta-slo-size", 0))
            spec.listing_etag = stored.headers.get("x-object-sysmeta-slo-etag")
            chunks = iter([data])
        else:
            assert source.body is not None
            chunks = source.body.read(0, source.length)
        spec.headers = {**kept, **headers}
        spec.length = None
        return stored, objects.write_object(caller, *dst, spec, chunks)
    finally:
        source.close()
