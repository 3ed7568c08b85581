"""Build the ``onestack-vm`` image: a small bootable qcow2 disk, no root needed.

The disk takes the path a real cloud image takes: an MBR partition table
with syslinux's boot code, a FAT boot partition (syslinux, Debian's
``vmlinuz``, an initramfs) and an ext4 root partition.  The initramfs loads
the virtio, ext4 and isofs modules in dependency order and switches to the
root, whose busybox init starts ``/etc/init.d/rcS``: DHCP on every NIC, the
instance's data from a config drive or the metadata service (hostname, SSH
keys, a ``user_data`` script), dropbear on port 22, ``acpid`` for a clean
ACPI shutdown, a login prompt on ``ttyS0`` and ``tty1``.

Everything comes from Debian's packages: the kernel is downloaded with
``apt-get download`` (never installed), busybox from busybox-static,
dropbear and its libraries from dropbear-bin.  docs/image-format.md
describes the result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from onestack.guests import _kernel, _vmdisk, busybox

NAME = "onestack-vm"
IMAGE_FILE = "onestack-vm.qcow2"
#: raised in the guest's kernel command line and used by the initramfs
ROOT_LABEL = "onestack-root"
BOOT_MIB = 32
ROOT_MIB = 224
PROPERTIES = {
    "os_distro": "onestack-vm",
    "os_type": "linux",
    "architecture": "x86_64",
    "hw_disk_bus": "virtio",
    "hw_vif_model": "virtio",
    "hypervisor_type": "qemu",
}
MIN_DISK_GIB = 1
MIN_RAM_MIB = 128
KERNEL_ARGS = (
    f"root=LABEL={ROOT_LABEL} rw console=tty0 console=ttyS0,115200n8 "
    "no_timer_check tsc=reliable panic=-1"
)
SYSLINUX_CFG = f"""DEFAULT onestack
PROMPT 0
TIMEOUT 0
SERIAL 0 115200
LABEL onestack
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND {KERNEL_ARGS}
"""
SSH_BINARIES = ("/usr/sbin/dropbear", "/usr/bin/dropbearkey")
TOOLS = {
    "qemu-img": "qemu-utils",
    "mkfs.ext4": "e2fsprogs",
    "mkfs.fat": "dosfstools",
    "mcopy": "mtools",
    "syslinux": "syslinux",
}


class VmBuildError(RuntimeError):
    """The VM image cannot be built here (a package or the kernel is missing)."""


@dataclass(frozen=True)
class BuiltVmImage:
    path: Path
    kernel_version: str
    modules: tuple[str, ...]


def cache_dir() -> Path:
    """Where the kernel package and the built image are kept across clouds."""
    explicit = os.environ.get("ONESTACK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onestack"


def _guest_file(name: str) -> str:
    return resources.files("onestack.guests").joinpath("vm", name).read_text()


def _libraries(binary: str) -> list[Path]:
    """The shared libraries (and the loader) ``binary`` needs, from ldd."""
    out = subprocess.run(
        ["ldd", binary], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    found: list[Path] = []
    for line in out.splitlines():
        parts = line.split()
        for token in parts:
            if token.startswith("/") and Path(token).exists():
                found.append(Path(token))
    return found


def _copy_with_parents(source: Path, root: Path) -> None:
    target = root / str(source).lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.resolve(), target)


def _root_tree(root: Path, bb: Path) -> None:
    """The root filesystem: the busybox image's tree, busybox init, dropbear."""
    busybox.build_tree(root, bb)
    (root / "sbin/init").unlink()
    (root / "sbin/init").symlink_to("/bin/busybox")
    for path, name, mode in (
        ("etc/inittab", "inittab", 0o644),
        ("etc/init.d/rcS", "rcS", 0o755),
        ("etc/init.d/rcK", "rcK", 0o755),
        ("etc/acpi/PWRF/00000080", "power_button", 0o755),
    ):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_guest_file(name))
        target.chmod(mode)
    (root / "etc/os-release").write_text(
        'NAME="onestack-vm"\nID=onestack-vm\nPRETTY_NAME="onestack VM image"\n'
    )
    (root / "etc/issue").write_text("onestack-vm \\n \\l (log in with your SSH key)\n\n")
    (root / "etc/hostname").write_text("onestack-vm\n")
    for binary in SSH_BINARIES:
        if not Path(binary).exists():
            raise VmBuildError(f"{binary} not found: install the Debian package dropbear-bin")
        _copy_with_parents(Path(binary), root)
        for library in _libraries(binary):
            _copy_with_parents(library, root)
    (root / "etc/dropbear").mkdir(parents=True, exist_ok=True)
    (root / "var/log").mkdir(parents=True, exist_ok=True)
    (root / "mnt/config").mkdir(parents=True, exist_ok=True)


def _initramfs(work: Path, bb: Path, kernel: _kernel.Kernel) -> Path:
    tree = work / "initramfs"
    for directory in ("bin", "sbin", "etc", "proc", "sys", "dev", "newroot", "lib/modules"):
        (tree / directory).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bb, tree / "bin/busybox")
    (tree / "bin/busybox").chmod(0o755)
    (tree / "bin/sh").symlink_to("busybox")
    init = tree / "init"
    init.write_text(_guest_file("init_initramfs.sh"))
    init.chmod(0o755)
    names = []
    for module in kernel.modules:
        shutil.copyfile(module, tree / "lib/modules" / module.name)
        names.append(module.name)
    (tree / "etc/modules").write_text("\n".join(names) + "\n")
    output = work / "initrd.gz"
    _vmdisk.write_cpio_gz(tree, output, busybox.EPOCH)
    return output


