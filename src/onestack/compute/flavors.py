"""Flavors: create, list, show, update (description), delete, extra specs and
project access for private flavors (os-flavor-manage, os-flavor-extra-specs,
os-flavor-access)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, is_duplicate
from onestack.common.exceptions import BadRequest, Conflict, NotFound
from onestack.common.pagination import PageRequest, SortKey, paginate, parse_bool, parse_sort
from onestack.compute.exceptions import (
    DuplicateAccess,
    DuplicateFlavor,
    FlavorAccessNotFound,
    FlavorExtraSpecNotFound,
    FlavorNotFound,
)
from onestack.compute.models import Flavor, FlavorAccess

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

#: DevStack's flavors, created at the first start
DEFAULT_FLAVORS = (
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
    ("4", "m1.large", 4, 8192, 80),
    ("5", "m1.xlarge", 8, 16384, 160),
    ("42", "m1.nano", 1, 128, 1),
    ("84", "m1.micro", 1, 192, 1),
)

SORT_COLUMNS = {
    "id": Flavor.id,
    "flavorid": Flavor.id,
    "name": Flavor.name,
    "memory_mb": Flavor.ram,
    "ram": Flavor.ram,
    "vcpus": Flavor.vcpus,
    "root_gb": Flavor.disk,
    "disk": Flavor.disk,
    "ephemeral_gb": Flavor.ephemeral,
    "swap": Flavor.swap,
    "rxtx_factor": Flavor.rxtx_factor,
    "created_at": Flavor.created_at,
    "description": Flavor.description,
}


def ensure_default_flavors(db: Database) -> None:
    with db.writer() as session:
        if session.scalars(select(Flavor.id).limit(1)).first() is not None:
            return
        for flavor_id, name, vcpus, ram, disk in DEFAULT_FLAVORS:
            session.add(Flavor(id=flavor_id, name=name, vcpus=vcpus, ram=ram, disk=disk))


def visible(session: Session, ctx: RequestContext, flavor_id: str) -> Flavor:
    """The flavor if ``ctx`` may use it (public, or private with access)."""
    flavor = session.get(Flavor, flavor_id)
    if flavor is None:
        raise FlavorNotFound(flavor_id=flavor_id)
    if not flavor.is_public and not ctx.is_admin:
        access = session.get(FlavorAccess, (flavor_id, ctx.project_id or ""))
        if access is None:
            raise FlavorNotFound(flavor_id=flavor_id)
    return flavor


class FlavorManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer

    def list(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Flavor]:
        params = dict(query)
        stmt = select(Flavor).where(~Flavor.disabled)
        public = params.get("is_public")
        if ctx.is_admin:
            if public is None:
                stmt = stmt.where(Flavor.is_public)
            elif public.lower() != "none":
                stmt = stmt.where(Flavor.is_public == parse_bool(public, "is_public"))
        else:
            access = select(FlavorAccess.flavor_id).where(
                FlavorAccess.project_id == (ctx.project_id or "")
            )
            stmt = stmt.where(or_(Flavor.is_public, Flavor.id.in_(access)))
        for name, column in (("minRam", Flavor.ram), ("minDisk", Flavor.disk)):
            if name in params:
                try:
                    stmt = stmt.where(column >= int(params[name]))
                except ValueError:
                    raise BadRequest(f"Invalid {name} filter [{params[name]}]") from None
        sort = parse_sort(query, list(SORT_COLUMNS), (SortKey("flavorid", "asc"),))
        limit = params.get("limit")
        page = PageRequest(
            limit=_int(limit, "limit") if limit is not None else None,
            marker=params.get("marker"),
            sort=sort,
        )
        with self.db.reader() as session:
            try:
                return paginate(session, stmt, Flavor, page, SORT_COLUMNS, Flavor.id)
            except NotFound:
                raise BadRequest(f"marker [{page.marker}] not found") from None

    def get(self, ctx: RequestContext, flavor_id: str) -> Flavor:
        with self.db.reader() as session:
            return visible(session, ctx, flavor_id)

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> Flavor:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-manage:create")
        flavor_id = data.get("id") or str(uuid.uuid4())
        flavor = Flavor(
            id=str(flavor_id),
            name=data["name"],
            vcpus=data["vcpus"],
            ram=data["ram"],
            disk=data["disk"],
            ephemeral=data.get("ephemeral", 0),
            swap=data.get("swap", 0),
            rxtx_factor=data.get("rxtx_factor", 1.0),
            is_public=data.get("is_public", True),
            description=data.get("description"),
            extra_specs={},
        )
        try:
            with self.db.writer() as session:
                if session.get(Flavor, flavor.id) is not None:
                    raise DuplicateFlavor(field="ID", value=flavor.id)
                if session.scalars(select(Flavor).where(Flavor.name == flavor.name)).first():
                    raise DuplicateFlavor(field="name", value=flavor.name)
                session.add(flavor)
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise DuplicateFlavor(field="name", value=flavor.name) from None
            raise
        return flavor

    def update(self, ctx: RequestContext, flavor_id: str, description: str | None) -> Flavor:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-manage:update")
        with self.db.writer() as session:
            flavor = visible(session, ctx, flavor_id)
            flavor.description = description
            return flavor

    def delete(self, ctx: RequestContext, flavor_id: str) -> None:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-manage:delete")
        with self.db.writer() as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise FlavorNotFound(flavor_id=flavor_id)
            session.delete(flavor)

    # -- extra specs -----------------------------------------------------------

    def extra_specs(self, ctx: RequestContext, flavor_id: str) -> dict[str, str]:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-extra-specs:index")
        return dict(self.get(ctx, flavor_id).extra_specs or {})

    def extra_spec(self, ctx: RequestContext, flavor_id: str, key: str) -> str:
        specs = self.extra_specs(ctx, flavor_id)
        if key not in specs:
            raise FlavorExtraSpecNotFound(flavor_id=flavor_id, key=key)
        return specs[key]

    def set_extra_specs(
        self, ctx: RequestContext, flavor_id: str, specs: dict[str, str], rule: str = "create"
    ) -> dict[str, str]:
        self.enforcer.enforce(ctx, f"os_compute_api:os-flavor-extra-specs:{rule}")
        with self.db.writer() as session:
            flavor = visible(session, ctx, flavor_id)
            merged = dict(flavor.extra_specs or {})
            merged.update(specs)
            flavor.extra_specs = merged
        return specs

    def delete_extra_spec(self, ctx: RequestContext, flavor_id: str, key: str) -> None:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-extra-specs:delete")
        with self.db.writer() as session:
            flavor = visible(session, ctx, flavor_id)
            merged = dict(flavor.extra_specs or {})
            if key not in merged:
                raise FlavorExtraSpecNotFound(flavor_id=flavor_id, key=key)
            del merged[key]
            flavor.extra_specs = merged

    # -- access ----------------------------------------------------------------

    def access(self, ctx: RequestContext, flavor_id: str) -> builtins.list[str]:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-access")
        with self.db.reader() as session:
            flavor = visible(session, ctx, flavor_id)
            if flavor.is_public:
                raise NotFound("Access list not available for public flavors.")
            rows = session.scalars(select(FlavorAccess).where(FlavorAccess.flavor_id == flavor_id))
            return [row.project_id for row in rows]

    def add_access(
        self, ctx: RequestContext, flavor_id: str, project_id: str
    ) -> builtins.list[str]:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-access:add_tenant_access")
        with self.db.writer() as session:
            flavor = visible(session, ctx, flavor_id)
            if flavor.is_public:
                raise Conflict("Can not add access to a public flavor.")
            if session.get(FlavorAccess, (flavor_id, project_id)) is not None:
                raise DuplicateAccess(flavor_id=flavor_id, project_id=project_id)
            session.add(FlavorAccess(flavor_id=flavor_id, project_id=project_id))
        return self.access(ctx, flavor_id)

    def remove_access(
        self, ctx: RequestContext, flavor_id: str, project_id: str
    ) -> builtins.list[str]:
        self.enforcer.enforce(ctx, "os_compute_api:os-flavor-access:remove_tenant_access")
        with self.db.writer() as session:
            visible(session, ctx, flavor_id)
            row = session.get(FlavorAccess, (flavor_id, project_id))
            if row is None:
                raise FlavorAccessNotFound(flavor_id=flavor_id, project_id=project_id)
            session.delete(row)
        return self.access(ctx, flavor_id)


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}.") from None
    if number < 0:
        raise BadRequest(f"Invalid input for query parameters {name}.")
    return number
