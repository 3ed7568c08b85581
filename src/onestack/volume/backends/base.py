"""The volume backend contract: where a volume's bytes live and how a host
reaches them.

A backend stores volumes and snapshots by id and exports a volume for one
attachment (the file backend: a loop device; the fake backend: the file
itself).  Every method either completes or leaves nothing new behind: a create
that fails removes any partial file, a delete of something absent succeeds.
Sizes are bytes.  What a backend can do is its :class:`BackendCapabilities`
(every flag False unless the backend claims it); the agent reports them per
host, and the API answers Cinder's 501 before it sends an operation the host
cannot do.  Optional operations raise ``NotSupported``.

One contract test suite runs over every backend
(``tests/unit/volume/test_backend_contract.py``).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

from onestack.common.exceptions import NotSupported


@dataclass(frozen=True)
class BackendCapabilities:
    """What a backend can do; nothing is claimed by default."""

    #: snapshots, clones and volumes from snapshots are instant copy-on-write copies
    reflink: bool = False
    #: ``export`` gives a kernel block device (an instance can use it as a disk)
    block_devices: bool = False
    #: ``revert_to_snapshot`` is implemented
    revert_to_snapshot: bool = False


@dataclass(frozen=True)
class BackendInfo:
    """What a backend is and holds now (the driver support matrix, per host)."""

    driver: str  # "file", "fake"
    pool: str  # pool name in ``host@backend#pool``
    filesystem: str  # "xfs", "btrfs", "directory", ...
    total_bytes: int
    free_bytes: int
    capabilities: BackendCapabilities = field(default_factory=BackendCapabilities)
    #: why the backend is what it is (a plain-directory pool, a fake), for operators
    notes: str = ""


class VolumeBackend(abc.ABC):
    @abc.abstractmethod
    def info(self) -> BackendInfo:
        """Capacity and capabilities now."""

    @abc.abstractmethod
    def create_volume(self, volume_id: str, size: int) -> None:
        """A blank volume of ``size`` bytes (sparse: reads as zeros)."""

    @abc.abstractmethod
    def create_from_file(self, volume_id: str, source: Path, source_format: str, size: int) -> None:
        """A volume holding the bytes of ``source`` (``raw`` or ``qcow2``, converted),
        then grown to ``size``.  InvalidInput when the data is larger than ``size``;
        nothing is left behind then."""

    @abc.abstractmethod
    def clone_volume(self, volume_id: str, source_volume_id: str, size: int) -> None:
        """A copy of another volume grown to ``size`` (copy-on-write with ``reflink``)."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        """A point-in-time copy of the volume; later writes to the volume do not
        change it."""

    @abc.abstractmethod
    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size: int) -> None:
        """A volume holding a snapshot's bytes, grown to ``size``."""

    @abc.abstractmethod
    def delete_volume(self, volume_id: str) -> None:
        """Remove the volume's bytes; any export still pointing at it is released
        first.  Absent: nothing to do."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove a snapshot's bytes.  Absent: nothing to do."""

    @abc.abstractmethod
    def extend_volume(self, volume_id: str, size: int) -> None:
        """Grow the volume to ``size`` bytes; exports see the new size."""

    @abc.abstractmethod
    def volume_path(self, volume_id: str) -> Path:
        """A local path to read or write the volume's bytes (backups, uploads)."""

    @abc.abstractmethod
    def snapshot_path(self, snapshot_id: str) -> Path:
        """A local path to read a snapshot's bytes (backups of snapshots)."""

    @abc.abstractmethod
    def export(self, volume_id: str, readonly: bool) -> str:
        """Expose the volume for one attachment and return the path the host
        reads and writes it through (a block device when ``block_devices``)."""

    @abc.abstractmethod
    def unexport(self, device: str) -> None:
        """Release what ``export`` returned; the volume's bytes are durable after.
        Absent: nothing to do."""

    def exported(self, device: str, volume_id: str) -> bool:
        """Whether ``device``, returned by an earlier ``export``, still exposes the volume
        (a restart of the host or a whole-cloud restore releases devices).  Backends
        whose exports cannot go away answer True."""
        return True

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """Make the volume's bytes equal the snapshot's again (its size stays)."""
        raise NotSupported(operation="Reverting a volume to a snapshot")

    def close(self) -> None:  # noqa: B027 (optional: most backends hold nothing)
        """Release what the backend holds (the pool mount); volumes stay."""
