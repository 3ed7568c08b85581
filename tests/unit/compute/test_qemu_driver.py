"""The qemu driver's own promises beyond the contract suite (as root, with QEMU)."""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import InstanceSpec
from onestack.compute.drivers.qemu import QemuComputeDriver
from onestack.compute.drivers.qemu.layout import command_line
from onestack.compute.drivers.qemu.process import cgroup_dirs
from onestack.compute.states import PowerState

pytestmark = pytest.mark.root


@pytest.fixture()
def driver(tmp_path: Path) -> Iterator[QemuComputeDriver]:
    if not os.environ.get("CI") and (
        os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None
    ):
        pytest.skip("the qemu driver needs root and qemu-system-x86")
    created = QemuComputeDriver(ComputeSettings(qemu_accel="tcg"), tmp_path / "compute", "h")
    try:
        yield created
    finally:
        for instance_id in created.list_instances():
            created.destroy(instance_id)


def _spec(tmp_path: Path, **changes: object) -> InstanceSpec:
    disk = tmp_path / "no-os.raw"
    disk.write_bytes(b"\0" * (1 << 20))
    fields: dict[str, object] = dict(
        id=str(uuid.uuid4()), name="vm", hostname="vm", project_id="p", user_id="u",
        image_id="img", image_path=disk, image_properties={}, vcpus=1, memory_mb=64,
        root_gb=1, availability_zone="nova",
    )  # fmt: skip
    fields.update(changes)
    return InstanceSpec(**fields)  # type: ignore[arg-type]


def test_a_qemu_that_dies_without_a_guest_shutdown_is_crashed_and_cleaned(
    driver: QemuComputeDriver, tmp_path: Path
) -> None:
    spec = _spec(tmp_path)
    driver.spawn(spec)
    files = driver.files(spec.id)
    assert any(d.is_dir() for d in cgroup_dirs(f"onestack-vm-{spec.id}"))
    os.kill(int(files.pidfile.read_text()), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while driver.get_power_state(spec.id) is not PowerState.CRASHED:
        assert time.monotonic() < deadline, "the lost QMP connection was not noticed"
        time.sleep(0.05)
    assert files.crashed.exists()
    assert not files.qmp.exists() and not files.serial.exists() and not files.vnc.exists()
    assert not any(d.is_dir() for d in cgroup_dirs(f"onestack-vm-{spec.id}"))
    assert files.root.exists()  # the disk stays: the next start boots it again
    driver.power_on(spec)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING
    assert not files.crashed.exists()


def test_a_new_driver_finds_running_vms_again(driver: QemuComputeDriver, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    driver.spawn(spec)
    pid = int(driver.files(spec.id).pidfile.read_text())
    driver.close()  # as onestack's exit does: QEMU takes one QMP client at a time
    again = QemuComputeDriver(driver.settings, driver.state_dir, "h")  # onestack restarted
    assert again.list_instances() == {spec.id: PowerState.RUNNING}
    again.pause(spec.id)
    assert again.get_power_state(spec.id) is PowerState.PAUSED
    assert int(again.files(spec.id).pidfile.read_text()) == pid


def test_the_command_line_gives_the_guest_what_nova_gives(tmp_path: Path) -> None:
    from onestack.compute.driver import AttachedVolume, TapVif
    from onestack.compute.drivers.qemu.layout import VmFiles

    spec = _spec(
        tmp_path, vcpus=2, memory_mb=512, ephemeral_gb=1, swap_mb=512,
        volumes=(AttachedVolume("0123456789abcdef0123456789", "/dev/vdb", "/dev/loop7"),),
        vifs=(TapVif("port-1", "fa:16:3e:00:00:01", 1450, "/run/netns/x", "ostap-1"),),
    )  # fmt: skip
    files = VmFiles(tmp_path / "vm", tmp_path / "vm")
    files.directory.mkdir()
    for disk in (files.ephemeral, files.swap, files.config_iso):
        disk.touch()
    argv = command_line("qemu", "pc", "tcg", spec, files, [7])
    joined = " ".join(argv)
    assert "-machine pc -accel tcg,tb-size=64" in joined and "-cpu max" in joined
    assert "-smp 2" in joined and "-m 512M" in joined
    assert "tap,id=port-port1,fd=7,vhost=off" in joined
    assert "mac=fa:16:3e:00:00:01,host_mtu=1450" in joined
    assert '"filename":"/dev/loop7"' in joined and "serial=0123456789abcdef0123" in joined
    assert "bootindex=1" in joined and "product=OpenStack Nova" in joined
    assert joined.count("virtio-blk-pci") == 5  # root, ephemeral, swap, config drive, volume


def test_rescue_boots_the_rescue_disk_with_the_root_disk_second(
    driver: QemuComputeDriver, tmp_path: Path
) -> None:
    from onestack.compute.driver import RescueImage

    # a guest with no OS ignores the ACPI powerdown: a short stop timeout
    quick = QemuComputeDriver(
        ComputeSettings(qemu_accel="tcg", stop_timeout=1), driver.state_dir, "h"
    )
    spec = _spec(tmp_path)
    quick.spawn(spec)
    files = quick.files(spec.id)

    def cmdline() -> str:
        pid = int(files.pidfile.read_text())
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()

    quick.rescue(spec, RescueImage("rescue-img", tmp_path / "no-os.raw"))
    assert quick.get_power_state(spec.id) is PowerState.RUNNING
    assert files.rescue.exists() and files.root.exists()
    line = cmdline()
    assert "drive=rescue0,id=rescue0-dev,bootindex=1" in line
    assert "drive=disk0,id=disk0-dev " in line  # the root disk, not booted
    assert line.index("drive=rescue0") < line.index("drive=disk0")  # vda, then vdb
    assert {"rescue0": "vda", "disk0": "vdb"}.items() <= quick._disk_names(spec.id).items()
    quick.unrescue(spec)
    assert quick.get_power_state(spec.id) is PowerState.RUNNING
    assert not files.rescue.exists()
    line = cmdline()
    assert "rescue0" not in line and "drive=disk0,id=disk0-dev,bootindex=1" in line
    quick.close()
