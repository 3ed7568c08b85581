"""Image format inspection: what the uploaded bytes really are.

Reads only headers (never runs a tool on untrusted data) to tell qcow2,
vmdk, vhd, vhdx, vdi and iso apart from raw, and refuses what a hypervisor
could be tricked by: data that is not what ``disk_format`` says, a qcow2 that
names a backing file or an external data file, and a vmdk whose descriptor
points at other files.  This is the check Glance's format inspector makes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from onestack.image.exceptions import ImageDataInvalid

QCOW2_MAGIC = b"QFI\xfb"
VMDK_MAGIC = b"KDMV"
VHD_MAGIC = b"conectix"
VHDX_MAGIC = b"vhdxfile"
VDI_SIGNATURE = 0xBEDA107F
ISO_OFFSET = 0x8001
QCOW2_EXTERNAL_DATA_BIT = 1 << 2
QCOW2_EXT_DATA_FILE = 0x44415441
VMDK_SAFE_TYPES = ("monolithicSparse", "streamOptimized")

#: container formats whose payload is an archive, not a disk: not inspected
ARCHIVES = ("ova", "ovf", "docker", "compressed")
#: disk formats onestack does not inspect (kernel/ramdisk blobs, ploop)
UNCHECKED = ("ami", "ari", "aki", "ploop")
#: what a raw image may look like (ISO images are raw-compatible)
RAW_COMPATIBLE = ("raw", "iso")


@dataclass(frozen=True)
class Inspection:
    format: str  # qcow2, vmdk, vhd, vhdx, vdi, iso or raw
    virtual_size: int | None
    problem: str | None = None  # why the image is unsafe, if it is


#: how much of the start of the data ``inspect`` needs (ISO's marker is at 32 KiB)
HEAD_BYTES = 65536
TAIL_BYTES = 512


def read_ends(path: Path) -> tuple[bytes, bytes, int]:
    """The head, the tail and the size of a file, as ``inspect`` wants them."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        handle.seek(max(size - TAIL_BYTES, 0))
        tail = handle.read(TAIL_BYTES)
    return head, tail, size


def _qcow2(head: bytes) -> Inspection:
    if len(head) < 72:
        return Inspection("qcow2", None, "truncated qcow2 header")
    version = struct.unpack_from(">I", head, 4)[0]
    backing_offset = struct.unpack_from(">Q", head, 8)[0]
    size = struct.unpack_from(">Q", head, 24)[0]
    if backing_offset:
        return Inspection("qcow2", size, "a qcow2 image with a backing file is not allowed")
    if version >= 3 and len(head) >= 104:
        incompatible = struct.unpack_from(">Q", head, 72)[0]
        if incompatible & QCOW2_EXTERNAL_DATA_BIT:
            return Inspection(
                "qcow2", size, "a qcow2 image with an external data file is not allowed"
            )
        header_length = struct.unpack_from(">I", head, 100)[0]
    else:
        header_length = 72
    # Header extensions follow the header: (type, length, data padded to 8).
    offset = header_length
    while offset + 8 <= len(head):
        kind, length = struct.unpack_from(">II", head, offset)
        if kind == 0:
            break
        if kind == QCOW2_EXT_DATA_FILE:
            return Inspection(
                "qcow2", size, "a qcow2 image with an external data file is not allowed"
            )
        offset += 8 + ((length + 7) & ~7)
    return Inspection("qcow2", size)


def _vmdk_descriptor_problem(text: str) -> str | None:
    match = re.search(r'createType\s*=\s*"([^"]*)"', text)
    create_type = match.group(1) if match else None
    if create_type not in VMDK_SAFE_TYPES:
        kind = create_type or "unknown"
        return f"a vmdk of type {kind} (with extents in other files) is not allowed"
    return None


def _vmdk(head: bytes) -> Inspection:
    if len(head) < 44:
        return Inspection("vmdk", None, "truncated vmdk header")
    capacity, _grain, desc_offset, desc_size = struct.unpack_from("<QQQQ", head, 12)
    size = capacity * 512
    start, end = desc_offset * 512, (desc_offset + desc_size) * 512
    if not desc_offset or not desc_size or end > len(head):
        return Inspection("vmdk", size, "a vmdk without an embedded descriptor is not allowed")
    text = head[start:end].split(b"\0", 1)[0].decode("latin-1")
    return Inspection("vmdk", size, _vmdk_descriptor_problem(text))


def inspect(head: bytes, tail: bytes, file_size: int) -> Inspection:
    """What data that starts with ``head`` and ends with ``tail`` is."""
    if head.startswith(QCOW2_MAGIC):
        return _qcow2(head)
    if head.startswith(VMDK_MAGIC):
        return _vmdk(head)
    if head.startswith(b"# Disk DescriptorFile"):
        return Inspection("vmdk", None, "a vmdk descriptor file (extents elsewhere) is not allowed")
    if head.startswith(VHDX_MAGIC):
        return Inspection("vhdx", None)
    if len(head) >= 0x178 and struct.unpack_from("<I", head, 0x40)[0] == VDI_SIGNATURE:
        return Inspection("vdi", struct.unpack_from("<Q", head, 0x170)[0])
    footer = tail[-512:] if file_size >= 512 else b""
    for block in (footer, head[:512]):
        if block.startswith(VHD_MAGIC) and len(block) >= 56:
            return Inspection("vhd", struct.unpack_from(">Q", block, 48)[0])
    if head[ISO_OFFSET : ISO_OFFSET + 5] == b"CD001":
        return Inspection("iso", file_size)
    return Inspection("raw", file_size)


def check(
    head: bytes, tail: bytes, size: int, disk_format: str | None, container_format: str | None
) -> Inspection | None:
    """Raise ImageDataInvalid unless the data is a safe ``disk_format`` image.

    Returns the inspection (None when the format is not inspected).
    """
    if container_format in ARCHIVES or disk_format in UNCHECKED or disk_format is None:
        return None
    found = inspect(head, tail, size)
    if disk_format == "raw":
        matches = found.format in RAW_COMPATIBLE
    else:
        matches = found.format == disk_format
    if not matches:
        raise ImageDataInvalid(
            reason=f"Image disk_format {disk_format} does not match the uploaded data, "
            f"which is {found.format}."
        )
    if found.problem:
        raise ImageDataInvalid(reason=f"Image data rejected: {found.problem}.")
    return found
