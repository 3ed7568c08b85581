"""Building the onestack-busybox root filesystem without root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from onestack.guests import busybox

pytestmark = pytest.mark.skipif(
    not Path("/bin/busybox").exists() and busybox.shutil.which("busybox") is None,
    reason="busybox-static is not installed",
)


def _debugfs(image: Path, request: str) -> str:
    return subprocess.run(
        ["debugfs", "-R", request, str(image)], capture_output=True, text=True, timeout=30
    ).stdout


def test_build_is_a_valid_reproducible_ext4(tmp_path: Path) -> None:
    first = busybox.build(tmp_path / "a.raw")
    second = busybox.build(tmp_path / "b.raw")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.path.stat().st_size == busybox.SIZE_MIB << 20
    check = subprocess.run(
        ["e2fsck", "-fn", str(first.path)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert not list(tmp_path.glob("rootfs-*"))  # the work tree is gone


def test_tree_has_what_the_contract_names(tmp_path: Path) -> None:
    built = busybox.build(tmp_path / "c.raw")
    bins = _debugfs(built.path, "ls -l /bin") + _debugfs(built.path, "ls -l /sbin")
    bins += _debugfs(built.path, "ls -l /usr/bin") + _debugfs(built.path, "ls -l /usr/sbin")
    for applet in ("sh", "ls", "ip", "udhcpc", "wget", "mount", "sha256sum", "poweroff", "fdisk"):
        assert f" {applet}\n" in bins or f" {applet} " in bins or bins.endswith(applet), applet
    init = _debugfs(built.path, "stat /sbin/init")
    assert "Mode:  0755" in init and "User:     0" in init
    assert "root:x:0:0" in _debugfs(built.path, "cat /etc/passwd")
    assert "Mode:  0700" in _debugfs(built.path, "stat /root/.ssh")
    assert "Mode:  01777" in _debugfs(built.path, "stat /tmp")
    assert "bound|renew" in _debugfs(built.path, "cat /usr/share/udhcpc/default.script")


def test_dynamic_busybox_is_refused(tmp_path: Path) -> None:
    assert not busybox.is_static_elf(Path("/bin/ls"))
    with pytest.raises(busybox.BuildError, match="not a statically linked"):
        busybox.build(tmp_path / "d.raw", busybox=Path("/bin/ls"))
    assert not (tmp_path / "d.raw").exists()
