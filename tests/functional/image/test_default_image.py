"""The onestack-busybox image that `onestack up` registers on first start."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.support.server import RunningCloud

EXT4_MAGIC_OFFSET = 1080


def _default(conn: Any) -> Any:
    found = [i for i in conn.image.images(name="onestack-busybox")]
    assert len(found) == 1
    return found[0]


def test_default_image_is_registered(admin: Any, demo: Any) -> None:
    image = _default(demo)  # public: every project sees it
    assert image.status == "active"
    assert image.visibility == "public"
    assert image.owner == admin.current_project_id
    assert image.disk_format == "raw" and image.container_format == "bare"
    assert image.os_distro == "busybox" and image.hw_disk_bus == "virtio"
    assert image.properties["onestack_rootfs"] == "ext4"
    assert image.min_disk == 1 and image.min_ram == 16
    assert image.size <= 64 << 20


def test_default_image_is_an_ext4_root_filesystem(
    admin: Any, cloud: RunningCloud, tmp_path: Path
) -> None:
    image = _default(admin)
    target = tmp_path / "rootfs.raw"
    with open(target, "wb") as out:
        admin.image.download_image(image, output=out)
    data = target.read_bytes()
    assert data[EXT4_MAGIC_OFFSET : EXT4_MAGIC_OFFSET + 2] == b"\x53\xef"
    listing = subprocess.run(
        ["debugfs", "-R", "stat /sbin/init", str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "Mode:  0755" in listing and "User:     0" in listing
    init = subprocess.run(
        ["debugfs", "-R", "cat /sbin/init", str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "onestack busybox image booted" in init and "onestack: ready" in init
    assert (cloud.state_dir / "image-cache" / "onestack-busybox.raw").is_file()
