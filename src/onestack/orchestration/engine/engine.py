"""The orchestration engine: runs stack actions on the event loop, with the stack's trust.

Every stack stores a Keystone trust from its owner to the engine's service user
(impersonation, the owner's roles on the project); deferred work acts with
tokens scoped to that trust, never with the owner's token or a stored password
of the owner.  Nested stacks (template resources, groups) run inside their
owner's action with the same trust.

Restart: an action that was running when the process stopped is never left
IN_PROGRESS.  ``recover()`` (at start) marks an interrupted create, update,
suspend, resume or check FAILED with "Engine went down during stack ACTION";
resources that were being created are looked up by the name chosen before the
create call, so their physical ids are recorded and a later delete removes
them; an interrupted delete (or rollback of a create) is resumed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx

from onestack.common.db import Database
from onestack.common.keystone_client import (
    TIMEOUT,
    AsyncPasswordToken,
    AsyncTrustTokens,
    Credentials,
    failure,
)
from onestack.orchestration.clients.session import CloudSession, call_failed
from onestack.orchestration.conf import OrchestrationSettings
from onestack.orchestration.engine.runtime import ActionFailed, StackRuntime
from onestack.orchestration.engine.store import EngineStore, SignalStore
from onestack.orchestration.exceptions import (
    EngineUnavailable,
    ResourceFailure,
    StackValidationFailed,
)
from onestack.orchestration.models import Stack
from onestack.orchestration.resources.base import short_id

if TYPE_CHECKING:
    from onestack.orchestration.resources.base import Resource

LOG = logging.getLogger(__name__)

Body = Callable[[StackRuntime], Awaitable[None]]


class Engine:
    def __init__(
        self,
        db: Database,
        settings: OrchestrationSettings,
        region: str,
        identity_url: str,
        public_url: str,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.settings = settings
        self.region = region
        self.identity_url = identity_url
        self.store = EngineStore(db)
        self.signals = SignalStore(db)
        #: the software configs store (set by the service; None: not available)
        self.software: Any = None
        self.engine_id = uuid.uuid4().hex
        self.credentials: Credentials | None = None
        self._http: httpx.AsyncClient | None = None
        self._providers: dict[str, AsyncTrustTokens] = {}
        self._service_token: AsyncPasswordToken | None = None
        #: the top-level action running per stack
        self.tasks: dict[str, asyncio.Task[None]] = {}
        #: other work in flight (signals being handled)
        self._background: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, credentials: Credentials, http: httpx.AsyncClient | None = None) -> None:
        """Start acting as the service user of ``credentials``; ``http`` is the client
        the other services' APIs are reached through (a new one by default; closed at
        ``stop``)."""
        self.credentials = credentials
        self.loop = asyncio.get_running_loop()
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT)
        await self.recover()

    async def stop(self) -> None:
        tasks = [*self.tasks.values(), *self._background]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stack_id in list(self.tasks):
            self.tasks.pop(stack_id, None)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
            self._service_token = None
            self._providers.clear()

    @property
    def running(self) -> bool:
        return self._http is not None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise EngineUnavailable()
        return self._http

    # -- trusts and sessions --------------------------------------------------------------------

    async def create_trust(
        self, token: str, user_id: str, project_id: str, roles: list[str]
    ) -> str:
        """A trust from the caller (its token) to the engine's user, with its roles.

        Redelegation is allowed: resources act with tokens of this trust, and an
        ``OS::Aodh`` alarm with a ``trust+`` action makes the alarm API create a trust
        (to its own user) with such a token, as Heat does with the user's token."""
        trustee = await self.service_token().user_id()
        body = {
            "trust": {
                "trustor_user_id": user_id,
                "trustee_user_id": trustee,
                "project_id": project_id,
                "impersonation": True,
                "allow_redelegation": True,
                "roles": [{"name": r} for r in roles],
            }
        }
        response = await self.http.post(
            f"{self.identity_url}/v3/OS-TRUST/trusts", json=body, headers={"X-Auth-Token": token}
        )
        if response.status_code != 201:
            raise call_failed(failure(response))
        return str(response.json()["trust"]["id"])

    async def delete_trust(self, trust_id: str, cloud: CloudSession) -> None:
        await cloud.request("identity", "DELETE", f"/OS-TRUST/trusts/{trust_id}", missing_ok=True)
        self._providers.pop(trust_id, None)

    def service_token(self) -> AsyncPasswordToken:
        """The engine's own (unscoped) token: the trustee of every stack's trust."""
        assert self.credentials is not None
        if self._service_token is None:
            self._service_token = AsyncPasswordToken(self.http, self.credentials)
        return self._service_token

    def session(self, row: Stack) -> CloudSession:
        trust_id = row.trust_id or ""
        provider = self._providers.get(trust_id)
        if provider is None:
            provider = AsyncTrustTokens(self.service_token(), trust_id)
            self._providers[trust_id] = provider
        return CloudSession(self.http, provider, self.region, row.project_id)

    def runtime(self, row: Stack, owner: Resource | None = None) -> StackRuntime:
        cloud = owner.stack.cloud if owner is not None else self.session(row)
        runtime = StackRuntime(self, row, cloud)
        runtime.owner = owner
        runtime.deadline = time.monotonic() + self.action_seconds(row)
        runtime.load()
        return runtime

    def action_seconds(self, row: Stack) -> float:
        """How long one action of the stack may take (``timeout_mins``, else the default)."""
        if row.timeout_mins:
            return float(row.timeout_mins * 60)
        return float(self.settings.stack_action_timeout)

    # -- top-level actions ----------------------------------------------------------------------

    def schedule(
        self, stack_id: str, action: str, body: Body, *, rollback: Body | None = None
    ) -> None:
        """Run ``body`` as the stack's action (from the event loop or any thread)."""
        loop = self.loop
        if loop is None:
            raise EngineUnavailable()

        def start() -> None:
            task = loop.create_task(
                self._run(stack_id, action, body, rollback), name=f"stack-{stack_id}"
            )
            self.tasks[stack_id] = task
            task.add_done_callback(lambda t: self._finished(stack_id, t))

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            start()
        else:
            loop.call_soon_threadsafe(start)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the loop without waiting for it (stopped with the engine)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _finished(self, stack_id: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(stack_id) is task:
            self.tasks.pop(stack_id, None)
        if not task.cancelled() and task.exception() is not None:
            LOG.error("stack %s: action failed unexpectedly", stack_id, exc_info=task.exception())

    async def _run(self, stack_id: str, action: str, body: Body, rollback: Body | None) -> None:
        row = await asyncio.to_thread(self.store.stack, stack_id)
        if row is None:
            return
        try:
            runtime = await asyncio.to_thread(self.runtime, row)
        except Exception as exc:  # a stored definition the engine cannot read any more
            LOG.exception("stack %s: cannot load it for %s", stack_id, action)
            reason = f"Stack {action} failed: the stored definition cannot be read: {exc}"
            await asyncio.to_thread(
                self.store.set_status, stack_id, action, "FAILED", reason, engine_id=""
            )
            await asyncio.to_thread(
                self.store.event,
                stack_id,
                row.name,
                "OS::Heat::Stack",
                stack_id,
                action,
                "FAILED",
                reason,
            )
            return
        await self.perform(runtime, action, body, rollback=rollback)
        if action in ("DELETE",) and runtime.row.trust_id and runtime.row.parent_id is None:
            current = await asyncio.to_thread(self.store.stack, stack_id)
            if current is not None and current.status == "COMPLETE":
                try:
                    await self.delete_trust(runtime.row.trust_id, runtime.cloud)
                except Exception:
                    LOG.exception("stack %s: deleting its trust failed", stack_id)

    async def perform(
        self, runtime: StackRuntime, action: str, body: Body, *, rollback: Body | None = None
    ) -> bool:
        """Run one action with its stack status and events; True when it completed."""
        store = self.store
        store.set_status(
            runtime.id,
            action,
            "IN_PROGRESS",
            f"Stack {action} started",
            engine_id=self.engine_id,
            updated=action == "UPDATE",
        )
        store.event(
            runtime.id,
            runtime.name,
            "OS::Heat::Stack",
            runtime.id,
            action,
            "IN_PROGRESS",
            f"Stack {action} started",
        )
        try:
            async with asyncio.timeout(runtime.remaining()):
                await body(runtime)
        except TimeoutError:
            reason = "Timed out"
        except asyncio.CancelledError:
            reason = f"Stack {action} cancelled"
            self._end(runtime, action, "FAILED", reason)
            raise
        except ActionFailed as exc:
            reason = exc.reason
        except (StackValidationFailed, ResourceFailure) as exc:
            reason = exc.message
        except Exception as exc:
            LOG.exception("stack %s: %s failed", runtime.id, action)
            reason = f"{type(exc).__name__}: {exc}"
        else:
            done = "DELETE" if action == "DELETE" else action
            self._end(
                runtime,
                done,
                "COMPLETE",
                f"Stack {action} completed successfully",
                deleted=action == "DELETE" and runtime.row.parent_id is None,
            )
            return True
        self._end(runtime, action, "FAILED", reason)
        if rollback is not None and not runtime.row.disable_rollback:
            # the rollback gets a time of its own (the failed action may have used it all)
            runtime.deadline = time.monotonic() + self.action_seconds(runtime.row)
            await self.perform(runtime, "ROLLBACK", rollback)
        return False

    def _end(
        self, runtime: StackRuntime, action: str, status: str, reason: str, deleted: bool = False
    ) -> None:
        self.store.set_status(
            runtime.id,
            action,
            status,
            reason,
            engine_id="",
            deleted=deleted,
            previous=None if status == "COMPLETE" else False,
        )
        self.store.event(
            runtime.id, runtime.name, "OS::Heat::Stack", runtime.id, action, status, reason
        )

    # -- nested stacks --------------------------------------------------------------------------

    async def create_nested(
        self,
        owner: Resource,
        template: dict[str, Any],
        params: dict[str, Any],
        *,
        files: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
    ) -> StackRuntime:
        parent = owner.stack
        if parent.depth + 1 > self.settings.max_nested_stack_depth:
            raise ResourceFailure(
                f"Recursion depth exceeds {self.settings.max_nested_stack_depth}."
            )
        env = environment if environment is not None else _nested_env(parent)
        row = Stack(
            id=str(uuid.uuid4()),
            name=f"{parent.name}-{owner.name}-{short_id()}",
            project_id=parent.project_id,
            user_id=parent.row.user_id,
            username=parent.row.username,
            parent_id=parent.id,
            owner_resource=owner.name,
            nested_depth=parent.depth + 1,
            template=template,
            environment=env,
            files=dict(files if files is not None else parent.row.files),
            params=params,
            action="CREATE",
            status="IN_PROGRESS",
            status_reason="",
            disable_rollback=True,
            trust_id=parent.row.trust_id,
        )
        await asyncio.to_thread(_insert, self.db, row)
        owner.physical_id = row.id
        child = StackRuntime(self, row, parent.cloud)
        child.owner = owner
        child.deadline = parent.deadline
        try:
            child.definition = child.define(template, env, row.files, params)
            child.definition.validate()
        except StackValidationFailed as exc:
            self._end(child, "CREATE", "FAILED", exc.message)
            raise
        ok = await self.perform(child, "CREATE", StackRuntime.create)
        if not ok:
            failed = await asyncio.to_thread(self.store.stack, row.id)
            raise ResourceFailure(failed.status_reason if failed else "Nested stack failed")
        return child

    def nested(self, owner: Resource) -> StackRuntime | None:
        if not owner.physical_id:
            return None
        row = self.store.stack(owner.physical_id)
        if row is None or row.deleted_at is not None:
            return None
        runtime = StackRuntime(self, row, owner.stack.cloud)
        runtime.owner = owner
        runtime.deadline = owner.stack.deadline
        runtime.load()
        return runtime

    async def update_nested(
        self,
        owner: Resource,
        template: dict[str, Any],
        params: dict[str, Any],
        files: dict[str, Any] | None = None,
    ) -> StackRuntime:
        child = await asyncio.to_thread(self.nested, owner)
        if child is None:
            return await self.create_nested(owner, template, params, files=files)
        env = _nested_env(owner.stack)
        new_files = dict(files if files is not None else owner.stack.row.files)
        new_def = child.define(template, env, new_files, params)
        new_def.validate()
        await asyncio.to_thread(
            self.store.set_definition, child.id, template, env, new_files, params
        )

        async def body(runtime: StackRuntime) -> None:
            await runtime.update(new_def)

        ok = await self.perform(child, "UPDATE", body)
        if not ok:
            failed = await asyncio.to_thread(self.store.stack, child.id)
            raise ResourceFailure(failed.status_reason if failed else "Nested stack failed")
        return child

    async def delete_nested(self, owner: Resource) -> None:
        child = await asyncio.to_thread(self.nested, owner)
        if child is None:
            return
        ok = await self.perform(child, "DELETE", StackRuntime.delete)
        if not ok:
            failed = await asyncio.to_thread(self.store.stack, child.id)
            raise ResourceFailure(failed.status_reason if failed else "Nested stack failed")
        await asyncio.to_thread(
            self.store.set_status,
            child.id,
            "DELETE",
            "COMPLETE",
            "Stack DELETE completed successfully",
            deleted=True,
        )

    # -- restart --------------------------------------------------------------------------------

    async def recover(self) -> None:
        """See the module docstring."""
        rows = await asyncio.to_thread(self.store.in_progress)
        for row in rows:
            if row.engine_id == self.engine_id:
                continue
            try:
                await self._recover(row)
            except Exception:
                LOG.exception("stack %s: recovery failed", row.id)

    async def _recover(self, row: Stack) -> None:
        reason = f"Engine went down during stack {row.action}"
        try:
            runtime = await asyncio.to_thread(self.runtime, row)
        except Exception:
            LOG.exception("stack %s: cannot load it to recover", row.id)
            await asyncio.to_thread(
                self.store.set_status, row.id, row.action, "FAILED", reason, engine_id=""
            )
            return
        for resource in [*runtime.resources.values(), *runtime.replaced]:
            state = resource.state
            if state.status != "IN_PROGRESS":
                continue
            if state.action == "CREATE" and state.physical_id is None and state.physical_name:
                try:
                    found = await resource.adopt_by_name()
                except Exception:
                    LOG.exception("stack %s: looking %s up by name failed", row.id, state.name)
                    found = None
                if found:
                    state.physical_id = found
            runtime.transition(resource, state.action, "FAILED", reason)
        if row.parent_id is not None:
            self._end(runtime, row.action, "FAILED", reason)
            return
        if row.action in ("DELETE",):
            self.schedule(row.id, "DELETE", StackRuntime.delete)
            return
        if row.action == "ROLLBACK" and row.previous is None:
            self.schedule(row.id, "ROLLBACK", StackRuntime.delete)
            return
        self._end(runtime, row.action, "FAILED", reason)


def _insert(db: Database, row: Stack) -> None:
    with db.writer() as session:
        session.add(row)


def _nested_env(parent: StackRuntime) -> dict[str, Any]:
    if parent.definition is None:
        return {}
    return parent.definition.env.for_nested().to_dict()
