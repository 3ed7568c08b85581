"""Whole-cloud snapshots of an all-in-one onestack: save, restore, list, delete.

A snapshot ``NAME`` of the state directory ``S`` is:

- ``S/snapshots/NAME/onestack.db``: the SQLite database, copied with SQLite's
  online backup API (a consistent copy, WAL included);
- ``S/snapshots/NAME/links/`` and ``links.json``: the areas whose files are never
  changed in place (``LINK_AREAS``: image data, object replicas, unpacked and cached
  images, volume backups) as hard links in one flat directory and an index of their trees
  (``links``);
- ``S/snapshots/NAME/files/``: every other file of the state directory that
  describes the cloud (instance disks, the ring, Fernet and credential keys, service
  secrets), cloned (reflink, else a sparse copy);
- ``<volume pool>/.snapshots/NAME/``: the volume and volume-snapshot files, cloned
  inside the pool itself, so that on the XFS (reflink) pool a 1 GiB volume costs
  one ``FICLONE`` and no data;
- ``S/snapshots/NAME/manifest.json``: when, from which version, and how many files
  and bytes went each way.

Not in a snapshot (``SKIPPED``): the process's lock, state and log files, the
settings file and clouds.yaml, the host-wide owner marker, runc's state of running
containers, mount points and overlay work directories, the network agent's files
(the data plane is rebuilt from the database by the network agent when the cloud
starts, and its record of what it made on the host stays current) and writes in
progress.

**Save** works on a stopped cloud and on a running one: it first takes SQLite's
write lock (``BEGIN IMMEDIATE``), so every write of the running cloud waits (up
to its ``busy_timeout``) until the copy is done, then copies the database and
the bytes, then lets go.  The copy is crash-consistent: what was in flight (an
upload not yet recorded, a volume being written by an instance) is what a power
cut would leave, and the agents finish or roll it back at the next start.

**Restore** needs a stopped cloud (``onestack down``): it stops and removes the
instances that run on this host (they are the state being replaced), releases
loop devices still on pool files, puts the database and every file back, and
asks each compute agent (a marker per instance in ``compute/resume-on-start/``)
to bring the instances back to their recorded power state when the cloud starts.
The agent exports their attached volumes again first (the restore released the
old loop devices).  Instances that did not exist at save time have no record any
more and are destroyed by the agent's power-state sync at start, like any orphan.

PostgreSQL and MariaDB databases are refused: their data is outside the state
directory (use the database's own dump and the same ``onestack snapshot`` of
the bytes is not offered, because the two could not be taken consistently).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import logging
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from onestack import __version__
from onestack.config import Settings
from onestack.snapshots.copy import Counts, How, copy_tree, remove_tree_files
from onestack.snapshots.links import INDEX_FILE, LinkStore, prune, read_index, restore_links, wanted

LOG = logging.getLogger(__name__)

SNAPSHOTS_DIR = "snapshots"
POOL_SNAPSHOTS_DIR = ".snapshots"
MANIFEST = "manifest.json"
DB_FILE = "onestack.db"
LOCK_FILE = "onestack.lock"
#: compute agents resume the instances named here at start (onestack.compute.agent)
RESUME_DIR = "compute/resume-on-start"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

#: paths (relative to the state directory; a trailing "/" for a directory; ``*`` within
#: one component) never saved nor replaced by a restore
#: the name of a container instance's overlay work directory (the container driver's)
OVERLAY_WORKDIR = "work"
SKIPPED = (
    "snapshots/",
    "onestack.db",
    "onestack.db-*",
    "onestack.lock",
    "onestack.state.json",
    "onestack.owner",
    "host.state.json",
    "onestack.toml",
    "clouds.yaml",
    "join-token",
    "*.log",
    "volume/pool/",
    "volume/pool.img",
    "volume/fake/",
    "network/",
    "compute/runc/",
    "compute/resume-on-start/",
    "compute/instances/*/rootfs/",
    f"compute/instances/*/{OVERLAY_WORKDIR}/",
    "compute/vms/*/qemu.pid",
    "images/.incoming/",
    "images/staging/",
    "object/devices/*/tmp/",
    "volume/backups/*/*.part",
)
#: directories whose files onestack never changes in place (it writes a new file and
#: renames it): hard links are safe copies of them
LINK_AREAS = (
    "images/",
    "image-cache/",
    "compute/base/",
    "compute/images/",
    "compute/vm-base/",
    "object/devices/*/objects/",
    "volume/backups/",
)


def _patterns(patterns: tuple[str, ...], tail: str = "") -> re.Pattern[str]:
    """One regular expression for glob patterns whose ``*`` stays within one path
    component (the overlay's work directory of an instance is not a directory of
    that name inside the instance's disk); ``tail`` is what may follow."""
    parts = ["[^/]*".join(re.escape(piece) for piece in p.split("*")) for p in patterns]
    return re.compile("(?:" + "|".join(parts) + ")" + tail + r"\Z")


_SKIP = _patterns(SKIPPED)
_LINK = _patterns(LINK_AREAS, tail=".*")


def state_rule(relative: str) -> How:
    """What a snapshot does with a path of the state directory (one regular
    expression per list: a snapshot asks once per file and directory)."""
    if _SKIP.match(relative):
        return How.SKIP
    if _LINK.match(relative):
        return How.LINK
    return How.CLONE


def _pool_rule(relative: str) -> How:
    if relative.startswith((POOL_SNAPSHOTS_DIR + "/", ".reflink-probe")):
        return How.SKIP
    if relative.endswith(".part"):
        return How.SKIP
    return How.CLONE


class SnapshotError(Exception):
    """A snapshot operation that cannot be done, with the reason for the user."""


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    created_at: str
    version: str
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    running: bool = False


@dataclass(frozen=True)
class Outcome:
    """What a save or a restore did."""

    name: str
    seconds: float
    counts: Counts
    running: bool = False
    pool_filesystem: str = "directory"
    instances_removed: int = 0
    instances_to_resume: int = 0
    #: seconds per step, in order
    phases: dict[str, float] = field(default_factory=dict)


class SnapshotManager:
    """Snapshots of the state directory of ``settings`` (an all-in-one cloud)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir
        self.root = self.state_dir / SNAPSHOTS_DIR

    # -- checks ------------------------------------------------------------------

    def _check_database(self) -> Path:
        url = self.settings.database_url
        if not url.startswith("sqlite:///"):
            scheme = url.split("://", 1)[0]
            raise SnapshotError(
                f"whole-cloud snapshots need the embedded SQLite database; this cloud uses "
                f"{scheme}: dump that database with its own tool (pg_dump, mariadb-dump) "
                "while the cloud is down"
            )
        return Path(url[len("sqlite:///") :])

    @staticmethod
    def check_name(name: str) -> str:
        if not NAME_PATTERN.match(name):
            raise SnapshotError(
                f"invalid snapshot name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        return name

    def _dir(self, name: str) -> Path:
        return self.root / self.check_name(name)

    @contextlib.contextmanager
    def _cloud_lock(self) -> Iterator[bool]:
        """Holds the state directory's lock when no cloud runs on it (so none starts
        meanwhile); yields whether a cloud is running."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / LOCK_FILE, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield True
                return
            try:
                yield False
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the volume pool -------------------------------------------------------------

    @contextlib.contextmanager
    def _pool(self) -> Iterator[tuple[Path, str]]:
        """The volume pool's directory, mounted for the operation if the cloud left it
        unmounted; yields (directory, filesystem)."""
        root = self.state_dir / "volume"
        if self.settings.volume.backend == "fake":
            path = root / "fake"  # plain files in a directory
            path.mkdir(parents=True, exist_ok=True)
            yield path, "directory"
            return
        image = root / "pool.img"
        if not image.exists():
            path = root / "pool"
            path.mkdir(parents=True, exist_ok=True)
            yield path, "directory"
            return
        mounted = _mounted_fs(root / "pool")
        if mounted is not None:  # the running cloud's (or an exported volume's) mount
            yield root / "pool", mounted
            return
        from onestack.volume.backends.pool import close_pool, open_pool

        # mounted for this operation only, and unmounted after it
        pool = open_pool(root, "auto", self.settings.volume.pool_size_gb)
        if pool.image is None:
            raise SnapshotError(f"cannot mount the volume pool {image}: {pool.notes}")
        try:
            yield pool.path, pool.filesystem
        finally:
            close_pool(pool)

    # -- list, show, delete -----------------------------------------------------------

    def snapshots(self) -> list[SnapshotInfo]:
        found = []
        if self.root.is_dir():
            for path in sorted(self.root.iterdir()):
                if path.is_dir() and NAME_PATTERN.match(path.name):
                    info = self._read_manifest(path)
                    if info is not None:
                        found.append(info)
        return found

    def _read_manifest(self, path: Path) -> SnapshotInfo | None:
        try:
            data = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        return SnapshotInfo(
            name=path.name,
            created_at=str(data.get("created_at", "")),
            version=str(data.get("version", "")),
            counts=dict(data.get("counts", {})),
            seconds=float(data.get("seconds", 0.0)),
            running=bool(data.get("running", False)),
        )

    def show(self, name: str) -> SnapshotInfo:
        info = self._read_manifest(self._dir(name))
        if info is None:
            raise SnapshotError(f"no snapshot {name!r} in {self.root}")
        return info

    def delete(self, name: str) -> None:
        directory = self._dir(name)
        if not directory.is_dir():
            raise SnapshotError(f"no snapshot {name!r} in {self.root}")
        # the manifest goes first: a half-deleted snapshot is not listed
        (directory / MANIFEST).unlink(missing_ok=True)
        with self._pool() as (pool, _):
            shutil.rmtree(pool / POOL_SNAPSHOTS_DIR / name, ignore_errors=True)
        shutil.rmtree(directory)

    # -- save -------------------------------------------------------------------------

    def save(self, name: str) -> Outcome:
        """Save the cloud as snapshot ``name`` (which must not exist)."""
        db_path = self._check_database()
        final = self._dir(name)
        if final.exists():
            raise SnapshotError(f"snapshot {name!r} exists: delete it first")
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{name}.{uuid.uuid4().hex[:8]}.partial"
        counts = Counts()
        phases: dict[str, float] = {}
        with self._cloud_lock() as running, self._pool() as (pool, filesystem):
            pool_partial = pool / POOL_SNAPSHOTS_DIR / partial.name
            try:
                partial.mkdir()
                paused = time.monotonic()
                with _writes_paused(db_path):
                    with _phase(phases, "database"):
                        _backup_database(db_path, partial / DB_FILE)
                    with _phase(phases, "files"):
                        links = LinkStore(partial / "links", state_rule)
                        files = partial / "files"
                        counts.add(copy_tree(self.state_dir, files, state_rule, links=links))
                        links.write(partial / INDEX_FILE)
                    with _phase(phases, "volumes"):
                        (pool / POOL_SNAPSHOTS_DIR).mkdir(exist_ok=True)
                        counts.add(copy_tree(pool, pool_partial, _pool_rule))
                phases["writes paused"] = time.monotonic() - paused
                seconds = time.monotonic() - started
                manifest = {
                    "name": name,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "version": __version__,
                    "running": running,
                    "pool_filesystem": filesystem,
                    "seconds": round(seconds, 3),
                    "counts": counts.as_dict(),
                    "phases": {k: round(v, 3) for k, v in phases.items()},
                }
                _write_json(partial / MANIFEST, manifest)
                pool_partial.rename(pool / POOL_SNAPSHOTS_DIR / name)
                partial.rename(final)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                shutil.rmtree(pool_partial, ignore_errors=True)
                raise
        return Outcome(name, seconds, counts, running, filesystem, phases=phases)

    # -- restore ----------------------------------------------------------------------

    def restore(self, name: str) -> Outcome:
        """Put the cloud back as snapshot ``name`` saved it (the cloud must be stopped)."""
        db_path = self._check_database()
        source = self._dir(name)
        if self._read_manifest(source) is None:
            raise SnapshotError(f"no snapshot {name!r} in {self.root}")
        started = time.monotonic()
        counts = Counts()
        phases: dict[str, float] = {}
        with self._cloud_lock() as running:
            if running:
                raise SnapshotError(
                    f"onestack is running on {self.state_dir}: stop it with `onestack down "
                    f"--state-dir {self.state_dir}`, restore, then `onestack up` again"
                )
            with _phase(phases, "instances"):
                removed = self._remove_instances()
            with _phase(phases, "volumes"), self._pool() as (pool, filesystem):
                saved_pool = pool / POOL_SNAPSHOTS_DIR / name
                if not saved_pool.is_dir():
                    raise SnapshotError(f"snapshot {name!r} has no volume files in the pool {pool}")
                _release_loop_devices(pool)
                remove_tree_files(pool, _pool_rule)
                counts.add(copy_tree(saved_pool, pool, _pool_rule))
            with _phase(phases, "files"):
                entries = read_index(source / INDEX_FILE)
                prune(self.state_dir, state_rule, wanted(entries))
                counts.unchanged += restore_links(self.state_dir, source / "links", entries, counts)
                counts.add(copy_tree(source / "files", self.state_dir, state_rule))
            with _phase(phases, "database"):
                _restore_database(source / DB_FILE, db_path)
            resumed = self._request_resume()
        return Outcome(
            name,
            time.monotonic() - started,
            counts,
            False,
            filesystem,
            instances_removed=removed,
            instances_to_resume=resumed,
            phases=phases,
        )

    def _remove_instances(self) -> int:
        """Stop and remove every instance of this host (its disk is about to be replaced)."""
        from onestack.compute.conf import ComputeSettings
        from onestack.compute.drivers import load_driver

        compute = self.state_dir / "compute"
        drivers = []
        if (compute / "runc").is_dir() or any((compute / "instances").glob("*")):
            drivers.append("container")
        if any((compute / "vms").glob("*")):
            drivers.append("qemu")
        work: list[Callable[[], None]] = []
        for driver_name in drivers:
            settings = ComputeSettings(driver=driver_name)
            driver = load_driver(settings, self.state_dir, "snapshot-restore", driver_name)
            work += [functools.partial(driver.destroy, i) for i in driver.list_instances()]
        if work:
            # each destroy waits on runc or QEMU and umount: several at once
            with ThreadPoolExecutor(min(8, len(work)), thread_name_prefix="restore") as pool:
                for future in [pool.submit(item) for item in work]:
                    future.result()
        return len(work)

    def _request_resume(self) -> int:
        """A marker per restored instance: its agent brings it back to its recorded
        power state at start (see ``ComputeAgent.resume_restored``)."""
        compute = self.state_dir / "compute"
        markers = self.state_dir / RESUME_DIR
        shutil.rmtree(markers, ignore_errors=True)
        ids = [p.name for area in ("instances", "vms") for p in (compute / area).glob("*")
               if p.is_dir()]  # fmt: skip
        if ids:
            markers.mkdir(parents=True)
            for instance_id in ids:
                (markers / instance_id).touch()
        return len(ids)


