"""The volume agent: the bus endpoint on the host that owns the volumes.

Every method is plain (the bus runs it in a worker thread) and moves the
records it works on through their statuses, one transaction per step, so a
failure leaves the record in ``error`` (or ``error_deleting``, ...) with the
backend's partial work already removed (the backend contract).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import OneStackError
from onestack.volume import states
from onestack.volume.backends._shell import run
from onestack.volume.backends.base import VolumeBackend
from onestack.volume.backups.base import BackupPlace
from onestack.volume.backups.engine import BackupEngine
from onestack.volume.exceptions import InvalidBackup
from onestack.volume.models import Attachment, Backup, Snapshot, Volume

if TYPE_CHECKING:
    from onestack.image.interface import ImageService
    from onestack.neighbours import Neighbours

LOG = logging.getLogger(__name__)


def _image_volume(url: str) -> str | None:
    """The volume of a Glance cinder-store location (``cinder://[<store>/]<volume id>``)."""
    if not url.startswith("cinder://"):
        return None
    return url[len("cinder://") :].rsplit("/", 1)[-1] or None


GiB = 1024**3
#: qemu-img's names of the image disk formats that differ from Glance's
QEMU_FORMATS = {"vhd": "vpc"}


class VolumeAgent:
    def __init__(
        self,
        db: Database,
        host: str,
        backend: VolumeBackend,
        backups: BackupEngine,
        neighbours: Neighbours,
    ) -> None:
        self.db = db
        self.host = host
        self.backend = backend
        self.backups = backups
        self.neighbours = neighbours

    @property
    def images(self) -> ImageService:
        """The image service (volumes from images, uploads); 503 when it does not run."""
        return self.neighbours.require(self.neighbours.image, "image")

    # -- helpers --------------------------------------------------------------

    def _update(self, model: type[Any], record_id: str, **fields: Any) -> None:
        self._update_together((model, record_id, fields))

    def _update_together(self, *changes: tuple[type[Any], str, dict[str, Any]]) -> None:
        """Apply several records' changes in one transaction (no one sees half of them)."""
        with self.db.writer() as session:
            for model, record_id, fields in changes:
                row = session.get(model, record_id)
                if row is not None:
                    for name, value in fields.items():
                        setattr(row, name, value)
                    row.updated_at = utcnow()

    def _load(self, model: type[Any], record_id: str) -> Any:
        with self.db.reader() as session:
            return session.get(model, record_id)

    @staticmethod
    def _reason(exc: BaseException) -> str:
        return exc.message if isinstance(exc, OneStackError) else f"{type(exc).__name__}: {exc}"

    @staticmethod
    def _failed(what: str, record_id: str, request_id: str) -> None:
        """Log the exception being handled, with its traceback and the request id."""
        LOG.exception(what + " [%s]", record_id, request_id or "-")

    def _discard(self, remove: Callable[[str], None], record_id: str, request_id: str) -> None:
        """Remove a failed operation's partial bytes; a failure here is logged, not raised
        (the record's error status is what matters to the caller)."""
        try:
            remove(record_id)
        except Exception:
            self._failed("%s: removing partial data failed", record_id, request_id)

    def ping(self) -> str:
        return self.host

    def info(self) -> dict[str, Any]:
        info = self.backend.info()
        return {
            "driver": info.driver,
            "pool": info.pool,
            "filesystem": info.filesystem,
            "reflink": info.capabilities.reflink,
            "capabilities": asdict(info.capabilities),
            "total_capacity_gb": info.total_bytes // GiB,
            "free_capacity_gb": info.free_bytes // GiB,
            "notes": info.notes,
        }

    # -- volumes --------------------------------------------------------------

    def create_volume(self, volume_id: str, request_id: str = "") -> None:
        volume = self._load(Volume, volume_id)
        if volume is None or volume.status != states.CREATING:
            return
        size = volume.size * GiB
        try:
            if volume.snapshot_id:
                self.backend.create_from_snapshot(volume_id, volume.snapshot_id, size)
            elif volume.source_volid:
                self.backend.clone_volume(volume_id, volume.source_volid, size)
            elif volume.image_id:
                self._create_from_image(volume_id, volume.image_id, size, request_id)
            else:
                self.backend.create_volume(volume_id, size)
            if volume.backup_id:
                self._restore_into(volume.backup_id, volume_id)
        except Exception as exc:
            self._failed("volume %s: create failed", volume_id, request_id)
            self._discard(self.backend.delete_volume, volume_id, request_id)
            failed = {"status": states.ERROR, "fail_reason": self._reason(exc)}
            self._update_together(
                (Volume, volume_id, failed),
                *self._backup_freed(volume.backup_id),
            )
            return
        self._update_together(
            (Volume, volume_id, {"status": states.AVAILABLE, "launched_at": utcnow()}),
            *self._backup_freed(volume.backup_id),
        )

    def _create_from_image(self, volume_id: str, image_id: str, size: int, request_id: str) -> None:
        """The image's bytes in a new volume: a clone of the image's own volume when
        the image is raw and in the cinder store of this backend, else a copy."""
        images = self.images
        admin = RequestContext.admin()
        record = images.get_image(admin, image_id)
        disk_format = record.disk_format or "raw"
        if disk_format == "raw":
            for location in images.data_locations(admin, image_id):
                source = _image_volume(location.url) if location.store == "cinder" else None
                if source is None or not self.backend.volume_path(source).is_file():
                    continue
                LOG.info(
                    "[%s] volume %s: cloned from image volume %s", request_id, volume_id, source
                )
                self.backend.clone_volume(volume_id, source, size)
                return
        path = images.data_path(admin, image_id)
        self.backend.create_from_file(volume_id, path, disk_format, size)

    @staticmethod
    def _backup_freed(backup_id: str | None) -> list[tuple[type[Any], str, dict[str, Any]]]:
        return [(Backup, backup_id, {"status": states.AVAILABLE})] if backup_id else []

    def delete_volume(self, volume_id: str, request_id: str = "") -> None:
        try:
            self.backend.delete_volume(volume_id)
        except Exception:
            self._failed("volume %s: delete failed", volume_id, request_id)
            self._update(Volume, volume_id, status=states.ERROR_DELETING)
            return
        with self.db.writer() as session:
            session.execute(delete(Attachment).where(Attachment.volume_id == volume_id))
            session.execute(delete(Volume).where(Volume.id == volume_id))

    def extend_volume(self, volume_id: str, new_size: int, request_id: str = "") -> None:
        volume = self._load(Volume, volume_id)
        if volume is None:
            return
        back = states.IN_USE if volume.attach_status == states.ATTACHED else states.AVAILABLE
        try:
            self.backend.extend_volume(volume_id, new_size * GiB)
        except Exception:
            self._failed("volume %s: extend failed", volume_id, request_id)
            self._update(Volume, volume_id, status=states.ERROR_EXTENDING)
            return
        self._update(Volume, volume_id, status=back, size=new_size, previous_status=None)

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str, request_id: str = "") -> None:
        try:
            self.backend.revert_to_snapshot(volume_id, snapshot_id)
        except Exception:
            self._failed("volume %s: revert failed", volume_id, request_id)
            self._update_together(
                (Volume, volume_id, {"status": states.ERROR}),
                (Snapshot, snapshot_id, {"status": states.AVAILABLE}),
            )
            return
        self._update_together(
            (Volume, volume_id, {"status": states.AVAILABLE}),
            (Snapshot, snapshot_id, {"status": states.AVAILABLE}),
        )

    def upload_to_image(
        self,
        volume_id: str,
        project_id: str,
        user_id: str | None,
        name: str,
        disk_format: str,
        container_format: str,
        visibility: str,
        min_disk: int,
        properties: dict[str, str],
        request_id: str = "",
    ) -> str:
        """Copy the volume's bytes into a new active image; its id."""
        volume = self._load(Volume, volume_id)
        back = volume.previous_status if volume and volume.previous_status else states.AVAILABLE
        ctx = RequestContext(
            request_id=request_id or "volume-upload",
            user_id=user_id,
            project_id=project_id,
            roles=("member",),
        )
        path = self.backend.volume_path(volume_id)
        converted = path.with_name(f".upload-{volume_id}.{disk_format}")
        try:
            if disk_format != "raw":
                # the image holds the volume's bytes in the format asked for
                run(
                    "qemu-img",
                    "convert",
                    "-f",
                    "raw",
                    "-O",
                    QEMU_FORMATS.get(disk_format, disk_format),
                    str(path),
                    str(converted),
                    timeout=3600.0,
                )
            record = self.images.create_from_file(
                ctx,
                name,
                converted if disk_format != "raw" else path,
                disk_format=disk_format,
                container_format=container_format,
                properties=properties,
                visibility=visibility,
                min_disk=min_disk,
            )
        except Exception:
            self._failed("volume %s: upload to image failed", volume_id, request_id)
            raise
        finally:
            converted.unlink(missing_ok=True)
            self._update(Volume, volume_id, status=back, previous_status=None)
        return str(record.id)

    # -- exports (attachments) ----------------------------------------------

    def export(
        self, volume_id: str, attachment_id: str, readonly: bool, request_id: str = ""
    ) -> dict[str, Any]:
        """Expose the volume as a block device for one attachment; the connection info."""
        with self.db.reader() as session:
            attachment = session.get(Attachment, attachment_id)
            current = dict(attachment.connection_info or {}) if attachment else {}
        device = current.get("data", {}).get("device_path")
        if device and self.backend.exported(device, volume_id):
            return current
        device = self.backend.export(volume_id, readonly)
        block = self.backend.info().capabilities.block_devices
        info = {
            # "file": the export is the volume's file, not a block device (fake backend)
            "driver_volume_type": "local" if block else "file",
            "data": {
                "device_path": device,
                "volume_id": volume_id,
                "access_mode": "ro" if readonly else "rw",
                "attachment_id": attachment_id,
                "host": self.host,
            },
        }
        return info

    def unexport(self, device: str, request_id: str = "") -> None:
        self.backend.unexport(device)

    # -- snapshots ------------------------------------------------------------

    def create_snapshot(self, snapshot_id: str, request_id: str = "") -> None:
        snapshot = self._load(Snapshot, snapshot_id)
        if snapshot is None:
            return
        try:
            self.backend.create_snapshot(snapshot_id, snapshot.volume_id)
        except Exception:
            self._failed("snapshot %s: create failed", snapshot_id, request_id)
            self._discard(self.backend.delete_snapshot, snapshot_id, request_id)
            self._update(Snapshot, snapshot_id, status=states.ERROR)
            return
        self._update(Snapshot, snapshot_id, status=states.AVAILABLE, progress="100%")

    def delete_snapshot(self, snapshot_id: str, request_id: str = "") -> None:
        try:
            self.backend.delete_snapshot(snapshot_id)
        except Exception:
            self._failed("snapshot %s: delete failed", snapshot_id, request_id)
            self._update(Snapshot, snapshot_id, status=states.ERROR_DELETING)
            return
        with self.db.writer() as session:
            session.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))

    # -- backups --------------------------------------------------------------

    def create_backup(self, backup_id: str, request_id: str = "") -> None:
        backup = self._load(Backup, backup_id)
        if backup is None:
            return
        volume = self._load(Volume, backup.volume_id)
        back = volume.previous_status if volume and volume.previous_status else states.AVAILABLE
        temp_snapshot = f"backup-{backup_id}"
        try:
            if backup.snapshot_id:
                source_id = backup.snapshot_id
            else:  # a point-in-time copy, so an in-use volume backs up consistently
                self.backend.create_snapshot(temp_snapshot, backup.volume_id)
                source_id = temp_snapshot
            path = self.backend.snapshot_path(source_id)
            place = self._place(backup)
            parent = self._load(Backup, backup.parent_id) if backup.parent_id else None
            parent_key = self._data(parent)[0] if parent is not None else None
            metadata = dict(volume.metadata_) if volume is not None else {}
            result = self.backups.backup(backup_id, path, parent_key, place, metadata)
        except Exception as exc:
            self._failed("backup %s: failed", backup_id, request_id)
            self._update_together(
                (Volume, backup.volume_id, {"status": back, "previous_status": None}),
                (Backup, backup_id, {"status": states.ERROR, "fail_reason": self._reason(exc)}),
            )
            return
        finally:
            if not backup.snapshot_id:
                self._discard(self.backend.delete_snapshot, temp_snapshot, request_id)
        done = {
            "status": states.AVAILABLE,
            "object_count": result.object_count,
            "checksum": result.checksum,
            "container": self.backups.store.container_of(place),
            "service_metadata": {
                "service": self.backups.store.service_name,
                "project_id": backup.project_id,
                "backup_id": backup_id,
            },
        }
        self._update_together(
            (Volume, backup.volume_id, {"status": back, "previous_status": None}),
            (Backup, backup_id, done),
        )

    def _data(self, backup: Backup) -> tuple[str, BackupPlace]:
        """Where the backup's data is: the id it is stored under (another backup's for
        an imported record) and its place (that backup's project's account, its
        container)."""
        where = backup.service_metadata or {}
        project_id = where.get("project_id") or backup.project_id
        container = backup.container
        if container is not None and container == self.backups.store.container_of(
            BackupPlace(project_id)
        ):
            container = None
        return where.get("backup_id") or backup.id, BackupPlace(project_id, container)

    def _place(self, backup: Backup) -> BackupPlace:
        return self._data(backup)[1]

    def _restore_into(self, backup_id: str, volume_id: str) -> None:
        """Write the backup's bytes into the volume, and add the metadata the source
        volume had to the volume's (as Cinder restores it)."""
        backup = self._load(Backup, backup_id)
        if backup is None:
            raise InvalidBackup(reason=f"backup {backup_id} is gone")
        key, place = self._data(backup)
        metadata = self.backups.restore(key, self.backend.volume_path(volume_id), place)
        if metadata:
            with self.db.writer() as session:
                volume = session.get(Volume, volume_id)
                if volume is not None:
                    volume.metadata_ = {**volume.metadata_, **metadata}

    def restore_backup(self, backup_id: str, volume_id: str, request_id: str = "") -> None:
        try:
            self._restore_into(backup_id, volume_id)
        except Exception:
            self._failed("backup %s: restore failed", backup_id, request_id)
            self._update_together(
                (Volume, volume_id, {"status": states.ERROR_RESTORING}),
                (Backup, backup_id, {"status": states.AVAILABLE}),
            )
            return
        self._update_together(
            (Volume, volume_id, {"status": states.AVAILABLE}),
            (Backup, backup_id, {"status": states.AVAILABLE, "restore_volume_id": None}),
        )

    def import_backup(self, backup_id: str, request_id: str = "") -> None:
        """An imported record becomes available when this host's store keeps backups
        the way the record says and holds its data (its manifest); else error."""
        backup = self._load(Backup, backup_id)
        if backup is None:
            return
        where = backup.service_metadata or {}
        try:
            if where.get("service") != self.backups.store.service_name:
                raise InvalidBackup(
                    reason=f"this host's backups are kept by {self.backups.store.service_name}, "
                    f"not {where.get('service')}"
                )
            key, place = self._data(backup)
            self.backups.manifest(key, place)
        except Exception as exc:
            self._failed("backup %s: import failed", backup_id, request_id)
            self._update(Backup, backup_id, status=states.ERROR, fail_reason=self._reason(exc))
            return
        self._update(Backup, backup_id, status=states.AVAILABLE)

    def delete_backup(self, backup_id: str, request_id: str = "") -> None:
        try:
            backup = self._load(Backup, backup_id)
            if backup is not None:
                key, place = self._data(backup)
                self.backups.store.delete(place, key)
        except Exception:
            self._failed("backup %s: delete failed", backup_id, request_id)
            self._update(Backup, backup_id, status="error_deleting")
            return
        with self.db.writer() as session:
            session.execute(delete(Backup).where(Backup.id == backup_id))

    # -- start-up -------------------------------------------------------------

    def recover(self) -> None:
        """Finish what a crash interrupted: creating → error, deleting → retried."""
        with self.db.reader() as session:
            stuck = list(
                session.scalars(
                    select(Volume).where(
                        Volume.host.startswith(f"{self.host}@"),
                        Volume.status.in_((states.CREATING, states.DELETING)),
                    )
                )
            )
        for volume in stuck:
            if volume.status == states.DELETING:
                self.delete_volume(volume.id)
            else:
                self._discard(self.backend.delete_volume, volume.id, "recovery")
                self._update(Volume, volume.id, status=states.ERROR, fail_reason="interrupted")
