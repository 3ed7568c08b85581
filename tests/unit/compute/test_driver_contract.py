"""One contract for every compute driver: fake always, container and qemu as root.

Each driver joins with one ``pytest.param`` in ``DRIVERS``: a
:class:`Candidate` says how to build it, why it cannot run here (None when it
can) and how to make the image an ``InstanceSpec`` boots from.  Operations a
driver's ``Capabilities`` do not claim must raise ``DriverNotSupported``;
operations it claims must work.

The qemu driver boots the onestack-vm image (``scripts/install`` builds it):
a guest must be up to let a hot-plugged disk go.  Any bytes make a running VM
(Nova's VMs boot whatever they are given), so its failed spawn is a missing
image file instead.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import (
    CAPABILITY_METHODS,
    AttachedVolume,
    Capabilities,
    ComputeDriver,
    InstanceSpec,
    RescueImage,
    TapVif,
)
from onestack.compute.drivers import (
    CAPABILITY_LABELS,
    DRIVER_NAMES,
    capability_matrix,
    driver_class,
)
from onestack.compute.exceptions import DriverNotSupported, InstanceNotFound
from onestack.compute.states import PowerState
from onestack.guests import vm as vm_image

INIT = """#!/bin/sh
echo "onestack busybox image booted"
trap 'exit 0' TERM
echo "onestack: ready"
while true; do sleep 1 & wait $!; done
"""


def busybox_ext4(tmp: Path) -> Path:
    """A raw ext4 image whose /sbin/init prints two lines and waits."""
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


def _container_unavailable() -> str | None:
    if os.environ.get("CI"):
        return None  # never skip on CI: it runs as root with runc
    if os.geteuid() != 0:
        return "the container driver needs root"
    if shutil.which("runc") is None or not Path("/bin/busybox").exists():
        return "the container driver needs runc and busybox"
    return None


@dataclass(frozen=True)
class Candidate:
    name: str
    #: why the driver cannot run here (None: it can)
    unavailable: Callable[[], str | None]
    #: the image file a spawn reads (None: the driver reads no bytes)
    image: Callable[[Path], Path | None]
    #: a console line the instance writes once it runs (None: no check)
    console_line: str | None = "onestack busybox image booted"
    #: an image file a spawn must fail on
    broken_image: Callable[[Path], Path] = lambda tmp: _bad_bytes(tmp)
    disk_format: str = "raw"
    memory_mb: int = 64

    def build(self, tmp: Path) -> ComputeDriver:
        settings = ComputeSettings(stop_timeout=2, qemu_accel="tcg")
        return driver_class(self.name)(settings, tmp / "compute", "contract-host")


def _bad_bytes(tmp: Path) -> Path:
    bad = tmp / "bad.raw"
    bad.write_bytes(b"not a filesystem" * 100)
    return bad


def _qemu_unavailable() -> str | None:
    if os.environ.get("CI"):
        return None  # never skip on CI: it runs as root with qemu-system-x86 installed
    if os.geteuid() != 0:
        return "the qemu driver needs root"
    if shutil.which("qemu-system-x86_64") is None or shutil.which("genisoimage") is None:
        return "the qemu driver needs qemu-system-x86 and genisoimage"
    if not vm_image.cached_image().is_file():
        return "the onestack-vm image is not built (scripts/install builds it)"
    return None


FAKE = Candidate("fake", lambda: None, lambda tmp: None)
CONTAINER = Candidate("container", _container_unavailable, busybox_ext4)
QEMU = Candidate(
    "qemu", _qemu_unavailable, lambda tmp: vm_image.cached_image(),
    console_line="onestack-vm: ready", broken_image=lambda tmp: tmp / "no-such-image",
    disk_format="qcow2", memory_mb=128,
)  # fmt: skip

DRIVERS = [
    pytest.param(FAKE, id="fake"),
    pytest.param(CONTAINER, id="container", marks=pytest.mark.root),
    pytest.param(QEMU, id="qemu", marks=pytest.mark.root),
]


def test_every_shipped_driver_is_in_the_suite() -> None:
    assert sorted(DRIVER_NAMES) == sorted(p.values[0].name for p in DRIVERS)


def test_the_documented_capabilities_are_the_drivers() -> None:
    """docs/compute-drivers.md holds capability_matrix() (regenerate it when this fails)."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "compute-drivers.md").read_text()
    begin, end = "<!-- capabilities:begin -->\n", "<!-- capabilities:end -->"
    assert doc[doc.index(begin) + len(begin) : doc.index(end)] == capability_matrix()
    assert set(CAPABILITY_LABELS) == {f.name for f in dataclasses.fields(Capabilities)}


