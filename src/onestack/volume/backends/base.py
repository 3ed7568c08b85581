"""The volume backend contract: where a volume's bytes live and how a host
reaches them as a block device.

A backend stores volumes and snapshots by id and exports a volume as a local
block device (the file backend: a loop device).  Every method either
completes or leaves nothing new behind: a create that fails removes any
partial file, a delete of something absent succeeds.  Sizes are bytes.
Optional operations raise ``NotSupported``, which the API turns into
Cinder's 501 "not implemented" error.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path

from onestack.common.exceptions import NotSupported


@dataclass(frozen=True)
class BackendInfo:
    """What a backend is and can do (the driver support matrix, per host)."""

    driver: str  # "file", "lvm"
    pool: str  # pool name in ``host@backend#pool``
    filesystem: str  # "xfs", "btrfs", "directory", ...
    reflink: bool  # snapshots and clones are copy-on-write
    total_bytes: int
    free_bytes: int
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
        then grown to ``size``.  InvalidInput when the data is larger than ``size``."""

    @abc.abstractmethod
    def clone_volume(self, volume_id: str, source_volume_id: str, size: int) -> None:
        """A copy of another volume (copy-on-write where the pool has reflink)."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        """A point-in-time copy of the volume."""

    @abc.abstractmethod
    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size: int) -> None:
        """A volume holding a snapshot's bytes, grown to ``size``."""

    @abc.abstractmethod
    def delete_volume(self, volume_id: str) -> None:
        """Remove the volume's bytes; any device still exporting it is released first."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove a snapshot's bytes."""

    @abc.abstractmethod
    def extend_volume(self, volume_id: str, size: int) -> None:
        """Grow the volume to ``size`` bytes; exported devices see the new size."""

    @abc.abstractmethod
    def volume_path(self, volume_id: str) -> Path:
        """A local path to read or write the volume's bytes (backups, uploads)."""

    @abc.abstractmethod
    def snapshot_path(self, snapshot_id: str) -> Path:
        """A local path to read a snapshot's bytes (backups of snapshots)."""

    @abc.abstractmethod
    def export(self, volume_id: str, readonly: bool) -> str:
        """Expose the volume as a local block device and return its path."""

    @abc.abstractmethod
    def unexport(self, device: str) -> None:
        """Release a device returned by ``export`` (absent: nothing to do)."""

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """Make the volume's bytes equal the snapshot's again."""
        raise NotSupported(operation="Reverting a volume to a snapshot")

    def close(self) -> None:  # noqa: B027 (optional: most backends hold nothing)
        """Release what the backend holds (the pool mount); volumes stay."""
