"""Regions, services and endpoints, and the catalog built from them.

The catalog is rendered once per identity revision and shared by every token
response, so validating a token never rebuilds it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Forbidden, Unauthorized
from onestack.common.pagination import apply_filters
from onestack.identity.core import IdentityCore, get_or_404, new_id
from onestack.identity.endpoint_filter import filtered_endpoints
from onestack.identity.models import Endpoint, Region, Service
from onestack.identity.resources import split_extra

INTERFACES = ("public", "internal", "admin")


def get_region(session: Session, region_id: str) -> Region:
    return get_or_404(session, Region, "region", region_id)


def get_service(session: Session, service_id: str) -> Service:
    return get_or_404(session, Service, "service", service_id)


def get_endpoint(session: Session, endpoint_id: str) -> Endpoint:
    return get_or_404(session, Endpoint, "endpoint", endpoint_id)


class CatalogManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core
        self.policy = core.enforcer
        self._cache: tuple[int, list[dict[str, Any]]] | None = None
        self._per_project: dict[tuple[int, str | None], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._filter_cache: tuple[int, dict[str, set[str]]] | None = None

    # -- the catalog ------------------------------------------------------

    def catalog(self) -> list[dict[str, Any]]:
        revision = self.core.revision.value
        cached = self._cache
        if cached is not None and cached[0] == revision:
            return cached[1]
        with self._lock, self.core.read() as session:
            services = list(
                session.scalars(
                    select(Service).where(Service.enabled.is_(True)).order_by(Service.type)
                )
            )
            endpoints = list(session.scalars(select(Endpoint).where(Endpoint.enabled.is_(True))))
            catalog = []
            for service in services:
                catalog.append(
                    {
                        "endpoints": [
                            {
                                "id": e.id,
                                "interface": e.interface,
                                "region_id": e.region_id,
                                "url": e.url,
                                "region": e.region_id,
                            }
                            for e in endpoints
                            if e.service_id == service.id
                        ],
                        "id": service.id,
                        "type": service.type,
                        "name": service.name,
                    }
                )
            self._cache = (revision, catalog)
            return catalog

    def catalog_for(self, project_id: str | None) -> list[dict[str, Any]]:
        """The catalog with Keystone's URL substitutions (``$(project_id)s``,
        ``%(tenant_id)s``, ...) made for ``project_id``; endpoints that need a project
        are left out when there is none, as Keystone does."""
        catalog = self.catalog()
        allowed = self._filters().get(project_id) if project_id else None
        if allowed is None and not any("(" in e["url"] for s in catalog for e in s["endpoints"]):
            return catalog
        key = (self.core.revision.value, project_id)
        cached = self._per_project.get(key)
        if cached is not None:
            return cached
        result = []
        for service in catalog:
            endpoints = []
            for endpoint in service["endpoints"]:
                if allowed is not None and endpoint["id"] not in allowed:
                    continue
                url = endpoint["url"]
                if "(" in url:
                    if project_id is None:
                        continue
                    for name in ("project_id", "tenant_id"):
                        url = url.replace(f"$({name})s", project_id)
                        url = url.replace(f"%({name})s", project_id)
                endpoints.append({**endpoint, "url": url})
            if endpoints or allowed is None:
                result.append({**service, "endpoints": endpoints})
        if len(self._per_project) > 1000:
            self._per_project.clear()
        self._per_project[key] = result
        return result

    def _filters(self) -> dict[str, set[str]]:
        """OS-EP-FILTER: the endpoints of each project that has associations (cached per
        revision)."""
        revision = self.core.revision.value
        cached = self._filter_cache
        if cached is not None and cached[0] == revision:
            return cached[1]
        with self.core.read() as session:
            filters = filtered_endpoints(session)
        self._filter_cache = (revision, filters)
        return filters

    def catalog_of_token(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """``GET /auth/catalog``: the catalog for the caller's scope; Unauthorized for an
        unscoped token."""
        if not (ctx.project_id or ctx.domain_id or ctx.system_scope):
            raise Unauthorized("The catalog needs a scoped token.")
        return self.catalog_for(ctx.project_id)

    # -- regions --------------------------------------------------------

    def list_regions(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Region]:
        self.policy.enforce(ctx, "identity:list_regions", {})
        with self.core.read() as session:
            stmt = apply_filters(
                select(Region), query, {"parent_region_id": Region.parent_region_id}
            )
            return list(session.scalars(stmt.order_by(Region.id)))

    def show_region(self, ctx: RequestContext, region_id: str) -> Region:
        self.policy.enforce(ctx, "identity:get_region", {})
        with self.core.read() as session:
            return get_region(session, region_id)

    def create_region(
        self, ctx: RequestContext, data: dict[str, Any], region_id: str | None = None
    ) -> Region:
        self.policy.enforce(ctx, "identity:create_region", {})
        fields, extra = split_extra(data, ("id", "description", "parent_region_id"))
        region_id = region_id or data.get("id") or new_id()
        with self.core.write("region", "id") as session:
            parent = fields.get("parent_region_id")
            if parent and session.get(Region, parent) is None:
                raise BadRequest(f"Parent region {parent} not found.")
            region = Region(
                id=region_id,
                description=fields.get("description") or "",
                parent_region_id=parent,
                extra=extra,
            )
            session.add(region)
            session.flush()
        return region

    def update_region(self, ctx: RequestContext, region_id: str, data: dict[str, Any]) -> Region:
        self.policy.enforce(ctx, "identity:update_region", {})
        with self.core.write("region", "id") as session:
            region = get_region(session, region_id)
            if "parent_region_id" in data:
                parent = data["parent_region_id"]
                seen = {region.id}
                cursor = parent
                while cursor:
                    if cursor in seen:
                        raise BadRequest("A region cannot be its own ancestor.")
                    seen.add(cursor)
                    cursor = get_region(session, cursor).parent_region_id
                region.parent_region_id = parent
            if "description" in data:
                region.description = data["description"] or ""
            session.flush()
        return region

    def delete_region(self, ctx: RequestContext, region_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_region", {})
        with self.core.write("region") as session:
            region = get_region(session, region_id)
            if session.scalar(select(Region.id).where(Region.parent_region_id == region_id)):
                raise Forbidden("Cannot delete a region that has child regions.")
            session.execute(
                update(Endpoint).where(Endpoint.region_id == region_id).values(region_id=None)
            )
            session.delete(region)

    # -- services -------------------------------------------------------

    def list_services(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Service]:
        self.policy.enforce(ctx, "identity:list_services", {})
        with self.core.read() as session:
            stmt = apply_filters(
                select(Service), query, {"type": Service.type, "name": Service.name}
            )
            return list(session.scalars(stmt.order_by(Service.type)))

    def show_service(self, ctx: RequestContext, service_id: str) -> Service:
        self.policy.enforce(ctx, "identity:get_service", {})
        with self.core.read() as session:
            return get_service(session, service_id)

    def create_service(self, ctx: RequestContext, data: dict[str, Any]) -> Service:
        self.policy.enforce(ctx, "identity:create_service", {})
        fields, extra = split_extra(data, ("type", "name", "description", "enabled"))
        with self.core.write("service") as session:
            service = Service(
                id=new_id(),
                type=fields["type"],
                name=fields.get("name") or "",
                description=fields.get("description") or "",
                enabled=fields.get("enabled", True),
                extra=extra,
            )
            session.add(service)
            session.flush()
        return service

    def update_service(self, ctx: RequestContext, service_id: str, data: dict[str, Any]) -> Service:
        self.policy.enforce(ctx, "identity:update_service", {})
        fields, extra = split_extra(data, ("type", "name", "description", "enabled"))
        with self.core.write("service") as session:
            service = get_service(session, service_id)
            for key, value in fields.items():
                setattr(service, key, value)
            if extra:
                service.extra = {**service.extra, **extra}
            session.flush()
        return service

    def delete_service(self, ctx: RequestContext, service_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_service", {})
        with self.core.write("service") as session:
            service = get_service(session, service_id)
            for endpoint in session.scalars(
                select(Endpoint).where(Endpoint.service_id == service.id)
            ):
                session.delete(endpoint)
            session.delete(service)

    # -- endpoints ------------------------------------------------------

    def list_endpoints(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> list[Endpoint]:
        self.policy.enforce(ctx, "identity:list_endpoints", {})
        params = dict(query)
        if "region" in params:
            query = [*query, ("region_id", params["region"])]
        with self.core.read() as session:
            stmt = apply_filters(
                select(Endpoint),
                query,
                {
                    "service_id": Endpoint.service_id,
                    "interface": Endpoint.interface,
                    "region_id": Endpoint.region_id,
                },
            )
            return list(session.scalars(stmt.order_by(Endpoint.service_id, Endpoint.interface)))

    def show_endpoint(self, ctx: RequestContext, endpoint_id: str) -> Endpoint:
        self.policy.enforce(ctx, "identity:get_endpoint", {})
        with self.core.read() as session:
            return get_endpoint(session, endpoint_id)

    def create_endpoint(self, ctx: RequestContext, data: dict[str, Any]) -> Endpoint:
        self.policy.enforce(ctx, "identity:create_endpoint", {})
        fields, extra = split_extra(
            data, ("service_id", "interface", "url", "region_id", "region", "enabled")
        )
        region_id = fields.get("region_id") or fields.get("region")
        with self.core.write("endpoint") as session:
            get_service(session, fields["service_id"])
            if region_id and session.get(Region, region_id) is None:
                session.add(Region(id=region_id, description=""))
            endpoint = Endpoint(
                id=new_id(),
                service_id=fields["service_id"],
                interface=fields["interface"],
                url=fields["url"],
                region_id=region_id,
                enabled=fields.get("enabled", True),
                extra=extra,
            )
            session.add(endpoint)
            session.flush()
        return endpoint

    def update_endpoint(
        self, ctx: RequestContext, endpoint_id: str, data: dict[str, Any]
    ) -> Endpoint:
        self.policy.enforce(ctx, "identity:update_endpoint", {})
        fields, extra = split_extra(
            data, ("service_id", "interface", "url", "region_id", "region", "enabled")
        )
        with self.core.write("endpoint") as session:
            endpoint = get_endpoint(session, endpoint_id)
            if "service_id" in fields:
                get_service(session, fields["service_id"])
            if "region" in fields and "region_id" not in fields:
                fields["region_id"] = fields.pop("region")
            fields.pop("region", None)
            region_id = fields.get("region_id")
            if region_id and session.get(Region, region_id) is None:
                # As on create, an unknown region is created on the fly.
                session.add(Region(id=region_id, description=""))
            for key, value in fields.items():
                setattr(endpoint, key, value)
            if extra:
                endpoint.extra = {**endpoint.extra, **extra}
            session.flush()
        return endpoint

    def delete_endpoint(self, ctx: RequestContext, endpoint_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_endpoint", {})
        with self.core.write("endpoint") as session:
            session.delete(get_endpoint(session, endpoint_id))
