"""One stack at work: its resources, and the actions that move them.

Every action walks the dependency graph: a resource starts as soon as
everything it requires is done (creation order), or everything that requires
it is gone (deletion order), with at most ``max_concurrent_resources`` at once.
After a failure nothing new starts; what is running finishes (so nothing is
left half-made without a record), then the action fails with the first
failure's reason.  Every status change of a resource or of the stack is one
write and one event, with Heat's reasons.

Update: resources only in the new template are created, changed ones updated
in place (``update``) or replaced (create the new one, delete the old one
afterwards), removed ones deleted last; ``immutable`` properties refuse the
update.  Rollback (when enabled) deletes what a failed create made, or updates
back to the previous definition after a failed update.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from onestack.orchestration.engine.definition import StackDefinition
from onestack.orchestration.engine.graph import Graph
from onestack.orchestration.exceptions import (
    ResourceFailure,
    ServiceCallFailed,
    StackValidationFailed,
    UpdateReplace,
)
from onestack.orchestration.resources.base import Resource, ResourceState
from onestack.orchestration.template.environment import Environment

if TYPE_CHECKING:
    from onestack.orchestration.clients.session import CloudSession
    from onestack.orchestration.engine.engine import Engine
    from onestack.orchestration.models import Stack

LOG = logging.getLogger(__name__)


class ActionFailed(Exception):
    """A stack action failed; ``reason`` is the stack's status reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def failure_reason(name: str, exc: BaseException) -> str:
    if isinstance(exc, ServiceCallFailed):
        return f"{exc.kind}: resources.{name}: {exc.message.split(': ', 1)[-1]}"
    if isinstance(exc, ActionFailed):
        return exc.reason
    if isinstance(exc, StackValidationFailed):
        return f"StackValidationFailed: resources.{name}: {exc.message}"
    if isinstance(exc, ResourceFailure):
        return f"Error: resources.{name}: {exc.message}"
    if isinstance(exc, asyncio.CancelledError | TimeoutError):
        return f"Error: resources.{name}: Operation cancelled (timed out)"
    return f"{type(exc).__name__}: resources.{name}: {exc}"


