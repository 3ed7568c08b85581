"""Objects on one device directory: the on-disk format and atomic writes.

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
then older files of the same object are removed.  The newest ``.data`` or
``.ts`` decides what the object is; a ``.meta`` newer than the ``.data``
replaces its user metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from onestack.common.files import fsync_path

MAGIC = b"OSOBJ1\x00\x00"
TRAILER = struct.Struct(">I")
TRAILER_SIZE = TRAILER.size + len(MAGIC)
EXTENSIONS = (".data", ".meta", ".ts")

_last_ts = 0.0


def new_timestamp() -> str:
    """A Swift-style timestamp (``1700000000.12345``), increasing within this process."""
    global _last_ts
    now = max(time.time(), _last_ts + 0.00001)
    _last_ts = now
    return format_timestamp(now)


def format_timestamp(value: float) -> str:
    return f"{value:016.5f}"


class CorruptObject(Exception):
    """A ``.data`` file whose trailer cannot be read."""


@dataclass(frozen=True)
class ObjectFiles:
    """What one device holds for one object hash."""

    device: str
    directory: Path
    timestamp: str  # of the newest .data or .ts
    deleted: bool
    data: Path | None
    meta: Path | None

    @property
    def newest(self) -> str:
        """The timestamp of the newest change (a ``.meta`` counts)."""
        if self.meta is not None:
            return max(self.timestamp, self.meta.name[: -len(".meta")])
        return self.timestamp


class DeviceDir:
    """One device: a directory that may be missing (an unmounted or failed disk)."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    @property
    def available(self) -> bool:
        return self.root.is_dir()

    def object_dir(self, part: int, name_hash: str) -> Path:
        return self.root / "objects" / str(part) / name_hash[-3:] / name_hash

    def tmp_dir(self) -> Path:
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            if not self.available:
                raise FileNotFoundError(f"device {self.name} is not available")
            tmp.mkdir(exist_ok=True)
        return tmp

    # -- reading ----------------------------------------------------------------

    def files(self, part: int, name_hash: str) -> ObjectFiles | None:
        return files_in(self.name, self.object_dir(part, name_hash))

    # -- writing ----------------------------------------------------------------

    def open_temp(self) -> tuple[Path, IO[bytes]]:
        path = self.tmp_dir() / uuid.uuid4().hex
        return path, open(path, "wb")

    def put_json(self, part: int, name_hash: str, filename: str, document: dict[str, Any]) -> None:
        """Durably write a small ``.meta``/``.ts`` file into the object's directory."""
        tmp, handle = self.open_temp()
        try:
            with handle:
                handle.write(json.dumps(document).encode())
                handle.flush()
                os.fsync(handle.fileno())
            install(tmp, self.object_dir(part, name_hash), filename)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def files_in(device: str, directory: Path) -> ObjectFiles | None:
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return None
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
    return ObjectFiles(
        device=device,
        directory=directory,
        timestamp=ts,
        deleted=deleted,
        data=None if deleted else directory / f"{ts}.data",
        meta=directory / f"{meta}.meta" if meta and not deleted and meta > ts else None,
    )


def install(tmp: Path, directory: Path, filename: str) -> None:
    """Rename a finished temp file into ``directory`` and make it durable."""
    directory.mkdir(parents=True, exist_ok=True)
    os.rename(tmp, directory / filename)
    fsync_path(directory)
    cleanup(directory)


def cleanup(directory: Path) -> None:
    """Remove files made obsolete by newer ones (older data/ts, old metas)."""
    state = files_in("", directory)
    if state is None:
        return
    keep = {f"{state.timestamp}.{'ts' if state.deleted else 'data'}"}
    if state.meta is not None:
        keep.add(state.meta.name)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        if name not in keep and name.endswith(EXTENSIONS):
            try:
                os.unlink(directory / name)
            except FileNotFoundError:
                pass


class DataWriter:
    """Streams one replica's ``.data`` file; ``commit`` makes it durable and visible."""

    def __init__(self, device: DeviceDir, part: int, name_hash: str) -> None:
        self.device = device
        self.part = part
        self.name_hash = name_hash
        self.tmp, self.handle = device.open_temp()
        self.failed: BaseException | None = None

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
        install(self.tmp, self.device.object_dir(self.part, self.name_hash), f"{timestamp}.data")

    def abort(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        self.tmp.unlink(missing_ok=True)


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


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def quarantine(device_root: Path, directory: Path) -> Path:
    """Move an object's directory aside so that reads and replication skip it."""
    target = device_root / "quarantined" / "objects" / directory.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target = target.with_name(f"{directory.name}-{uuid.uuid4().hex[:8]}")
    shutil.move(str(directory), str(target))
    return target
