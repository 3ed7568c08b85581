"""Compute drivers: ``fake`` (no workloads), ``container`` (runc) and ``qemu`` (VMs).

Each driver lives in ``onestack.compute.drivers.<name>`` (a module or a
package) and exposes its class as ``DRIVER``; ``DRIVER_NAMES`` lists them.
``load_driver`` picks one from the settings; ``auto`` means the container
driver where runc and root are available, the fake driver otherwise.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from dataclasses import fields
from pathlib import Path

from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import Capabilities, ComputeDriver

LOG = logging.getLogger(__name__)

#: every driver onestack ships, by the name the ``driver`` setting uses
DRIVER_NAMES: tuple[str, ...] = ("fake", "container", "qemu")


def driver_class(name: str) -> type[ComputeDriver]:
    """The class of the driver called ``name`` (imported on demand)."""
    if name not in DRIVER_NAMES:
        raise ValueError(f"unknown compute driver {name!r}; one of {', '.join(DRIVER_NAMES)}")
    module = importlib.import_module(f"onestack.compute.drivers.{name}")
    found: type[ComputeDriver] = module.DRIVER
    return found


def container_unavailable(settings: ComputeSettings) -> str | None:
    """Why the container driver cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "onestack is not running as root"
    if shutil.which(settings.runc) is None:
        return f"{settings.runc} is not installed"
    if not Path("/sys/fs/cgroup/memory").is_dir():
        return "the cgroup v1 memory controller is not mounted"
    return None


def qemu_unavailable(settings: ComputeSettings) -> str | None:
    """Why the qemu driver cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "onestack is not running as root"
    if shutil.which(settings.qemu) is None:
        return f"{settings.qemu} is not installed (Debian package qemu-system-x86)"
    if shutil.which("qemu-img") is None:
        return "qemu-img is not installed (Debian package qemu-utils)"
    return None


def driver_name(settings: ComputeSettings) -> tuple[str, str | None]:
    """The driver to use and, when ``auto`` fell back to fake, why."""
    if settings.driver != "auto":
        return settings.driver, None
    reason = container_unavailable(settings)
    return ("fake", reason) if reason else ("container", None)


def vm_host(settings: ComputeSettings) -> tuple[bool, str]:
    """Whether this machine runs a VM host beside the first host, and why (not)."""
    if settings.vm_host == "off":
        return False, "disabled by [compute] vm_host = off"
    first, _ = driver_name(settings)
    if first == "qemu":
        return False, "the first host already runs the qemu driver"
    if first == "fake" and settings.vm_host == "auto":
        return False, "the first host runs the fake driver (no real workloads)"
    reason = qemu_unavailable(settings)
    if reason is None:
        return True, "QEMU is available"
    if settings.vm_host == "on":
        return True, f"enabled by [compute] vm_host = on, but {reason}"
    return False, reason


def load_driver(
    settings: ComputeSettings, state_dir: Path, host: str, name: str | None = None
) -> ComputeDriver:
    """The driver ``name`` (by default the first host's, from the settings)."""
    chosen = name or driver_name(settings)[0]
    return driver_class(chosen)(settings, state_dir / "compute", host)


#: how docs/compute-drivers.md names each capability (every field of Capabilities)
CAPABILITY_LABELS = {
    "pause": "pause / unpause",
    "suspend": "suspend / resume",
    "resize": "resize / confirm / revert",
    "snapshot": "snapshot (createImage)",
    "console_output": "console output (os-getConsoleOutput)",
    "volume_attach": "volume attach / detach",
    "boot_from_volume": "boot from volume",
    "real_workloads": "runs real workloads",
    "tap_vifs": "ports as tap devices (VIF type tap)",
    "interface_attach": "interface hot-plug (os-interface)",
    "remote_consoles": "remote consoles (serial, noVNC)",
    "instance_stats": "instance statistics (metering, server diagnostics)",
    "rescue": "rescue / unrescue",
}


#: what a host without the capability answers (default: the API's 501 before any cast)
_WITHOUT = {
    "boot_from_volume": "no (never scheduled there)",
    "real_workloads": "no",
    "instance_stats": "no (not metered)",
}


def capability_matrix() -> str:
    """The capability table of docs/compute-drivers.md, from each driver's Capabilities
    (operations every driver has are not listed)."""
    names = list(DRIVER_NAMES)
    claims = {name: driver_class(name).capabilities for name in names}
    lines = [
        "| capability | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for field in fields(Capabilities):
        without = _WITHOUT.get(field.name, "no (501)")
        marks = ["yes" if getattr(claims[n], field.name) else without for n in names]
        lines.append(f"| {CAPABILITY_LABELS[field.name]} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