@contextlib.contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    began = time.monotonic()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.monotonic() - began


@contextlib.contextmanager
def _writes_paused(db_path: Path) -> Iterator[None]:
    """Hold SQLite's write lock: a running cloud's writes wait until the block ends."""
    if not db_path.exists():
        raise SnapshotError(f"no database at {db_path}: start the cloud once first")
    lock = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        lock.execute("PRAGMA busy_timeout=60000")
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
    finally:
        lock.close()


def _backup_database(db_path: Path, target: Path) -> None:
    """A consistent copy of the database (SQLite's backup API; WAL content included)."""
    source = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _restore_database(saved: Path, db_path: Path) -> None:
    """Replace the database with the saved copy (no process has it open)."""
    temp = db_path.with_name(f".{db_path.name}.restore")
    temp.unlink(missing_ok=True)
    source = sqlite3.connect(saved, isolation_level=None)
    try:
        copy = sqlite3.connect(temp)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            copy.close()
    finally:
        source.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{db_path}{suffix}")
    os.replace(temp, db_path)
    fd = os.open(db_path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _release_loop_devices(pool: Path) -> None:
    """Detach the loop devices still exporting pool files (their instances are gone)."""
    from onestack.volume.backends import loop

    for path in pool.iterdir():
        if path.is_file():
            for device in loop.devices_of(path):
                try:
                    loop.detach(device)
                except OSError as exc:
                    if exc.errno != errno.ENXIO:
                        raise


def _mounted_fs(path: Path) -> str | None:
    """The type of the filesystem mounted at ``path``, or None."""
    target = str(path.absolute())
    with open("/proc/self/mounts") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 3 and parts[1].replace("\\040", " ") == target:
                return parts[2]
    return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    handle: IO[str]
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
