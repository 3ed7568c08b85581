"""Volumes in real containers, through the `openstack` CLI: a volume carries its
bytes from one server to another, shows its new size after an extend, and a
server boots from a volume made from the default image.  Nothing is left
behind: no loop device, mount, device node or cgroup rule.

Root only (runc, loop devices); never skipped on CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.compute.conftest import cleanup_containers
from tests.e2e.compute.helpers import cgroup_dir, runc_state, wait_for
from tests.support.server import RunningCloud, new_cloud

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        not os.environ.get("CI") and (os.geteuid() != 0 or shutil.which("runc") is None),
        reason="needs root and runc (containers, loop devices)",
    ),
]
GiB = 1024**3


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("server-volumes"), ONESTACK_COMPUTE__DRIVER="container"
    ).start()
    try:
        yield running
    finally:
        running.stop()
        cleanup_containers(running.state_dir)
        for device in loop_devices(running.state_dir):
            subprocess.run(["losetup", "-d", device], capture_output=True)


@pytest.fixture(scope="module")
def demo(cloud: RunningCloud) -> Any:
    return cloud.connect("demo", "demo")


def openstack(cloud: RunningCloud, *args: str) -> Any:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack-demo"]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    result = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"openstack {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if "-f" in args and result.stdout.strip() else None


def loop_devices(state_dir: Path) -> list[str]:
    """Loop devices whose backing file lies in the cloud's state directory."""
    out = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    return [line.split(":", 1)[0] for line in out.splitlines() if str(state_dir) in line]


