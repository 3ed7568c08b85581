"""Image data on its way into a store: size, hashes and format, as it streams.

A :class:`DataSink` receives the bytes in order (from an HTTP body, a staged
file or a local file), passes them to a store writer and computes what Glance
records: the size, ``checksum`` (MD5) and ``os_hash_value`` (SHA-512), plus
SHA-256 when the client declared one.  It keeps only the first 64 KiB and the
last 512 bytes, which the format inspector needs; the image itself is never
held in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from onestack.image import formats
from onestack.image.exceptions import ImageDataInvalid, LimitExceeded
from onestack.image.store import StoreWriter

HASH_ALGO = "sha512"
#: properties in which openstacksdk (and shade before it) declares the data's hashes
DECLARED_MD5 = ("owner_specified.openstack.md5", "owner_specified.shade.md5")
DECLARED_SHA256 = ("owner_specified.openstack.sha256", "owner_specified.shade.sha256")


@dataclass
class Expectations:
    """What the image declares about its data before the data arrives."""

    size: int | None = None
    md5: str | None = None
    sha256: str | None = None
    #: most bytes accepted (size cap, or what the quota leaves)
    limit: int | None = None
    limit_reason: str = ""


@dataclass
class DataSink:
    writer: StoreWriter
    expect: Expectations = field(default_factory=Expectations)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    tail: bytes = b""

    def __post_init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha512 = hashlib.sha512()
        self._sha256 = hashlib.sha256() if self.expect.sha256 else None

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        limit = self.expect.limit
        if limit is not None and self.size > limit:
            raise LimitExceeded(reason=self.expect.limit_reason or "The image is too large.")
        declared = self.expect.size
        if declared is not None and self.size > declared:
            raise ImageDataInvalid(
                reason=f"More data was sent than the declared image size of {declared} bytes."
            )
        if len(self.head) < formats.HEAD_BYTES:
            self.head += chunk[: formats.HEAD_BYTES - len(self.head)]
        self.tail = (self.tail + chunk[-formats.TAIL_BYTES :])[-formats.TAIL_BYTES :]
        self._md5.update(chunk)
        self._sha512.update(chunk)
        if self._sha256 is not None:
            self._sha256.update(chunk)
        self.writer.write(chunk)

    @property
    def checksum(self) -> str:
        return self._md5.hexdigest()

    @property
    def hash_value(self) -> str:
        return self._sha512.hexdigest()

    def verify(self, disk_format: str | None, container_format: str | None) -> int | None:
        """Check everything declared; returns the virtual size (None if unknown).

        Raises ImageDataInvalid when the data contradicts the declarations.
        """
        expect = self.expect
        if expect.size is not None and self.size != expect.size:
            raise ImageDataInvalid(
                reason=f"The image data ({self.size} bytes) does not match the declared "
                f"size of {expect.size} bytes; the upload was incomplete."
            )
        if expect.md5 and expect.md5.lower() != self.checksum:
            raise ImageDataInvalid(
                reason=f"The image data's MD5 checksum {self.checksum} does not match "
                f"the declared {expect.md5}."
            )
        if expect.sha256 and self._sha256 is not None:
            actual = self._sha256.hexdigest()
            if expect.sha256.lower() != actual:
                raise ImageDataInvalid(
                    reason=f"The image data's SHA-256 {actual} does not match the "
                    f"declared {expect.sha256}."
                )
        found = formats.check(bytes(self.head), self.tail, self.size, disk_format, container_format)
        if found is None:
            return None
        return found.virtual_size