@pytest.fixture(params=DRIVERS)
def candidate(request: pytest.FixtureRequest) -> Candidate:
    found: Candidate = request.param
    reason = found.unavailable()
    if reason:
        pytest.skip(reason)
    return found


@pytest.fixture()
def driver(candidate: Candidate, tmp_path: Path) -> Iterator[ComputeDriver]:
    created = candidate.build(tmp_path)
    try:
        yield created
    finally:
        for instance_id in created.list_instances():
            created.destroy(instance_id)


@pytest.fixture()
def spec(candidate: Candidate, tmp_path: Path) -> InstanceSpec:
    return InstanceSpec(
        id=str(uuid.uuid4()),
        name="vm",
        hostname="vm",
        project_id="p",
        user_id="u",
        image_id="img",
        image_path=candidate.image(tmp_path),
        image_disk_format=candidate.disk_format,
        image_properties={},
        vcpus=1,
        memory_mb=candidate.memory_mb,
        root_gb=1,
        availability_zone="nova",
        key_name="k",
        key_data="ssh-ed25519 AAAA k",
    )


def _claims(driver: ComputeDriver, capability: str) -> bool:
    return bool(getattr(driver.capabilities, capability))


def test_capabilities_name_exactly_the_overridden_methods(driver: ComputeDriver) -> None:
    assert isinstance(driver.capabilities, Capabilities)
    for capability, methods in CAPABILITY_METHODS.items():
        for method in methods:
            overridden = getattr(type(driver), method) is not getattr(ComputeDriver, method)
            assert overridden == _claims(driver, capability), (capability, method)


def test_unclaimed_operations_raise_not_supported(
    driver: ComputeDriver, spec: InstanceSpec, tmp_path: Path
) -> None:
    driver.spawn(spec)
    device = AttachedVolume("v", "/dev/vdb", "/dev/null")
    vif = TapVif("port", "fa:16:3e:00:00:01", 1500, "/run/netns/none", "tap0")
    calls: dict[str, Callable[[], object]] = {
        "pause": lambda: driver.pause(spec.id),
        "unpause": lambda: driver.unpause(spec.id),
        "suspend": lambda: driver.suspend(spec.id),
        "resume": lambda: driver.resume(spec.id),
        "resize": lambda: driver.resize(spec),
        "snapshot": lambda: driver.snapshot(spec.id, tmp_path / "never.raw"),
        "console_output": lambda: driver.console_output(spec.id, None),
        "attach_volume": lambda: driver.attach_volume(spec.id, device),
        "detach_volume": lambda: driver.detach_volume(spec.id, device),
        "attach_interface": lambda: driver.attach_interface(spec.id, vif),
        "detach_interface": lambda: driver.detach_interface(spec.id, "port"),
        "console_socket": lambda: driver.console_socket(spec.id, "serial"),
        "instance_stats": lambda: driver.instance_stats(spec.id),
        "rescue": lambda: driver.rescue(spec, RescueImage("i", tmp_path / "never.raw")),
        "unrescue": lambda: driver.unrescue(spec),
    }
    assert set(calls) == {m for methods in CAPABILITY_METHODS.values() for m in methods}
    for capability, methods in CAPABILITY_METHODS.items():
        if _claims(driver, capability):
            continue
        for method in methods:
            with pytest.raises(DriverNotSupported):
                calls[method]()


def test_power_life_cycle(driver: ComputeDriver, spec: InstanceSpec) -> None:
    driver.spawn(spec)
    state = driver.get_power_state(spec.id)
    assert state is PowerState.RUNNING
    assert driver.list_instances()[spec.id] is PowerState.RUNNING
    driver.power_off(spec.id, 2)
    assert driver.get_power_state(spec.id) is PowerState.SHUTDOWN
    driver.power_on(spec)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING
    driver.reboot(spec, hard=False, timeout=2)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING
    driver.reboot(spec, hard=True, timeout=2)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING
    driver.destroy(spec.id)
    assert driver.get_power_state(spec.id) is PowerState.NOSTATE
    assert spec.id not in driver.list_instances()
    driver.destroy(spec.id)  # idempotent


