"""The ``swift`` store: image data in the cloud's own object storage.

As Glance's swift store in single-tenant mode: every image lives in one
container (``image.swift_container``, ``glance`` by default) of the image
service's own account (its service user ``glance`` in the ``service``
project), reached through the Object Storage API with that user's token
(``onestack.common.keystone_client``), so the image gets the object ring's
replicas, repair and fallover.  The location of an image is
``swift+config://onestack/<container>/<image id>``.

An image up to 8 MiB is one object.  A larger one is a dynamic large object:
its segments ``<id>-<attempt>-00001...`` (``image.swift_chunk_size`` each)
are written first, each streamed as the bytes arrive (chunked transfer
encoding, from a thread of its own), and a manifest ``<id>``
(``X-Object-Manifest: <container>/<id>-<attempt>-``) last, so a reader sees
the image whole or not at all.  After ``abort`` (or a failure before
``commit``) the segments written so far are deleted.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote

import httpx

from onestack.common.exceptions import NotFound, ServiceUnavailable
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.image.store import ImageStore, StoreWriter

SCHEME = "swift+config://onestack/"
SEND = 1 << 20
SMALL_OBJECT = 8 << 20
LOG = logging.getLogger(__name__)


class StoreUnavailable(ServiceUnavailable):
    msg_fmt = "The {store} store is unavailable: {reason}"


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


class _SegmentUpload:
    """One object PUT whose body arrives in pieces from the writer's thread (sent
    with chunked transfer encoding by a thread of its own)."""

    def __init__(self, store: SwiftStore, name: str) -> None:
        self.store = store
        self.name = name
        self.pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.status = 0
        self.thread = threading.Thread(target=self._run, name=f"swift {name}", daemon=True)
        self.thread.start()

    def _body(self) -> Iterator[bytes]:
        while (piece := self.pieces.get()) is not None:
            yield piece

    def _run(self) -> None:
        try:
            self.status = self.store.put_stream(self.name, self._body())
        except BaseException as exc:  # handed to the writer's thread in send/finish
            self.error = exc
        finally:  # let a producer blocked on a full queue go on
            while not self.pieces.empty():
                self.pieces.get_nowait()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error
        if self.status and self.status != 201:
            raise StoreUnavailable(
                store=self.store.name, reason=f"writing {self.name}: HTTP {self.status}"
            )

    def send(self, piece: bytes) -> None:
        while True:
            self._raise()
            if not self.thread.is_alive():
                raise StoreUnavailable(store=self.store.name, reason=f"{self.name} ended early")
            try:
                self.pieces.put(piece, timeout=1.0)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        while self.thread.is_alive():
            try:
                self.pieces.put(None, timeout=1.0)
                break
            except queue.Full:
                continue
        self.thread.join()
        self._raise()

    def cancel(self) -> None:
        if self.error is None:
            self.error = StoreUnavailable(store=self.store.name, reason="upload aborted")
        self.finish_quietly()

    def finish_quietly(self) -> None:
        try:
            self.finish()
        except Exception as exc:  # the upload was abandoned anyway
            LOG.debug("abandoned segment %s: %s", self.name, exc)


class _SwiftWriter(StoreWriter):
    """Small images become one object; larger ones stream into segments."""

    def __init__(self, store: SwiftStore, key: str) -> None:
        self.store = store
        self.key = key
        self.prefix = f"{key}-{uuid.uuid4().hex[:8]}-"
        #: the first bytes, kept until they prove to be more than one small object
        self.head = bytearray()
        self.segments: list[str] = []
        self.current: _SegmentUpload | None = None
        self.in_segment = 0
        self.closed = False

    def _next_segment(self) -> _SegmentUpload:
        name = f"{self.prefix}{len(self.segments) + 1:05d}"
        self.segments.append(name)
        self.in_segment = 0
        return _SegmentUpload(self.store, name)

    def _stream(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.current is None:
                self.current = self._next_segment()
            room = self.store.chunk_size - self.in_segment
            piece = bytes(view[:room])
            self.current.send(piece)
            self.in_segment += len(piece)
            view = view[len(piece) :]
            if self.in_segment >= self.store.chunk_size:
                current, self.current = self.current, None
                current.finish()

    def write(self, chunk: bytes) -> None:
        assert not self.closed, "writer already closed"
        if self.segments or len(self.head) + len(chunk) > self.store.small_object:
            if self.head:
                head, self.head = bytes(self.head), bytearray()
                self._stream(head)
            self._stream(chunk)
        else:
            self.head += chunk

    def commit(self) -> str:
        assert not self.closed, "writer already closed"
        store = self.store
        if not self.segments:  # one object holds it all
            store.put(self.key, bytes(self.head), len(self.head))
        else:
            if self.current is not None:
                current, self.current = self.current, None
                current.finish()
            manifest = f"{store.container}/{self.prefix}"
            store.put(self.key, b"", 0, {"X-Object-Manifest": manifest})
        self.closed = True
        self.head = bytearray()
        return f"{SCHEME}{store.container}/{self.key}"

    def abort(self) -> None:
        self.closed = True
        self.head = bytearray()
        if self.current is not None:
            current, self.current = self.current, None
            current.cancel()
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
        description: str = "",
    ) -> None:
        self._session_factory = session
        self._session: KeystoneSession | None = None
        self.container = container
        self.chunk_size = chunk_size
        #: an image up to this size is one object (kept in memory until it is sent)
        self.small_object = min(chunk_size, SMALL_OBJECT)
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

    def put_stream(self, name: str, body: Iterator[bytes]) -> int:
        """PUT an object whose size is not known yet (chunked); the status code."""
        self._ensure_container()
        return self._call("PUT", self._path(name), content=body).status_code

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
            response = self.session.open_stream("object", "GET", self._path(name))
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
