"""Full and incremental backups by chunks, and checksum-verified restores.

A backup reads the volume in ``chunk_size`` pieces (written to the store up
to four at a time).  All-zero chunks are
recorded, not stored.  An incremental backup stores only the chunks whose
SHA-256 differs from its parent's manifest and refers to the parent's
copy of the others; so a backup's manifest names, for every chunk, the
backup that holds it.  A restore writes every chunk back, checks each
chunk's digest and finally the digest of the whole volume.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onestack.volume.backups.base import DEFAULT_PLACE, BackupPlace, BackupStore
from onestack.volume.exceptions import InvalidBackup

MANIFEST = "manifest.json"
#: chunks written to the store at once
PARALLEL = 4


@dataclass(frozen=True)
class BackupResult:
    size: int  # bytes of the volume
    checksum: str  # sha256 of the whole volume
    object_count: int  # chunks stored by this backup (not inherited)


def _chunk_name(index: int) -> str:
    return f"chunk-{index:08d}"


class BackupEngine:
    def __init__(self, store: BackupStore, chunk_size: int) -> None:
        self.store = store
        self.chunk_size = chunk_size

    def manifest(self, backup_id: str, place: BackupPlace = DEFAULT_PLACE) -> dict[str, Any]:
        try:
            return dict(json.loads(self.store.get(place, backup_id, MANIFEST)))
        except FileNotFoundError:
            raise InvalidBackup(reason=f"backup {backup_id} has no data in the store") from None

    def backup(
        self,
        backup_id: str,
        source: Path,
        parent_id: str | None,
        place: BackupPlace = DEFAULT_PLACE,
        volume_metadata: dict[str, str] | None = None,
    ) -> BackupResult:
        """Back ``source`` up (an incremental's parent is at the same ``place``), with
        the volume's metadata in the manifest (as Cinder keeps it beside the data); on
        failure the store holds nothing of this backup."""
        parent: dict[str, Any] | None = self.manifest(parent_id, place) if parent_id else None
        chunk_size = int(parent["chunk_size"]) if parent else self.chunk_size
        parent_chunks: list[dict[str, Any]] = parent["chunks"] if parent else []
        whole = hashlib.sha256()
        chunks: list[dict[str, Any]] = []
        stored = 0
        zero = bytes(chunk_size)
        # chunks go to the store a few at a time: an object store's latency per object
        # (replicas, fsyncs) overlaps, and at most PARALLEL compressed chunks wait
        pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="backup")
        pending: list[Future[None]] = []
        try:
            with open(source, "rb") as handle:
                index = 0
                while True:
                    data = handle.read(chunk_size)
                    if not data:
                        break
                    whole.update(data)
                    digest = hashlib.sha256(data).hexdigest()
                    entry: dict[str, Any] = {"sha256": digest, "length": len(data)}
                    old = parent_chunks[index] if index < len(parent_chunks) else None
                    if data == zero[: len(data)]:
                        entry["zero"] = True
                    elif old is not None and old["sha256"] == digest and not old.get("zero"):
                        entry["ref"] = old["ref"]
                    else:
                        if len(pending) >= PARALLEL:
                            pending.pop(0).result()
                        blob = zlib.compress(data, 1)
                        name = _chunk_name(index)
                        pending.append(pool.submit(self.store.put, place, backup_id, name, blob))
                        entry["ref"] = backup_id
                        stored += 1
                    chunks.append(entry)
                    index += 1
            for future in pending:
                future.result()
            size = sum(c["length"] for c in chunks)
            manifest = {
                "version": 1,
                "chunk_size": chunk_size,
                "size": size,
                "sha256": whole.hexdigest(),
                "parent_id": parent_id,
                "volume_metadata": dict(volume_metadata or {}),
                "chunks": chunks,
            }
            self.store.put(place, backup_id, MANIFEST, json.dumps(manifest).encode())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            self.store.delete(place, backup_id)
            raise
        finally:
            pool.shutdown(wait=True)
        return BackupResult(size=size, checksum=whole.hexdigest(), object_count=stored)

    def restore(
        self, backup_id: str, target: Path, place: BackupPlace = DEFAULT_PLACE
    ) -> dict[str, str]:
        """Write the backup into ``target`` (an existing volume at least as large),
        checking the restored bytes' sha256 against the backup's (else InvalidBackup);
        the volume metadata the backup kept."""
        manifest = self.manifest(backup_id, place)
        whole = hashlib.sha256()
        with open(target, "r+b") as handle:
            offset = 0
            for index, entry in enumerate(manifest["chunks"]):
                length = int(entry["length"])
                if entry.get("zero"):
                    data = bytes(length)
                    handle.seek(offset + length)
                else:
                    stored = self.store.get(place, entry["ref"], _chunk_name(index))
                    data = zlib.decompress(stored)
                    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                        raise InvalidBackup(reason=f"chunk {index} of {backup_id} is corrupt")
                    handle.seek(offset)
                    handle.write(data)
                whole.update(data)
                offset += length
            # zeros left from an earlier content must really be zeros
            self._zero_ranges(handle, manifest["chunks"])
            handle.flush()
        digest = whole.hexdigest()
        if digest != manifest["sha256"]:
            raise InvalidBackup(reason=f"restored data of {backup_id} does not match its checksum")
        return {str(k): str(v) for k, v in (manifest.get("volume_metadata") or {}).items()}

    @staticmethod
    def _zero_ranges(handle: Any, chunks: list[dict[str, Any]]) -> None:
        """Punch holes where the backup had zeros (the target may hold old data)."""
        offset = 0
        for entry in chunks:
            length = int(entry["length"])
            if entry.get("zero"):
                try:
                    _punch_hole(handle.fileno(), offset, length)
                except OSError:
                    handle.seek(offset)
                    handle.write(bytes(length))
            offset += length


def _punch_hole(fd: int, offset: int, length: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    falloc_fl_keep_size, falloc_fl_punch_hole = 0x01, 0x02
    result = libc.fallocate(
        fd,
        falloc_fl_keep_size | falloc_fl_punch_hole,
        ctypes.c_longlong(offset),
        ctypes.c_longlong(length),
    )
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, "fallocate punch hole failed")
