"""What one cloud has on the host, and taking it away: ``down``, ``--purge``, ``doctor``.

A cloud's *trace* on the host is found from its owner record
(``onestack.common.owners``) and its state directory's path, so it is found
the same way whether the state directory still exists or not:

- namespaces and host links: the network registry in the owner record;
- processes: every process inside one of those namespaces (dnsmasq, router
  advertisement daemons, QEMU, containers), every process in the
  ``onestack-<id>`` cgroup of one of its instances (known from its instance
  namespaces, and from its instance directories while they exist), and QEMU
  or a DHCP or RA daemon whose command line names the state directory;
- mounts: every mount point inside the state directory (the volume pool,
  containers' overlays and volume roots);
- loop devices: every loop device whose backing file is inside it;
- cgroups: the ``onestack-*`` cgroups of those processes (runc's and QEMU's,
  named after the instance), read before the processes are ended;
- the short links to its VMs' socket directories (``/run/onestack-vms``).

iptables chains live inside the cloud's namespaces and go with them.
``remove`` ends the processes (TERM, then KILL), removes the cgroups and
namespaces and links, unmounts and releases the loop devices; it never
touches anything that is not in the trace, and it is never called for a cloud
whose process runs (``Owner.alive``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from onestack.common import owners
from onestack.common.owners import Owner
from onestack.compute.drivers.qemu.layout import SHORT_LINKS
from onestack.network.drivers.linux import commands, names
from onestack.network.drivers.linux.registry import registry_dir

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: daemons onestack starts whose command line names the state directory
DAEMONS = ("dnsmasq", "udhcpd", "busybox", "radvd")
INSTANCE_PATH = re.compile(r"/compute/(?:instances|vms)/([0-9a-f-]{36})(?:/|$)")


@dataclass(frozen=True)
class Process:
    pid: int
    name: str
    #: the instance it runs (a container's or QEMU's id), '' for a daemon
    instance: str = ""


@dataclass
class Trace:
    """Everything of one cloud on the host now."""

    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    cgroups: list[Path] = field(default_factory=list)
    #: files outside the state directory (the short links to VMs' socket directories)
    links_to_state: list[Path] = field(default_factory=list)

    @property
    def instances(self) -> list[str]:
        return sorted({p.instance for p in self.processes if p.instance})

    def empty(self) -> bool:
        return not (
            self.namespaces or self.links or self.processes or self.mounts or self.loops
            or self.cgroups or self.links_to_state
        )  # fmt: skip

    def summary(self) -> str:
        parts = []
        for label, items in (
            ("namespace", self.namespaces), ("host link", self.links),
            ("process", self.processes), ("mount", self.mounts),
            ("loop device", self.loops), ("cgroup", self.cgroups),
            ("socket link", self.links_to_state),
        ):  # fmt: skip
            if items:
                plural = "es" if label == "process" else "s"
                parts.append(f"{len(items)} {label}{plural if len(items) != 1 else ''}")
        return ", ".join(parts) or "nothing"

    def lines(self) -> list[str]:
        """One line per item, for the operator."""
        out = [f"namespace {n}" for n in self.namespaces]
        out += [f"host link {n}" for n in self.links]
        for p in self.processes:
            what = f" (instance {p.instance})" if p.instance else ""
            out.append(f"process {p.pid} {p.name}{what}")
        out += [f"mount {m}" for m in self.mounts]
        out += [f"loop device {d}" for d in self.loops]
        out += [f"cgroup {c}" for c in self.cgroups]
        out += [f"socket link {p}" for p in self.links_to_state]
        return out


def _inside(path: str, state_dir: str) -> bool:
    return path == state_dir or path.startswith(state_dir.rstrip("/") + "/")


def _mounts(state_dir: str) -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if _inside(point, state_dir):
                found.append(point)
    # deepest first, so that a mount inside another is unmounted before it
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def _loops(state_dir: str) -> list[str]:
    found = []
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            target = backing.read_text().strip().removesuffix(" (deleted)")
        except OSError:
            continue
        if _inside(target, state_dir):
            found.append(f"/dev/{backing.parent.parent.name}")
    return sorted(found)


def _links_to(state_dir: str) -> list[Path]:
    if not SHORT_LINKS.is_dir():
        return []
    found = []
    for link in SHORT_LINKS.iterdir():
        try:
            if link.is_symlink() and _inside(os.readlink(link), state_dir):
                found.append(link)
        except OSError:
            continue
    return sorted(found)


def _read(path: str) -> str:
    try:
        return Path(path).read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cgroup_instance(pid: int) -> str:
    """The instance id in the name of the process's ``onestack-*`` cgroup ('' if none)."""
    for line in _read(f"/proc/{pid}/cgroup").splitlines():
        leaf = line.rsplit("/", 1)[-1]
        if leaf.startswith("onestack-"):
            return leaf.removeprefix("onestack-").removeprefix("vm-")
    return ""