PROBE_INIT = """#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
echo ONESTACK-ACCEL-PROBE-OK > /dev/ttyS0
/bin/busybox poweroff -f
"""


def _probe_initramfs(work: Path, bb: Path) -> Path:
    """The accelerator probe's initramfs: says so on the serial port and powers off."""
    tree = work / "probe"
    (tree / "bin").mkdir(parents=True)
    (tree / "dev").mkdir()
    shutil.copyfile(bb, tree / "bin/busybox")
    (tree / "bin/busybox").chmod(0o755)
    (tree / "init").write_text(PROBE_INIT)
    (tree / "init").chmod(0o755)
    output = work / "probe-initrd.gz"
    _vmdisk.write_cpio_gz(tree, output, busybox.EPOCH)
    return output


def probe_kernel(image: Path) -> Path:
    """The kernel built with ``image``, kept beside it (for the KVM probe and benchmarks)."""
    return image.with_name(image.stem + ".vmlinuz")


def probe_initrd(image: Path) -> Path:
    return image.with_name(image.stem + ".probe-initrd.gz")


def _root_fs(work: Path, bb: Path) -> Path:
    tree = work / "root"
    tree.mkdir()
    _root_tree(tree, bb)
    image = work / "root.ext4"
    with open(image, "wb") as handle:
        handle.truncate(ROOT_MIB << 20)
    done = subprocess.run(
        [_vmdisk.tool("mkfs.ext4", "e2fsprogs"), "-q", "-F", "-t", "ext4", "-j", "-I", "256",
         "-L", ROOT_LABEL, "-E", "root_owner=0:0", "-d", str(tree), str(image)],
        env={**os.environ, "MKE2FS_CONFIG": "/dev/null"}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise VmBuildError(f"mkfs.ext4 failed: {done.stderr.strip()}")
    if os.geteuid() != 0:  # mkfs copied the builder's uid: give everything to root
        lines = [f'sif "/{p.relative_to(tree)}" uid 0\nsif "/{p.relative_to(tree)}" gid 0'
                 for p in tree.rglob("*")]  # fmt: skip
        script = work / "owners.debugfs"
        script.write_text("\n".join(lines) + "\n")
        subprocess.run([_vmdisk.tool("debugfs", "e2fsprogs"), "-w", "-f", str(script), str(image)],
                       capture_output=True, check=True, timeout=300)  # fmt: skip
    return image


def missing_tools() -> list[str]:
    """The Debian packages whose tools the build needs and this machine lacks."""
    missing = [pkg for name, pkg in TOOLS.items() if _which(name) is None]
    if not Path(SSH_BINARIES[0]).exists():
        missing.append("dropbear-bin")
    if not any(p.is_file() for p in _vmdisk.MBR_CODE):
        missing.append("syslinux-common")
    return sorted(set(missing))


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def build(output: Path, *, cache: Path | None = None) -> BuiltVmImage:
    """Build the image at ``output`` (written to a temporary file, then renamed)."""
    missing = missing_tools()
    if missing:
        raise VmBuildError("install the Debian packages " + ", ".join(missing))
    cache = cache or cache_dir()
    try:
        bb = busybox.find_busybox()
        deb = _kernel.fetch_kernel_deb(cache / "debs")
    except (busybox.BuildError, _kernel.KernelUnavailable) as exc:
        raise VmBuildError(str(exc)) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vm-image-", dir=output.parent) as temp:
        work = Path(temp)
        try:
            kernel = _kernel.extract(deb, work / "kernel")
            initrd = _initramfs(work, bb, kernel)
            root = _root_fs(work, bb)
            boot = work / "boot.fat"
            _vmdisk.make_boot_fat(
                boot, BOOT_MIB, {"vmlinuz": kernel.vmlinuz, "initrd.gz": initrd}, SYSLINUX_CFG
            )
            raw = work / "disk.raw"
            signature = int.from_bytes(hashlib.sha256(NAME.encode()).digest()[:4], "little")
            _vmdisk.assemble(
                raw,
                [
                    _vmdisk.Partition(boot, _vmdisk.FAT16_LBA, BOOT_MIB * 2048, bootable=True),
                    _vmdisk.Partition(root, _vmdisk.LINUX, ROOT_MIB * 2048),
                ],
                signature,
            )
            qcow2 = work / IMAGE_FILE
            subprocess.run(
                [_vmdisk.tool("qemu-img", "qemu-utils"), "convert", "-q", "-f", "raw", "-O",
                 "qcow2", str(raw), str(qcow2)],
                capture_output=True, check=True, timeout=600,
            )  # fmt: skip
            probe = _probe_initramfs(work, bb)
        except (_kernel.KernelUnavailable, _vmdisk.DiskToolMissing) as exc:
            raise VmBuildError(str(exc)) from exc
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            raise VmBuildError(f"building {NAME} failed: {exc}") from exc
        shutil.copyfile(kernel.vmlinuz, probe_kernel(output))
        os.replace(probe, probe_initrd(output))
        os.replace(qcow2, output)
    return BuiltVmImage(output, kernel.version, tuple(m.name for m in kernel.modules))


def cached_image(cache: Path | None = None) -> Path:
    """The shared, already built image (one per machine and user)."""
    return (cache or cache_dir()) / "images" / IMAGE_FILE