class StackRuntime:
    """A stack's definition and resources; the engine's unit of work."""

    def __init__(self, engine: Engine, row: Stack, cloud: CloudSession) -> None:
        self.engine = engine
        self.store = engine.store
        self.row = row
        self.id = row.id
        self.name = row.name
        self.project_id = row.project_id
        self.cloud = cloud
        self.poll_interval = engine.settings.poll_interval
        self.depth = row.nested_depth
        self.deadline = time.monotonic() + engine.settings.stack_action_timeout
        self.definition: StackDefinition | None = None
        self.resources: dict[str, Resource] = {}
        self.replaced: list[Resource] = []
        self.owner: Resource | None = None

    # -- the definition -------------------------------------------------------------------------

    def define(
        self,
        template: dict[str, Any],
        environment: dict[str, Any],
        files: dict[str, Any],
        params: dict[str, Any],
    ) -> StackDefinition:
        env = Environment(environment)
        facade = {}
        if self.owner is not None:
            facade = {"metadata": self.owner.state.metadata, "deletion_policy": "Delete"}
        definition = StackDefinition(
            template,
            env,
            files,
            params,
            stack_name=self.name,
            stack_id=self.id,
            project_id=self.project_id,
            owner_facade=facade,
        )
        definition.live = self
        return definition

    def load(self) -> None:
        """The definition and resources as stored."""
        row = self.row
        self.definition = self.define(row.template, row.environment, row.files, row.params)
        self.resources = {}
        self.replaced = []
        for state, current in self.store.resources(self.id):
            resource = self.plugin_for(state)
            if current:
                self.resources[state.name] = resource
            else:
                self.replaced.append(resource)

    def plugin_for(self, state: ResourceState) -> Resource:
        from onestack.orchestration.resources import registry

        definition = self.definition.resources.get(state.name) if self.definition else None
        if definition is not None and definition.type == state.type:
            plugin = definition.plugin
        else:
            plugin = registry.get(state.type) or registry.TEMPLATE_RESOURCE
            resolved = (
                self.definition.env.resolve(state.type, state.name) if self.definition else None
            )
            if isinstance(resolved, str) and registry.get(resolved):
                plugin = registry.get(resolved) or plugin
        resource = plugin(self, state)
        return resource

    def remaining(self) -> float:
        return max(1.0, self.deadline - time.monotonic())

    def save_soon(self, resource: Resource) -> None:
        self.store.save_resource(
            self.id,
            resource.state,
            current=resource in self.resources.values() or resource.state.action == "INIT",
        )

    # -- LiveState ------------------------------------------------------------------------------

    def ref(self, name: str) -> Any:
        resource = self.resources.get(name)
        return resource.reference() if resource is not None else name

    def attr(self, name: str, attr: str, path: Sequence[Any] = ()) -> Any:
        resource = self.resources.get(name)
        return resource.attribute(attr, path) if resource is not None else None

    def attrs(self, name: str) -> dict[str, Any]:
        resource = self.resources.get(name)
        return dict(resource.attrs) if resource is not None else {}

    # -- transitions ----------------------------------------------------------------------------

    def transition(
        self, resource: Resource, action: str, status: str, reason: str = "state changed"
    ) -> None:
        state = resource.state
        state.action, state.status, state.status_reason = action, status, reason
        current = resource not in self.replaced
        self.store.save_resource(self.id, state, current=current, event=True)

    async def write(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """One database write, off the event loop (the APIs share it)."""
        await asyncio.to_thread(call, *args, **kwargs)

    def stack_event(self, action: str, status: str, reason: str) -> None:
        self.store.set_status(self.id, action, status, reason)
        self.store.event(self.id, self.name, "OS::Heat::Stack", self.id, action, status, reason)

    # -- walking the graph ----------------------------------------------------------------------

    async def walk(
        self, names: set[str], requires: dict[str, set[str]], work: Callable[[str], Awaitable[None]]
    ) -> None:
        limit = asyncio.Semaphore(self.engine.settings.max_concurrent_resources)
        pending = set(names)
        done: set[str] = set()
        running: dict[asyncio.Task[None], str] = {}
        failures: list[BaseException] = []

        async def run(name: str) -> None:
            async with limit:
                await work(name)

        try:
            while pending or running:
                if not failures:
                    ready = sorted(n for n in pending if (requires.get(n, set()) & names) <= done)
                    for name in ready:
                        pending.discard(name)
                        running[asyncio.create_task(run(name), name=f"{self.name}-{name}")] = name
                if not running:
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    name = running.pop(task)
                    error = task.exception()
                    if error is not None:
                        failures.append(error)
                    else:
                        done.add(name)
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        if failures:
            raise failures[0]

    # -- create ---------------------------------------------------------------------------------

    def new_resource(self, name: str) -> Resource:
        assert self.definition is not None
        definition = self.definition.resources[name]
        state = ResourceState(id=str(uuid.uuid4()), name=name, type=definition.type)
        return definition.plugin(self, state)

    async def create_resource(self, name: str) -> None:
        resource = self.resources[name]
        assert self.definition is not None
        try:
            resource.properties = self.definition.properties_of(name)
            resource.state.properties = resource.properties
            resource.state.metadata = _plain(_resolve(self.definition.resources[name].metadata))
        except StackValidationFailed as exc:
            await self.write(
                self.transition, resource, "CREATE", "FAILED", failure_reason(name, exc)
            )
            raise ActionFailed(f"Resource CREATE failed: {failure_reason(name, exc)}") from None
        await self.write(self.transition, resource, "CREATE", "IN_PROGRESS")
        try:
            await resource.create()
            await resource.refresh()
        except BaseException as exc:
            reason = failure_reason(name, exc)
            await self.write(self.transition, resource, "CREATE", "FAILED", reason)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise ActionFailed(f"Resource CREATE failed: {reason}") from None
        await self.write(self.transition, resource, "CREATE", "COMPLETE")

    async def create(self) -> None:
        assert self.definition is not None
        graph = self.definition.graph()
        for name in self.definition.resources:
            if name not in self.resources:
                self.resources[name] = self.new_resource(name)
            resource = self.resources[name]
            await self.write(
                self.store.save_resource,
                self.id,
                resource.state,
                required_by=sorted(graph.required_by(name)),
            )
        await self.walk(set(self.definition.resources), graph.requires, self.create_resource)

    # -- delete ---------------------------------------------------------------------------------

    async def delete_resource(self, resource: Resource, action: str = "DELETE") -> None:
        if resource.state.action == "INIT" and resource.physical_id is None:
            await self.write(self.store.drop_resource, resource.state.id)
            return
        if resource.state.action == "DELETE" and resource.state.status == "COMPLETE":
            await self.write(self.store.drop_resource, resource.state.id)
            return
        policy = "Delete"
        if self.definition is not None and resource.name in self.definition.resources:
            policy = self.definition.resources[resource.name].deletion_policy
        await self.write(self.transition, resource, action, "IN_PROGRESS")
        try:
            if policy == "Retain":
                pass
            else:
                if policy == "Snapshot":
                    resource.data["snapshot"] = await resource.snapshot()
                await resource.delete()
        except BaseException as exc:
            reason = failure_reason(resource.name, exc)
            await self.write(self.transition, resource, action, "FAILED", reason)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise ActionFailed(f"Resource {action} failed: {reason}") from None
        await self.write(self.transition, resource, action, "COMPLETE")
        await self.write(self.store.drop_resource, resource.state.id)

    def deletion_requires(self, names: set[str]) -> dict[str, set[str]]:
        """For deletion: each resource waits for those that require it."""
        graph = Graph()
        stored = {r.name: r for r in self.resources.values()}
        for name in names:
            graph.add(name)
        if self.definition is not None:
            try:
                full = self.definition.graph()
            except Exception:  # an invalid stored template: delete in any order
                LOG.exception("stack %s: no dependency graph for the delete", self.id)
                full = Graph()
            for name in names:
                for required in full.requires.get(name, set()):
                    if required in names:
                        graph.edge(required, name)  # required waits for name to go
        for name, resource in stored.items():
            for required_by in self._required_by(resource):
                if required_by in names and name in names:
                    graph.edge(name, required_by)
        return graph.requires

    def _required_by(self, resource: Resource) -> list[str]:
        return []

    async def delete(self, action: str = "DELETE") -> None:
        for resource in list(self.replaced):
            await self.delete_resource(resource, action)
            self.replaced.remove(resource)
        names = set(self.resources)
        requires = self.deletion_requires(names)

        async def work(name: str) -> None:
            await self.delete_resource(self.resources[name], action)

        await self.walk(names, requires, work)
        self.resources = {}

    # -- update ---------------------------------------------------------------------------------

    async def update_resource(self, name: str, new_def: StackDefinition) -> None:
        definition = new_def.resources[name]
        existing = self.resources.get(name)
        if (
            existing is None
            or existing.state.action == "INIT"
            or (
                existing.state.action in ("CREATE", "DELETE")
                and existing.state.status == "FAILED"
                and existing.physical_id is None
            )
        ):
            if existing is not None:
                await self.write(self.store.drop_resource, existing.state.id)
            self.resources[name] = self.new_resource(name)
            await self.create_resource(name)
            return
        try:
            new_props = new_def.properties_of(name)
        except StackValidationFailed as exc:
            await self.write(
                self.transition, existing, "UPDATE", "FAILED", failure_reason(name, exc)
            )
            raise ActionFailed(f"Resource UPDATE failed: {failure_reason(name, exc)}") from None
        old_props = existing.properties
        replace = existing.state.type != definition.type or existing.state.status == "FAILED"
        if (
            not replace
            and new_props == old_props
            and existing.state.metadata == _plain(_resolve(definition.metadata))
        ):
            return
        if not replace:
            await self.write(self.transition, existing, "UPDATE", "IN_PROGRESS")
            try:
                await existing.update(new_props, old_props)
                existing.properties = new_props
                existing.state.properties = new_props
                existing.state.metadata = _plain(_resolve(definition.metadata))
                await existing.refresh()
            except UpdateReplace as changed:
                key = str(changed.args[0]) if changed.args else ""
                prop = definition.plugin.properties_schema.get(key)
                if prop is not None and prop.immutable:
                    reason = (
                        f"NotSupported: resources.{name}: Update to property {key} of "
                        f"{name} ({definition.type}) is not supported."
                    )
                    await self.write(self.transition, existing, "UPDATE", "FAILED", reason)
                    raise ActionFailed(f"Resource UPDATE failed: {reason}") from None
                replace = True
            except BaseException as exc:
                reason = failure_reason(name, exc)
                await self.write(self.transition, existing, "UPDATE", "FAILED", reason)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise ActionFailed(f"Resource UPDATE failed: {reason}") from None
            else:
                await self.write(self.transition, existing, "UPDATE", "COMPLETE")
                return
        # replacement: a new physical resource first, the old one goes at the end
        if existing.state.action != "UPDATE" or existing.state.status != "IN_PROGRESS":
            await self.write(self.transition, existing, "UPDATE", "IN_PROGRESS")
        try:
            await existing.prepare_for_replace()
        except BaseException as exc:
            reason = failure_reason(name, exc)
            await self.write(self.transition, existing, "UPDATE", "FAILED", reason)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise ActionFailed(f"Resource UPDATE failed: {reason}") from None
        self.replaced.append(existing)
        await self.write(self.store.set_current, existing.state.id, False)
        self.resources[name] = self.new_resource(name)
        await self.write(
            self.transition, existing, "UPDATE", "COMPLETE", "Replaced by a new resource"
        )
        await self.create_resource(name)

    async def update(self, new_def: StackDefinition) -> None:
        graph = new_def.graph()
        old_def = self.definition
        self.definition = new_def
        new_def.live = self
        names = set(new_def.resources)
        await self.walk(names, graph.requires, lambda n: self.update_resource(n, new_def))
        # removed resources: deleted in reverse dependency order of the old template
        removed = {n for n in self.resources if n not in names}
        if removed:
            self.definition = old_def or new_def
            requires = self.deletion_requires(removed)
            self.definition = new_def

            async def work(name: str) -> None:
                await self.delete_resource(self.resources[name])

            await self.walk(removed, requires, work)
            for name in removed:
                self.resources.pop(name, None)
        for resource in list(self.replaced):
            await self.delete_resource(resource)
            self.replaced.remove(resource)
        for name in names:
            await self.write(
                self.store.save_resource,
                self.id,
                self.resources[name].state,
                required_by=sorted(graph.required_by(name)),
            )

    async def restore_replaced(self) -> None:
        """Before an update rollback: put back resources whose replacement failed."""
        for old in list(self.replaced):
            new = self.resources.get(old.name)
            if new is not None and new is not old:
                await self.delete_resource(new, "ROLLBACK")
            self.replaced.remove(old)
            self.resources[old.name] = old
            await self.write(self.store.set_current, old.state.id, True)

    # -- other actions --------------------------------------------------------------------------

    async def each(
        self, action: str, reverse: bool, call: Callable[[Resource], Awaitable[None]]
    ) -> None:
        assert self.definition is not None
        graph = self.definition.graph()
        names = set(self.resources)
        requires = self.deletion_requires(names) if reverse else graph.requires

        async def work(name: str) -> None:
            resource = self.resources[name]
            await self.write(self.transition, resource, action, "IN_PROGRESS")
            try:
                await call(resource)
            except BaseException as exc:
                reason = failure_reason(name, exc)
                await self.write(self.transition, resource, action, "FAILED", reason)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise ActionFailed(f"Resource {action} failed: {reason}") from None
            await self.write(self.transition, resource, action, "COMPLETE")

        await self.walk(names, requires, work)

    async def refresh_all(self) -> None:
        for resource in self.resources.values():
            if resource.state.action != "INIT" and resource.state.status == "COMPLETE":
                try:
                    await resource.refresh()
                except Exception:
                    LOG.exception("stack %s: refreshing %s failed", self.id, resource.name)
                await self.write(self.store.save_resource, self.id, resource.state)


def _resolve(snippet: Any) -> Any:
    from onestack.orchestration.template import functions as fn

    return fn.resolve(snippet)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    return value if value is not None else {}
