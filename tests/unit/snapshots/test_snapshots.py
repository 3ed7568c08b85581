"""Whole-cloud snapshots without a cloud: the copy rules, the copies, save and restore
of a state directory with a SQLite database (no root needed, except where marked)."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from onestack.compute.agent import RESUME_DIR as AGENT_RESUME_DIR
from onestack.config import load_settings
from onestack.snapshots.copy import Counts, How, clone_file, copy_tree, link_file
from onestack.snapshots.manager import (
    OVERLAY_WORKDIR,
    RESUME_DIR,
    SnapshotError,
    SnapshotManager,
    state_rule,
)


@pytest.mark.parametrize(
    ("path", "how"),
    [
        ("images/0b6e", How.LINK),
        ("object/devices/d0/objects/12/abc/abcdef/1.data", How.LINK),
        ("compute/base/img/bin/busybox", How.LINK),
        ("object/devices/d0/tmp/", How.SKIP),
        ("object/object.ring.json", How.CLONE),
        ("onestack.db", How.SKIP),
        ("onestack.db-wal", How.SKIP),
        ("onestack.lock", How.SKIP),
        ("test-server.log", How.SKIP),
        ("network/", How.SKIP),
        ("volume/pool/", How.SKIP),
        ("volume/pool.img", How.SKIP),
        ("compute/runc/", How.SKIP),
        ("compute/instances/i1/rootfs/", How.SKIP),
        ("compute/instances/i1/upper/root/file", How.CLONE),
        ("compute/vms/v1/disk.qcow2", How.CLONE),
        ("compute/vms/v1/qemu.pid", How.SKIP),
        ("secrets/admin-password", How.CLONE),
        ("fernet-keys/0", How.CLONE),
        ("snapshots/", How.SKIP),
        ("volume/backups/b1/chunk-00001", How.LINK),
        ("volume/backups/b1/.chunk-00002.part", How.SKIP),
        # what an instance wrote is never mistaken for onestack's own files
        (f"compute/instances/i1/upper/home/{OVERLAY_WORKDIR}/", How.CLONE),
        ("compute/instances/i1/upper/srv/rootfs/", How.CLONE),
        ("compute/instances/i1/upper/var/log/app.log", How.CLONE),
        ("compute/instances/i1/console.log", How.CLONE),
    ],
)
def test_what_a_snapshot_does_with_each_path(path: str, how: How) -> None:
    assert state_rule(path) is how


def test_the_resume_markers_are_where_the_compute_agent_looks() -> None:
    assert f"compute/{AGENT_RESUME_DIR}" == RESUME_DIR


def test_a_clone_keeps_bytes_holes_and_mode(tmp_path: Path) -> None:
    source = tmp_path / "sparse"
    with open(source, "wb") as handle:
        handle.write(b"head")
        handle.seek(64 * 1024 * 1024)
        handle.write(b"tail")
    source.chmod(0o640)
    counts = Counts()
    clone_file(source, tmp_path / "copy", counts)
    copy = tmp_path / "copy"
    assert copy.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o640
    assert copy.stat().st_blocks * 512 < 1024 * 1024  # the hole stayed a hole
    assert counts.reflinked + counts.copied == 1 and counts.bytes == source.stat().st_size
    copy.write_bytes(b"changed")  # a clone is independent of its source
    assert source.read_bytes()[:4] == b"head"


def test_a_link_shares_the_inode(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"immutable")
    counts = Counts()
    link_file(tmp_path / "a", tmp_path / "b", counts)
    assert (tmp_path / "a").stat().st_ino == (tmp_path / "b").stat().st_ino
    assert counts.linked == 1


def test_copy_tree_follows_the_rule(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "keep").mkdir(parents=True)
    (source / "skip").mkdir()
    (source / "keep" / "linked").write_bytes(b"L")
    (source / "keep" / "cloned").write_bytes(b"C")
    (source / "skip" / "x").write_bytes(b"X")
    (source / "keep" / "link").symlink_to("linked")

    def rule(relative: str) -> How:
        if relative.startswith("skip"):
            return How.SKIP
        return How.LINK if relative.endswith("linked") else How.CLONE

    counts = copy_tree(source, tmp_path / "dst", rule)
    dst = tmp_path / "dst"
    assert not (dst / "skip").exists()
    assert (dst / "keep" / "linked").stat().st_ino == (source / "keep" / "linked").stat().st_ino
    assert (dst / "keep" / "cloned").read_bytes() == b"C"
    assert os.readlink(dst / "keep" / "link") == "linked"
    assert counts.linked == 1 and counts.reflinked + counts.copied == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, trusted xattrs)")
def test_copy_tree_keeps_overlay_whiteouts_and_opaque_directories(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    os.mknod(upper / "etc" / "deleted", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    os.setxattr(upper / "etc", "trusted.overlay.opaque", b"y")
    copy_tree(upper, tmp_path / "copy", lambda _: How.CLONE)
    whiteout = (tmp_path / "copy" / "etc" / "deleted").lstat()
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    assert os.getxattr(tmp_path / "copy" / "etc", "trusted.overlay.opaque") == b"y"


def _state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    (state / "images").mkdir(parents=True)
    (state / "images" / "img-1").write_bytes(b"image bytes")
    device = state / "object" / "devices" / "d0" / "objects" / "1" / "abc" / "h"
    device.mkdir(parents=True)
    (device / "1.data").write_bytes(b"object bytes")
    (state / "secrets").mkdir()
    (state / "secrets" / "admin-password").write_text("pw")
    base = state / "compute" / "base" / "img"
    (base / "proc").mkdir(parents=True)
    (base / "tmp").mkdir(mode=0o777)
    (base / "tmp").chmod(0o1777)
    (base / "bin").mkdir()
    (base / "bin" / "busybox").write_bytes(b"ELF")
    (base / "bin" / "sh").symlink_to("busybox")
    (state / "volume" / "pool").mkdir(parents=True)
    (state / "volume" / "pool" / "volume-1").write_bytes(b"volume bytes")
    db = sqlite3.connect(state / "onestack.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES ('saved')")
    db.commit()
    db.close()
    return state


def _rows(state: Path) -> list[str]:
    db = sqlite3.connect(state / "onestack.db")
    try:
        return [row[0] for row in db.execute("SELECT v FROM t")]
    finally:
        db.close()


def test_save_and_restore_a_stopped_cloud(tmp_path: Path) -> None:
    state = _state_dir(tmp_path)
    manager = SnapshotManager(load_settings(state_dir=state, user_clouds_yaml=""))
    outcome = manager.save("one")
    assert not outcome.running and outcome.counts.linked == 3  # image, object, busybox
    assert [s.name for s in manager.snapshots()] == ["one"]

    db = sqlite3.connect(state / "onestack.db")
    db.execute("INSERT INTO t VALUES ('later')")
    db.commit()
    db.close()
    (state / "images" / "img-1").unlink()
    (state / "images" / "img-2").write_bytes(b"later image")
    (state / "secrets" / "admin-password").write_text("changed")
    (state / "volume" / "pool" / "volume-1").write_bytes(b"overwritten")
    (state / "volume" / "pool" / "volume-2").write_bytes(b"later volume")

    shutil.rmtree(state / "compute" / "base")  # an unpacked image pruned after the save
    outcome = manager.restore("one")
    assert outcome.counts.unchanged == 1  # the object: still the saved file
    assert _rows(state) == ["saved"]
    base = state / "compute" / "base" / "img"
    assert (base / "proc").is_dir() and not any((base / "proc").iterdir())
    assert stat.S_IMODE((base / "tmp").stat().st_mode) == 0o1777
    assert os.readlink(base / "bin" / "sh") == "busybox"
    assert (base / "bin" / "busybox").read_bytes() == b"ELF"
    assert sorted(p.name for p in (state / "images").iterdir()) == ["img-1"]
    assert (state / "images" / "img-1").read_bytes() == b"image bytes"
    assert (state / "secrets" / "admin-password").read_text() == "pw"
    assert sorted(p.name for p in (state / "volume" / "pool").iterdir()) == [
        ".snapshots",
        "volume-1",
    ]
    assert (state / "volume" / "pool" / "volume-1").read_bytes() == b"volume bytes"

    manager.delete("one")
    assert manager.snapshots() == []
    assert not (state / "volume" / "pool" / ".snapshots" / "one").exists()


def test_restore_refuses_a_running_cloud_and_save_an_existing_name(tmp_path: Path) -> None:
    state = _state_dir(tmp_path)
    manager = SnapshotManager(load_settings(state_dir=state, user_clouds_yaml=""))
    manager.save("one")
    with pytest.raises(SnapshotError, match="exists"):
        manager.save("one")
    with open(state / "onestack.lock", "w") as lock:  # what a running `onestack up` holds
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(SnapshotError, match="onestack down"):
            manager.restore("one")
    with pytest.raises(SnapshotError, match="no snapshot"):
        manager.restore("two")


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b", "x" * 65])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    manager = SnapshotManager(load_settings(state_dir=tmp_path, user_clouds_yaml=""))
    with pytest.raises(SnapshotError, match="invalid snapshot name"):
        manager.save(name)


def test_a_postgresql_cloud_is_refused_with_the_reason(tmp_path: Path) -> None:
    settings = load_settings(
        state_dir=tmp_path, db_url="postgresql://u:p@127.0.0.1/onestack", user_clouds_yaml=""
    )
    with pytest.raises(SnapshotError, match=r"need the embedded SQLite database.*pg_dump"):
        SnapshotManager(settings).save("one")


def test_writes_of_a_running_cloud_wait_while_the_copy_runs(tmp_path: Path) -> None:
    from onestack.snapshots.manager import _writes_paused

    state = _state_dir(tmp_path)
    writer = sqlite3.connect(state / "onestack.db", timeout=0.2, isolation_level=None)
    try:
        with _writes_paused(state / "onestack.db"):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.execute("BEGIN IMMEDIATE")
            assert _rows(state) == ["saved"]  # readers go on
        writer.execute("BEGIN IMMEDIATE")  # and writes go on after
        writer.execute("INSERT INTO t VALUES ('after')")
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert _rows(state) == ["saved", "after"]
