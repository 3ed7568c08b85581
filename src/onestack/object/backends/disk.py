"""The ``disk`` backend: objects on one device directory, Swift's on-disk format.

Layout (Swift's, with JSON instead of xattrs)::

    <device>/objects/<part>/<hash[-3:]>/<hash>/<timestamp>.data   bytes + metadata trailer
    <device>/objects/<part>/<hash[-3:]>/<hash>/<timestamp>.meta   JSON: metadata set by POST
    <device>/objects/<part>/<hash[-3:]>/<hash>/<timestamp>.ts     JSON: tombstone of a DELETE
    <device>/tmp/                                                 writes in progress
    <device>/quarantined/objects/<hash>/                          what the auditor set aside

A ``.data`` file is the object's bytes followed by its metadata as JSON, the
JSON's length (4 bytes, big-endian) and an 8-byte magic; the bytes start at
offset 0.  Every file is written under ``tmp/``, fsynced, renamed into place
and its directory fsynced, so a file either exists complete or not at all;
then older files of the same object are removed.  A device whose directory
is missing (an unmounted or failed disk) is unavailable.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from onestack.common.files import fsync_path
from onestack.object.backend import (
    CorruptObject,
    DeviceCapabilities,
    Document,
    ObjectDevice,
    ReplicaData,
    ReplicaState,
    ReplicaWriter,
)

MAGIC = b"OSOBJ1\x00\x00"
TRAILER = struct.Struct(">I")
TRAILER_SIZE = TRAILER.size + len(MAGIC)
EXTENSIONS = (".data", ".meta", ".ts")
CAPABILITIES = DeviceCapabilities(durable=True)


@dataclass(frozen=True)
class _Newest:
    timestamp: str
    deleted: bool
    meta: str | None


def _newest(names: list[str]) -> _Newest | None:
    """The newest ``.data``/``.ts`` among ``names`` and a ``.meta`` newer than it."""
    best: tuple[str, str] | None = None
    meta: str | None = None
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            continue
        if ext in ("data", "ts") and (best is None or stem > best[0]):
            best = (stem, ext)
        elif ext == "meta" and (meta is None or stem > meta):
            meta = stem
    if best is None:
        return None
    ts, ext = best
    deleted = ext == "ts"
    return _Newest(ts, deleted, meta if meta and not deleted and meta > ts else None)


def _listdir(directory: Path) -> list[str] | None:
    try:
        return os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _prune(object_dir: Path) -> None:
    """Remove the suffix and partition directories above ``object_dir`` once empty."""
    for path in (object_dir.parent, object_dir.parent.parent):
        try:
            path.rmdir()
        except OSError:
            return


def install(tmp: Path, directory: Path, filename: str) -> None:
    """Rename a finished temp file into ``directory`` and make it durable."""
    directory.mkdir(parents=True, exist_ok=True)
    os.rename(tmp, directory / filename)
    fsync_path(directory)
    cleanup(directory)


def cleanup(directory: Path) -> None:
    """Remove files made obsolete by newer ones (older data/ts, old metas)."""
    names = _listdir(directory)
    newest = _newest(names) if names is not None else None
    if names is None or newest is None:
        return
    keep = {f"{newest.timestamp}.{'ts' if newest.deleted else 'data'}"}
    if newest.meta is not None:
        keep.add(f"{newest.meta}.meta")
    for name in names:
        if name not in keep and name.endswith(EXTENSIONS):
            try:
                os.unlink(directory / name)
            except FileNotFoundError:
                pass


def read_trailer(handle: IO[bytes]) -> tuple[dict[str, Any], int]:
    """The metadata of an open ``.data`` file and the length of its bytes."""
    try:
        size = os.fstat(handle.fileno()).st_size
        if size < TRAILER_SIZE:
            raise CorruptObject("file too short")
        handle.seek(size - TRAILER_SIZE)
        tail = handle.read(TRAILER_SIZE)
        if tail[TRAILER.size :] != MAGIC:
            raise CorruptObject("bad magic")
        (length,) = TRAILER.unpack(tail[: TRAILER.size])
        body = size - TRAILER_SIZE - length
        if body < 0:
            raise CorruptObject("bad trailer length")
        handle.seek(body)
        metadata = json.loads(handle.read(length))
        if not isinstance(metadata, dict) or metadata.get("length") != body:
            raise CorruptObject("length does not match")
    except (ValueError, OSError) as exc:
        raise CorruptObject(str(exc)) from None
    handle.seek(0)
    return metadata, body


class _DiskWriter(ReplicaWriter):
    def __init__(self, device: DiskDevice, part: int, name_hash: str) -> None:
        self.device = device
        self.directory = device.object_dir(part, name_hash)
        self.tmp, self.handle = device.open_temp()
        self.failed: OSError | None = None

    def write(self, chunk: bytes) -> None:
        if self.failed is None:
            try:
                self.handle.write(chunk)
            except OSError as exc:
                self.failed = exc

    def commit(self, timestamp: str, metadata: dict[str, Any]) -> None:
        if self.failed is not None:
            raise self.failed
        trailer = json.dumps(metadata).encode()
        self.handle.write(trailer + TRAILER.pack(len(trailer)) + MAGIC)
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        install(self.tmp, self.directory, f"{timestamp}.data")

    def abort(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        self.tmp.unlink(missing_ok=True)


class DiskDevice(ObjectDevice):
    """One device: a directory that may be missing (an unmounted or failed disk)."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    @property
    def capabilities(self) -> DeviceCapabilities:
        return CAPABILITIES

    @property
    def available(self) -> bool:
        return self.root.is_dir()

    def object_dir(self, part: int, name_hash: str) -> Path:
        return self.root / "objects" / str(part) / name_hash[-3:] / name_hash

    def data_file(self, part: int, name_hash: str, timestamp: str) -> Path:
        """Where version ``timestamp`` of an object's bytes is (for operators and tests)."""
        return self.object_dir(part, name_hash) / f"{timestamp}.data"

    def open_temp(self) -> tuple[Path, IO[bytes]]:
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            if not self.available:
                raise FileNotFoundError(f"device {self.name} is not available")
            tmp.mkdir(exist_ok=True)
        path = tmp / uuid.uuid4().hex
        return path, open(path, "wb")

    # -- reading ------------------------------------------------------------------

    def state(self, part: int, name_hash: str) -> ReplicaState | None:
        names = _listdir(self.object_dir(part, name_hash))
        newest = _newest(names) if names is not None else None
        if newest is None:
            return None
        return ReplicaState(self.name, newest.timestamp, newest.deleted, newest.meta)

    def open_data(self, part: int, name_hash: str, timestamp: str) -> ReplicaData:
        handle = open(self.data_file(part, name_hash, timestamp), "rb")  # noqa: SIM115
        try:
            metadata, length = read_trailer(handle)
        except BaseException:
            handle.close()
            raise
        return ReplicaData(metadata, length, handle)

    def read_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str
    ) -> dict[str, Any]:
        path = self.object_dir(part, name_hash) / f"{timestamp}.{kind}"
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def partitions(self) -> list[int]:
        names = _listdir(self.root / "objects") or []
        return sorted(int(n) for n in names if n.isdigit())

    def hashes(self, part: int) -> list[str]:
        part_dir = self.root / "objects" / str(part)
        found: list[str] = []
        for suffix in sorted(_listdir(part_dir) or []):
            found.extend(sorted(_listdir(part_dir / suffix) or []))
        return found

    # -- writing ------------------------------------------------------------------

    def writer(self, part: int, name_hash: str) -> ReplicaWriter:
        return _DiskWriter(self, part, name_hash)

    def put_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str, document: dict[str, Any]
    ) -> None:
        tmp, handle = self.open_temp()
        try:
            with handle:
                handle.write(json.dumps(document).encode())
                handle.flush()
                os.fsync(handle.fileno())
            install(tmp, self.object_dir(part, name_hash), f"{timestamp}.{kind}")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def remove(self, part: int, name_hash: str) -> None:
        directory = self.object_dir(part, name_hash)
        shutil.rmtree(directory, ignore_errors=True)
        _prune(directory)

    def quarantine(self, part: int, name_hash: str) -> None:
        directory = self.object_dir(part, name_hash)
        target = self.root / "quarantined" / "objects" / name_hash
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{name_hash}-{uuid.uuid4().hex[:8]}")
        shutil.move(str(directory), str(target))
        _prune(directory)


class DiskDevices:
    """The disk devices of one ring: device ``name`` is ``<root>/devices/<name>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, name: str) -> DiskDevice:
        return DiskDevice(name, self.root / "devices" / name)
