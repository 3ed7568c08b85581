"""Volumes on a compute host: the agent's block devices (attach, detach, boot from volume).

The compute agent holds one :class:`BlockDevices`, built with the same
collaborators as the agent itself (database, host, driver, event recorder,
the per-instance locks) and the volume service's Protocol (the in-process
manager or its bus client).  Attach and detach reach it through the agent's
endpoint (``rpcapi.AgentEndpoint``).  Each operation runs under the
instance's lock, records an event of the request's instance action, and ends
consistent:

- attach: connect (the volume service exports the volume as a local block
  device), plug it into the instance as the mapping's device, complete the
  attachment.  On failure the device is unplugged, the attachment deleted,
  the mapping removed and a fault recorded: the volume is available again.
- detach: unplug the device, then tell the volume service (which releases
  the loop device), then remove the mapping.
- boot (``prepare_boot``, during the build): make the volumes the mappings
  ask for (image → volume), reserve, connect and complete each; the root
  volume's device becomes the instance's root filesystem.
- delete (``release``, after the driver destroyed the instance): detach every
  volume, delete those marked delete_on_termination.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from onestack.common.db import Database, utcnow
from onestack.compute import bdm as bdms
from onestack.compute.driver import AttachedVolume, ComputeDriver
from onestack.compute.exceptions import DriverError
from onestack.compute.instances import EventRecorder, add_fault
from onestack.compute.locks import InstanceLocks
from onestack.compute.models import BlockDeviceMapping, Instance

if TYPE_CHECKING:
    from onestack.volume.interface import VolumeService

LOG = logging.getLogger(__name__)


def _attached(row: BlockDeviceMapping) -> AttachedVolume | None:
    if not row.volume_id or not row.host_device:
        return None
    return AttachedVolume(
        volume_id=row.volume_id, device_name=row.device_name, host_device=row.host_device
    )


class BlockDevices:
    def __init__(
        self,
        db: Database,
        host: str,
        driver: ComputeDriver,
        events: EventRecorder,
        locks: InstanceLocks,
        volumes: VolumeService | None,
    ) -> None:
        self.db = db
        self.host = host
        self.driver = driver
        self.events = events
        self.locks = locks
        self.volumes = volumes

    def _volumes(self) -> VolumeService:
        if self.volumes is None:
            raise DriverError(reason="the volume service is not available")
        return self.volumes

    def _load(self, bdm_id: str) -> tuple[BlockDeviceMapping, Instance | None] | None:
        with self.db.reader() as session:
            row = session.get(BlockDeviceMapping, bdm_id)
            if row is None:
                return None
            return row, session.get(Instance, row.instance_id)

    def _update(self, bdm_id: str, **changes: Any) -> None:
        with self.db.writer() as session:
            row = session.get(BlockDeviceMapping, bdm_id)
            if row is not None:
                for key, value in changes.items():
                    setattr(row, key, value)
                row.updated_at = utcnow()

    def _forget(self, bdm_id: str) -> None:
        with self.db.writer() as session:
            row = session.get(BlockDeviceMapping, bdm_id)
            if row is not None:
                session.delete(row)

    # -- hooks the agent calls (under the instance's lock) ----------------------

    def spec_fields(self, instance_id: str) -> dict[str, Any]:
        """``volumes`` and ``root_device`` of the instance's InstanceSpec."""
        with self.db.reader() as session:
            rows = bdms.mappings_of(session, instance_id)
        root = next((r for r in rows if r.boot_index == 0), None)
        attached = [_attached(r) for r in rows if r.boot_index != 0 and r.status == "attached"]
        return {
            "volumes": tuple(v for v in attached if v is not None),
            "root_device": root.host_device if root is not None else None,
        }

    def reconnect(self, instance: Instance, request_id: str = "") -> None:
        """Export the instance's attached volumes to this host again (their devices went
        away: a whole-cloud restore released them) and record the new devices."""
        with self.db.reader() as session:
            rows = bdms.mappings_of(session, instance.id)
        attached = [r for r in rows if r.status == "attached" and r.attachment_id]
        if not attached:
            return
        volumes = self._volumes()
        ctx = bdms.owner_context(instance, request_id)
        for row in attached:
            assert row.attachment_id is not None
            conn = volumes.connect(ctx, row.attachment_id, self.host, row.device_name)
            self._update(row.id, host_device=conn.device_path)

    def prepare_boot(self, instance_id: str, request_id: str = "") -> None:
        """Create, reserve and connect the volumes a new instance boots with."""
        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            rows = bdms.mappings_of(session, instance_id)
        pending = [r for r in rows if r.status != "attached"]
        if instance is None or not pending:
            return
        volumes = self._volumes()
        ctx = bdms.owner_context(instance, request_id)
        for row in pending:
            volume_id = row.volume_id
            if volume_id is None and row.source_type == "image" and row.image_id:
                volume = volumes.create_from_image(
                    ctx, row.image_id, int(row.volume_size or 1), name=None
                )
                volume_id = volume.id
                self._update(row.id, volume_id=volume_id)
            if volume_id is None:
                raise DriverError(reason=f"block device {row.device_name} has no volume")
            attachment_id = row.attachment_id
            if attachment_id is None:
                attachment_id = volumes.reserve(ctx, volume_id, instance_id).id
                self._update(row.id, attachment_id=attachment_id)
            conn = volumes.connect(ctx, attachment_id, self.host, row.device_name)
            volumes.complete(ctx, attachment_id)
            self._update(row.id, host_device=conn.device_path, status="attached")

    def release(self, instance_id: str, request_id: str = "") -> None:
        """After the instance was destroyed and marked deleted: free its volumes."""
        bdms.release(self.db, self.volumes, instance_id, request_id)

    # -- attach and detach (AgentEndpoint) ---------------------------------------

    def attach_volume(self, bdm_id: str, request_id: str) -> None:
        loaded = self._load(bdm_id)
        if loaded is None:
            return
        row, instance = loaded
        with self.locks(row.instance_id):
            loaded = self._load(bdm_id)
            if loaded is None:
                return  # detached meanwhile
            row, instance = loaded
            if instance is None or instance.deleted or row.attachment_id is None:
                self._rollback(row, instance, None, request_id)
                return
            try:
                with self.events.event(instance.id, request_id, "compute_attach_volume"):
                    self._attach(row, instance, request_id)
            except Exception as exc:
                LOG.exception(
                    "[%s] attaching volume %s to %s failed", request_id, row.volume_id, instance.id
                )
                self._rollback(row, instance, exc, request_id)

    def _attach(self, row: BlockDeviceMapping, instance: Instance, request_id: str) -> None:
        assert row.attachment_id is not None and row.volume_id is not None
        volumes = self._volumes()
        ctx = bdms.owner_context(instance, request_id)
        conn = volumes.connect(ctx, row.attachment_id, self.host, row.device_name)
        self._update(row.id, host_device=conn.device_path)
        device = AttachedVolume(
            volume_id=row.volume_id,
            device_name=row.device_name,
            host_device=conn.device_path,
            read_only=conn.access_mode == "ro",
        )
        self.driver.attach_volume(instance.id, device)
        try:
            volumes.complete(ctx, row.attachment_id)
        except BaseException:
            self.driver.detach_volume(instance.id, device)
            raise
        self._update(row.id, status="attached")

    def _rollback(
        self,
        row: BlockDeviceMapping,
        instance: Instance | None,
        exc: BaseException | None,
        request_id: str,
    ) -> None:
        volumes = self.volumes
        if volumes is not None and row.attachment_id and instance is not None:
            try:
                volumes.detach(bdms.owner_context(instance, request_id), row.attachment_id)
            except Exception:
                LOG.exception(
                    "[%s] could not release the attachment of volume %s", request_id, row.volume_id
                )
        self._forget(row.id)
        if exc is not None and instance is not None:
            with self.db.writer() as session:
                add_fault(session, instance.id, exc, self.host)

    def detach_volume(self, bdm_id: str, request_id: str) -> None:
        loaded = self._load(bdm_id)
        if loaded is None:
            return
        row, _ = loaded
        with self.locks(row.instance_id):
            loaded = self._load(bdm_id)
            if loaded is None:
                return
            row, instance = loaded
            try:
                with self.events.event(row.instance_id, request_id, "compute_detach_volume"):
                    self._detach(row, instance, request_id)
            except Exception as exc:
                LOG.exception(
                    "[%s] detaching volume %s from %s failed",
                    request_id,
                    row.volume_id,
                    row.instance_id,
                )
                self._update(row.id, status="attached")
                if instance is not None:
                    with self.db.writer() as session:
                        add_fault(session, instance.id, exc, self.host)

    def _detach(self, row: BlockDeviceMapping, instance: Instance | None, request_id: str) -> None:
        device = _attached(row)
        if device is not None and instance is not None and not instance.deleted:
            self.driver.detach_volume(instance.id, device)
        volumes = self._volumes()
        if row.attachment_id and instance is not None:
            volumes.detach(bdms.owner_context(instance, request_id), row.attachment_id)
        self._forget(row.id)
