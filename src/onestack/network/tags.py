"""Tags of the standard-attribute resources (``/v2.0/<collection>/<id>/tags``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onestack.common.context import RequestContext
from onestack.network import models
from onestack.network.attrs import as_str_list
from onestack.network.collection import Collection
from onestack.network.core import NetworkCore
from onestack.network.exceptions import HTTPBadRequest, NotSupported, TagNotFound

#: URL collection name -> (model, singular resource)
TAGGABLE: dict[str, tuple[type[Any], str]] = {
    "networks": (models.Network, "network"),
    "subnets": (models.Subnet, "subnet"),
    "subnetpools": (models.SubnetPool, "subnetpool"),
    "ports": (models.Port, "port"),
    "routers": (models.Router, "router"),
    "floatingips": (models.FloatingIP, "floatingip"),
    "security-groups": (models.SecurityGroup, "security_group"),
    "security_groups": (models.SecurityGroup, "security_group"),
}


class Tags:
    def __init__(self, core: NetworkCore, collections: Mapping[str, Collection[Any]]) -> None:
        self.core = core
        #: URL collection name -> the sub-manager that shows its resources
        self.collections = collections

    def _tag_target(self, ctx: RequestContext, collection: str, resource_id: str) -> Any:
        if collection not in TAGGABLE or collection not in self.collections:
            raise NotSupported(operation=f"Tags on {collection}")
        return self.collections[collection].get(ctx, resource_id)

    def get(self, ctx: RequestContext, collection: str, resource_id: str) -> list[str]:
        row = self._tag_target(ctx, collection, resource_id)
        return list(row.tag_list)

    def check(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            raise TagNotFound(tag=tag, resource=TAGGABLE[collection][1], resource_id=resource_id)

    def replace(
        self, ctx: RequestContext, collection: str, resource_id: str, tags: Any
    ) -> list[str]:
        values = as_str_list("tags", tags, unique=False)
        for tag in values:
            if not tag or len(tag) > 255 or "," in tag or "/" in tag:
                raise HTTPBadRequest(detail=f"Invalid tag {tag!r}")
        row = self._tag_target(ctx, collection, resource_id)
        model, singular = TAGGABLE[collection]
        self.core.enforce(ctx, f"update_{singular}", {"project_id": row.project_id})
        with self.core.db.writer() as session:
            current = session.get(model, resource_id)
            assert current is not None
            self.core.set_tags(session, current, singular, values)
            self.core.bump(current)
        return sorted(set(values))

    def add(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            self.replace(ctx, collection, resource_id, [*row.tag_list, tag])

    def remove(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            raise TagNotFound(tag=tag, resource=TAGGABLE[collection][1], resource_id=resource_id)
        self.replace(ctx, collection, resource_id, [t for t in row.tag_list if t != tag])
