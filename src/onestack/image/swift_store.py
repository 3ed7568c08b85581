"""The ``swift`` store: image data in the cloud's own object storage.

As Glance's swift store in single-tenant mode: every image lives in one
container (``image.swift_container``, ``glance`` by default) of the image
service's own account (its service user ``glance`` in the ``service``
project), reached through the Object Storage API with that user's token
(``onestack.common.keystone_client``), so the image gets the object ring's
replicas, repair and fallover.  The location of an image is
``swift+config://onestack/<container>/<image id>``.

An image larger than one segment (``image.swift_chunk_size``) is a dynamic
large object: its segments ``<id>-<attempt>-00001...`` are written first and
a manifest ``<id>`` (``X-Object-Manifest: <container>/<id>-<attempt>-``)
last, so a reader sees the image whole or not at all.  A segment is spooled
to a local file before it is sent (the writer's bytes come in pieces from
another thread).  After ``abort`` (or a failure before ``commit``) the
segments written so far are deleted.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import httpx

from onestack.common.exceptions import NotFound, ServiceUnavailable
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.image.store import ImageStore, StoreWriter

SCHEME = "swift+config://onestack/"
SEND = 1 << 20


class StoreUnavailable(ServiceUnavailable):
    msg_fmt = "The {store} store is unavailable: {reason}"


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(SEND):
            yield chunk


class _ResponseReader(io.RawIOBase):
    """A streamed HTTP body as a readable file (closing it closes the response)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks = response.iter_bytes(SEND)
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self.pending:
            self.pending = next(self.chunks, b"")
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self.response.close()
        super().close()


class _SwiftWriter(StoreWriter):
    def __init__(self, store: SwiftStore, key: str) -> None:
        self.store = store
        self.key = key
        self.prefix = f"{key}-{uuid.uuid4().hex[:8]}-"
        self.segments: list[str] = []
        self.spool_path = store.spool / f"{self.prefix}spool"
        self.spool: BinaryIO | None = open(self.spool_path, "w+b")  # noqa: SIM115 (closed in commit/abort)
        self.spooled = 0

    def write(self, chunk: bytes) -> None:
        assert self.spool is not None, "writer already closed"
        view = memoryview(chunk)
        while view:
            room = self.store.chunk_size - self.spooled
            piece = view[:room]
            self.spool.write(piece)
            self.spooled += len(piece)
            view = view[len(piece) :]
            if self.spooled >= self.store.chunk_size:
                self._flush_segment()

    def _flush_segment(self) -> None:
        assert self.spool is not None
        name = f"{self.prefix}{len(self.segments) + 1:05d}"
        self.spool.flush()
        self.store.put(name, _file_chunks(self.spool_path), self.spooled)
        self.segments.append(name)
        self.spool.seek(0)
        self.spool.truncate()
        self.spooled = 0

    def commit(self) -> str:
        assert self.spool is not None, "writer already closed"
        store = self.store
        if not self.segments:  # one object holds it all
            self.spool.flush()
            store.put(self.key, _file_chunks(self.spool_path), self.spooled)
        else:
            if self.spooled:
                self._flush_segment()
            manifest = f"{store.container}/{self.prefix}"
            store.put(self.key, b"", 0, {"X-Object-Manifest": manifest})
        self._close_spool()
        return f"{SCHEME}{store.container}/{self.key}"

    def _close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        self.spool_path.unlink(missing_ok=True)

    def abort(self) -> None:
        self._close_spool()
        for name in self.segments:
            self.store.delete_object(name)
        self.segments = []


class SwiftStore(ImageStore):
    """Images as objects (or segmented objects) in the image service's account."""

    name = "swift"
    type = "swift"

    def __init__(
        self,
        session: Callable[[], KeystoneSession],
        container: str,
        chunk_size: int,
        spool: Path,
        description: str = "",
    ) -> None:
        self._session_factory = session
        self._session: KeystoneSession | None = None
        self.container = container
        self.chunk_size = chunk_size
        self.spool = spool
        self.spool.mkdir(parents=True, exist_ok=True)
        self.description = description or "The cloud's object storage (Swift)"
        self._container_ready = False

    @property
    def session(self) -> KeystoneSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _path(self, name: str) -> str:
        return f"/{quote(self.container)}/{quote(name)}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        content: object = None,
    ) -> httpx.Response:
        try:
            return self.session.raw("object", method, path, headers=headers, content=content)
        except ServiceError as exc:
            raise StoreUnavailable(store=self.name, reason=exc.message) from None

    def _ensure_container(self) -> None:
        if self._container_ready:
            return
        response = self._call("PUT", f"/{quote(self.container)}")
        if response.status_code not in (201, 202, 204):
            raise StoreUnavailable(
                store=self.name, reason=f"container {self.container}: HTTP {response.status_code}"
            )
        self._container_ready = True

    def put(
        self,
        name: str,
        body: bytes | Iterator[bytes],
        size: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._ensure_container()
        all_headers = {"Content-Length": str(size), **(headers or {})}
        response = self._call("PUT", self._path(name), headers=all_headers, content=body)
        if response.status_code != 201:
            raise StoreUnavailable(
                store=self.name, reason=f"writing {name}: HTTP {response.status_code}"
            )

    def delete_object(self, name: str) -> None:
        response = self._call("DELETE", self._path(name))
        if response.status_code not in (204, 404):
            raise StoreUnavailable(
                store=self.name, reason=f"deleting {name}: HTTP {response.status_code}"
            )

    def _name(self, location: str) -> str:
        prefix = f"{SCHEME}{self.container}/"
        if not location.startswith(prefix):
            raise NotFound(f"Location {location} is not in the {self.name} store.")
        return location[len(prefix) :]

    def writer(self, key: str) -> StoreWriter:
        return _SwiftWriter(self, key)

    def open(self, location: str) -> BinaryIO:
        name = self._name(location)
        try:
            response = self.session.stream("object", self._path(name))
        except ServiceError as exc:
            if exc.status == 404:
                raise NotFound("The image data could not be found in the store.") from None
            raise StoreUnavailable(store=self.name, reason=exc.message) from None
        return io.BufferedReader(_ResponseReader(response), SEND)

    def delete(self, location: str) -> None:
        name = self._name(location)
        head = self._call("HEAD", self._path(name))
        manifest = head.headers.get("X-Object-Manifest") if head.status_code == 200 else None
        self.delete_object(name)
        if manifest:
            container, _, prefix = manifest.partition("/")
            listing = self._call("GET", f"/{quote(container)}?format=json&prefix={quote(prefix)}")
            if listing.status_code == 200:
                for entry in listing.json():
                    self.delete_object(entry["name"])

    def properties(self) -> dict[str, object]:
        return {"container": self.container, "large_object_chunk_size": self.chunk_size}
