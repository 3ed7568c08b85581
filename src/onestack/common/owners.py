"""The host-wide record of owners: which onestack made what on this host.

Every cloud (one state directory) has a record directory under
``/run/onestack/owners/<key>/`` (``key``: a digest of the state directory's
absolute path) holding ``owner.json`` — the state directory, the pid and
start time of the process that runs it, its ``public`` range and its own
cgroups — and the registries of what it made (the network data plane's
namespaces and host links in ``network/``).  The record lives outside the
state directory on purpose: when a state directory is deleted while its
cloud still has namespaces, links, processes or mounts on the host,
``onestack doctor`` finds them through the record.  ``/run`` is a tmpfs, so
the records go with a reboot, as do the things they describe.

A record is *live* while its process runs (pid and start time both match);
a live cloud's record is never acted on by another onestack.  A state
directory holds the marker file ``onestack.owner``: a record whose marker is
gone (the directory deleted, or emptied by ``rm -rf`` but for the mount points
it could not remove) belongs to nobody any more.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: where the records live; ONESTACK_OWNERS_DIR moves them (tests)
DEFAULT_ROOT = Path("/run/onestack/owners")
RECORD = "owner.json"
#: the file in the state directory that says it still holds its cloud (`rm -rf` of a
#: directory with mounts inside leaves the mount points, and so the directory)
MARKER = "onestack.owner"


def owners_root() -> Path:
    return Path(os.environ.get("ONESTACK_OWNERS_DIR") or DEFAULT_ROOT)


def key_of(state_dir: Path) -> str:
    return hashlib.sha256(str(Path(state_dir).absolute()).encode()).hexdigest()[:16]


def record_dir(state_dir: Path, root: Path | None = None) -> Path:
    """The record directory of ``state_dir`` (made, with a minimal owner.json, if missing)."""
    directory = (root or owners_root()) / key_of(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / RECORD).exists():
        _write(directory, {"state_dir": str(Path(state_dir).absolute())})
    marker = Path(state_dir) / MARKER
    if Path(state_dir).is_dir() and not marker.exists():
        marker.write_text(directory.name + "\n")
    return directory


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (None when it does not run,
    or ended and waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its end
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[19])


def own_cgroups(pid: int | str = "self") -> dict[str, str]:
    """The process's cgroup path per v1 controller (``memory`` -> ``/user.slice/...``)."""
    found: dict[str, str] = {}
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, names, path = line.split(":", 2)
        for name in names.split(","):
            if name:
                found[name] = path
    return found


@dataclass(frozen=True)
class Owner:
    directory: Path
    state_dir: Path
    pid: int | None = None
    started: int | None = None
    public_cidr: str | None = None
    cgroups: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.directory.name

    def alive(self) -> bool:
        """Whether the process that wrote the record still runs (the same process)."""
        if self.pid is None or self.started is None:
            return False
        return start_time(self.pid) == self.started

    def state_gone(self) -> bool:
        """Whether its state directory is gone (or emptied but for busy mount points)."""
        return not (self.state_dir / MARKER).exists()

    def orphaned(self) -> bool:
        """Not running, and its state directory is gone: nobody else will clean up."""
        return not self.alive() and self.state_gone()

    def names(self, registry: str) -> set[str]:
        """The names in one of its registries (``network``)."""
        directory = self.directory / registry
        if not directory.is_dir():
            return set()
        return {p.name for p in directory.iterdir()}


def _write(directory: Path, data: dict[str, object]) -> None:
    tmp = directory / f".{RECORD}.{os.getpid()}"
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(directory / RECORD)


def _read(directory: Path) -> Owner | None:
    try:
        data = json.loads((directory / RECORD).read_text())
        state_dir = Path(data["state_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Owner(
        directory=directory,
        state_dir=state_dir,
        pid=data.get("pid"),
        started=data.get("started"),
        public_cidr=data.get("public_cidr"),
        cgroups=dict(data.get("cgroups") or {}),
    )


def claim(state_dir: Path, pid: int | None = None, root: Path | None = None) -> Owner:
    """Record that process ``pid`` (this one) now runs the cloud of ``state_dir``."""
    directory = record_dir(state_dir, root)
    pid = os.getpid() if pid is None else pid
    previous = _read(directory)
    data = {
        "state_dir": str(Path(state_dir).absolute()),
        "pid": pid,
        "started": start_time(pid),
        "public_cidr": previous.public_cidr if previous else None,
        "cgroups": own_cgroups(pid),
    }
    _write(directory, data)
    found = _read(directory)
    assert found is not None
    return found


def set_public_cidr(state_dir: Path, cidr: str | None, root: Path | None = None) -> None:
    directory = record_dir(state_dir, root)
    data = json.loads((directory / RECORD).read_text())
    data["public_cidr"] = cidr
    _write(directory, data)


def read(state_dir: Path, root: Path | None = None) -> Owner | None:
    """The record of ``state_dir`` (None when there is none)."""
    directory = (root or owners_root()) / key_of(state_dir)
    return _read(directory) if directory.is_dir() else None


def all_owners(root: Path | None = None) -> list[Owner]:
    """Every record on this host (a directory without a readable owner.json is skipped)."""
    base = root or owners_root()
    if not base.is_dir():
        return []
    found = []
    for directory in sorted(base.iterdir()):
        owner = _read(directory) if directory.is_dir() and directory.name[0] != "." else None
        if owner is not None:
            found.append(owner)
    return found


@contextlib.contextmanager
def host_lock(root: Path | None = None) -> Iterator[None]:
    """Held while a cloud chooses what must be unique on the host (its ``public``
    range), so that two clouds starting at once do not choose the same."""
    base = root or owners_root()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def forget(owner: Owner) -> None:
    """Remove a record (once nothing it lists is left on the host)."""
    shutil.rmtree(owner.directory, ignore_errors=True)
