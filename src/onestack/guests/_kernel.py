"""Debian's kernel for the VM image: downloaded with ``apt-get download``, never installed.

``fetch_kernel_deb`` finds the package that ``linux-image-amd64`` depends on
and downloads it into a cache directory (once); ``extract`` takes the
``vmlinuz`` and the modules a small guest needs out of it (``dpkg-deb
--fsys-tarfile``, no root, nothing written outside the work directory);
``load_order`` orders modules so that each comes after what it depends on
(the ``depends=`` field of every module's ``.modinfo`` section).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

META_PACKAGE = "linux-image-amd64"

#: what the guest loads, by name; their dependencies are found and loaded first.
#: virtio disks and NICs, ext4 for the root, isofs for a config drive, the ACPI
#: power button (a clean ACPI shutdown), evdev for acpid, and virtio's RNG.
WANTED_MODULES = (
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
    "virtio-rng",
    "crc32c_generic",
    "ext4",
    "isofs",
    "button",
    "evdev",
)


class KernelUnavailable(RuntimeError):
    """Debian's kernel package cannot be found or downloaded here."""


@dataclass(frozen=True)
class Kernel:
    version: str  # 6.1.0-57-amd64
    vmlinuz: Path
    modules: tuple[Path, ...]  # in load order


def _apt(argv: list[str], cwd: Path | None = None) -> str:
    binary = shutil.which(argv[0])
    if binary is None:
        raise KernelUnavailable(f"{argv[0]} not found (a Debian machine is needed)")
    done = subprocess.run([binary, *argv[1:]], capture_output=True, text=True, timeout=600, cwd=cwd)
    if done.returncode != 0:
        raise KernelUnavailable(f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def kernel_package() -> str:
    """The versioned kernel package the meta package depends on (linux-image-6.1.0-N-amd64)."""
    out = _apt(["apt-cache", "depends", META_PACKAGE])
    found = re.findall(r"Depends:\s*(linux-image-[0-9][^\s]*)", out)
    if not found:
        raise KernelUnavailable(f"apt-cache knows no kernel behind {META_PACKAGE}: {out.strip()}")
    return found[0]


def fetch_kernel_deb(cache: Path) -> Path:
    """Debian's kernel package in ``cache`` (downloaded the first time)."""
    cache.mkdir(parents=True, exist_ok=True)
    present = sorted(cache.glob("linux-image-*-amd64_*.deb"))
    try:
        package = kernel_package()
    except KernelUnavailable:
        if present:  # offline: what was fetched before still builds
            return present[-1]
        raise
    for path in present:
        if path.name.startswith(package + "_"):
            return path
    staging = cache / "download"
    staging.mkdir(exist_ok=True)
    staging.chmod(0o777)  # apt drops privileges to _apt for the download
    _apt(["apt-get", "download", "-q", package], cwd=staging)
    debs = sorted(staging.glob(f"{package}_*.deb"))
    if not debs:
        raise KernelUnavailable(f"apt-get download {package} wrote no package")
    target = cache / debs[-1].name
    debs[-1].replace(target)
    for old in present:
        old.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def modinfo(module: Path) -> dict[str, str]:
    """The ``.modinfo`` fields of an ELF64 kernel module."""
    data = module.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{module} is not an ELF64 module")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = sections[shstrndx][4]
    for name_index, _, _, _, offset, size in sections:
        end = data.index(b"\0", names_offset + name_index)
        if data[names_offset + name_index : end] == b".modinfo":
            fields: dict[str, str] = {}
            for item in data[offset : offset + size].split(b"\0"):
                key, sep, value = item.decode(errors="replace").partition("=")
                if sep and key not in fields:
                    fields[key] = value
            return fields
    return {}


def _name(path: Path) -> str:
    return path.name.removesuffix(".ko").replace("-", "_")


def load_order(available: dict[str, Path], wanted: tuple[str, ...]) -> list[Path]:
    """``wanted`` modules and their dependencies, each after what it depends on."""
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        key = name.replace("-", "_")
        if key in seen:
            return
        if key in chain:
            raise KernelUnavailable(f"module dependency loop: {' -> '.join((*chain, key))}")
        path = available.get(key)
        if path is None:
            raise KernelUnavailable(f"the kernel package has no module {name}")
        for dependency in filter(None, modinfo(path).get("depends", "").split(",")):
            visit(dependency, (*chain, key))
        seen.add(key)
        order.append(path)

    for name in wanted:
        visit(name, ())
    return order


def extract(deb: Path, work: Path, wanted: tuple[str, ...] = WANTED_MODULES) -> Kernel:
    """The kernel image and the ordered modules, taken out of ``deb`` into ``work``."""
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise KernelUnavailable("dpkg-deb not found (a Debian machine is needed)")
    work.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen([dpkg_deb, "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            for member in archive:
                name = member.name.lstrip("./")
                keep = (name.startswith("boot/vmlinuz-") and member.isfile()) or (
                    name.startswith("lib/modules/") and name.endswith(".ko") and member.isfile()
                )
                if keep:
                    archive.extract(member, work, filter="data")
    if proc.returncode != 0:
        raise KernelUnavailable(f"dpkg-deb --fsys-tarfile {deb.name} failed")
    kernels = sorted((work / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise KernelUnavailable(f"{deb.name} holds no vmlinuz")
    version = kernels[-1].name.removeprefix("vmlinuz-")
    available = {_name(p): p for p in (work / "lib/modules" / version).rglob("*.ko")}
    return Kernel(version, kernels[-1], tuple(load_order(available, wanted)))
