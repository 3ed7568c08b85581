"""Running ``ip``, ``iptables`` and friends, in the root or a named namespace.

Commands inside a namespace run through ``nsenter --net=/run/netns/NAME``
(``ip netns exec`` would remount /sys and hide the cgroup hierarchies).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

LOG = logging.getLogger(__name__)

NETNS_DIR = Path("/run/netns")
TOOLS = ("ip", "iptables-restore", "nsenter")


class CommandFailed(RuntimeError):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)} failed ({code}): {stderr.strip()}")
        self.code = code
        self.stderr = stderr


def missing_tools() -> str:
    """What prevents a data plane here ('' when nothing does)."""
    if os.geteuid() != 0:
        return "not running as root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if shutil.which("dnsmasq") is None and shutil.which("busybox") is None:
        missing.append("dnsmasq")
    if missing:
        return "missing " + ", ".join(missing)
    return ""


def run(
    argv: Sequence[str],
    *,
    netns: str | None = None,
    check: bool = True,
    input: str | None = None,
) -> str:
    full = list(argv)
    if netns is not None:
        full = ["nsenter", f"--net={NETNS_DIR / netns}", "--", *full]
    result = subprocess.run(
        full, input=input, capture_output=True, text=True, check=False, timeout=60
    )
    if check and result.returncode != 0:
        raise CommandFailed(full, result.returncode, result.stderr)
    return result.stdout


def spawn(argv: Sequence[str], *, netns: str, log: Path) -> None:
    """Start a daemon (dnsmasq, udhcpd) in ``netns``; it forks and outlives us."""
    full = ["nsenter", f"--net={NETNS_DIR / netns}", "--", *argv]
    with open(log, "ab") as out:
        result = subprocess.run(
            full, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=False, timeout=60,
            start_new_session=True,
        )  # fmt: skip
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        raise CommandFailed(full, result.returncode, tail)


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    return run(["ip", *args], netns=netns, check=check)


def ip_batch(commands: Sequence[str], *, netns: str | None = None) -> None:
    """Several ``ip`` commands in one process (``ip -force -batch -``)."""
    if commands:
        run(["ip", "-force", "-batch", "-"], netns=netns, input="\n".join(commands) + "\n")


def namespaces() -> set[str]:
    if not NETNS_DIR.is_dir():
        return set()
    return {p.name for p in NETNS_DIR.iterdir()}


def is_netns(path: Path) -> bool:
    """True once ``path`` is a mounted namespace, not the bare file `ip netns add` starts with."""
    try:
        return path.stat().st_dev != path.parent.stat().st_dev
    except OSError:
        return False


def ensure_netns(name: str) -> bool:
    """Create the namespace (with ``lo`` up) unless it exists; True if created.

    Safe against another process creating the same namespace at the same time.
    """
    path = NETNS_DIR / name
    for _ in range(200):
        if is_netns(path):
            return False
        if not path.exists():
            try:
                ip("netns", "add", name)
            except CommandFailed:
                if not path.exists():
                    raise
                continue
            ip("link", "set", "lo", "up", netns=name)
            return True
        time.sleep(0.01)
    raise CommandFailed(["ip", "netns", "add", name], 1, "namespace never became ready")


def delete_netns(name: str) -> None:
    if (NETNS_DIR / name).exists():
        ip("netns", "delete", name, check=False)


def links(netns: str | None = None) -> set[str]:
    out = ip("-o", "link", "show", netns=netns, check=False)
    names = set()
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            names.add(parts[1].strip().split("@")[0])
    return names


def sysctl(netns: str, key: str, value: str) -> None:
    path = "/proc/sys/" + key.replace(".", "/")
    run(["sh", "-c", f"echo {value} > {path}"], netns=netns)


def pids_in(netns: str) -> list[int]:
    out = ip("netns", "pids", netns, check=False)
    return [int(p) for p in out.split() if p.isdigit()]
