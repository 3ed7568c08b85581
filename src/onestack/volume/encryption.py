"""Encryption types of volume types (Cinder's ``/types/{id}/encryption``,
administrators only).

A volume type has at most one encryption type: a ``provider`` (the encryptor,
such as ``luks``), a ``cipher``, a ``key_size`` in bits and a
``control_location`` (``front-end``: the hypervisor encrypts; ``back-end``:
the storage does).  As in Cinder, an encryption type cannot be created,
changed or removed while volumes of the type exist.

Limits: onestack has no key manager and its backends write plain bytes, so it
cannot encrypt a volume's data.  Rather than report a volume as encrypted that
is not, creating a volume of a type with an encryption type is refused
(``check_can_create``); the encryption types themselves are kept and shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import NotSupported
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import (
    InvalidInput,
    VolumeTypeEncryptionExists,
    VolumeTypeEncryptionNotFound,
)
from onestack.volume.models import Volume, VolumeType, VolumeTypeEncryption
from onestack.volume.voltypes import VolumeTypeManager

CONTROL_LOCATIONS = ("front-end", "back-end")
FIELDS = ("provider", "cipher", "key_size", "control_location")
MAX_INT = 0x7FFFFFFF


def _checked(values: dict[str, Any], create: bool) -> dict[str, Any]:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(reason=f"Additional properties are not allowed: {', '.join(unknown)}")
    if create:
        for required in ("provider", "control_location"):
            if required not in values:
                raise InvalidInput(reason=f"{required} must be defined")
    out = dict(values)
    if "provider" in out and (not isinstance(out["provider"], str) or len(out["provider"]) > 255):
        raise InvalidInput(reason="provider must be a string of at most 255 characters")
    cipher = out.get("cipher")
    if cipher is not None and (not isinstance(cipher, str) or len(cipher) > 255):
        raise InvalidInput(reason="cipher must be a string of at most 255 characters")
    if "control_location" in out and out["control_location"] not in CONTROL_LOCATIONS:
        raise InvalidInput(reason=f"Valid control location are: {', '.join(CONTROL_LOCATIONS)}")
    if out.get("key_size") is not None:
        size = out["key_size"]
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_INT:
            raise InvalidInput(reason=f"key_size must be an integer between 0 and {MAX_INT}")
        out["key_size"] = size
    return out


def as_dict(row: VolumeTypeEncryption) -> dict[str, Any]:
    return {
        "volume_type_id": row.volume_type_id,
        "encryption_id": row.encryption_id,
        "provider": row.provider,
        "cipher": row.cipher,
        "key_size": row.key_size,
        "control_location": row.control_location,
    }


class EncryptionTypeManager:
    def __init__(self, core: VolumeCore, types: VolumeTypeManager) -> None:
        self.core = core
        self.types = types

    def _enforce(self, ctx: RequestContext, action: str) -> None:
        self.core.enforce(ctx, f"volume_extension:volume_type_encryption:{action}")

    @staticmethod
    def _of(session: Session, type_id: str) -> VolumeTypeEncryption | None:
        stmt = select(VolumeTypeEncryption).where(VolumeTypeEncryption.volume_type_id == type_id)
        return session.scalar(stmt)

    @staticmethod
    def _in_use(session: Session, type_id: str) -> bool:
        stmt = select(func.count()).select_from(Volume).where(Volume.volume_type_id == type_id)
        return bool(session.scalar(stmt))

    def _type(self, session: Session, ctx: RequestContext, type_id: str) -> VolumeType:
        return self.types.find(session, ctx, type_id)

    def get(self, ctx: RequestContext, type_id: str) -> VolumeTypeEncryption | None:
        """The type's encryption type; None when it has none."""
        self._enforce(ctx, "get")
        with self.core.db.reader() as session:
            vtype = self._type(session, ctx, type_id)
            return self._of(session, vtype.id)

    def create(
        self, ctx: RequestContext, type_id: str, values: dict[str, Any]
    ) -> VolumeTypeEncryption:
        self._enforce(ctx, "create")
        checked = _checked(values, create=True)
        with self.core.db.writer() as session:
            vtype = self._type(session, ctx, type_id)
            if self._in_use(session, vtype.id):
                raise InvalidInput(reason="Cannot create encryption specs. Volume type in use.")
            if self._of(session, vtype.id) is not None:
                raise VolumeTypeEncryptionExists(type_id=type_id)
            row = VolumeTypeEncryption(
                encryption_id=new_id(),
                volume_type_id=vtype.id,
                provider=checked["provider"],
                cipher=checked.get("cipher"),
                key_size=checked.get("key_size"),
                control_location=checked["control_location"],
            )
            session.add(row)
        return row

    def update(self, ctx: RequestContext, type_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change fields of the type's encryption type; returns what was set."""
        self._enforce(ctx, "update")
        checked = _checked(values, create=False)
        with self.core.db.writer() as session:
            vtype = self._type(session, ctx, type_id)
            if self._in_use(session, vtype.id):
                raise InvalidInput(reason="Cannot update encryption specs. Volume type in use.")
            row = self._of(session, vtype.id)
            if row is None:
                raise VolumeTypeEncryptionNotFound(type_id=type_id)
            for key, value in checked.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
        return checked

    def delete(self, ctx: RequestContext, type_id: str) -> None:
        self._enforce(ctx, "delete")
        with self.core.db.writer() as session:
            vtype = self._type(session, ctx, type_id)
            row = self._of(session, vtype.id)
            if row is None:
                raise VolumeTypeEncryptionNotFound(type_id=type_id)
            if self._in_use(session, vtype.id):
                raise InvalidInput(reason="Cannot delete encryption specs. Volume type in use.")
            session.delete(row)

    @classmethod
    def check_can_create(cls, session: Session, vtype: VolumeType) -> None:
        """Refuse a volume of an encrypted type: its data could not be encrypted."""
        row = cls._of(session, vtype.id)
        if row is not None:
            raise NotSupported(
                operation=f"Encrypted volumes (volume type {vtype.name} has encryption "
                f"provider {row.provider}; this cloud cannot encrypt volume data)"
            )
