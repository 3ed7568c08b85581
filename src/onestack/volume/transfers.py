"""Volume transfers between projects.

The owner creates a transfer and receives a one-time ``auth_key`` (only
its salted hash is stored); the volume is ``awaiting-transfer`` until the
transfer is accepted (by any project that knows the id and key: the volume
and, unless ``no_snapshots``, its snapshots move to that project, within
its quota) or deleted (the volume is available again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.volume import states
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import (
    InvalidAuthKey,
    InvalidInput,
    InvalidVolume,
    TransferExists,
    TransferNotFound,
)
from onestack.volume.models import Snapshot, Transfer, Volume


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256((salt + key).encode()).hexdigest()


class TransferManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    def _get(self, session: Any, ctx: RequestContext, transfer_id: str) -> Transfer:
        transfer = session.get(Transfer, transfer_id)
        if transfer is None or not self.core.visible(ctx, transfer.source_project_id):
            raise TransferNotFound(transfer_id=transfer_id)
        return transfer

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> tuple[Transfer, str]:
        volume_id = data.get("volume_id")
        if not isinstance(volume_id, str) or not volume_id:
            raise InvalidInput(reason="volume_id is required")
        no_snapshots = bool(data.get("no_snapshots", False))
        key = secrets.token_hex(8)
        salt = secrets.token_hex(8)
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "transfer:create", volume.project_id)
            if volume.status != states.AVAILABLE:
                raise InvalidVolume(reason="status must be available")
            if session.scalar(select(Transfer).where(Transfer.volume_id == volume.id)):
                raise TransferExists(volume_id=volume.id)
            transfer = Transfer(
                id=new_id(),
                volume_id=volume.id,
                name=data.get("name"),
                source_project_id=volume.project_id,
                salt=salt,
                crypt_hash=_hash(salt, key),
                no_snapshots=no_snapshots,
                created_at=utcnow(),
            )
            session.add(transfer)
            volume.status = states.AWAITING_TRANSFER
        return transfer, key

    def get(self, ctx: RequestContext, transfer_id: str) -> Transfer:
        self.core.enforce(ctx, "transfer:get")
        with self.core.db.reader() as session:
            return self._get(session, ctx, transfer_id)

    def list(self, ctx: RequestContext, all_projects: bool) -> list[Transfer]:
        self.core.enforce(ctx, "transfer:get_all")
        stmt = select(Transfer).order_by(Transfer.created_at)
        if not (ctx.is_admin and all_projects):
            stmt = stmt.where(Transfer.source_project_id == (ctx.project_id or ""))
        with self.core.db.reader() as session:
            return list(session.scalars(stmt))

    def delete(self, ctx: RequestContext, transfer_id: str) -> None:
        with self.core.db.writer() as session:
            transfer = self._get(session, ctx, transfer_id)
            self.core.enforce(ctx, "transfer:delete", transfer.source_project_id)
            volume = session.get(Volume, transfer.volume_id)
            if volume is not None and volume.status == states.AWAITING_TRANSFER:
                volume.status = states.AVAILABLE
            session.delete(transfer)

    def accept(self, ctx: RequestContext, transfer_id: str, auth_key: Any) -> Transfer:
        if not isinstance(auth_key, str) or not auth_key:
            raise InvalidInput(reason="auth_key is required")
        project_id = ctx.project_id or ""
        with self.core.db.writer() as session:
            transfer = session.get(Transfer, transfer_id)
            if transfer is None:
                raise TransferNotFound(transfer_id=transfer_id)
            self.core.enforce(ctx, "transfer:accept", project_id)
            if not hmac.compare_digest(transfer.crypt_hash, _hash(transfer.salt, auth_key)):
                raise InvalidAuthKey(
                    reason=f"Attempt to transfer {transfer_id} with invalid auth key."
                )
            volume = session.get(Volume, transfer.volume_id)
            if volume is None:
                raise TransferNotFound(transfer_id=transfer_id)
            snapshots = list(
                session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id))
            )
            moving = [] if transfer.no_snapshots else snapshots
            gigabytes = volume.size + sum(s.size for s in moving)
            deltas = {"volumes": 1, "gigabytes": gigabytes}
            if moving:
                deltas["snapshots"] = len(moving)
            self.core.quotas.check(session, project_id, deltas)
            volume.project_id = project_id
            volume.user_id = ctx.user_id
            volume.status = states.AVAILABLE
            volume.updated_at = utcnow()
            for snapshot in moving:
                snapshot.project_id = project_id
                snapshot.user_id = ctx.user_id
            session.delete(transfer)
        return transfer
