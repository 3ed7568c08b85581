"""One contract for every compute driver: fake always, container and qemu as root.

The qemu driver boots the same raw ext4 image as the container driver: bytes
that hold no OS still make a running VM (SeaBIOS finds nothing to boot), as
real Nova's do; every operation acts on the QEMU process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.compute import states
from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import ComputeDriver, InstanceSpec
from onestack.compute.drivers.container import ContainerComputeDriver
from onestack.compute.drivers.fake import FakeComputeDriver
from onestack.compute.drivers.qemu import QemuComputeDriver

INIT = """#!/bin/sh
echo "onestack busybox image booted"
trap 'exit 0' TERM
echo "onestack: ready"
while true; do sleep 1 & wait $!; done
"""


def _image(tmp: Path) -> Path:
    root = tmp / "src"
    for sub in ("bin", "sbin", "etc", "root", "proc", "sys", "dev", "tmp", "run"):
        (root / sub).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "sleep", "echo"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "sbin" / "init").write_text(INIT)
    (root / "sbin" / "init").chmod(0o755)
    image = tmp / "image.raw"
    with open(image, "wb") as handle:
        handle.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(root), str(image)], check=True)
    return image


def _container_ok() -> bool:
    return os.geteuid() == 0 and shutil.which("runc") is not None and Path("/bin/busybox").exists()


def _qemu_ok() -> bool:
    return os.geteuid() == 0 and shutil.which("qemu-system-x86_64") is not None


@pytest.fixture(
    params=[
        "fake",
        pytest.param("container", marks=pytest.mark.root),
        pytest.param("qemu", marks=pytest.mark.root),
    ]
)
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ComputeDriver]:
    settings = ComputeSettings(stop_timeout=2, qemu_accel="tcg")
    if request.param == "fake":
        yield FakeComputeDriver(settings, tmp_path, "host1")
        return
    created: ComputeDriver
    if request.param == "qemu":
        if not _qemu_ok() and not os.environ.get("CI"):
            pytest.skip("the qemu driver needs root and qemu-system-x86")
        created = QemuComputeDriver(settings, tmp_path / "compute", "host1")
    else:
        if not _container_ok() and not os.environ.get("CI"):
            pytest.skip("the container driver needs root, runc and busybox")
        created = ContainerComputeDriver(settings, tmp_path / "compute", "host1")
    yield created
    for instance_id in created.list_instances():
        created.destroy(instance_id)


def _spec(tmp_path: Path) -> InstanceSpec:
    image = (
        _image(tmp_path) if shutil.which("mkfs.ext4") and Path("/bin/busybox").exists() else None
    )
    return InstanceSpec(
        id=str(uuid.uuid4()),
        name="vm",
        hostname="vm",
        project_id="p",
        user_id="u",
        image_id="img",
        image_path=image,
        image_properties={},
        vcpus=1,
        memory_mb=64,
        root_gb=1,
        availability_zone="nova",
        key_name="k",
        key_data="ssh-ed25519 AAAA k",
    )


def test_life_cycle(driver: ComputeDriver, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    driver.spawn(spec)
    assert driver.get_power_state(spec.id) == states.RUNNING
    assert spec.id in driver.list_instances()
    driver.pause(spec.id)
    assert driver.get_power_state(spec.id) == states.PAUSED_POWER
    driver.unpause(spec.id)
    driver.suspend(spec.id)
    assert driver.get_power_state(spec.id) == states.SUSPENDED_POWER
    driver.resume(spec.id)
    driver.power_off(spec.id, 2)
    assert driver.get_power_state(spec.id) == states.SHUTDOWN
    driver.power_on(spec)
    assert driver.get_power_state(spec.id) == states.RUNNING
    driver.reboot(spec, hard=True, timeout=2)
    assert driver.get_power_state(spec.id) == states.RUNNING
    snapshot = tmp_path / "snap.raw"
    driver.snapshot(spec.id, snapshot)
    assert snapshot.stat().st_size > 0
    driver.destroy(spec.id)
    assert driver.get_power_state(spec.id) == states.NOSTATE
    assert spec.id not in driver.list_instances()
    driver.destroy(spec.id)  # idempotent


def test_failed_spawn_leaves_nothing(driver: ComputeDriver, tmp_path: Path) -> None:
    bad = tmp_path / "bad.raw"
    bad.write_bytes(b"not a filesystem" * 100)
    spec = _spec(tmp_path)
    broken = InstanceSpec(**{**spec.__dict__, "image_path": bad, "image_id": "bad"})
    if isinstance(driver, FakeComputeDriver):
        driver.spawn(broken)  # the fake driver never reads image bytes
        assert driver.list_instances() == {broken.id: states.RUNNING}
        return
    if isinstance(driver, QemuComputeDriver):  # any bytes boot; a missing file does not
        gone = InstanceSpec(**{**spec.__dict__, "image_path": tmp_path / "gone", "image_id": "x"})
        with pytest.raises(Exception, match="failed|No such file"):
            driver.spawn(gone)
        assert gone.id not in driver.list_instances()
        assert not (tmp_path / "compute" / "vms" / gone.id).exists()
        return
    with pytest.raises(Exception, match=r"ext4|unpack|failed"):
        driver.spawn(broken)
    assert broken.id not in driver.list_instances()
    assert not (tmp_path / "compute" / "instances" / broken.id).exists()
