"""Volume types, their extra specs and their project access lists.

``__DEFAULT__`` always exists.  A private type is visible to the projects on
its access list (and to administrators).  Extra specs a user may see are the
ones Cinder shows to users (``multiattach``, ``RESKEY:availability_zones``,
``replication_enabled``); administrators see all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, is_duplicate, utcnow
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import (
    InvalidVolumeType,
    VolumeTypeAccessExists,
    VolumeTypeAccessNotFound,
    VolumeTypeExists,
    VolumeTypeExtraSpecsNotFound,
    VolumeTypeInUse,
    VolumeTypeNotFound,
    VolumeTypeNotFoundByName,
)
from onestack.volume.models import Volume, VolumeType, VolumeTypeAccess, VolumeTypeEncryption

USER_VISIBLE_SPECS = ("multiattach", "RESKEY:availability_zones", "replication_enabled")
DEFAULT_DESCRIPTION = "Default Volume Type"


def ensure_default_type(db: Database, name: str) -> None:
    with db.writer() as session:
        if session.scalar(select(VolumeType).where(VolumeType.name == name)) is None:
            session.add(
                VolumeType(id=new_id(), name=name, description=DEFAULT_DESCRIPTION, extra_specs={})
            )


def is_multiattach(vtype: VolumeType) -> bool:
    value = str(vtype.extra_specs.get("multiattach", "")).strip().lower()
    return value in ("<is> true", "true")


def visible_specs(ctx: RequestContext, vtype: VolumeType) -> dict[str, Any]:
    if ctx.is_admin:
        return dict(vtype.extra_specs)
    return {k: v for k, v in vtype.extra_specs.items() if k in USER_VISIBLE_SPECS}


def _check_specs(specs: Any) -> dict[str, str]:
    if not isinstance(specs, dict):
        raise InvalidVolumeType(reason="extra_specs must be an object")
    out = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise InvalidVolumeType(reason=f"invalid extra spec key {key!r}")
        if isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str | int | float) or len(str(value)) > 255:
            raise InvalidVolumeType(reason=f"invalid value for extra spec {key}")
        out[key] = str(value)
    return out


class VolumeTypeManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    def _accessible(self, session: Session, ctx: RequestContext, vtype: VolumeType) -> bool:
        if vtype.is_public or ctx.is_admin:
            return True
        return session.get(VolumeTypeAccess, (vtype.id, ctx.project_id or "")) is not None

    def find(self, session: Session, ctx: RequestContext, ref: str) -> VolumeType:
        """A type by id or name (``default``: the default type) that ``ctx`` may use."""
        if ref == "default":
            ref = self.core.settings.default_volume_type
        vtype = session.get(VolumeType, ref)
        if vtype is None:
            vtype = session.scalar(select(VolumeType).where(VolumeType.name == ref))
            if vtype is None or not self._accessible(session, ctx, vtype):
                raise VolumeTypeNotFoundByName(volume_type_name=ref)
        if not self._accessible(session, ctx, vtype):
            raise VolumeTypeNotFound(volume_type_id=ref)
        return vtype

    def list_types(self, ctx: RequestContext, is_public: str | None = None) -> list[VolumeType]:
        self.core.enforce(ctx, "volume_extension:types_get")
        with self.core.db.reader() as session:
            stmt = select(VolumeType).order_by(VolumeType.name)
            if not ctx.is_admin:
                access = select(VolumeTypeAccess.volume_type_id).where(
                    VolumeTypeAccess.project_id == (ctx.project_id or "")
                )
                stmt = stmt.where(or_(VolumeType.is_public.is_(True), VolumeType.id.in_(access)))
            elif is_public is not None and is_public.lower() != "none":
                stmt = stmt.where(VolumeType.is_public.is_(is_public.lower() in ("true", "1")))
            return list(session.scalars(stmt))

    def get(self, ctx: RequestContext, ref: str) -> VolumeType:
        self.core.enforce(ctx, "volume_extension:types_get")
        with self.core.db.reader() as session:
            return self.find(session, ctx, ref)

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> VolumeType:
        self.core.enforce(ctx, "volume_extension:types_manage")
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 255:
            raise InvalidVolumeType(reason="name must be a non-empty string of at most 255")
        specs = _check_specs(data.get("extra_specs") or {})
        vtype = VolumeType(
            id=new_id(),
            name=name,
            description=data.get("description"),
            is_public=bool(data.get("os-volume-type-access:is_public", True)),
            extra_specs=specs,
        )
        try:
            with self.core.db.writer() as session:
                if session.scalar(select(VolumeType).where(VolumeType.name == name)):
                    raise VolumeTypeExists(id=name)
                session.add(vtype)
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise VolumeTypeExists(id=name) from None
            raise
        return vtype

    def update(self, ctx: RequestContext, type_id: str, data: dict[str, Any]) -> VolumeType:
        self.core.enforce(ctx, "volume_extension:types_manage")
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            if "name" in data and data["name"] is not None:
                name = str(data["name"]).strip()
                if not name:
                    raise InvalidVolumeType(reason="name must not be empty")
                if vtype.name == self.core.settings.default_volume_type and name != vtype.name:
                    raise InvalidVolumeType(reason="the default volume type cannot be renamed")
                other = session.scalar(select(VolumeType).where(VolumeType.name == name))
                if other is not None and other.id != vtype.id:
                    raise VolumeTypeExists(id=name)
                vtype.name = name
            if "description" in data:
                vtype.description = data["description"]
            if "is_public" in data and data["is_public"] is not None:
                vtype.is_public = bool(data["is_public"])
            vtype.updated_at = utcnow()
        return vtype

    def delete(self, ctx: RequestContext, type_id: str) -> None:
        self.core.enforce(ctx, "volume_extension:types_manage")
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            if vtype.name == self.core.settings.default_volume_type:
                raise InvalidVolumeType(reason="the default volume type cannot be deleted")
            used = session.scalar(
                select(func.count()).select_from(Volume).where(Volume.volume_type_id == vtype.id)
            )
            if used:
                raise VolumeTypeInUse(volume_type_id=vtype.id)
            session.execute(
                delete(VolumeTypeEncryption).where(VolumeTypeEncryption.volume_type_id == vtype.id)
            )
            self.core.quotas.forget_type(session, vtype.id)
            session.delete(vtype)

    # -- extra specs ----------------------------------------------------------

    def specs(self, ctx: RequestContext, type_id: str) -> dict[str, Any]:
        self.core.enforce(ctx, "volume_extension:types_extra_specs:index")
        with self.core.db.reader() as session:
            return visible_specs(ctx, self.find(session, ctx, type_id))

    def spec(self, ctx: RequestContext, type_id: str, key: str) -> str:
        specs = self.specs(ctx, type_id)
        if key not in specs:
            raise VolumeTypeExtraSpecsNotFound(volume_type_id=type_id, extra_specs_key=key)
        return str(specs[key])

    def set_specs(self, ctx: RequestContext, type_id: str, specs: Any) -> dict[str, str]:
        self.core.enforce(ctx, "volume_extension:types_extra_specs:manage")
        checked = _check_specs(specs)
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            vtype.extra_specs = {**vtype.extra_specs, **checked}
            vtype.updated_at = utcnow()
        return checked

    def delete_spec(self, ctx: RequestContext, type_id: str, key: str) -> None:
        self.core.enforce(ctx, "volume_extension:types_extra_specs:manage")
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            if key not in vtype.extra_specs:
                raise VolumeTypeExtraSpecsNotFound(volume_type_id=type_id, extra_specs_key=key)
            vtype.extra_specs = {k: v for k, v in vtype.extra_specs.items() if k != key}

    # -- access ---------------------------------------------------------------

    def access(self, ctx: RequestContext, type_id: str) -> list[VolumeTypeAccess]:
        self.core.enforce(ctx, "volume_extension:volume_type_access:manage")
        with self.core.db.reader() as session:
            vtype = self.find(session, ctx, type_id)
            if vtype.is_public:
                raise InvalidVolumeType(reason="Access list not available for public volume types.")
            stmt = select(VolumeTypeAccess).where(VolumeTypeAccess.volume_type_id == vtype.id)
            return list(session.scalars(stmt))

    def add_access(self, ctx: RequestContext, type_id: str, project_id: str) -> None:
        self.core.enforce(ctx, "volume_extension:volume_type_access:manage")
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            if vtype.is_public:
                raise InvalidVolumeType(
                    reason="Type access modification is not applicable to public volume type."
                )
            if session.get(VolumeTypeAccess, (vtype.id, project_id)) is not None:
                raise VolumeTypeAccessExists(volume_type_id=vtype.id, project_id=project_id)
            session.add(VolumeTypeAccess(volume_type_id=vtype.id, project_id=project_id))

    def remove_access(self, ctx: RequestContext, type_id: str, project_id: str) -> None:
        self.core.enforce(ctx, "volume_extension:volume_type_access:manage")
        with self.core.db.writer() as session:
            vtype = self.find(session, ctx, type_id)
            row = session.get(VolumeTypeAccess, (vtype.id, project_id))
            if row is None:
                raise VolumeTypeAccessNotFound(volume_type_id=vtype.id, project_id=project_id)
            session.delete(row)
