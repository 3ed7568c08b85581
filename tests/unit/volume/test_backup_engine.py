"""The chunked backup engine over the directory store (no root, no server)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from onestack.volume.backups.directory import DirectoryBackupStore
from onestack.volume.backups.engine import BackupEngine
from onestack.volume.exceptions import InvalidBackup

CHUNK = 64 * 1024


def _volume(path: Path, size: int = 8 * CHUNK) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
        handle.seek(CHUNK)
        handle.write(os.urandom(CHUNK))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def engine(tmp_path: Path) -> BackupEngine:
    return BackupEngine(DirectoryBackupStore(tmp_path / "store"), CHUNK)


def test_full_backup_skips_zero_chunks_and_restores(engine: BackupEngine, tmp_path: Path) -> None:
    source = _volume(tmp_path / "vol")
    result = engine.backup("b1", source, None)
    assert result.object_count == 1 and result.checksum == _sha(source)
    target = tmp_path / "target"
    target.write_bytes(os.urandom(8 * CHUNK))  # old content must not survive
    assert engine.restore("b1", target) == {}
    assert target.read_bytes() == source.read_bytes()


def test_incremental_stores_only_changed_chunks(engine: BackupEngine, tmp_path: Path) -> None:
    source = _volume(tmp_path / "vol")
    engine.backup("full", source, None)
    with open(source, "r+b") as handle:
        handle.seek(5 * CHUNK)
        handle.write(b"x" * 100)
    result = engine.backup("incr", source, "full")
    assert result.object_count == 1
    manifest = engine.manifest("incr")
    assert manifest["chunks"][1]["ref"] == "full" and manifest["chunks"][5]["ref"] == "incr"
    target = tmp_path / "target"
    target.write_bytes(bytes(8 * CHUNK))
    engine.restore("incr", target)
    assert _sha(target) == _sha(source)


def test_backup_keeps_the_volume_metadata(engine: BackupEngine, tmp_path: Path) -> None:
    source = _volume(tmp_path / "vol")
    engine.backup("b1", source, None, volume_metadata={"k": "v"})
    engine.backup("b2", source, "b1", volume_metadata={"k": "w", "x": "y"})
    target = tmp_path / "target"
    target.write_bytes(bytes(8 * CHUNK))
    assert engine.restore("b1", target) == {"k": "v"}
    assert engine.restore("b2", target) == {"k": "w", "x": "y"}


def test_corrupt_chunk_is_detected(engine: BackupEngine, tmp_path: Path) -> None:
    source = _volume(tmp_path / "vol")
    engine.backup("b1", source, None)
    store = tmp_path / "store" / "b1"
    chunk = next(p for p in store.iterdir() if p.name.startswith("chunk-"))
    import zlib

    chunk.write_bytes(zlib.compress(b"evil" * 100))
    target = tmp_path / "target"
    target.write_bytes(bytes(8 * CHUNK))
    with pytest.raises(InvalidBackup, match="corrupt"):
        engine.restore("b1", target)


def test_failed_backup_leaves_nothing(engine: BackupEngine, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        engine.backup("b2", tmp_path / "missing", None)
    assert not (tmp_path / "store" / "b2").exists()
