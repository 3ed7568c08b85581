"""Template services: validate, resource types (with their schemas and generated
templates), template versions and their functions, and stack snapshots.

Resource types are listed only when the service they need is in the caller's
catalog (and admin-only types only for administrators).
"""

from __future__ import annotations

import asyncio
import fnmatch
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.orchestration import constraints
from onestack.orchestration.core import OrchestrationCore
from onestack.orchestration.engine.definition import StackDefinition
from onestack.orchestration.exceptions import EntityNotFound, HTTPBadRequest, NotSupported
from onestack.orchestration.models import Snapshot, Stack
from onestack.orchestration.resources import registry
from onestack.orchestration.resources.base import Resource
from onestack.orchestration.stacks import StackManager
from onestack.orchestration.template import hot
from onestack.orchestration.template.environment import Environment
from onestack.orchestration.template.format import parse_environment


class TemplateService:
    def __init__(self, core: OrchestrationCore, stacks: StackManager) -> None:
        self.core = core
        self.stacks = stacks

    async def validate(
        self, ctx: RequestContext, body: Mapping[str, Any], show_nested: bool
    ) -> dict[str, Any]:
        self.core.enforce(ctx, "validate_template")
        if not isinstance(body, Mapping):
            raise HTTPBadRequest(detail="The request body must be an object.")
        template = await self.stacks._template(body)
        files = self.stacks._files(body)
        env = Environment.from_request(
            parse_environment(body.get("environment")), files, body.get("environment_files")
        )
        definition = StackDefinition(
            template,
            env,
            files,
            dict(body.get("parameters") or {}),
            stack_name="validate",
            stack_id="None",
            project_id=ctx.project_id or "",
        )
        checks = definition.validate(values=False)
        # parameters given (or defaulted) are checked too; missing ones are not an error here
        given = {k for k in definition.params.schemas if k in definition.params.user_values}
        if given:
            from onestack.orchestration.template.parameters import CustomCheck

            custom: list[CustomCheck] = []
            for name in given:
                schema = definition.params.schemas[name]
                schema.check_constraints(
                    schema.convert(definition.params.user_values[name]), custom
                )
            checks.extend(custom)
        if checks and ctx.auth_token and body.get("parameters"):
            await constraints.check(
                self.stacks.user_cloud(ctx), [c for c in checks if c.parameter in given]
            )
        out: dict[str, Any] = {
            "Description": definition.template.description,
            "Parameters": {n: s.render_validate() for n, s in definition.params.schemas.items()},
            "Environment": env.to_dict(),
        }
        groups = definition.template.parameter_groups()
        if groups:
            out["ParameterGroups"] = groups
        return out

    # -- resource types -------------------------------------------------------------------------

    async def types(self, ctx: RequestContext, query: Mapping[str, list[str]]) -> list[Any]:
        self.core.enforce(ctx, "list_resource_types")
        available = await self._services(ctx)
        names = []
        for name, plugin in sorted(registry.all_types().items()):
            if plugin.service is not None and plugin.service not in available:
                continue
            if plugin.admin_only and not ctx.is_admin:
                continue
            names.append((name, plugin))
        for pattern in query.get("name", []):
            names = [(n, p) for n, p in names if fnmatch.fnmatchcase(n, pattern) or n == pattern]
        if query.get("support_status"):
            wanted = set(query["support_status"])
            names = [(n, p) for n, p in names if "SUPPORTED" in wanted]
        with_description = any(v.lower() == "true" for v in query.get("with_description", []))
        if with_description:
            return [{"resource_type": n, "description": p.description} for n, p in names]
        return [n for n, _ in names]

    async def _services(self, ctx: RequestContext) -> set[str]:
        if not ctx.auth_token:
            return set()
        cloud = self.stacks.user_cloud(ctx)
        found = set()
        for service in ("compute", "network", "volume", "image", "object", "identity", "alarming"):
            if await cloud.has_service(service):
                found.add(service)
        return found

    def plugin(self, ctx: RequestContext, type_name: str) -> type[Resource]:
        self.core.enforce(ctx, "resource_schema")
        plugin = registry.get(type_name)
        if plugin is None:
            raise EntityNotFound(entity="Resource Type", name=type_name)
        return plugin

    def schema(self, ctx: RequestContext, type_name: str) -> dict[str, Any]:
        plugin = self.plugin(ctx, type_name)
        return {
            "resource_type": type_name,
            "properties": {n: p.render() for n, p in plugin.properties_schema.items() if n != "*"},
            "attributes": {
                **{
                    n: {"description": d, "type": "string"}
                    for n, d in plugin.attributes_schema.items()
                    if n != "*"
                },
                "show": {"description": "Detailed information about resource.", "type": "map"},
            },
            "support_status": {
                "status": "SUPPORTED",
                "version": None,
                "message": None,
                "previous_status": None,
            },
            "description": plugin.description,
        }

    def generated(self, ctx: RequestContext, type_name: str, template_type: str) -> dict[str, Any]:
        plugin = self.plugin(ctx, type_name)
        props = {n: p for n, p in plugin.properties_schema.items() if n != "*"}
        types = {
            "string": "string",
            "integer": "number",
            "number": "number",
            "boolean": "boolean",
            "map": "json",
            "list": "comma_delimited_list",
            "any": "json",
        }
        if template_type == "hot":
            return {
                "heat_template_version": "2016-10-14",
                "description": f"Initial template of {type_name.split('::')[-1]}",
                "parameters": {
                    n: {"type": types[p.type], "description": p.description}
                    for n, p in props.items()
                },
                "resources": {
                    "resource": {
                        "type": type_name,
                        "properties": {n: {"get_param": n} for n in props},
                    }
                },
                "outputs": {
                    n: {"description": d, "value": {"get_attr": ["resource", n]}}
                    for n, d in plugin.attributes_schema.items()
                    if n != "*"
                },
            }
        return {
            "HeatTemplateFormatVersion": "2012-12-12",
            "Description": f"Initial template of {type_name.split('::')[-1]}",
            "Parameters": {
                n: {"Type": types[p.type].title().replace("_", ""), "Description": p.description}
                for n, p in props.items()
            },
            "Resources": {
                "resource": {"Type": type_name, "Properties": {n: {"Ref": n} for n in props}}
            },
            "Outputs": {
                n: {"Description": d, "Value": {"Fn::GetAtt": ["resource", n]}}
                for n, d in plugin.attributes_schema.items()
                if n != "*"
            },
        }

    # -- template versions ----------------------------------------------------------------------

    def versions(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "list_template_versions")
        out: list[dict[str, Any]] = [
            {"version": f"heat_template_version.{v}", "type": "hot", "aliases": []}
            for v in hot.VERSIONS
        ]
        for alias, version in hot.ALIASES.items():
            for entry in out:
                if entry["version"].endswith(version):
                    entry["aliases"].append(f"heat_template_version.{alias}")
        return out

    def functions(
        self, ctx: RequestContext, version: str, with_condition: bool
    ) -> list[dict[str, str]]:
        self.core.enforce(ctx, "list_template_functions")
        name = version.removeprefix("heat_template_version.")
        name = hot.ALIASES.get(name, name)
        cls = hot.VERSIONS.get(name)
        if cls is None:
            raise EntityNotFound(entity="Template", name=version)
        table = dict(cls.functions)
        if with_condition:
            table = {**table, **(cls.condition_functions or {})}
        from onestack.orchestration.template import functions as fn

        return [
            {"functions": n, "description": (f.__doc__ or "").strip().split("\n")[0]}
            for n, f in sorted(table.items())
            if f is not fn.Removed
        ]

    # -- snapshots ------------------------------------------------------------------------------

    def _stack(self, ctx: RequestContext, name: str, stack_id: str, rule: str) -> Stack:
        return self.stacks.live(ctx, name, stack_id, rule)

    def snapshot(
        self, ctx: RequestContext, name: str, stack_id: str, body: Mapping[str, Any]
    ) -> Snapshot:
        stack = self._stack(ctx, name, stack_id, "snapshot")
        if stack.status == "IN_PROGRESS":
            from onestack.orchestration.exceptions import ActionInProgress

            raise ActionInProgress(stack_name=stack.name, action=stack.action)
        from onestack.orchestration.models import Resource

        with self.core.db.writer() as session:
            resources: dict[str, Any] = {
                r.name: {
                    "type": r.type,
                    "resource_id": r.physical_id,
                    "action": r.action,
                    "status": r.status,
                    "resource_data": {},
                }
                for r in session.scalars(
                    select(Resource).where(Resource.stack_id == stack.id, Resource.current)
                )
            }
            row = Snapshot(
                id=str(uuid.uuid4()),
                stack_id=stack.id,
                project_id=stack.project_id,
                name=(body or {}).get("name") if isinstance(body, Mapping) else None,
                status="COMPLETE",
                status_reason="Stack SNAPSHOT completed successfully",
                data={
                    "id": stack.id,
                    "name": stack.name,
                    "template": stack.template,
                    "environment": stack.environment,
                    "files": stack.files,
                    "params": stack.params,
                    "resources": resources,
                    "action": "SNAPSHOT",
                    "status": "COMPLETE",
                    "project_id": stack.project_id,
                },
                created_at=utcnow(),
            )
            session.add(row)
        return row

    def snapshots(self, ctx: RequestContext, name: str, stack_id: str) -> list[Snapshot]:
        stack = self._stack(ctx, name, stack_id, "list_snapshots")
        with self.core.db.reader() as session:
            return list(
                session.scalars(
                    select(Snapshot)
                    .where(Snapshot.stack_id == stack.id)
                    .order_by(Snapshot.created_at)
                )
            )

    def get_snapshot(
        self,
        ctx: RequestContext,
        name: str,
        stack_id: str,
        snapshot_id: str,
        rule: str = "show_snapshot",
    ) -> Snapshot:
        stack = self._stack(ctx, name, stack_id, rule)
        with self.core.db.reader() as session:
            row = session.get(Snapshot, snapshot_id)
        if row is None or row.stack_id != stack.id:
            raise EntityNotFound(entity="Snapshot", name=snapshot_id)
        return row

    def delete_snapshot(
        self, ctx: RequestContext, name: str, stack_id: str, snapshot_id: str
    ) -> None:
        row = self.get_snapshot(ctx, name, stack_id, snapshot_id, "delete_snapshot")
        with self.core.db.writer() as session:
            found = session.get(Snapshot, row.id)
            if found is not None:
                session.delete(found)

    async def restore(
        self, ctx: RequestContext, name: str, stack_id: str, snapshot_id: str
    ) -> None:
        """Restore the definition the stack had when the snapshot was taken (an update)."""
        row = await asyncio.to_thread(
            self.get_snapshot, ctx, name, stack_id, snapshot_id, "restore_snapshot"
        )
        data = row.data
        body = {
            "template": data["template"],
            "environment": data["environment"],
            "files": data["files"],
            "parameters": data["params"],
        }
        await self.stacks.update(ctx, name, stack_id, body, patch=False)


def unsupported(feature: str) -> NotSupported:
    return NotSupported(feature=feature)
