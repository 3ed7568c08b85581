"""The format inspector, on headers made by qemu-img and by hand."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from onestack.image import formats
from onestack.image.exceptions import ImageDataInvalid


def _qemu(tmp_path: Path, fmt: str, *extra: str, options: str | None = None) -> Path:
    path = tmp_path / f"disk.{fmt}"
    command = ["qemu-img", "create", "-f", fmt, *extra]
    if options:
        command += ["-o", options]
    subprocess.run([*command, str(path), "8M"], check=True, capture_output=True, timeout=30)
    return path


def _check(path: Path, disk_format: str) -> formats.Inspection | None:
    head, tail, size = formats.read_ends(path)
    return formats.check(head, tail, size, disk_format, "bare")


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vhdx", "vdi"])
def test_real_images_are_recognised(tmp_path: Path, fmt: str) -> None:
    path = _qemu(tmp_path, fmt)
    head, tail, size = formats.read_ends(path)
    assert formats.inspect(head, tail, size).format == fmt
    assert _check(path, fmt) is not None


def test_vhd_footer(tmp_path: Path) -> None:
    path = _qemu(tmp_path, "vpc")
    head, tail, size = formats.read_ends(path)
    found = formats.inspect(head, tail, size)
    assert found.format == "vhd" and found.virtual_size


def test_qcow2_virtual_size(tmp_path: Path) -> None:
    found = _check(_qemu(tmp_path, "qcow2"), "qcow2")
    assert found is not None and found.virtual_size == 8 << 20


def test_qcow2_backing_file_rejected(tmp_path: Path) -> None:
    base = tmp_path / "base.raw"
    base.write_bytes(b"\0" * 512)
    path = _qemu(tmp_path, "qcow2", "-b", str(base), "-F", "raw")
    with pytest.raises(ImageDataInvalid, match="backing file"):
        _check(path, "qcow2")


def test_qcow2_external_data_file_rejected(tmp_path: Path) -> None:
    data = tmp_path / "data.raw"
    path = _qemu(tmp_path, "qcow2", options=f"data_file={data}")
    with pytest.raises(ImageDataInvalid, match="external data file"):
        _check(path, "qcow2")


def test_qcow2_external_data_bit_alone_rejected() -> None:
    head = bytearray(formats.HEAD_BYTES)
    head[0:4] = formats.QCOW2_MAGIC
    struct.pack_into(">I", head, 4, 3)
    struct.pack_into(">Q", head, 72, formats.QCOW2_EXTERNAL_DATA_BIT)
    struct.pack_into(">I", head, 100, 104)
    found = formats.inspect(bytes(head), b"", len(head))
    assert found.problem and "external data file" in found.problem


def test_vmdk_with_external_extents_rejected(tmp_path: Path) -> None:
    path = _qemu(tmp_path, "vmdk", options="subformat=monolithicFlat")
    with pytest.raises(ImageDataInvalid):
        _check(path, "vmdk")


def test_mismatches(tmp_path: Path) -> None:
    raw = tmp_path / "plain.raw"
    raw.write_bytes(b"\0" * 100_000)
    with pytest.raises(ImageDataInvalid, match="does not match"):
        _check(raw, "qcow2")
    with pytest.raises(ImageDataInvalid, match="qcow2"):
        _check(_qemu(tmp_path, "qcow2"), "raw")
    assert _check(raw, "raw") is not None


def test_iso_counts_as_raw() -> None:
    head = bytearray(formats.HEAD_BYTES)
    head[formats.ISO_OFFSET : formats.ISO_OFFSET + 5] = b"CD001"
    assert formats.inspect(bytes(head), b"", len(head)).format == "iso"
    assert formats.check(bytes(head), b"", len(head), "raw", "bare") is not None


def test_archives_and_kernels_are_not_inspected() -> None:
    assert formats.check(b"QFI\xfb", b"", 4, "raw", "ova") is None
    assert formats.check(b"anything", b"", 8, "aki", "aki") is None
