"""Pieces of a bootable disk, written without root: cpio archives, MBR tables, FAT boot.

Loop devices show no partitions on some hosts, and building should not need
root anyway, so every filesystem is made in a file of its own (``mkfs.fat``
plus ``mcopy`` and ``syslinux --install`` through mtools; ``mkfs.ext4 -d``)
and copied into the disk at its partition's offset.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
#: the first partition starts at 1 MiB, as partitioning tools do
FIRST_LBA = 2048
MBR_CODE = (
    Path("/usr/lib/syslinux/mbr/mbr.bin"),
    Path("/usr/lib/SYSLINUX/mbr.bin"),
)
#: MBR partition types
FAT16_LBA = 0x0E
LINUX = 0x83


class DiskToolMissing(RuntimeError):
    """A tool that building the disk needs is not installed."""


def tool(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise DiskToolMissing(f"{name} not found: install the Debian package {package}")
    return path


# -- cpio (newc), the initramfs format ------------------------------------------------------


def _cpio_entry(name: str, mode: int, data: bytes, ino: int, mtime: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, mtime, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    out = header + encoded
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def write_cpio_gz(tree: Path, output: Path, mtime: int) -> None:
    """A gzip-compressed newc cpio archive of ``tree``, every file owned by root."""
    chunks: list[bytes] = []
    ino = 1
    for path in sorted(tree.rglob("*")):
        name = str(path.relative_to(tree))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            data = os.readlink(path).encode()
        elif stat.S_ISREG(info.st_mode):
            data = path.read_bytes()
        else:
            data = b""
        chunks.append(_cpio_entry(name, info.st_mode, data, ino, mtime))
        ino += 1
    chunks.append(_cpio_entry("TRAILER!!!", 0, b"", 0, 0))
    raw = b"".join(chunks)
    raw += b"\0" * (-len(raw) % SECTOR)
    with open(output, "wb") as handle:
        handle.write(gzip.compress(raw, compresslevel=6, mtime=mtime))


# -- the partition table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    image: Path  # a filesystem image, copied in at the partition's start
    kind: int  # MBR partition type
    size_sectors: int
    bootable: bool = False


def _chs(lba: int) -> bytes:
    """CHS address of ``lba`` in the 255-head, 63-sector geometry (capped as tools do)."""
    cylinder, rest = divmod(lba, 255 * 63)
    if cylinder > 1023:
        return b"\xfe\xff\xff"
    head, sector = divmod(rest, 63)
    sector += 1
    return bytes([head, sector | ((cylinder >> 2) & 0xC0), cylinder & 0xFF])


def mbr(partitions: list[Partition], code: bytes, disk_signature: int) -> tuple[bytes, list[int]]:
    """The first sector of a disk holding ``partitions`` in order, and their start sectors."""
    if len(partitions) > 4:
        raise ValueError("an MBR holds four primary partitions")
    sector = bytearray(SECTOR)
    sector[: min(len(code), 440)] = code[:440]
    struct.pack_into("<I", sector, 440, disk_signature)
    starts: list[int] = []
    lba = FIRST_LBA
    for index, part in enumerate(partitions):
        entry = (
            bytes([0x80 if part.bootable else 0])
            + _chs(lba)
            + bytes([part.kind])
            + _chs(lba + part.size_sectors - 1)
            + struct.pack("<II", lba, part.size_sectors)
        )
        sector[446 + 16 * index : 462 + 16 * index] = entry
        starts.append(lba)
        lba += part.size_sectors
        lba += -lba % FIRST_LBA  # 1 MiB alignment
    sector[510:512] = b"\x55\xaa"
    return bytes(sector), starts


def assemble(output: Path, partitions: list[Partition], disk_signature: int) -> None:
    """Write a raw disk: the MBR (syslinux's boot code), then every partition's image."""
    code_path = next((p for p in MBR_CODE if p.is_file()), None)
    if code_path is None:
        raise DiskToolMissing("syslinux's mbr.bin not found: install the Debian package syslinux")
    first, starts = mbr(partitions, code_path.read_bytes(), disk_signature)
    end = starts[-1] + partitions[-1].size_sectors if partitions else FIRST_LBA
    with open(output, "wb") as disk:
        disk.truncate(end * SECTOR)
        disk.write(first)
        for part, start in zip(partitions, starts, strict=True):
            disk.seek(start * SECTOR)
            with open(part.image, "rb") as source:
                shutil.copyfileobj(source, disk, 1 << 20)


# -- the FAT boot partition (syslinux) -----------------------------------------------------


def make_boot_fat(output: Path, size_mib: int, files: dict[str, Path], config: str) -> None:
    """A FAT filesystem holding ``files`` and ``syslinux.cfg``, with syslinux installed."""
    mkfs = tool("mkfs.fat", "dosfstools")
    mcopy = tool("mcopy", "mtools")
    syslinux = tool("syslinux", "syslinux")
    output.unlink(missing_ok=True)
    _run([mkfs, "-F", "16", "-n", "ONESTACK", "-i", "6f6e6573", "-C", str(output),
          str(size_mib * 1024)])  # fmt: skip
    cfg = output.with_name("syslinux.cfg")
    cfg.write_text(config)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    for name, path in {**files, "syslinux.cfg": cfg}.items():
        _run([mcopy, "-i", str(output), "-o", str(path), f"::{name}"], env)
    _run([syslinux, "--install", str(output)], env)


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()}")
