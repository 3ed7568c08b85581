"""What every part of the volume service shares: the database, policy,
settings, quotas, the agents on the bus, and lookups with tenant isolation.

A project sees only its own records; an administrator may read and act on
any project's by id (and list them with ``all_tenants``).  A record of
another project is reported as not found, never as forbidden.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.faults import FaultStore
from onestack.common.policy import Enforcer
from onestack.volume.conf import VolumeSettings
from onestack.volume.exceptions import (
    AttachmentNotFound,
    BackupNotFound,
    SnapshotNotFound,
    VolumeNotFound,
)
from onestack.volume.models import Attachment, Backup, Snapshot, Volume
from onestack.volume.quotas import VolumeQuotas
from onestack.volume.rpcapi import VolumeAgentAPI

if TYPE_CHECKING:
    from onestack.image.interface import ImageService
    from onestack.neighbours import Neighbours

GiB = 1024**3


def new_id() -> str:
    return str(uuid.uuid4())


class VolumeCore:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: VolumeSettings,
        agents: VolumeAgentAPI,
        neighbours: Neighbours,
    ) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings
        self.agents = agents
        self.neighbours = neighbours
        self.quotas = VolumeQuotas(settings)
        #: injected faults (volume and backup creation, volume services down)
        self.faults = FaultStore(db)

    @property
    def images(self) -> ImageService:
        """The image service (volumes from images); 503 when it does not run."""
        return self.neighbours.require(self.neighbours.image, "image")

    def enforce(self, ctx: RequestContext, action: str, project_id: str | None = None) -> None:
        self.enforcer.enforce(ctx, action, {"project_id": project_id or ctx.project_id})

    @staticmethod
    def visible(ctx: RequestContext, project_id: str) -> bool:
        return ctx.is_admin or project_id == ctx.project_id

    def volume(self, session: Session, ctx: RequestContext, volume_id: str) -> Volume:
        volume = session.get(Volume, volume_id)
        if volume is None or not self.visible(ctx, volume.project_id):
            raise VolumeNotFound(volume_id=volume_id)
        return volume

    def snapshot(self, session: Session, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        snapshot = session.get(Snapshot, snapshot_id)
        if snapshot is None or not self.visible(ctx, snapshot.project_id):
            raise SnapshotNotFound(snapshot_id=snapshot_id)
        return snapshot

    def backup(self, session: Session, ctx: RequestContext, backup_id: str) -> Backup:
        backup = session.get(Backup, backup_id)
        if backup is None or not self.visible(ctx, backup.project_id):
            raise BackupNotFound(backup_id=backup_id)
        return backup

    def attachment(self, session: Session, ctx: RequestContext, attachment_id: str) -> Attachment:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or not self.visible(ctx, attachment.project_id):
            raise AttachmentNotFound(attachment_id=attachment_id)
        return attachment
