"""The fake backend: volumes are plain files in a directory, and nothing else.

For tests and API-only tiers that need no block devices (no root, no loop
devices, no pool mount): volumes and snapshots are sparse files
``volume-<id>`` / ``snapshot-<id>`` in ``<state_dir>/volume/fake`` written as
the file backend writes them (``_files.py``, full copies), so backups,
uploads and volumes from images hold the real bytes.  An export is the
volume's file itself, not a block device (``block_devices`` is False and
``info().notes`` says so): the fake compute driver is content with that, a
real instance is not.  Selected by ``volume.backend = "fake"``.
"""

from __future__ import annotations

from pathlib import Path

from onestack.common.files import fsync_path
from onestack.volume.backends._files import FileBackedBackend
from onestack.volume.backends.base import BackendCapabilities, BackendInfo
from onestack.volume.exceptions import InvalidInput


class FakeVolumeBackend(FileBackedBackend):
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory, reflink=False)

    def info(self) -> BackendInfo:
        total, free = self._capacity()
        return BackendInfo(
            driver="fake",
            pool="fake",
            filesystem="directory",
            total_bytes=total,
            free_bytes=free,
            capabilities=BackendCapabilities(revert_to_snapshot=True),
            notes=f"fake backend: volumes are plain files in {self.directory}; an export is "
            "the file itself, not a block device",
        )

    def export(self, volume_id: str, readonly: bool) -> str:
        path = self.volume_path(volume_id)
        if not path.is_file():
            raise InvalidInput(reason=f"volume {volume_id} has no data on this host")
        return str(path)

    def unexport(self, device: str) -> None:
        path = Path(device)
        if path.parent == self.directory and path.is_file():
            fsync_path(path)
