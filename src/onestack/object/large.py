"""Object bodies: plain, static large objects (SLO) and dynamic large objects (DLO).

An SLO manifest (``PUT ?multipart-manifest=put``) is a JSON list of
segments ``{"path": "/container/object", "etag", "size_bytes", "range"}``;
each segment is checked (it exists, its ETag and size match) and the manifest
is stored as the object's bytes with ``X-Static-Large-Object: True``.  Its
ETag is the MD5 of the segments' ETags, its size their sum.  A DLO is any
object with ``X-Object-Manifest: <container>/<prefix>``: its body is every
object under the prefix, in listing order.  ``Body.read(start, end)`` streams
any byte range of either, opening segments as it reaches them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import unquote

from onestack.common import jsonbody
from onestack.common.exceptions import BadRequest, Conflict
from onestack.object.acl import Caller
from onestack.object.backend import CorruptObject
from onestack.object.core import ObjectCore
from onestack.object.listings import ts_datetime
from onestack.object.models import ObjectRow
from onestack.object.store import StoredObject, read_range

MAX_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MAX_DEPTH = 10


def is_slo(stored: StoredObject) -> bool:
    return stored.headers.get("x-static-large-object", "").lower() == "true"


@dataclass(frozen=True)
class Piece:
    container: str
    obj: str
    offset: int
    length: int


class Body:
    """A byte range source for GET responses and copies."""

    length: int

    def read(self, start: int, end: int) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        return None


class FileBody(Body):
    def __init__(self, handle: IO[bytes], length: int) -> None:
        self.handle = handle
        self.length = length

    def read(self, start: int, end: int) -> Iterator[bytes]:
        yield from read_range(self.handle, start, end)

    def close(self) -> None:
        self.handle.close()


class SegmentedBody(Body):
    def __init__(self, core: ObjectCore, account: str, pieces: list[Piece]) -> None:
        self.core = core
        self.account = account
        self.pieces = pieces
        self.length = sum(p.length for p in pieces)

    def read(self, start: int, end: int) -> Iterator[bytes]:
        position = 0
        for piece in self.pieces:
            piece_end = position + piece.length
            if piece_end > start and position < end:
                first = max(start, position) - position
                last = min(end, piece_end) - position
                opened = self.core.store.open(self.account, piece.container, piece.obj)
                if opened is None:
                    raise CorruptObject(f"segment {piece.container}/{piece.obj} is missing")
                stored, handle = opened
                with handle:
                    if piece.offset + last > stored.length:
                        raise CorruptObject(f"segment {piece.container}/{piece.obj} is short")
                    yield from read_range(handle, piece.offset + first, piece.offset + last)
            position = piece_end
            if position >= end:
                break


def _split_path(path: str) -> tuple[str, str]:
    path = unquote(path) if "%" in path else path
    container, _, obj = path.lstrip("/").partition("/")
    if not container or not obj:
        raise BadRequest(f"Invalid segment path {path!r}: use /container/object.")
    return container, obj


def _parse_range(value: str, size: int) -> tuple[int, int]:
    """An SLO segment range "a-b", "a-" or "-n" as (offset, length)."""
    first, sep, last = value.partition("-")
    if not sep or (not first and not last):
        raise BadRequest(f"Invalid segment range {value!r}.")
    try:
        if not first:
            length = min(int(last), size)
            return size - length, length
        start = int(first)
        stop = min(int(last), size - 1) if last else size - 1
    except ValueError:
        raise BadRequest(f"Invalid segment range {value!r}.") from None
    if start > stop or start >= size:
        raise BadRequest(f"Unsatisfiable segment range {value!r}.")
    return start, stop - start + 1


def slo_etag_part(etag: str, seg_range: str | None) -> str:
    return f"{etag}:{seg_range};" if seg_range else etag


def parse_manifest_put(
    core: ObjectCore, caller: Caller, account: str, data: bytes
) -> tuple[list[dict[str, Any]], int, str]:
    """Validate an SLO manifest; returns (stored manifest, total size, SLO ETag)."""
    if len(data) > MAX_MANIFEST_SIZE:
        raise BadRequest(f"Manifest larger than {MAX_MANIFEST_SIZE} bytes.")
    try:
        segments = jsonbody.loads(data)
    except jsonbody.MalformedBody:
        raise BadRequest("Manifest must be valid JSON.") from None
    if not isinstance(segments, list) or not segments:
        raise BadRequest("Manifest must be a non-empty JSON list of segments.")
    if len(segments) > MAX_SEGMENTS:
        raise BadRequest(f"Too many segments; max {MAX_SEGMENTS}.")
    problems: list[str] = []
    stored_manifest: list[dict[str, Any]] = []
    digest = hashlib.md5(usedforsecurity=False)
    total = 0
    for index, segment in enumerate(segments):
        if not isinstance(segment, dict) or not isinstance(segment.get("path"), str):
            raise BadRequest(f"Index {index}: segments need a 'path' string.")
        unknown = set(segment) - {"path", "etag", "size_bytes", "range"}
        if unknown:
            raise BadRequest(f"Index {index}: unknown keys {', '.join(sorted(unknown))}.")
        container, obj = _split_path(segment["path"])
        core.container_access(caller, account, container, write=False)
        stored = core.stored(account, container, obj)
        if stored is None:
            problems.append(f"{segment['path']}, 404 Not Found")
            continue
        sub_slo = is_slo(stored)
        etag = (
            stored.headers.get("x-object-sysmeta-slo-etag", stored.etag)
            if sub_slo
            else (stored.etag)
        )
        size = (
            int(stored.headers.get("x-object-sysmeta-slo-size", 0)) if sub_slo else (stored.length)
        )
        want_etag = segment.get("etag")
        if want_etag is not None and str(want_etag).strip('"') != etag:
            problems.append(f"{segment['path']}, Etag Mismatch")
        want_size = segment.get("size_bytes")
        if want_size is not None and (not isinstance(want_size, int) or want_size != size):
            problems.append(f"{segment['path']}, Size Mismatch")
        seg_range = segment.get("range")
        length = size
        if seg_range is not None:
            _, length = _parse_range(str(seg_range), size)
        if length < 1 and len(segments) > 1:
            problems.append(f"{segment['path']}, Too Small; each segment must be at least 1 byte.")
        entry: dict[str, Any] = {
            "name": f"/{container}/{obj}",
            "bytes": size,
            "hash": etag,
            "content_type": stored.content_type,
            "last_modified": ts_datetime(stored.last_changed).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        }
        if seg_range is not None:
            entry["range"] = str(seg_range)
        if sub_slo:
            entry["sub_slo"] = True
        stored_manifest.append(entry)
        digest.update(slo_etag_part(etag, entry.get("range")).encode())
        total += length
    if problems:
        raise BadRequest("Errors:\n" + "\n".join(problems))
    return stored_manifest, total, digest.hexdigest()


def manifest_bytes(core: ObjectCore, account: str, container: str, obj: str) -> bytes:
    opened = core.store.open(account, container, obj)
    if opened is None:
        raise Conflict(f"Manifest {container}/{obj} is missing.")
    stored, handle = opened
    with handle:
        return b"".join(read_range(handle, 0, stored.length))


def slo_pieces(core: ObjectCore, account: str, data: bytes, depth: int = 0) -> list[Piece]:
    if depth > MAX_DEPTH:
        raise Conflict("Too many levels of nested manifests.")
    try:
        entries = json.loads(data)
    except ValueError:
        raise Conflict("The manifest is not valid JSON.") from None
    pieces: list[Piece] = []
    for entry in entries:
        container, obj = _split_path(entry["name"])
        size = int(entry["bytes"])
        offset, length = (0, size)
        if entry.get("range"):
            offset, length = _parse_range(entry["range"], size)
        if entry.get("sub_slo"):
            inner = slo_pieces(
                core, account, manifest_bytes(core, account, container, obj), depth + 1
            )
            pieces.extend(_slice(inner, offset, length))
        else:
            pieces.append(Piece(container, obj, offset, length))
    return pieces


def _slice(pieces: list[Piece], offset: int, length: int) -> list[Piece]:
    result = []
    position = 0
    end = offset + length
    for piece in pieces:
        piece_end = position + piece.length
        if piece_end > offset and position < end:
            first = max(offset, position) - position
            last = min(end, piece_end) - position
            result.append(Piece(piece.container, piece.obj, piece.offset + first, last - first))
        position = piece_end
    return result


def dlo_pieces(
    core: ObjectCore, caller: Caller, account: str, value: str
) -> tuple[list[Piece], str]:
    """The segments of a DLO and its ETag (MD5 of the segments' ETags)."""
    container, _, prefix = unquote(value).partition("/")
    row = core.container_access(caller, account, container, write=False, listing=True)
    pieces: list[Piece] = []
    digest = hashlib.md5(usedforsecurity=False)
    marker = ""
    while True:
        rows = core.listings.list_objects(row.id, prefix=prefix, marker=marker, limit=1000)
        for entry in rows:
            if isinstance(entry, ObjectRow):
                pieces.append(Piece(container, entry.name, 0, entry.size))
                digest.update(entry.etag.encode())
                marker = entry.name
        if len(rows) < 1000:
            break
    return pieces, digest.hexdigest()
