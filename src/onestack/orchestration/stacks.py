"""Stacks: create, preview, list, show, update (PUT and PATCH), delete, actions, and
their templates, environments, files and outputs.

Everything a request can get wrong is checked before anything is written: the
template and environment parse, the parameters and their constraints (custom
ones looked up with the caller's token), resource types, properties and the
dependency graph.  Only then is the stack stored, its trust created and the
action handed to the engine (202/201 at once; the engine does the work).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.common.pagination import parse_bool
from onestack.orchestration import constraints
from onestack.orchestration.clients.session import CloudSession, user_session
from onestack.orchestration.core import OrchestrationCore, check_name
from onestack.orchestration.engine.definition import StackDefinition
from onestack.orchestration.engine.runtime import StackRuntime
from onestack.orchestration.exceptions import (
    ActionInProgress,
    EntityNotFound,
    HTTPBadRequest,
    ImmutableParameterModified,
    NotSupported,
    RequestLimitExceeded,
    ServiceCallFailed,
    StackExists,
    StackValidationFailed,
)
from onestack.orchestration.models import Stack
from onestack.orchestration.template import functions as fn
from onestack.orchestration.template.environment import Environment
from onestack.orchestration.template.format import parse_environment, parse_template

LOG = logging.getLogger(__name__)

SORT_KEYS = {
    "stack_name": Stack.name,
    "stack_status": Stack.status,
    "creation_time": Stack.created_at,
    "updated_time": Stack.updated_at,
}


@dataclass
class StackRequest:
    """A create or update request, parsed and validated."""

    name: str
    template: dict[str, Any]
    environment: dict[str, Any]
    files: dict[str, Any]
    params: dict[str, Any]
    definition: StackDefinition
    disable_rollback: bool
    timeout_mins: int | None
    tags: list[str] | None


@dataclass
class StackDetail:
    row: Stack
    parameters: dict[str, str]
    outputs: list[dict[str, Any]] | None
    description: str


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    return [t.strip() for t in str(value).split(",") if t.strip()]


class StackManager:
    def __init__(self, core: OrchestrationCore, region: str, identity_url: str) -> None:
        self.core = core
        self.region = region
        self.identity_url = identity_url

    # -- parsing a request ----------------------------------------------------------------------

    async def _template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        template = body.get("template")
        url = body.get("template_url")
        limit = self.core.settings.max_template_size
        if template is None and url:
            if not str(url).startswith(("http://", "https://")):
                raise HTTPBadRequest(detail=f"Could not retrieve template: {url}")
            try:
                async with httpx.AsyncClient(timeout=30) as client:
                    response = await client.get(str(url))
            except httpx.HTTPError as exc:
                raise HTTPBadRequest(detail=f"Could not retrieve template: {exc}") from None
            if response.status_code != 200:
                raise HTTPBadRequest(detail=f"Could not retrieve template: {response.status_code}")
            template = response.text
        if template is None:
            raise HTTPBadRequest(detail="No template specified")
        if not isinstance(template, str | Mapping):
            raise HTTPBadRequest(detail="The template must be a string or an object.")
        return parse_template(template, limit)

    def _files(self, body: Mapping[str, Any]) -> dict[str, Any]:
        files = body.get("files") or {}
        if not isinstance(files, Mapping):
            raise HTTPBadRequest(detail="files must be an object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in files.items()}

    def _params(self, body: Mapping[str, Any]) -> dict[str, Any]:
        params = body.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise HTTPBadRequest(detail="parameters must be an object")
        return dict(params)

    async def parse(
        self,
        ctx: RequestContext,
        body: Mapping[str, Any],
        *,
        stack_id: str,
        name: str,
        existing: Stack | None = None,
        patch: bool = False,
    ) -> StackRequest:
        if not isinstance(body, Mapping):
            raise HTTPBadRequest(detail="The request body must be an object.")
        if (
            existing is not None
            and patch
            and body.get("template") is None
            and not body.get("template_url")
        ):
            template = copy.deepcopy(existing.template)
        else:
            template = await self._template(body)
        files = self._files(body)
        if existing is not None and patch:
            files = {**existing.files, **files}
        env_files = body.get("environment_files")
        if env_files is not None and not isinstance(env_files, list):
            raise HTTPBadRequest(detail="environment_files must be a list")
        environment = parse_environment(body.get("environment"))
        env = Environment.from_request(environment, files, env_files)
        params = self._params(body)
        if existing is not None and patch:
            old_env = Environment(existing.environment)
            for key in body.get("clear_parameters") or []:
                old_env.params.pop(key, None)
            old_env.merge(env.to_dict())
            env = old_env
            params = {
                **{
                    k: v
                    for k, v in existing.params.items()
                    if k not in (body.get("clear_parameters") or [])
                },
                **params,
            }
        definition = StackDefinition(
            template,
            env,
            files,
            params,
            stack_name=name,
            stack_id=stack_id,
            project_id=ctx.project_id or "",
        )
        checks = definition.validate()
        if len(definition.resources) > self.core.settings.max_resources_per_stack:
            raise RequestLimitExceeded(
                message=f"You have reached the maximum resources per stack, "
                f"{self.core.settings.max_resources_per_stack}, please contact your administrator."
            )
        if checks and ctx.auth_token:
            await constraints.check(self.user_cloud(ctx), checks)
        if existing is not None:
            self._check_immutable(existing, definition)
        disable = body.get("disable_rollback", existing.disable_rollback if existing else True)
        if isinstance(disable, str):
            disable = parse_bool(disable, "disable_rollback")
        timeout = body.get("timeout_mins", existing.timeout_mins if existing else None)
        if timeout is not None:
            try:
                timeout = int(timeout)
            except (TypeError, ValueError):
                raise HTTPBadRequest(detail=f"Invalid timeout value {timeout}") from None
            if timeout <= 0:
                raise HTTPBadRequest(detail=f"Invalid timeout value {timeout}")
        tags = _tags(body.get("tags")) if "tags" in body else (existing.tags if existing else None)
        return StackRequest(
            name=name,
            template=template,
            environment=env.to_dict(),
            files=files,
            params=params,
            definition=definition,
            disable_rollback=bool(disable),
            timeout_mins=timeout,
            tags=tags,
        )

    def _check_immutable(self, existing: Stack, new: StackDefinition) -> None:
        try:
            old = StackDefinition(
                existing.template,
                Environment(existing.environment),
                existing.files,
                existing.params,
                stack_name=existing.name,
                stack_id=existing.id,
                project_id=existing.project_id,
            )
        except Exception:  # an old definition that no longer parses has nothing to keep
            return
        changed = []
        for name, schema in new.params.schemas.items():
            if not schema.immutable or name not in old.params.schemas:
                continue
            try:
                if old.params[name] != new.params[name]:
                    changed.append(name)
            except StackValidationFailed:
                continue
        if changed:
            raise ImmutableParameterModified(keys=", ".join(sorted(changed)))

    def user_cloud(self, ctx: RequestContext) -> CloudSession:
        assert ctx.auth_token is not None
        return user_session(
            self.core.engine.http,
            self.identity_url,
            ctx.auth_token,
            self.region,
            ctx.project_id or "",
        )

    # -- create ---------------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> Stack:
        self.core.enforce(ctx, "create")
        if body.get("adopt_stack_data") is not None and not self.core.settings.enable_stack_adopt:
            raise NotSupported(feature="Stack Adopt")
        name = check_name(body.get("stack_name"))
        stack_id = str(uuid.uuid4())
        await asyncio.to_thread(self._check_new, ctx, name)
        request = await self.parse(ctx, body, stack_id=stack_id, name=name)
        trust_id = await self.core.engine.create_trust(
            ctx.auth_token or "", ctx.user_id or "", ctx.project_id or "", list(ctx.roles)
        )
        row = Stack(
            id=stack_id,
            name=name,
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            username=ctx.user_name,
            template=request.template,
            environment=request.environment,
            files=request.files,
            params=request.params,
            action="CREATE",
            status="IN_PROGRESS",
            status_reason="Stack CREATE started",
            disable_rollback=request.disable_rollback,
            timeout_mins=request.timeout_mins,
            tags=request.tags,
            trust_id=trust_id,
            engine_id=self.core.engine.engine_id,
        )
        try:
            await asyncio.to_thread(self._insert, ctx, row)
        except Exception:
            await self._forget_trust(ctx, trust_id)
            raise
        self.core.engine.schedule(row.id, "CREATE", StackRuntime.create, rollback=_rollback_create)
        return row

    async def _forget_trust(self, ctx: RequestContext, trust_id: str) -> None:
        try:
            await self.user_cloud(ctx).request(
                "identity", "DELETE", f"/OS-TRUST/trusts/{trust_id}", missing_ok=True
            )
        except ServiceCallFailed:  # the stack was refused; a dangling trust is only untidy
            LOG.exception("could not delete trust %s", trust_id)

    def _check_new(self, ctx: RequestContext, name: str) -> None:
        with self.core.db.reader() as session:
            exists = session.scalar(
                select(Stack.id).where(
                    Stack.name == name,
                    Stack.project_id == ctx.project_id,
                    Stack.deleted_at.is_(None),
                )
            )
            if exists:
                raise StackExists(stack_name=name)
            count = session.scalar(
                select(func.count())
                .select_from(Stack)
                .where(
                    Stack.project_id == ctx.project_id,
                    Stack.deleted_at.is_(None),
                    Stack.parent_id.is_(None),
                )
            )
            if (count or 0) >= self.core.settings.max_stacks_per_tenant:
                raise RequestLimitExceeded(
                    message="You have reached the maximum stacks per tenant, "
                    f"{self.core.settings.max_stacks_per_tenant}. Please delete some stacks."
                )

    def _insert(self, ctx: RequestContext, row: Stack) -> None:
        with self.core.db.writer() as session:
            exists = session.scalar(
                select(Stack.id).where(
                    Stack.name == row.name,
                    Stack.project_id == row.project_id,
                    Stack.deleted_at.is_(None),
                )
            )
            if exists:
                raise StackExists(stack_name=row.name)
            session.add(row)

    async def preview(
        self, ctx: RequestContext, body: Mapping[str, Any]
    ) -> tuple[StackRequest, str]:
        self.core.enforce(ctx, "preview")
        name = check_name(body.get("stack_name"))
        stack_id = "None"
        request = await self.parse(ctx, body, stack_id=stack_id, name=name)
        return request, stack_id

    # -- read -----------------------------------------------------------------------------------

    def list_stacks(self, ctx: RequestContext, query: Mapping[str, list[str]]) -> list[Stack]:
        def one(key: str) -> str | None:
            values = query.get(key)
            return values[-1] if values else None

        everyone = one("global_tenant")
        all_projects = everyone is not None and parse_bool(everyone, "global_tenant")
        self.core.enforce(ctx, "global_index" if all_projects else "index")
        show_deleted = parse_bool(one("show_deleted") or "false", "show_deleted")
        show_nested = parse_bool(one("show_nested") or "false", "show_nested")
        with self.core.db.reader() as session:
            stmt = select(Stack)
            if not all_projects:
                stmt = stmt.where(Stack.project_id == ctx.project_id)
            if not show_deleted:
                stmt = stmt.where(Stack.deleted_at.is_(None))
            if not show_nested:
                stmt = stmt.where(Stack.parent_id.is_(None))
            for key, column in (
                ("name", Stack.name),
                ("id", Stack.id),
                ("tenant", Stack.project_id),
                ("username", Stack.username),
                ("owner_id", Stack.parent_id),
            ):
                if query.get(key):
                    stmt = stmt.where(column.in_(query[key]))
            if query.get("status"):
                stmt = stmt.where(Stack.status.in_(query["status"]))
            if query.get("action"):
                stmt = stmt.where(Stack.action.in_(query["action"]))
            rows = list(session.scalars(stmt))
        for key, match_all in (
            ("tags", True),
            ("tags_any", False),
            ("not_tags", True),
            ("not_tags_any", False),
        ):
            wanted = _tags(one(key))
            if not wanted:
                continue

            def has(row: Stack, wanted: list[str] = wanted, match_all: bool = match_all) -> bool:
                tags = set(row.tags or [])
                return set(wanted) <= tags if match_all else bool(set(wanted) & tags)

            rows = [r for r in rows if has(r) == (not key.startswith("not_"))]
        sort_key = one("sort_keys") or "creation_time"
        if sort_key not in SORT_KEYS:
            raise HTTPBadRequest(detail=f"Sort key {sort_key} is not supported.")
        sort_dir = (one("sort_dir") or "desc").lower()
        if sort_dir not in ("asc", "desc"):
            raise HTTPBadRequest(detail="Unknown sort direction, must be 'desc' or 'asc'")
        attr = {
            "stack_name": "name",
            "stack_status": "status",
            "creation_time": "created_at",
            "updated_time": "updated_at",
        }[sort_key]
        rows.sort(
            key=lambda r: (getattr(r, attr) is None, getattr(r, attr) or 0, r.id),
            reverse=sort_dir == "desc",
        )
        marker = one("marker")
        if marker:
            ids = [r.id for r in rows]
            if marker not in ids:
                raise EntityNotFound(entity="Stack", name=marker)
            rows = rows[ids.index(marker) + 1 :]
        limit = one("limit")
        if limit is not None:
            try:
                count = int(limit)
            except ValueError:
                raise HTTPBadRequest(detail=f"Invalid limit {limit}") from None
            if count < 0:
                raise HTTPBadRequest(detail=f"Invalid limit {limit}")
            rows = rows[:count]
        return rows

    def count(self, ctx: RequestContext, query: Mapping[str, list[str]]) -> int:
        return len(
            self.list_stacks(ctx, {k: v for k, v in query.items() if k not in ("limit", "marker")})
        )

    def lookup(self, ctx: RequestContext, name_or_id: str) -> Stack:
        self.core.enforce(ctx, "lookup")
        with self.core.db.reader() as session:
            return self.core.find(session, ctx, name_or_id)

    def get(self, ctx: RequestContext, name: str, stack_id: str, rule: str = "show") -> Stack:
        self.core.enforce(ctx, rule)
        with self.core.db.reader() as session:
            return self.core.stack(session, ctx, name, stack_id)

    def live(self, ctx: RequestContext, name: str, stack_id: str, rule: str) -> Stack:
        stack = self.get(ctx, name, stack_id, rule)
        if stack.deleted_at is not None:
            raise EntityNotFound(entity="Stack", name=name)
        return stack

    async def detail(
        self, ctx: RequestContext, name: str, stack_id: str, resolve_outputs: bool = True
    ) -> StackDetail:
        row = await asyncio.to_thread(self.get, ctx, name, stack_id)
        return await self.describe(row, resolve_outputs)

    async def describe(self, row: Stack, resolve_outputs: bool = True) -> StackDetail:
        engine = self.core.engine
        try:
            runtime = await asyncio.to_thread(engine.runtime, row)
        except Exception as exc:  # a stored definition that cannot be read any more
            return StackDetail(row, {}, [] if resolve_outputs else None, f"{exc}")
        assert runtime.definition is not None
        params = runtime.definition.params.shown()
        outputs = None
        if resolve_outputs and row.deleted_at is None:
            outputs = await self.outputs_of(runtime)
        return StackDetail(row, params, outputs, runtime.definition.template.description)

    async def output_list(
        self, ctx: RequestContext, name: str, stack_id: str
    ) -> list[dict[str, Any]]:
        row = await asyncio.to_thread(self.get, ctx, name, stack_id, "list_outputs")
        runtime = await asyncio.to_thread(self.core.engine.runtime, row)
        assert runtime.definition is not None
        return [
            {"output_key": k, "description": v.get("description") or "No description given"}
            for k, v in runtime.definition.outputs.items()
        ]

    async def output(
        self, ctx: RequestContext, name: str, stack_id: str, key: str
    ) -> dict[str, Any]:
        row = await asyncio.to_thread(self.get, ctx, name, stack_id, "show_output")
        runtime = await asyncio.to_thread(self.core.engine.runtime, row)
        assert runtime.definition is not None
        if key not in runtime.definition.outputs:
            raise EntityNotFound(entity="Output", name=key)
        return (await self.outputs_of(runtime, key))[0]

    async def outputs_of(
        self, runtime: StackRuntime, only: str | None = None
    ) -> list[dict[str, Any]]:
        assert runtime.definition is not None
        definition = runtime.definition
        wanted = {k: v for k, v in definition.outputs.items() if only is None or k == only}
        referenced: set[str] = set()
        for output in wanted.values():
            referenced |= fn.dependencies(output["value"])
        if runtime.row.status == "COMPLETE" and runtime.row.action != "DELETE":
            for name in referenced:
                resource = runtime.resources.get(name)
                if (
                    resource is not None
                    and resource.state.status == "COMPLETE"
                    and resource.physical_id
                ):
                    try:
                        await resource.refresh()
                    except Exception:  # an output then shows what is known
                        import logging

                        logging.getLogger(__name__).exception("refreshing %s failed", name)
        out = []
        for key, output in wanted.items():
            item: dict[str, Any] = {
                "output_key": key,
                "description": output.get("description") or "No description given",
            }
            try:
                item["output_value"] = fn.resolve(output["value"])
            except Exception as exc:  # Heat reports the error per output
                item["output_value"] = None
                item["output_error"] = str(exc.args[0] if exc.args else exc)
            out.append(item)
        return out

    # -- update and delete ----------------------------------------------------------------------

    async def update(
        self, ctx: RequestContext, name: str, stack_id: str, body: Mapping[str, Any], patch: bool
    ) -> None:
        row = await asyncio.to_thread(
            self.live, ctx, name, stack_id, "update_patch" if patch else "update"
        )
        if row.status == "IN_PROGRESS":
            raise ActionInProgress(stack_name=row.name, action=row.action)
        request = await self.parse(
            ctx, body, stack_id=row.id, name=row.name, existing=row, patch=patch
        )
        previous = {
            "template": row.template,
            "environment": row.environment,
            "files": row.files,
            "params": row.params,
        }
        claimed = await asyncio.to_thread(self._claim, row.id, "UPDATE", previous, request)
        if not claimed:
            raise ActionInProgress(stack_name=row.name, action=row.action)
        new = request

        async def body_(runtime: StackRuntime) -> None:
            definition = runtime.define(new.template, new.environment, new.files, new.params)
            await runtime.update(definition)

        self.core.engine.schedule(row.id, "UPDATE", body_, rollback=_rollback_update)

    def _claim(
        self,
        stack_id: str,
        action: str,
        previous: dict[str, Any] | None,
        request: StackRequest | None,
    ) -> bool:
        """Move the stack to ``action`` IN_PROGRESS unless an action runs (one write)."""
        from sqlalchemy import update

        values: dict[str, Any] = {
            "action": action,
            "status": "IN_PROGRESS",
            "status_reason": f"Stack {action} started",
            "engine_id": self.core.engine.engine_id,
        }
        if request is not None:
            values.update(
                template=request.template,
                environment=request.environment,
                files=request.files,
                params=request.params,
                previous=previous,
                disable_rollback=request.disable_rollback,
                timeout_mins=request.timeout_mins,
                tags=request.tags,
            )
        with self.core.db.writer() as session:
            result = session.execute(
                update(Stack)
                .where(Stack.id == stack_id, Stack.status != "IN_PROGRESS")
                .values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def preview_update(
        self, ctx: RequestContext, name: str, stack_id: str, body: Mapping[str, Any], patch: bool
    ) -> dict[str, list[dict[str, Any]]]:
        row = await asyncio.to_thread(
            self.live, ctx, name, stack_id, "preview_update_patch" if patch else "preview_update"
        )
        request = await self.parse(
            ctx, body, stack_id=row.id, name=row.name, existing=row, patch=patch
        )
        runtime = await asyncio.to_thread(self.core.engine.runtime, row)
        new = request.definition
        new.live = runtime
        out: dict[str, list[dict[str, Any]]] = {
            "added": [],
            "deleted": [],
            "replaced": [],
            "updated": [],
            "unchanged": [],
        }
        for res_name, definition in new.resources.items():
            existing = runtime.resources.get(res_name)
            entry: dict[str, Any] = {
                "resource_name": res_name,
                "resource_type": definition.type,
                "resource_action": existing.state.action if existing else "INIT",
                "resource_status": existing.state.status if existing else "COMPLETE",
                "resource_identity": {},
                "physical_resource_id": existing.physical_id if existing else "",
                "stack_name": row.name,
                "stack_identity": {},
                "description": definition.description,
            }
            if existing is None:
                out["added"].append(entry)
                continue
            try:
                props = new.properties_of(res_name)
            except StackValidationFailed:
                props = None
            if existing.state.type != definition.type:
                out["replaced"].append(entry)
            elif props == existing.properties:
                out["unchanged"].append(entry)
            else:
                changed = {
                    k
                    for k in set(props or {}) | set(existing.properties)
                    if (props or {}).get(k) != existing.properties.get(k)
                }
                schema = definition.plugin.properties_schema
                in_place = all(k in schema and schema[k].update_allowed for k in changed)
                if definition.plugin.type_name == "OS::Nova::Server" and "user_data" in changed:
                    in_place = False
                out["updated" if in_place else "replaced"].append(entry)
        for res_name, existing in runtime.resources.items():
            if res_name not in new.resources:
                out["deleted"].append(
                    {
                        "resource_name": res_name,
                        "resource_type": existing.state.type,
                        "physical_resource_id": existing.physical_id or "",
                    }
                )
        return out

    async def delete(self, ctx: RequestContext, name: str, stack_id: str) -> None:
        row = await asyncio.to_thread(self.live, ctx, name, stack_id, "delete")
        engine = self.core.engine
        running = engine.tasks.get(row.id)
        if running is not None and row.action != "DELETE":
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        elif running is not None:
            return
        await asyncio.to_thread(self._claim, row.id, "DELETE", None, None)
        await asyncio.to_thread(
            engine.store.set_status,
            row.id,
            "DELETE",
            "IN_PROGRESS",
            "Stack DELETE started",
            engine_id=engine.engine_id,
        )
        engine.schedule(row.id, "DELETE", StackRuntime.delete)

    async def abandon(self, ctx: RequestContext, name: str, stack_id: str) -> dict[str, Any]:
        self.core.enforce(ctx, "abandon")
        if not self.core.settings.enable_stack_abandon:
            raise NotSupported(feature="Stack Abandon")
        raise NotSupported(feature="Stack Abandon")

    def export(self, ctx: RequestContext, name: str, stack_id: str) -> dict[str, Any]:
        row = self.get(ctx, name, stack_id, "export")
        with self.core.db.reader() as session:
            from onestack.orchestration.models import Resource

            resources = {
                r.name: {
                    "name": r.name,
                    "type": r.type,
                    "resource_id": r.physical_id,
                    "action": r.action,
                    "status": r.status,
                    "metadata": r.rsrc_metadata,
                    "resource_data": {},
                }
                for r in session.scalars(
                    select(Resource).where(Resource.stack_id == row.id, Resource.current)
                )
            }
        return {
            "id": row.id,
            "name": row.name,
            "action": row.action,
            "status": row.status,
            "template": row.template,
            "environment": row.environment,
            "files": row.files,
            "project_id": row.project_id,
            "stack_user_project_id": row.project_id,
            "resources": resources,
        }

    # -- actions --------------------------------------------------------------------------------

    async def action(
        self, ctx: RequestContext, name: str, stack_id: str, body: Mapping[str, Any]
    ) -> None:
        if not isinstance(body, Mapping) or len(body) != 1:
            raise HTTPBadRequest(
                detail="Invalid action, choose one of: suspend, resume, check, "
                "cancel_update, cancel_without_rollback"
            )
        action = next(iter(body))
        known = ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")
        if action not in known:
            raise HTTPBadRequest(detail=f"Invalid action {action} specified")
        row = await asyncio.to_thread(self.live, ctx, name, stack_id, action)
        engine = self.core.engine
        if action in ("cancel_update", "cancel_without_rollback"):
            task = engine.tasks.get(row.id)
            if row.action != "UPDATE" or row.status != "IN_PROGRESS" or task is None:
                raise HTTPBadRequest(
                    detail=f"Cancelling update when stack is {row.action}_{row.status}"
                )
            if action == "cancel_without_rollback":
                await asyncio.to_thread(_set_rollback, self.core.db, row.id, True)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if action == "cancel_update":
                await asyncio.to_thread(
                    engine.store.set_status,
                    row.id,
                    "ROLLBACK",
                    "IN_PROGRESS",
                    "Stack ROLLBACK started",
                    engine_id=engine.engine_id,
                )
                engine.schedule(row.id, "ROLLBACK", _rollback_update)
            return
        upper = action.upper()
        if not await asyncio.to_thread(self._claim, row.id, upper, False, None):  # type: ignore[arg-type]
            raise ActionInProgress(stack_name=row.name, action=row.action)
        if action == "check":
            body_ = _each("CHECK", False, "check")
        elif action == "suspend":
            body_ = _each("SUSPEND", True, "suspend")
        else:
            body_ = _each("RESUME", False, "resume")
        engine.schedule(row.id, upper, body_)


def _each(action: str, reverse: bool, method: str) -> Any:
    async def body(runtime: StackRuntime) -> None:
        await runtime.each(action, reverse, lambda r: getattr(r, method)())

    return body


def _set_rollback(db: Any, stack_id: str, disabled: bool) -> None:
    from sqlalchemy import update

    with db.writer() as session:
        session.execute(update(Stack).where(Stack.id == stack_id).values(disable_rollback=disabled))


async def _rollback_create(runtime: StackRuntime) -> None:
    await runtime.delete("ROLLBACK")


async def _rollback_update(runtime: StackRuntime) -> None:
    row = await asyncio.to_thread(runtime.store.stack, runtime.id)
    previous = row.previous if row is not None else None
    if not previous:
        raise StackValidationFailed("Nothing to roll back to.")
    await runtime.restore_replaced()
    definition = runtime.define(
        previous["template"], previous["environment"], previous["files"], previous["params"]
    )
    await asyncio.to_thread(
        runtime.store.set_definition,
        runtime.id,
        previous["template"],
        previous["environment"],
        previous["files"],
        previous["params"],
    )
    await runtime.update(definition)
