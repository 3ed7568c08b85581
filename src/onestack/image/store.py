"""Where image data lives: a small store interface and the filesystem store.

A store keeps opaque blobs under string *locations* (``file:///...`` for the
filesystem store).  Writing goes through a :class:`StoreWriter`: bytes are
appended to a temporary object and become visible only on ``commit()``; after
``abort()`` (or any failure before ``commit``) nothing is left behind.  The
object-storage service can become a second store by implementing the same
five methods.
"""

from __future__ import annotations

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from onestack.common.exceptions import NotFound
from onestack.common.files import fsync_path

#: the granularity at which written zeros become holes in the filesystem store
SPARSE_BLOCK = 64 * 1024
_ZEROS = bytes(SPARSE_BLOCK)


class StoreWriter(ABC):
    @abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; raises OSError when the store is full."""

    @abstractmethod
    def commit(self) -> str:
        """Make the data durable and visible; returns its location."""

    @abstractmethod
    def abort(self) -> None:
        """Forget everything written (idempotent; safe after commit errors)."""


class ImageStore(ABC):
    """What the image service needs of a store (Glance's glance_store drivers).

    ``name`` is the store's identifier in the API (``file``, ``swift``), ``type``
    its kind, as ``/v2/info/stores/detail`` shows them.
    """

    name: str = ""
    type: str = ""
    description: str = ""

    @abstractmethod
    def writer(self, key: str) -> StoreWriter:
        """A writer for a new blob named ``key`` (an image id)."""

    @abstractmethod
    def open(self, location: str) -> BinaryIO:
        """The blob, opened for reading (NotFound when it is gone)."""

    @abstractmethod
    def delete(self, location: str) -> None:
        """Remove the blob; a missing blob is not an error."""

    def local_path(self, location: str) -> Path | None:
        """A local file with the blob's bytes, when the store keeps one (read-only)."""
        return None

    def adopt(self, key: str, path: Path) -> str:
        """Take over a local file (copied, then removed); returns its location."""
        writer = self.writer(key)
        try:
            with open(path, "rb") as source:
                while chunk := source.read(1 << 22):
                    writer.write(chunk)
            location = writer.commit()
        except BaseException:
            writer.abort()
            raise
        path.unlink(missing_ok=True)
        return location

    def properties(self) -> dict[str, object]:
        """What ``/v2/info/stores/detail`` shows of the store's configuration."""
        return {}


class _FileWriter(StoreWriter):
    def __init__(self, store: FilesystemStore, key: str) -> None:
        self.store = store
        self.key = key
        self.temp = store.incoming / f"{key}.{uuid.uuid4().hex[:8]}.part"
        self.handle: BinaryIO | None = open(self.temp, "xb")  # noqa: SIM115 (closed in commit/abort)

    def write(self, chunk: bytes) -> None:
        assert self.handle is not None, "writer already closed"
        # Blocks of zeros become holes (as `cp --sparse` makes them): raw disk images
        # are mostly zeros, and a hole costs neither a write nor an fsync.  (Slices
        # of bytes compare with memcmp; memoryviews would compare byte by byte.)
        for start in range(0, len(chunk), SPARSE_BLOCK):
            block = chunk[start : start + SPARSE_BLOCK]
            if block == _ZEROS[: len(block)]:
                self.handle.seek(len(block), os.SEEK_CUR)
            else:
                self.handle.write(block)

    def commit(self) -> str:
        assert self.handle is not None, "writer already closed"
        handle, self.handle = self.handle, None
        try:
            handle.truncate()  # the size, when the data ends in a hole
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            handle.close()
        final = self.store.root / self.key
        os.replace(self.temp, final)
        self.store.sync_dir()
        return self.store.location_of(final)

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        self.temp.unlink(missing_ok=True)


class FilesystemStore(ImageStore):
    """Blobs as files in one directory (``<state_dir>/images``), written atomically."""

    type = "file"

    def __init__(self, root: Path, name: str = "file", description: str = "") -> None:
        self.name = name
        self.description = description or "Local filesystem (the state directory)"
        self.root = root
        self.incoming = root / ".incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)

    def location_of(self, path: Path) -> str:
        return "file://" + str(path)

    def sync_dir(self) -> None:
        fsync_path(self.root)

    def writer(self, key: str) -> StoreWriter:
        return _FileWriter(self, key)

    def adopt(self, key: str, path: Path) -> str:
        final = self.root / key
        try:
            os.replace(path, final)
        except OSError:  # another file system: copy through a temporary file
            return super().adopt(key, path)
        self.sync_dir()
        return self.location_of(final)

    def properties(self) -> dict[str, object]:
        return {"datadir": str(self.root), "chunk_size": SPARSE_BLOCK}

    def local_path(self, location: str) -> Path:
        if not location.startswith("file://"):
            raise NotFound(f"Location {location} is not in this store.")
        path = Path(location[len("file://") :])
        # several controllers share one store under their own paths (a shared mount)
        if path.parent.resolve() != self.root.resolve():
            raise NotFound("The image data could not be found in the store.")
        path = self.root / path.name
        if not path.is_file():
            raise NotFound("The image data could not be found in the store.")
        return path

    def open(self, location: str) -> BinaryIO:
        return open(self.local_path(location), "rb")

    def delete(self, location: str) -> None:
        try:
            self.local_path(location).unlink(missing_ok=True)
        except NotFound:
            pass

    def clean_incoming(self) -> int:
        """Remove temporary files left by a crash; returns how many."""
        count = 0
        for path in self.incoming.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)
                count += 1
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        return count


class FanOutWriter(StoreWriter):
    """One stream written to several stores at once (an import into many stores).

    ``commit`` commits every writer and returns the first location; ``locations``
    then holds ``(store name, location)`` of each.  With ``must_succeed`` (Glance's
    ``all_stores_must_succeed``, the default) any failure aborts every writer and
    deletes what was already committed; without it a store that fails is dropped
    (named in ``failed``) as long as another one still succeeds.
    """

    def __init__(self, stores: list[ImageStore], key: str, must_succeed: bool = True) -> None:
        self.stores: list[ImageStore] = []
        self.writers: list[StoreWriter] = []
        self.locations: list[tuple[str, str]] = []
        self.failed: list[str] = []
        self.must_succeed = must_succeed
        for store in stores:
            try:
                self.writers.append(store.writer(key))
                self.stores.append(store)
            except Exception:
                if must_succeed or (store is stores[-1] and not self.writers):
                    self.abort()
                    raise
                self.failed.append(store.name)

    def _drop(self, index: int) -> None:
        """Forget a store that failed (only without ``must_succeed``, never the last)."""
        self.failed.append(self.stores[index].name)
        self.writers.pop(index).abort()
        self.stores.pop(index)

    def write(self, chunk: bytes) -> None:
        for index in range(len(self.writers) - 1, -1, -1):
            try:
                self.writers[index].write(chunk)
            except Exception:
                if self.must_succeed or len(self.writers) == 1:
                    raise
                self._drop(index)

    def commit(self) -> str:
        try:
            index = 0
            while index < len(self.writers):
                try:
                    location = self.writers[index].commit()
                except Exception:
                    if self.must_succeed or len(self.writers) == 1:
                        raise
                    self._drop(index)
                    continue
                self.locations.append((self.stores[index].name, location))
                index += 1
        except BaseException:
            self.abort()
            raise
        return self.locations[0][1]

    def abort(self) -> None:
        for writer in self.writers:
            writer.abort()
        stores = {store.name: store for store in self.stores}
        for name, location in self.locations:
            stores[name].delete(location)
        self.locations = []
