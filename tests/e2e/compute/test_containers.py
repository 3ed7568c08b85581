"""Servers are real runc containers: limits, console, power, snapshots,
clean deletion, and surviving onestack restarts and crashes."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.compute.conftest import cleanup_containers
from tests.e2e.compute.helpers import (
    alive,
    cgroup_dir,
    mounted_under,
    onestack_cgroups,
    runc_state,
    wait_for,
)
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.root


def _boot(conn: Any, image_id: str, flavor: str = "42", **attrs: Any) -> Any:
    server = conn.compute.create_server(
        name=f"e2e-{uuid.uuid4().hex[:8]}",
        image_id=image_id,
        flavor_id=flavor,
        networks="none",
        **attrs,
    )
    return conn.compute.wait_for_server(server, interval=0.05, wait=60)


def _wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, interval=0.05, wait=60)


def test_init_runs_under_the_flavor_memory_limit(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    server = _boot(admin, image_id, flavor="84")
    try:
        state = runc_state(cloud.state_dir, server.id)
        assert state is not None and state["status"] == "running"
        pid = state["pid"]
        limit = int((cgroup_dir(pid, "memory") / "memory.limit_in_bytes").read_text())
        assert limit == 192 * 1024 * 1024
        quota = int((cgroup_dir(pid, "cpu") / "cpu.cfs_quota_us").read_text())
        assert quota == 100000
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] in (
            b"/bin/sh",
            b"/sbin/init",
        )
        log = wait_for(lambda: "onestack: ready" in _console(admin, server), 20)
        assert log, _console(admin, server)
        assert "onestack busybox image booted" in _console(admin, server)
        uts = os.readlink(f"/proc/{pid}/ns/uts")
        assert uts != os.readlink("/proc/self/ns/uts")
    finally:
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.05)


def _console(conn: Any, server: Any) -> str:
    return str(conn.compute.get_server_console_output(server)["output"])


def test_keypair_and_config_drive_reach_the_instance(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFyB3lYOhGoAx2FyTEWDuoBZ9vM2FXg9FTLFVkm8fDO e2e"
    name = f"kp-{uuid.uuid4().hex[:6]}"
    admin.compute.create_keypair(name=name, public_key=key)
    server = _boot(admin, image_id, key_name=name, user_data="aGVsbG8K")
    try:
        pid = runc_state(cloud.state_dir, server.id)["pid"]  # type: ignore[index]
        root = Path(f"/proc/{pid}/root")
        assert (root / "root/.ssh/authorized_keys").read_text().strip() == key
        meta = (root / "run/onestack/config/openstack/latest/meta_data.json").read_text()
        assert server.id in meta and name in meta
        user_data = root / "run/onestack/config/openstack/latest/user_data"
        assert user_data.read_bytes() == b"hello\n"
        assert (root / "etc/hostname").read_text().strip() == server.name
    finally:
        admin.compute.delete_server(server)
        admin.compute.delete_keypair(name)
        admin.compute.wait_for_delete(server, interval=0.05)


def test_stop_start_and_pause_act_on_the_process(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    server = _boot(admin, image_id)
    try:
        pid = runc_state(cloud.state_dir, server.id)["pid"]  # type: ignore[index]
        freezer = cgroup_dir(pid, "freezer") / "freezer.state"
        admin.compute.pause_server(server)
        _wait(admin, server, "PAUSED")
        assert freezer.read_text().strip() == "FROZEN"
        admin.compute.unpause_server(server)
        _wait(admin, server, "ACTIVE")
        assert freezer.read_text().strip() == "THAWED"
        admin.compute.stop_server(server)
        _wait(admin, server, "SHUTOFF")
        assert not alive(pid)
        assert runc_state(cloud.state_dir, server.id) is None
        admin.compute.start_server(server)
        _wait(admin, server, "ACTIVE")
        new_pid = runc_state(cloud.state_dir, server.id)["pid"]  # type: ignore[index]
        assert alive(new_pid) and new_pid != pid
        admin.compute.reboot_server(server, "SOFT")
        rebooted = wait_for(
            lambda: (runc_state(cloud.state_dir, server.id) or {}).get("pid") not in (None, new_pid)
        )
        assert rebooted and not alive(new_pid)
        assert _wait(admin, admin.compute.get_server(server.id), "ACTIVE").task_state is None
    finally:
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.05)


def test_snapshot_boots_as_a_new_server(cloud: RunningCloud, admin: Any, image_id: str) -> None:
    server = _boot(admin, image_id)
    copy = None
    try:
        pid = runc_state(cloud.state_dir, server.id)["pid"]  # type: ignore[index]
        marker = f"written-{uuid.uuid4().hex}"
        Path(f"/proc/{pid}/root/root/marker").write_text(marker)
        image = admin.compute.create_server_image(server, name=f"snap-{server.name}", wait=True)
        assert image.status == "active"
        copy = _boot(admin, image.id)
        copy_pid = runc_state(cloud.state_dir, copy.id)["pid"]  # type: ignore[index]
        assert Path(f"/proc/{copy_pid}/root/root/marker").read_text() == marker
        assert wait_for(lambda: "booted" in _console(admin, copy), 20)
    finally:
        for item in (server, copy):
            if item is not None:
                admin.compute.delete_server(item)
                admin.compute.wait_for_delete(item, interval=0.05)


def test_delete_leaves_no_process_mount_cgroup_or_file(
    cloud: RunningCloud, admin: Any, image_id: str
) -> None:
    server = _boot(admin, image_id)
    pid = runc_state(cloud.state_dir, server.id)["pid"]  # type: ignore[index]
    instance_dir = cloud.state_dir / "compute" / "instances" / server.id
    assert instance_dir.is_dir() and onestack_cgroups(server.id)
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, interval=0.05)
    assert not alive(pid)
    assert runc_state(cloud.state_dir, server.id) is None
    assert not instance_dir.exists()
    assert mounted_under(instance_dir) == []
    assert onestack_cgroups(server.id) == []


def test_instances_outlive_onestack_and_a_crash_mid_boot_recovers(
    cloud: RunningCloud, tmp_path: Path
) -> None:
    running = new_cloud(tmp_path, ONESTACK_COMPUTE__DRIVER="container").start()
    try:
        conn = running.connect()
        image_id = conn.image.find_image("onestack-busybox").id
        kept = _boot(conn, image_id)
        pid = runc_state(running.state_dir, kept.id)["pid"]  # type: ignore[index]
        running.stop()
        assert alive(pid), "the instance died with onestack"
        running.start()
        conn = running.connect()
        assert conn.compute.get_server(kept.id).status == "ACTIVE"
        assert runc_state(running.state_dir, kept.id)["pid"] == pid  # type: ignore[index]
        booting = conn.compute.create_server(
            name="crash", image_id=image_id, flavor_id="42", networks="none"
        )
        time.sleep(0.05)
        running.kill()
        running.start()
        conn = running.connect()
        server = conn.compute.get_server(booting.id)
        assert server.status in ("ACTIVE", "ERROR"), server.status
        if server.status == "ERROR":
            assert server.fault and server.fault["message"]
            assert runc_state(running.state_dir, booting.id) is None
        for item in (kept, server):
            conn.compute.delete_server(item)
            conn.compute.wait_for_delete(item, interval=0.05)
        assert not alive(pid)
        leftovers = list((running.state_dir / "compute" / "instances").iterdir())
        assert leftovers == []
    finally:
        running.stop()
        cleanup_containers(running.state_dir)
