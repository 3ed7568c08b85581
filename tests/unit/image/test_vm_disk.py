"""The pieces of the onestack-vm disk: the MBR table and the initramfs archive."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from onestack.guests import _vmdisk


def test_mbr_places_partitions_aligned_with_the_boot_flag(tmp_path: Path) -> None:
    parts = [
        _vmdisk.Partition(tmp_path / "a", _vmdisk.FAT16_LBA, 65536, bootable=True),
        _vmdisk.Partition(tmp_path / "b", _vmdisk.LINUX, 1000),
    ]
    sector, starts = _vmdisk.mbr(parts, b"\xeb" * 500, 0x12345678)
    assert len(sector) == 512 and sector[510:] == b"\x55\xaa"
    assert sector[:440] == b"\xeb" * 440  # boot code is cut before the signature
    assert struct.unpack_from("<I", sector, 440)[0] == 0x12345678
    assert starts == [2048, 2048 + 65536]
    first, second = sector[446:462], sector[462:478]
    assert first[0] == 0x80 and first[4] == 0x0E
    assert struct.unpack_from("<II", first, 8) == (2048, 65536)
    assert second[0] == 0 and second[4] == 0x83
    assert struct.unpack_from("<II", second, 8) == (2048 + 65536, 1000)
    assert sector[478:510] == b"\0" * 32


def test_assemble_copies_each_filesystem_to_its_partition(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A" * 4096)
    (tmp_path / "b").write_bytes(b"B" * 512)
    disk = tmp_path / "disk"
    parts = [
        _vmdisk.Partition(tmp_path / "a", _vmdisk.FAT16_LBA, 2048, bootable=True),
        _vmdisk.Partition(tmp_path / "b", _vmdisk.LINUX, 2048),
    ]
    _vmdisk.assemble(disk, parts, 1)
    data = disk.read_bytes()
    assert len(data) == (2048 * 3) * 512
    assert data[2048 * 512 : 2048 * 512 + 4096] == b"A" * 4096
    assert data[4096 * 512 : 4096 * 512 + 512] == b"B" * 512


def _read_cpio(raw: bytes) -> dict[str, tuple[int, bytes]]:
    entries: dict[str, tuple[int, bytes]] = {}
    offset = 0
    while True:
        assert raw[offset : offset + 6] == b"070701"
        fields = [int(raw[offset + 6 + 8 * i : offset + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_start = offset + 110
        name = raw[name_start : name_start + namesize - 1].decode()
        data_start = name_start + namesize
        data_start += -data_start % 4
        data = raw[data_start : data_start + size]
        offset = data_start + size
        offset += -offset % 4
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data)


def test_cpio_holds_files_links_and_directories(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin/busybox").write_bytes(b"\x7fELF...")
    (tree / "bin/busybox").chmod(0o755)
    (tree / "bin/sh").symlink_to("busybox")
    (tree / "init").write_text("#!/bin/sh\n")
    out = tmp_path / "initrd.gz"
    _vmdisk.write_cpio_gz(tree, out, 1767225600)
    entries = _read_cpio(gzip.decompress(out.read_bytes()))
    assert set(entries) == {"bin", "bin/busybox", "bin/sh", "init"}
    assert entries["bin/busybox"] == (0o100755, b"\x7fELF...")
    assert entries["bin/sh"][1] == b"busybox" and entries["bin/sh"][0] & 0o170000 == 0o120000
    assert entries["bin"][0] & 0o170000 == 0o040000
