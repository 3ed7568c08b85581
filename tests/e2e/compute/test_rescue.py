"""A rescued container boots a fresh root from the rescue image and sees the
instance's own root at /mnt/root, where a repair lasts past unrescue."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.compute.helpers import alive, mounted_under, runc_state
from tests.support.server import RunningCloud

pytestmark = pytest.mark.root


def _wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, interval=0.05, wait=60)


def _root(cloud: RunningCloud, server_id: str) -> tuple[int, Path]:
    pid = int(runc_state(cloud.state_dir, server_id)["pid"])  # type: ignore[index]
    return pid, Path(f"/proc/{pid}/root")


def test_a_rescued_container_repairs_its_original_root(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    server = admin.compute.create_server(
        name=f"e2e-{uuid.uuid4().hex[:8]}", image_id=image_id, flavor_id="42", networks="none"
    )
    server = _wait(admin, server, "ACTIVE")
    try:
        pid, root = _root(cloud, server.id)
        (root / "root/before-rescue").write_text("written before rescue\n")

        admin.compute.rescue_server(server, admin_pass="rescue-Pass1")
        _wait(admin, server, "RESCUE")
        rescue_pid, rescue_root = _root(cloud, server.id)
        assert rescue_pid != pid and not alive(pid)
        assert not (rescue_root / "root/before-rescue").exists()  # a fresh root
        original = rescue_root / "mnt/root"
        assert (original / "root/before-rescue").read_text() == "written before rescue\n"
        (original / "root/repaired").write_text("fixed in rescue\n")
        (rescue_root / "rescue-only").write_text("scratch\n")
        instance_dir = cloud.state_dir / "compute" / "instances" / server.id
        assert str(instance_dir / "rescue" / "rootfs") in mounted_under(instance_dir)

        admin.compute.unrescue_server(server)
        _wait(admin, server, "ACTIVE")
        new_pid, new_root = _root(cloud, server.id)
        assert new_pid != rescue_pid and not alive(rescue_pid)
        assert (new_root / "root/before-rescue").read_text() == "written before rescue\n"
        assert (new_root / "root/repaired").read_text() == "fixed in rescue\n"
        assert not (new_root / "rescue-only").exists()
        assert not (instance_dir / "rescue").exists()
    finally:
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.05)
