"""Real containers: onestack with the container driver, as root.

On CI (the ``CI`` environment variable set) these tests never skip; elsewhere
they skip with the reason when not root or runc is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.root


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None
    if os.geteuid() != 0:
        return "needs root (containers)"
    if shutil.which("runc") is None:
        return "needs runc (scripts/install installs it)"
    return None


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    running = new_cloud(
        tmp_path_factory.mktemp("compute-e2e"), ONESTACK_COMPUTE__DRIVER="container"
    ).start()
    try:
        yield running
    finally:
        running.stop()
        cleanup_containers(running.state_dir)


def cleanup_containers(state_dir: Path) -> None:
    """Remove whatever a failed test left: containers, overlay mounts, files."""
    import subprocess

    root = state_dir / "compute" / "runc"
    if root.is_dir():
        out = subprocess.run(
            ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True
        ).stdout
        for container in out.split():
            subprocess.run(
                ["runc", "--root", str(root), "delete", "--force", container], capture_output=True
            )
    instances = state_dir / "compute" / "instances"
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split()[4] for line in handle]
    for mount in mounts:
        if mount.startswith(str(instances)):
            subprocess.run(["umount", "-l", mount], capture_output=True)


@pytest.fixture(scope="package")
def admin(cloud: RunningCloud) -> Any:
    return cloud.connect("admin", "admin")


@pytest.fixture(scope="package")
def image_id(admin: Any) -> str:
    image = admin.image.find_image("onestack-busybox")
    assert image is not None
    return str(image.id)