def _known_instances(state_dir: str, namespaces: list[str]) -> set[str]:
    """Ids of the cloud's instances: its instance namespaces and, while the state
    directory exists, its instance directories."""
    known = {names.record_id(n) for n in namespaces if n.startswith(names.VM_NS)}
    for kind in ("instances", "vms"):
        directory = Path(state_dir) / "compute" / kind
        if directory.is_dir():
            known |= {entry.name for entry in directory.iterdir()}
    return known


def _processes(state_dir: str, namespaces: list[str], skip: set[int]) -> list[Process]:
    in_namespaces = {pid for ns in namespaces for pid in commands.pids_in(ns)}
    known = _known_instances(state_dir, namespaces)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        pid = int(entry.name)
        name = _read(f"/proc/{pid}/comm").strip()
        cmdline = _read(f"/proc/{pid}/cmdline")
        if not name:
            continue
        instance = _cgroup_instance(pid)
        if instance not in known:
            instance = ""
        match = INSTANCE_PATH.search(cmdline) if name.startswith("qemu") else None
        if match and state_dir.rstrip("/") + "/" in cmdline:
            instance = match.group(1)
        ours = bool(instance) or pid in in_namespaces
        if not ours and state_dir.rstrip("/") + "/" in cmdline:
            ours = name in DAEMONS
        if ours:
            found.append(Process(pid, name, instance))
    return found


def _cgroups(processes: list[Process]) -> list[Path]:
    found: set[Path] = set()
    for process in processes:
        for line in _read(f"/proc/{process.pid}/cgroup").splitlines():
            parts = line.split(":", 2)
            if len(parts) != 3 or not parts[2].rsplit("/", 1)[-1].startswith("onestack-"):
                continue
            for hierarchy in parts[1].split(","):
                mount = CGROUP_ROOT / hierarchy.removeprefix("name=")
                if hierarchy and mount.is_dir() and not mount.is_symlink():
                    found.add(mount / parts[2].lstrip("/"))
    return sorted(found)


def trace(owner: Owner, *, skip: set[int] | None = None) -> Trace:
    """What the cloud of ``owner`` has on the host now."""
    state_dir = str(owner.state_dir)
    owned = owner.names("network")
    namespaces = sorted(owned & commands.namespaces())
    links = sorted(n for n in owned & commands.links() if n.startswith(names.ROOT_DEVICE_PREFIXES))
    processes = _processes(state_dir, namespaces, (skip or set()) | {os.getpid()})
    return Trace(
        namespaces=namespaces,
        links=links,
        processes=processes,
        mounts=_mounts(state_dir),
        loops=_loops(state_dir),
        cgroups=_cgroups(processes),
        links_to_state=_links_to(state_dir),
    )


def owner_of(state_dir: Path) -> Owner:
    """The owner record of ``state_dir`` (made if missing; a registry an older onestack
    kept in the state directory is moved into it)."""
    registry_dir(state_dir)
    found = owners.read(state_dir)
    assert found is not None
    return found


