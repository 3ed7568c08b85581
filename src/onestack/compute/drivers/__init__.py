"""Compute drivers: ``fake`` (no workloads), ``container`` (runc) and ``qemu`` (VMs).

``load_driver`` picks one from the settings; ``auto`` means the container
driver where runc and root are available, the fake driver otherwise.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from pathlib import Path

from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import ComputeDriver

LOG = logging.getLogger(__name__)


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


def load_driver(settings: ComputeSettings, state_dir: Path, host: str) -> ComputeDriver:
    name, _ = driver_name(settings)
    module = importlib.import_module(f"onestack.compute.drivers.{name}")
    driver: ComputeDriver = module.DRIVER(settings, state_dir / "compute", host)
    return driver
