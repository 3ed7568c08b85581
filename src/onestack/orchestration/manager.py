"""The orchestration service's façade: the sub-managers, and the engine's lifecycle.

``OrchestrationManager`` implements ``interface.OrchestrationService``; the API
calls the sub-managers it holds (stacks, inspection, software, templates).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
from sqlalchemy import func, select

from onestack import __version__
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.keystone_client import Credentials
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.orchestration.core import OrchestrationCore
from onestack.orchestration.engine.engine import Engine
from onestack.orchestration.inspection import Inspection
from onestack.orchestration.models import Stack
from onestack.orchestration.software import SoftwareManager
from onestack.orchestration.stacks import StackManager
from onestack.orchestration.templates import TemplateService


class OrchestrationManager:
    def __init__(self, db: Database, enforcer: Enforcer, settings: Settings) -> None:
        own = settings.orchestration
        identity_url = settings.url("identity")
        self.engine = Engine(db, own, settings.region, identity_url, settings.url("orchestration"))
        self.core = OrchestrationCore(db, enforcer, own, self.engine)
        self.stacks = StackManager(self.core, settings.region, identity_url)
        self.inspection = Inspection(self.core)
        self.software = SoftwareManager(self.core)
        self.engine.software = self.software.store
        self.templates = TemplateService(self.core, self.stacks)

    async def start(self, credentials: Credentials, http: httpx.AsyncClient | None = None) -> None:
        await self.engine.start(credentials, http)

    async def stop(self) -> None:
        await self.engine.stop()

    def build_info(self, ctx: RequestContext) -> dict[str, Any]:
        self.core.enforce(ctx, "build_info")
        return {"api": {"revision": __version__}, "engine": {"revision": __version__}}

    def services(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The engines (one per process) as Heat's ``services`` lists them."""
        self.core.enforce(ctx, "service:index")
        engine = self.engine
        host = socket.gethostname()
        return [
            {
                "id": engine.engine_id,
                "engine_id": engine.engine_id,
                "host": host,
                "hostname": host,
                "binary": "heat-engine",
                "topic": "engine",
                "report_interval": 60,
                "status": "up" if engine.running else "down",
                "created_at": None,
                "updated_at": None,
                "deleted_at": None,
            }
        ]

    def stack_count(self, project_id: str) -> int:
        with self.core.db.reader() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Stack)
                    .where(Stack.project_id == project_id, Stack.deleted_at.is_(None))
                )
                or 0
            )

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no stack action runs (tests and shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.engine.tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
