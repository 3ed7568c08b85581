"""What every part of the orchestration service shares: the database, policy, settings,
the engine, and stack look-ups with tenant isolation.

A project sees only its own stacks; an administrator may read any project's by id
(and list them with ``global_tenant``).  Another project's stack is reported as not
found, never as forbidden; a deleted stack is found by id (with its
``deletion_time``), never by name.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.orchestration.conf import OrchestrationSettings
from onestack.orchestration.engine.engine import Engine
from onestack.orchestration.exceptions import EntityNotFound, HTTPBadRequest
from onestack.orchestration.models import Stack

NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise HTTPBadRequest(
            detail=f'Invalid stack name {name} must contain only alphanumeric or "_-." '
            "characters, must start with alpha and must be 255 characters or less."
        )
    return name


class OrchestrationCore:
    def __init__(
        self, db: Database, enforcer: Enforcer, settings: OrchestrationSettings, engine: Engine
    ) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings
        self.engine = engine

    def enforce(self, ctx: RequestContext, action: str, project_id: str | None = None) -> None:
        self.enforcer.enforce(ctx, f"stacks:{action}", {"project_id": project_id or ctx.project_id})

    @staticmethod
    def visible(ctx: RequestContext, stack: Stack) -> bool:
        return ctx.is_admin or stack.project_id == ctx.project_id

    def find(self, session: Session, ctx: RequestContext, name_or_id: str) -> Stack:
        """A stack by id (deleted ones too) or by name (live ones only)."""
        stack = session.get(Stack, name_or_id)
        if stack is not None and self.visible(ctx, stack):
            return stack
        stack = session.scalar(
            select(Stack).where(
                Stack.name == name_or_id,
                Stack.project_id == ctx.project_id,
                Stack.deleted_at.is_(None),
            )
        )
        if stack is None:
            raise EntityNotFound(entity="Stack", name=name_or_id)
        return stack

    def stack(self, session: Session, ctx: RequestContext, name: str, stack_id: str) -> Stack:
        """The stack named by both its name and id (as in ``/stacks/{name}/{id}``)."""
        stack = session.get(Stack, stack_id)
        if stack is None or not self.visible(ctx, stack) or stack.name != name:
            raise EntityNotFound(entity="Stack", name=name)
        return stack
