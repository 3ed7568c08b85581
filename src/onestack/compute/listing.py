"""Server list and detail: filters, sorting, pagination and ``changes-since``.

Non-admins see their project only and only the filters Nova allows them;
admins add ``all_tenants``/``project_id`` and host filters.  ``name`` is a
regular expression (searched, as Nova does); deleted servers appear only
with ``changes-since``/``changes-before`` or an admin's ``deleted=true``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.pagination import PageRequest, SortKey, paginate, parse_bool, parse_sort
from onestack.compute import states
from onestack.compute.models import Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

SORT_COLUMNS = {
    "created_at": Instance.created_at,
    "updated_at": Instance.updated_at,
    "display_name": Instance.name,
    "hostname": Instance.hostname,
    "uuid": Instance.id,
    "vm_state": Instance.vm_state,
    "task_state": Instance.task_state,
    "power_state": Instance.power_state,
    "launched_at": Instance.launched_at,
    "terminated_at": Instance.terminated_at,
    "key_name": Instance.key_name,
    "availability_zone": Instance.availability_zone,
    "image_ref": Instance.image_ref,
    "instance_type_id": Instance.flavor_id,
    "display_description": Instance.description,
    "locked": Instance.locked,
    "memory_mb": Instance.memory_mb,
    "vcpus": Instance.vcpus,
    "root_gb": Instance.root_gb,
    "project_id": Instance.project_id,
    "user_id": Instance.user_id,
    "host": Instance.host,
    "node": Instance.node,
}
ADMIN_SORT = {"host", "node"}
EXACT = {
    "image": Instance.image_ref,
    "flavor": Instance.flavor_id,
    "reservation_id": Instance.reservation_id,
    "availability_zone": Instance.availability_zone,
    "key_name": Instance.key_name,
    "user_id": Instance.user_id,
    "vm_state": Instance.vm_state,
    "task_state": Instance.task_state,
    "hostname": Instance.hostname,
    "host": Instance.host,
    "node": Instance.node,
}
ADMIN_ONLY = {"host", "node", "vm_state", "task_state"}


def parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class ServerLister:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer

    def list(
        self,
        ctx: RequestContext,
        query: Sequence[tuple[str, str]],
        detail: bool,
        *,
        strict_status: bool = True,
    ) -> list[Instance]:
        """Servers the caller may see, filtered, sorted and paginated.

        ``strict_status`` (microversion 2.38 on) makes an unknown ``status`` a 400;
        before it, a filter naming no known status matches nothing, as in Nova.
        """
        rule = "detail" if detail else "index"
        self.enforcer.enforce(ctx, f"os_compute_api:servers:{rule}", {"project_id": ctx.project_id})
        params = dict(query)
        admin = ctx.is_admin
        stmt: Select[Any] = select(Instance)
        all_tenants = "all_tenants" in params and params["all_tenants"].lower() not in (
            "0",
            "false",
            "off",
            "no",
        )
        if all_tenants:
            self.enforcer.enforce(ctx, f"os_compute_api:servers:{rule}:get_all_tenants")
        project = params.get("project_id") or params.get("tenant_id")
        if all_tenants and admin:
            if project:
                stmt = stmt.where(Instance.project_id == project)
        else:
            stmt = stmt.where(Instance.project_id == (ctx.project_id or ""))
        since = params.get("changes-since")
        before = params.get("changes-before")
        if since:
            stmt = stmt.where(Instance.updated_at >= parse_time(since, "changes-since"))
        if before:
            stmt = stmt.where(Instance.updated_at <= parse_time(before, "changes-before"))
        if since and before and parse_time(since, "x") > parse_time(before, "x"):
            raise BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
        deleted = params.get("deleted")
        if deleted is not None and admin and parse_bool(deleted, "deleted"):
            stmt = stmt.where(Instance.deleted)
        elif not (since or before):
            stmt = stmt.where(~Instance.deleted)
        status = params.get("status")
        if status:
            wanted = [s.strip() for s in status.split(",") if s.strip()]
            vm_states: list[str] = []
            for name in wanted:
                if name.upper() not in states.KNOWN_STATUSES:
                    if strict_status:
                        raise BadRequest(f"Invalid status value {name}")
                    continue
                vm_states += states.vm_states_for_status(name)
            stmt = stmt.where(Instance.vm_state.in_(vm_states))
        for name, column in EXACT.items():
            if name in params and (admin or name not in ADMIN_ONLY):
                stmt = stmt.where(column == params[name])
        if "locked" in params:
            stmt = stmt.where(Instance.locked == parse_bool(params["locked"], "locked"))
        if "description" in params:
            stmt = stmt.where(Instance.description.contains(params["description"]))
        stmt = self._python_filters(stmt, params)
        stmt = self._ip_filters(ctx, stmt, params)
        sort = self._sort(query, admin)
        limit = params.get("limit")
        page = PageRequest(
            limit=_nonneg(limit, "limit") if limit is not None else None,
            marker=params.get("marker"),
            sort=sort,
        )
        with self.db.reader() as session:
            try:
                return paginate(session, stmt, Instance, page, SORT_COLUMNS, Instance.id)
            except NotFound:
                raise BadRequest(f"marker [{page.marker}] not found") from None

    def _sort(self, query: Sequence[tuple[str, str]], admin: bool) -> tuple[SortKey, ...]:
        allowed = [k for k in SORT_COLUMNS if admin or k not in ADMIN_SORT]
        return parse_sort(query, allowed, (SortKey("created_at", "desc"),))

    def _python_filters(self, stmt: Select[Any], params: dict[str, str]) -> Select[Any]:
        """name (regex) and tags: select the matching ids first."""
        name = params.get("name")
        tag_filters: dict[str, str] = {
            k: params[k] for k in ("tags", "tags-any", "not-tags", "not-tags-any") if k in params
        }
        if not name and not tag_filters:
            return stmt
        if name:
            try:
                pattern = re.compile(name)
            except re.error:
                raise BadRequest(f"Invalid regular expression for name: {name}") from None
        with self.db.reader() as session:
            rows = session.execute(
                stmt.with_only_columns(Instance.id, Instance.name, Instance.tags)
            ).all()
        ids = []
        for row in rows:
            if name and not pattern.search(row.name or ""):
                continue
            if not _tags_match(set(row.tags or []), tag_filters):
                continue
            ids.append(row.id)
        return stmt.where(Instance.id.in_(ids))

    def _ip_filters(
        self, ctx: RequestContext, stmt: Select[Any], params: dict[str, str]
    ) -> Select[Any]:
        """``ip`` and ``ip6``: regular expressions matched at the start of a fixed IP."""
        patterns = []
        for key in ("ip", "ip6"):
            if params.get(key):
                try:
                    patterns.append(re.compile(params[key]))
                except re.error:
                    raise BadRequest(f"Invalid regular expression for {key}") from None
        if not patterns:
            return stmt
        ids = []
        with self.db.reader() as session:
            candidates = list(session.scalars(stmt.with_only_columns(Instance.id)).all())
        network = self.core.neighbours.network
        every = network.addresses_for(ctx, candidates) if network is not None and candidates else {}
        for instance_id in candidates:
            found = every.get(instance_id, {})
            fixed = [
                str(entry.get("addr", ""))
                for entries in found.values()
                for entry in entries
                if entry.get("OS-EXT-IPS:type", "fixed") == "fixed"
            ]
            if any(p.match(addr) for p in patterns for addr in fixed):
                ids.append(instance_id)
        return stmt.where(Instance.id.in_(ids))


def _tags_match(tags: set[str], filters: dict[str, str]) -> bool:
    for key, value in filters.items():
        wanted = {t.strip() for t in value.split(",") if t.strip()}
        if key == "tags" and not wanted <= tags:
            return False
        if key == "tags-any" and not wanted & tags:
            return False
        if key == "not-tags" and wanted <= tags:
            return False
        if key == "not-tags-any" and wanted & tags:
            return False
    return True


def _nonneg(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if number < 0:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.")
    return min(number, 1000)
