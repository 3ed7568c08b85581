"""The volume service: its managers, and the public interface compute uses
(``interface.VolumeService``), as ``cloud.neighbours.volume``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.volume import states
from onestack.volume.actions import VolumeActions
from onestack.volume.attachments import LIVE, AttachmentManager
from onestack.volume.backups.manager import BackupManager
from onestack.volume.conf import VolumeSettings
from onestack.volume.core import VolumeCore
from onestack.volume.encryption import EncryptionTypeManager
from onestack.volume.exceptions import AttachmentNotFound, InvalidVolume
from onestack.volume.interface import (
    AttachmentInfo,
    ConnectionInfo,
    SnapshotRecord,
    VolumeInfo,
    VolumeRecord,
)
from onestack.volume.models import Attachment, Volume
from onestack.volume.nova_proxy import NovaVolumeProxy
from onestack.volume.pools import PoolManager
from onestack.volume.qos import QosSpecsManager
from onestack.volume.quota_sets import QuotaSetManager
from onestack.volume.rpcapi import LoopBridge, VolumeAgentAPI
from onestack.volume.services import ServiceManager
from onestack.volume.snapshots import SnapshotManager
from onestack.volume.transfers import TransferManager
from onestack.volume.voltypes import VolumeTypeManager
from onestack.volume.volumes import VolumeManager

if TYPE_CHECKING:
    from onestack.common.bus import Bus
    from onestack.neighbours import Neighbours


def _volume_info(volume: Volume) -> VolumeInfo:
    return VolumeInfo(
        id=volume.id,
        project_id=volume.project_id,
        name=volume.name,
        size=volume.size,
        status=volume.status,
        attach_status=volume.attach_status,
        bootable=volume.bootable,
        multiattach=volume.multiattach,
        availability_zone=volume.availability_zone,
        host=volume.host,
        image_id=(volume.image_metadata or {}).get("image_id"),
    )


def _attachment_info(attachment: Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=attachment.id,
        volume_id=attachment.volume_id,
        instance_uuid=attachment.instance_uuid,
        status=attachment.attach_status,
        mode=attachment.attach_mode,
        mountpoint=attachment.mountpoint,
    )


class VolumeService:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: VolumeSettings,
        bus: Bus,
        neighbours: Neighbours,
    ) -> None:
        self.bridge = LoopBridge()
        self.core = VolumeCore(db, enforcer, settings, VolumeAgentAPI(bus, self.bridge), neighbours)
        self.types = VolumeTypeManager(self.core)
        self.services = ServiceManager(self.core)
        self.volumes = VolumeManager(self.core, self.types, self.services)
        self.actions = VolumeActions(self.core, self.types, self.services)
        self.attachments = AttachmentManager(self.core)
        self.snapshots = SnapshotManager(self.core)
        self.backups = BackupManager(self.core, self.types)
        self.transfers = TransferManager(self.core)
        self.quota_sets = QuotaSetManager(self.core)
        self.qos = QosSpecsManager(self.core)
        self.encryption = EncryptionTypeManager(self.core, self.types)
        self.pools = PoolManager(self.core, self.services)
        #: what Nova's proxy APIs use (interface.VolumeProxyService)
        self.nova_proxy = NovaVolumeProxy(self.volumes, self.snapshots)
        #: this host's agent side while the server runs (service.VolumeHost)
        self.runtime: Any = None

    # -- the public interface (interface.VolumeService) -----------------------

    def get_volume(self, ctx: RequestContext, volume_id: str) -> VolumeInfo:
        return _volume_info(self.volumes.get(ctx, volume_id))

    def reserve(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> AttachmentInfo:
        return _attachment_info(self.attachments.create(ctx, volume_id, instance_uuid, None, mode))

    def connect(
        self, ctx: RequestContext, attachment_id: str, host: str, mountpoint: str | None = None
    ) -> ConnectionInfo:
        connector: dict[str, Any] = {"host": host}
        if mountpoint:
            connector["mountpoint"] = mountpoint
        attachment = self.attachments.update(ctx, attachment_id, connector)
        data = (attachment.connection_info or {}).get("data", {})
        return ConnectionInfo(
            attachment_id=attachment.id,
            volume_id=attachment.volume_id,
            driver_volume_type=(attachment.connection_info or {}).get("driver_volume_type", ""),
            device_path=str(data.get("device_path", "")),
            access_mode=str(data.get("access_mode", attachment.attach_mode)),
            host=str(data.get("host", "")),
        )

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        self.attachments.complete(ctx, attachment_id)

    def detach(self, ctx: RequestContext, attachment_id: str) -> None:
        try:
            self.attachments.delete(ctx, attachment_id)
        except AttachmentNotFound:
            return

    def attachments_of(self, ctx: RequestContext, instance_uuid: str) -> list[AttachmentInfo]:
        with self.core.db.reader() as session:
            rows = session.scalars(
                select(Attachment).where(
                    Attachment.instance_uuid == instance_uuid, Attachment.attach_status.in_(LIVE)
                )
            )
            return [_attachment_info(a) for a in rows if self.core.visible(ctx, a.project_id)]

    def create_from_image(
        self,
        ctx: RequestContext,
        image_id: str,
        size: int,
        name: str | None = None,
        timeout: float = 600.0,
    ) -> VolumeInfo:
        volume = self.volumes.create(ctx, {"imageRef": image_id, "size": size, "name": name})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.volumes.get(ctx, volume.id)
            if current.status == states.AVAILABLE:
                return _volume_info(current)
            if current.status == states.ERROR:
                raise InvalidVolume(
                    reason=f"volume {volume.id} from image {image_id} failed: {current.fail_reason}"
                )
            time.sleep(0.2)
        raise InvalidVolume(reason=f"volume {volume.id} was not ready within {timeout} seconds")

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        self.volumes.delete(ctx, volume_id, cascade=False, force=False)

    # -- Nova's proxy APIs (interface.VolumeProxyService) ----------------------
    # (delete_volume above serves both interfaces)

    def list_volumes(self, ctx: RequestContext) -> list[VolumeRecord]:
        return self.nova_proxy.list_volumes(ctx)

    def show_volume(self, ctx: RequestContext, volume_id: str) -> VolumeRecord:
        return self.nova_proxy.show_volume(ctx, volume_id)

    def create_volume(
        self,
        ctx: RequestContext,
        size: object,
        *,
        name: str | None = None,
        description: str | None = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        snapshot_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> VolumeRecord:
        return self.nova_proxy.create_volume(
            ctx,
            size,
            name=name,
            description=description,
            volume_type=volume_type,
            availability_zone=availability_zone,
            snapshot_id=snapshot_id,
            metadata=metadata,
        )

    def list_snapshots(self, ctx: RequestContext) -> list[SnapshotRecord]:
        return self.nova_proxy.list_snapshots(ctx)

    def show_snapshot(self, ctx: RequestContext, snapshot_id: str) -> SnapshotRecord:
        return self.nova_proxy.show_snapshot(ctx, snapshot_id)

    def create_snapshot(
        self,
        ctx: RequestContext,
        volume_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        force: bool = False,
    ) -> SnapshotRecord:
        return self.nova_proxy.create_snapshot(
            ctx, volume_id, name=name, description=description, force=force
        )

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        self.nova_proxy.delete_snapshot(ctx, snapshot_id)


if TYPE_CHECKING:
    from onestack.volume.interface import VolumeProxyService
    from onestack.volume.interface import VolumeService as VolumeServiceProtocol

    def _implements_the_protocol(manager: VolumeService) -> VolumeServiceProtocol:
        return manager

    def _implements_the_proxy_protocol(manager: VolumeService) -> VolumeProxyService:
        return manager