def _end(processes: list[Process], timeout: float = 5.0) -> None:
    for process in processes:
        try:
            os.kill(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    left = list(processes)
    while left and time.monotonic() < deadline:
        left = [p for p in left if _exists(p.pid)]
        time.sleep(0.05)
    for process in left:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while any(_exists(p.pid) for p in left) and time.monotonic() < deadline:
        time.sleep(0.05)


def _exists(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has ended)."""
    stat = _read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


def _rmdir(path: Path) -> None:
    deadline = time.monotonic() + 5
    while path.is_dir():
        for child in sorted(path.iterdir(), reverse=True):
            if child.is_dir():
                _rmdir(child)
        try:
            path.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def remove(found: Trace, runc_root: Path | None = None) -> list[str]:
    """Take everything in ``found`` away; returns what could not be removed."""
    problems = []
    _end(found.processes)
    if runc_root is not None and runc_root.is_dir():  # runc's own record of the containers
        out = subprocess.run(
            ["runc", "--root", str(runc_root), "list", "-q"], capture_output=True, text=True,
            check=False,
        ).stdout  # fmt: skip
        for container in out.split():
            subprocess.run(
                ["runc", "--root", str(runc_root), "delete", "--force", container],
                capture_output=True, check=False,
            )  # fmt: skip
    for cgroup in found.cgroups:
        try:
            _rmdir(cgroup)
        except OSError as exc:
            problems.append(f"cgroup {cgroup}: {exc}")
    for ns in found.namespaces:
        for pid in commands.pids_in(ns):  # started after the trace was taken
            _end([Process(pid, "?")])
        commands.delete_netns(ns)
        if (commands.NETNS_DIR / ns).exists():
            problems.append(f"namespace {ns}: still there")
    for link in found.links:
        commands.ip("link", "del", link, check=False)
    # volumes' loop devices first: their files keep the pool busy.  Never a lazy unmount:
    # the pool mounted again at the next start while a lazily detached one lives on would
    # be the same filesystem mounted twice
    mounted = _mount_sources()
    late = [d for d in found.loops if d in mounted]
    problems += _detach([d for d in found.loops if d not in mounted])
    for mount in found.mounts:
        done = subprocess.run(["umount", mount], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            problems.append(f"mount {mount}: {done.stderr.strip()}")
    problems += _detach(late)  # autoclear released them with their mount, usually
    for short in found.links_to_state:
        short.unlink(missing_ok=True)
    return problems


def _mount_sources() -> set[str]:
    with open("/proc/self/mountinfo") as handle:
        return {line.split(" - ", 1)[1].split()[1] for line in handle if " - " in line}


def _detach(devices: list[str]) -> list[str]:
    problems = []
    for device in devices:
        if Path(f"/sys/block/{Path(device).name}/loop/backing_file").exists():
            done = subprocess.run(["losetup", "-d", device], capture_output=True, text=True)
            if done.returncode != 0:
                problems.append(f"loop device {device}: {done.stderr.strip()}")
    return problems


@dataclass(frozen=True)
class DownReport:
    #: what stays on the host (when instances run and no purge was asked)
    kept: Trace | None
    #: what was removed
    removed: Trace | None
    problems: tuple[str, ...] = ()


def after_stop(state_dir: Path, purge: bool) -> DownReport:
    """After the cloud's process stopped: remove its whole trace when no instance runs
    (or ``purge``); otherwise leave everything (instances outlive the service)."""
    owner = owner_of(state_dir)
    if owner.alive():
        raise RuntimeError(f"onestack (pid {owner.pid}) still runs on {state_dir}")
    found = trace(owner)
    if found.instances and not purge:
        return DownReport(kept=found, removed=None)
    problems = remove(found, state_dir / "compute" / "runc")
    if not problems:
        owners.forget(owner)
    return DownReport(kept=None, removed=found, problems=tuple(problems))


@dataclass(frozen=True)
class HostOwner:
    owner: Owner
    trace: Trace
    #: running, stopped (its state directory exists) or orphaned (it is gone)
    status: str


def host_owners() -> list[HostOwner]:
    """Every onestack on this host with an owner record, and what it has here."""
    found = []
    for owner in owners.all_owners():
        if owner.alive():
            found.append(HostOwner(owner, Trace(), "running"))
            continue
        status = "orphaned" if owner.state_gone() else "stopped"
        found.append(HostOwner(owner, trace(owner), status))
    return found