def run_in(cloud: RunningCloud, server_id: str, script: str, check: bool = True) -> str:
    root = cloud.state_dir / "compute" / "runc"
    proc = subprocess.run(
        ["runc", "--root", str(root), "exec", server_id, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, f"{script}: {proc.stderr}{proc.stdout}"
    return proc.stdout.strip()


def wait_volume(demo: Any, volume_id: str, status: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        volume = demo.block_storage.get_volume(volume_id)
        if volume.status == status:
            return volume
        assert time.monotonic() < deadline, f"volume stayed {volume.status}, wanted {status}"
        time.sleep(0.1)


def boot(demo: Any, name: str) -> Any:
    image = demo.image.find_image("onestack-busybox")
    server = demo.compute.create_server(
        name=name, image_id=image.id, flavor_id="42", networks="none"
    )
    return demo.compute.wait_for_server(server, interval=0.1, wait=60)


def device_rules(server_id: str, cloud: RunningCloud) -> str:
    state = runc_state(cloud.state_dir, server_id)
    assert state is not None
    return (cgroup_dir(state["pid"], "devices") / "devices.list").read_text()


def test_a_volume_carries_its_bytes_between_servers_and_grows(
    cloud: RunningCloud, demo: Any
) -> None:
    volume = openstack(cloud, "volume", "create", "--size", "1", "e2e-data", "-f", "json")
    wait_volume(demo, volume["id"], "available")
    first, second = boot(demo, "e2e-vol-one"), boot(demo, "e2e-vol-two")

    attached = openstack(cloud, "server", "add", "volume", first.id, volume["id"], "-f", "json")
    assert attached["Device"] == "/dev/vdb"
    wait_volume(demo, volume["id"], "in-use")
    shown = openstack(cloud, "server", "show", first.id, "-f", "json")
    assert [v["id"] for v in shown["volumes_attached"]] == [volume["id"]]
    [attachment] = openstack(cloud, "volume", "show", volume["id"], "-f", "json")["attachments"]
    assert (attachment["server_id"], attachment["device"]) == (first.id, "/dev/vdb")
    [loop] = loop_devices(cloud.state_dir)
    numbers = f"{os.major(os.stat(loop).st_rdev)}:{os.minor(os.stat(loop).st_rdev)}"
    assert f"b {numbers} rwm" in device_rules(first.id, cloud)
    assert run_in(cloud, first.id, "blockdev --getsize64 /dev/vdb") == str(GiB)
    written = run_in(
        cloud,
        first.id,
        "head -c 1048576 /dev/urandom > /tmp/data && "
        "dd if=/tmp/data of=/dev/vdb bs=1048576 count=1 conv=fsync 2>/dev/null && "
        "sha256sum < /tmp/data",
    )

    openstack(cloud, "server", "remove", "volume", first.id, volume["id"])
    wait_volume(demo, volume["id"], "available")
    assert run_in(cloud, first.id, "test -e /dev/vdb && echo present || echo absent") == "absent"
    assert f"b {numbers} " not in device_rules(first.id, cloud)
    assert loop_devices(cloud.state_dir) == []

    openstack(cloud, "server", "add", "volume", second.id, volume["id"])
    wait_volume(demo, volume["id"], "in-use")
    read = run_in(cloud, second.id, "dd if=/dev/vdb bs=1048576 count=1 2>/dev/null | sha256sum")
    assert read == written

    # extend while detached, attach again: the instance sees 2 GiB
    openstack(cloud, "server", "remove", "volume", second.id, volume["id"])
    wait_volume(demo, volume["id"], "available")
    openstack(cloud, "volume", "set", "--size", "2", volume["id"])
    assert wait_volume(demo, volume["id"], "available").size == 2
    demo.compute.create_volume_attachment(second, volume_id=volume["id"])
    wait_volume(demo, volume["id"], "in-use")
    assert run_in(cloud, second.id, "blockdev --getsize64 /dev/vdb") == str(2 * GiB)
    assert run_in(cloud, second.id, "dd if=/dev/vdb bs=1048576 count=1 | sha256sum") == written
    # a restarted container gets the device from its OCI spec
    demo.compute.stop_server(second)
    demo.compute.wait_for_server(second, status="SHUTOFF", interval=0.1, wait=60)
    demo.compute.start_server(second)
    demo.compute.wait_for_server(second, status="ACTIVE", interval=0.1, wait=60)
    assert run_in(cloud, second.id, "dd if=/dev/vdb bs=1048576 count=1 | sha256sum") == written

    # deleting the server detaches the volume and releases the loop device
    for server in (first, second):
        demo.compute.delete_server(server)
    for server in (first, second):
        demo.compute.wait_for_delete(server, interval=0.1, wait=60)
    wait_volume(demo, volume["id"], "available")
    assert loop_devices(cloud.state_dir) == []
    openstack(cloud, "volume", "delete", volume["id"])


def test_boot_from_a_volume_made_from_the_default_image(cloud: RunningCloud, demo: Any) -> None:
    server = openstack(
        cloud, "server", "create", "--image", "onestack-busybox", "--boot-from-volume", "1",
        "--flavor", "42", "--no-network", "--wait", "e2e-bfv", "-f", "json",
    )  # fmt: skip
    assert server["status"] == "ACTIVE"
    [root_volume] = server["volumes_attached"]
    volume = demo.block_storage.get_volume(root_volume["id"])
    assert volume.status == "in-use" and volume.is_bootable
    console = wait_for(
        lambda: "onestack: ready" in demo.compute.get_server_console_output(server["id"])["output"]
    )
    assert console, demo.compute.get_server_console_output(server["id"])["output"]
    # the root filesystem is the volume's loop device, mounted on the host
    rootfs = cloud.state_dir / "compute" / "instances" / server["id"] / "rootfs"
    [loop] = loop_devices(cloud.state_dir)
    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    assert any(line.split()[4] == str(rootfs) and loop in line for line in mounts)
    # what the instance writes lands on the volume and survives a stop and start
    run_in(cloud, server["id"], "echo kept > /root/on-the-volume && sync")
    openstack(cloud, "server", "stop", server["id"])
    demo.compute.wait_for_server(demo.compute.get_server(server["id"]), status="SHUTOFF", wait=60)
    openstack(cloud, "server", "start", server["id"])
    demo.compute.wait_for_server(demo.compute.get_server(server["id"]), status="ACTIVE", wait=60)
    assert run_in(cloud, server["id"], "cat /root/on-the-volume") == "kept"

    openstack(cloud, "server", "delete", "--wait", server["id"])
    assert wait_volume(demo, volume.id, "available").attachments == []
    assert loop_devices(cloud.state_dir) == []
    assert str(rootfs) not in Path("/proc/self/mountinfo").read_text()
    assert not rootfs.parent.exists()
    assert list(Path("/sys/fs/cgroup/devices").glob(f"**/onestack-{server['id']}")) == []
    openstack(cloud, "volume", "delete", volume.id)


def test_detach_unmounts_a_filesystem_the_instance_still_uses(
    cloud: RunningCloud, demo: Any
) -> None:
    volume = demo.block_storage.create_volume(size=1, name="e2e-mounted")
    wait_volume(demo, volume.id, "available")
    server = boot(demo, "e2e-vol-mounted")
    try:
        demo.compute.create_volume_attachment(server, volume_id=volume.id)
        wait_volume(demo, volume.id, "in-use")
        run_in(cloud, server.id, "mke2fs -q /dev/vdb && mkdir -p /mnt/data")
        # containers lack CAP_SYS_ADMIN: mount from the host in the container's namespace
        pid = str(runc_state(cloud.state_dir, server.id)["pid"])  # type: ignore[index]
        subprocess.run(["nsenter", "-t", pid, "-m", "mount", "/dev/vdb", "/mnt/data"], check=True)
        run_in(cloud, server.id, "echo hello > /mnt/data/file && sync")
        assert "/mnt/data" in Path(f"/proc/{pid}/mountinfo").read_text()

        demo.compute.delete_volume_attachment(server, volume.id)
        wait_volume(demo, volume.id, "available")
        assert "/mnt/data" not in Path(f"/proc/{pid}/mountinfo").read_text()
        assert wait_for(lambda: loop_devices(cloud.state_dir) == [], 10)
    finally:
        demo.compute.delete_server(server)
        demo.compute.wait_for_delete(server, interval=0.1, wait=60)
    wait_volume(demo, volume.id, "available")
    demo.block_storage.delete_volume(volume.id)


def test_attached_volumes_outlive_a_restart_of_onestack(cloud: RunningCloud) -> None:
    demo = cloud.connect("demo", "demo")
    volume = demo.block_storage.create_volume(size=1, name="e2e-restart")
    wait_volume(demo, volume.id, "available")
    server = boot(demo, "e2e-vol-restart")
    demo.compute.create_volume_attachment(server, volume_id=volume.id)
    wait_volume(demo, volume.id, "in-use")
    run_in(cloud, server.id, "echo survives | dd of=/dev/vdb conv=fsync 2>/dev/null")

    cloud.stop()
    assert run_in(cloud, server.id, "head -c 8 /dev/vdb") == "survives"
    cloud.start()

    demo = cloud.connect("demo", "demo")
    assert demo.compute.get_server(server.id).status == "ACTIVE"
    assert [a.volume_id for a in demo.compute.volume_attachments(server)] == [volume.id]
    demo.compute.delete_volume_attachment(server, volume.id)
    wait_volume(demo, volume.id, "available")
    assert run_in(cloud, server.id, "test -e /dev/vdb && echo present || echo absent") == "absent"
    assert loop_devices(cloud.state_dir) == []
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.1, wait=60)
    demo.block_storage.delete_volume(volume.id)