def test_rebuild_runs_the_instance_again(driver: ComputeDriver, spec: InstanceSpec) -> None:
    driver.spawn(spec)
    driver.rebuild(dataclasses.replace(spec, hostname="rebuilt"))
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_pause_and_unpause(driver: ComputeDriver, spec: InstanceSpec) -> None:
    if not driver.capabilities.pause:
        pytest.skip(f"{driver.name} does not pause")
    driver.spawn(spec)
    driver.pause(spec.id)
    assert driver.get_power_state(spec.id) is PowerState.PAUSED
    driver.unpause(spec.id)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_suspend_and_resume(driver: ComputeDriver, spec: InstanceSpec) -> None:
    if not driver.capabilities.suspend:
        pytest.skip(f"{driver.name} does not suspend")
    driver.spawn(spec)
    driver.suspend(spec.id)
    assert driver.get_power_state(spec.id) is PowerState.SUSPENDED
    assert driver.list_instances()[spec.id] is PowerState.SUSPENDED
    driver.resume(spec.id)
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_resize_keeps_it_running(driver: ComputeDriver, spec: InstanceSpec) -> None:
    if not driver.capabilities.resize:
        pytest.skip(f"{driver.name} does not resize")
    driver.spawn(spec)
    driver.resize(dataclasses.replace(spec, vcpus=2, memory_mb=128))
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_snapshot_writes_the_disk(
    driver: ComputeDriver, spec: InstanceSpec, tmp_path: Path
) -> None:
    if not driver.capabilities.snapshot:
        pytest.skip(f"{driver.name} does not snapshot")
    driver.spawn(spec)
    target = tmp_path / "snap.raw"
    driver.snapshot(spec.id, target)
    assert target.stat().st_size > 0
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_console_output_tails(
    driver: ComputeDriver, spec: InstanceSpec, candidate: Candidate
) -> None:
    if not driver.capabilities.console_output:
        pytest.skip(f"{driver.name} has no console output")
    driver.spawn(spec)
    if candidate.console_line is not None:
        _wait_for(lambda: candidate.console_line in driver.console_output(spec.id, None))
    assert driver.console_output(spec.id, 0) == ""
    last = driver.console_output(spec.id, 1)
    assert last.count("\n") <= 1


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture()
def block_device(candidate: Candidate, tmp_path: Path) -> Iterator[str]:
    """A host block device (a loop device over a sparse file) for the real drivers."""
    if candidate is FAKE:
        yield "/dev/fake-loop"
        return
    backing = tmp_path / "volume.raw"
    with open(backing, "wb") as handle:
        handle.truncate(8 * 1024 * 1024)
    device = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], check=False)


def test_volume_attach_and_detach(
    driver: ComputeDriver, spec: InstanceSpec, block_device: str
) -> None:
    if not driver.capabilities.volume_attach:
        pytest.skip(f"{driver.name} does not attach volumes")
    driver.spawn(spec)
    volume = AttachedVolume("vol-1", "/dev/vdb", block_device)
    driver.attach_volume(spec.id, volume)
    driver.detach_volume(spec.id, volume)
    driver.detach_volume(spec.id, volume)  # idempotent
    assert driver.get_power_state(spec.id) is PowerState.RUNNING


def test_failed_spawn_leaves_nothing(
    driver: ComputeDriver, spec: InstanceSpec, tmp_path: Path, candidate: Candidate
) -> None:
    broken = dataclasses.replace(spec, image_path=candidate.broken_image(tmp_path), image_id="bad")
    if not driver.capabilities.real_workloads:
        driver.spawn(broken)  # a driver without workloads never reads image bytes
        assert driver.list_instances() == {broken.id: PowerState.RUNNING}
        return
    with pytest.raises(Exception, match=r"ext4|unpack|failed|No such file"):
        driver.spawn(broken)
    assert broken.id not in driver.list_instances()
    assert driver.get_power_state(broken.id) is PowerState.NOSTATE


def test_instance_stats_name_the_disks_and_end_with_the_instance(
    driver: ComputeDriver, spec: InstanceSpec, block_device: str
) -> None:
    if not driver.capabilities.instance_stats:
        pytest.skip(f"{driver.name} reports no instance statistics")
    driver.spawn(spec)
    stats = driver.instance_stats(spec.id)
    assert [d.device for d in stats.disks][:1] == ["vda"]
    if driver.capabilities.real_workloads:
        assert stats.cpu_time_ns > 0 and stats.memory_usage_bytes > 0
    if driver.capabilities.volume_attach:
        driver.attach_volume(spec.id, AttachedVolume("vol-1", "/dev/vdb", block_device))
        assert "vdb" in {d.device for d in driver.instance_stats(spec.id).disks}
    later = driver.instance_stats(spec.id)
    assert later.cpu_time_ns >= stats.cpu_time_ns
    driver.destroy(spec.id)
    with pytest.raises(InstanceNotFound):
        driver.instance_stats(spec.id)
