"""Compute drivers: ``fake`` (no workloads) and ``container`` (runc).

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
DRIVER_NAMES: tuple[str, ...] = ("fake", "container")


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


def driver_name(settings: ComputeSettings) -> tuple[str, str | None]:
    """The driver to use and, when ``auto`` fell back to fake, why."""
    if settings.driver != "auto":
        return settings.driver, None
    reason = container_unavailable(settings)
    return ("fake", reason) if reason else ("container", None)


def load_driver(settings: ComputeSettings, state_dir: Path, host: str) -> ComputeDriver:
    name, _ = driver_name(settings)
    return driver_class(name)(settings, state_dir / "compute", host)


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
    "instance_stats": "instance statistics (metering)",
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
