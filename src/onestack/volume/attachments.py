"""Attaching volumes: the attachments API (3.27+) and the legacy actions Nova
uses (os-reserve, os-initialize_connection, os-attach, os-begin_detaching,
os-terminate_connection, os-detach), on one set of records.

An attachment goes reserved → attaching (a connector was given: the agent
exported the volume as a local block device, whose path is in
``connection_info``) → attached (complete / os-attach).  The volume is
``reserved``/``attaching`` meanwhile, ``in-use`` while any attachment is
attached, and ``available`` again when the last one is gone.  A volume
that is not multiattach takes one attachment at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.volume import states
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import InvalidAttachment, InvalidInput, InvalidVolume
from onestack.volume.models import Attachment, Volume

LIVE = (
    states.ATTACHMENT_RESERVED,
    states.ATTACHMENT_ATTACHING,
    states.ATTACHED,
    states.ATTACHMENT_DETACHING,
)


def _live(session: Session, volume_id: str) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(
                Attachment.volume_id == volume_id, Attachment.attach_status.in_(LIVE)
            )
        )
    )


def _settle(session: Session, volume: Volume) -> None:
    """The volume's status from its attachments."""
    live = _live(session, volume.id)
    if any(a.attach_status == states.ATTACHED for a in live):
        volume.status, volume.attach_status = states.IN_USE, states.ATTACHED
    elif live:
        volume.status, volume.attach_status = states.RESERVED, states.DETACHED
    else:
        volume.status, volume.attach_status = states.AVAILABLE, states.DETACHED
    volume.updated_at = utcnow()


class AttachmentManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    # -- shared steps ---------------------------------------------------------

    def _reserve(
        self,
        session: Session,
        ctx: RequestContext,
        volume: Volume,
        instance_uuid: str | None,
        mode: str,
        volume_status: str,
    ) -> Attachment:
        if mode not in ("rw", "ro"):
            raise InvalidInput(reason=f"Invalid attach mode {mode!r}: must be rw or ro.")
        live = _live(session, volume.id)
        ok = volume.status in states.ATTACHABLE and not live
        if volume.multiattach and volume.status in (
            states.IN_USE,
            states.RESERVED,
            states.ATTACHING,
            states.AVAILABLE,
        ):
            ok = True
        if not ok:
            statuses = "available or in-use (multiattach)" if volume.multiattach else "available"
            raise InvalidVolume(
                reason=f"Volume {volume.id} status must be {statuses} to reserve, but the "
                f"current status is {volume.status}."
            )
        if volume.readonly and mode == "rw":
            mode = "ro"
        attachment = Attachment(
            id=new_id(),
            volume_id=volume.id,
            project_id=volume.project_id,
            instance_uuid=instance_uuid,
            attach_mode=mode,
            attach_status=states.ATTACHMENT_RESERVED,
            created_at=utcnow(),
        )
        session.add(attachment)
        if volume.status != states.IN_USE:
            volume.status = volume_status
        volume.updated_at = utcnow()
        return attachment

    def _export(self, ctx: RequestContext, attachment_id: str, connector: Any) -> Attachment:
        if not isinstance(connector, dict):
            raise InvalidInput(reason="connector must be an object")
        with self.core.db.reader() as session:
            attachment = self.core.attachment(session, ctx, attachment_id)
            volume = self.core.volume(session, ctx, attachment.volume_id)
        if attachment.attach_status not in (
            states.ATTACHMENT_RESERVED,
            states.ATTACHMENT_ATTACHING,
            states.ATTACHED,
        ):
            raise InvalidAttachment(reason=f"attachment is {attachment.attach_status}")
        info = self.core.agents.export(
            ctx, volume.host, volume.id, attachment.id, readonly=attachment.attach_mode == "ro"
        )
        device = info.get("data", {}).get("device_path")
        try:
            with self.core.db.writer() as session:
                attachment = self.core.attachment(session, ctx, attachment_id)
                attachment.connector = connector
                attachment.connection_info = info
                attachment.attached_host = connector.get("host")
                if connector.get("mountpoint"):
                    attachment.mountpoint = str(connector["mountpoint"])
                if attachment.attach_status == states.ATTACHMENT_RESERVED:
                    attachment.attach_status = states.ATTACHMENT_ATTACHING
                attachment.updated_at = utcnow()
                volume = self.core.volume(session, ctx, attachment.volume_id)
                if volume.status in (states.RESERVED, states.AVAILABLE):
                    volume.status = states.ATTACHING
        except BaseException:
            if device and not (attachment.connection_info or {}).get("data"):
                self.core.agents.unexport(ctx, volume.host, device)
            raise
        return attachment

    def _unexport(self, ctx: RequestContext, volume: Volume, attachment: Attachment) -> None:
        device = (attachment.connection_info or {}).get("data", {}).get("device_path")
        if device:
            self.core.agents.unexport(ctx, volume.host, device)

    # -- attachments API ------------------------------------------------------

    def create(
        self,
        ctx: RequestContext,
        volume_id: str,
        instance_uuid: str | None,
        connector: Any,
        mode: str,
    ) -> Attachment:
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "attachment:create", volume.project_id)
            attachment = self._reserve(session, ctx, volume, instance_uuid, mode, states.RESERVED)
        if connector:
            attachment = self._export(ctx, attachment.id, connector)
        return attachment

    def get(self, ctx: RequestContext, attachment_id: str) -> Attachment:
        with self.core.db.reader() as session:
            attachment = self.core.attachment(session, ctx, attachment_id)
        self.core.enforce(ctx, "attachment:get", attachment.project_id)
        return attachment

    def list_attachments(self, ctx: RequestContext, query: dict[str, str]) -> list[Attachment]:
        self.core.enforce(ctx, "attachment:get_all")
        stmt = select(Attachment).where(Attachment.attach_status.in_(LIVE))
        if not (ctx.is_admin and query.get("all_tenants") in ("1", "true", "True")):
            stmt = stmt.where(Attachment.project_id == (ctx.project_id or ""))
        for name, column in (
            ("volume_id", Attachment.volume_id),
            ("instance_id", Attachment.instance_uuid),
            ("status", Attachment.attach_status),
        ):
            if query.get(name):
                stmt = stmt.where(column == query[name])
        with self.core.db.reader() as session:
            return list(session.scalars(stmt.order_by(Attachment.created_at.desc())))

    def update(self, ctx: RequestContext, attachment_id: str, connector: Any) -> Attachment:
        attachment = self.get(ctx, attachment_id)
        self.core.enforce(ctx, "attachment:update", attachment.project_id)
        return self._export(ctx, attachment_id, connector)

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        with self.core.db.writer() as session:
            attachment = self.core.attachment(session, ctx, attachment_id)
            self.core.enforce(ctx, "attachment:complete", attachment.project_id)
            if not attachment.connection_info:
                raise InvalidAttachment(
                    reason="attachment has no connector yet (update it with a connector first)"
                )
            attachment.attach_status = states.ATTACHED
            attachment.attach_time = attachment.attach_time or utcnow()
            volume = self.core.volume(session, ctx, attachment.volume_id)
            _settle(session, volume)

    def delete(self, ctx: RequestContext, attachment_id: str) -> list[Attachment]:
        with self.core.db.reader() as session:
            attachment = self.core.attachment(session, ctx, attachment_id)
            volume = self.core.volume(session, ctx, attachment.volume_id)
        self.core.enforce(ctx, "attachment:delete", attachment.project_id)
        self._unexport(ctx, volume, attachment)
        with self.core.db.writer() as session:
            row = session.get(Attachment, attachment_id)
            if row is not None:
                session.delete(row)
                session.flush()
            volume = self.core.volume(session, ctx, volume.id)
            _settle(session, volume)
            return _live(session, volume.id)

    # -- legacy actions -------------------------------------------------------

    def _volume(self, session: Session, ctx: RequestContext, volume_id: str, rule: str) -> Volume:
        volume = self.core.volume(session, ctx, volume_id)
        self.core.enforce(ctx, rule, volume.project_id)
        return volume

    def reserve(self, ctx: RequestContext, volume_id: str) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:reserve")
            self._reserve(session, ctx, volume, None, "rw", states.ATTACHING)

    def unreserve(self, ctx: RequestContext, volume_id: str) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:unreserve")
            for attachment in _live(session, volume.id):
                if attachment.attach_status == states.ATTACHMENT_RESERVED:
                    session.delete(attachment)
            session.flush()
            _settle(session, volume)

    def _pending(self, session: Session, volume: Volume) -> Attachment | None:
        for attachment in _live(session, volume.id):
            if attachment.attach_status in (
                states.ATTACHMENT_RESERVED,
                states.ATTACHMENT_ATTACHING,
            ):
                return attachment
        return None

    def initialize_connection(
        self, ctx: RequestContext, volume_id: str, connector: Any
    ) -> dict[str, Any]:
        if not isinstance(connector, dict):
            raise InvalidInput(reason="connector must be an object")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:initialize_connection")
            pending = self._pending(session, volume)
            if pending is None:
                pending = self._reserve(session, ctx, volume, None, "rw", states.ATTACHING)
        attachment = self._export(ctx, pending.id, connector)
        return dict(attachment.connection_info or {})

    def attach(
        self,
        ctx: RequestContext,
        volume_id: str,
        instance_uuid: str | None,
        mountpoint: str | None,
        mode: str,
        host_name: str | None,
    ) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:attach")
            attachment = self._pending(session, volume)
            if attachment is None:
                attachment = self._reserve(
                    session, ctx, volume, instance_uuid, mode, states.ATTACHING
                )
            attachment.instance_uuid = instance_uuid or attachment.instance_uuid
            attachment.mountpoint = mountpoint or attachment.mountpoint
            attachment.attached_host = host_name or attachment.attached_host
            attachment.attach_mode = mode if mode in ("rw", "ro") else attachment.attach_mode
            attachment.attach_status = states.ATTACHED
            attachment.attach_time = utcnow()
            session.flush()
            _settle(session, volume)

    def begin_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:begin_detaching")
            if volume.status != states.IN_USE or volume.attach_status != states.ATTACHED:
                raise InvalidVolume(
                    reason="Unable to detach volume. Volume status must be "
                    "'in-use' and attach_status must be 'attached' to detach."
                )
            volume.status = states.DETACHING

    def roll_detaching(self, ctx: RequestContext, volume_id: str) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:roll_detaching")
            if volume.status == states.DETACHING:
                _settle(session, volume)

    def terminate_connection(self, ctx: RequestContext, volume_id: str, connector: Any) -> None:
        if not isinstance(connector, dict):
            raise InvalidInput(reason="connector must be an object")
        with self.core.db.reader() as session:
            volume = self._volume(session, ctx, volume_id, "volume:terminate_connection")
            targets = [
                a
                for a in _live(session, volume.id)
                if a.connection_info and connector.get("host") in (None, a.attached_host)
            ]
        for attachment in targets:
            self._unexport(ctx, volume, attachment)
        with self.core.db.writer() as session:
            for attachment in targets:
                row = session.get(Attachment, attachment.id)
                if row is not None:
                    row.connection_info = None

    def detach(self, ctx: RequestContext, volume_id: str, attachment_id: str | None) -> None:
        with self.core.db.reader() as session:
            volume = self._volume(session, ctx, volume_id, "volume:detach")
            live = _live(session, volume.id)
        if attachment_id:
            chosen = [a for a in live if a.id == attachment_id]
            if not chosen:
                raise InvalidVolume(reason=f"Attachment {attachment_id} is not on the volume.")
        elif len(live) > 1:
            raise InvalidVolume(
                reason="Detach volume failed: the volume has several "
                "attachments; attachment_id is required."
            )
        else:
            chosen = live
        for attachment in chosen:
            self._unexport(ctx, volume, attachment)
        with self.core.db.writer() as session:
            for attachment in chosen:
                row = session.get(Attachment, attachment.id)
                if row is not None:
                    session.delete(row)
            session.flush()
            _settle(session, self.core.volume(session, ctx, volume_id))
