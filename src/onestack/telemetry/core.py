"""What every part of the telemetry service shares: the database, policy,
settings, and who may see which resource or metric.

Gnocchi's access model: a rule either grants an action outright (the
administrator) or only on objects the caller owns (``project_id``), created
from its project (``created_by_project_id``) or created as its user
(``created_by_user_id``).  ``Visibility`` says which of those a rule grants, so
that listings filter in SQL and single objects are checked the same way.  An
object the caller may not see is reported as not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import PolicyNotAuthorized
from onestack.common.policy import Enforcer
from onestack.telemetry.conf import TelemetrySettings

#: Gnocchi's namespace for turning non-UUID resource ids into UUIDs
RESOURCE_ID_NAMESPACE = uuid.UUID("0a7a15ff-aa13-4ac2-897c-9bdf30ce175b")


def creator_of(ctx: RequestContext) -> str:
    """Gnocchi's ``creator``: ``user_id:project_id`` of the caller."""
    return f"{ctx.user_id or ''}:{ctx.project_id or ''}"


def split_creator(creator: str | None) -> tuple[str | None, str | None]:
    if creator is None:
        return None, None
    user, _, project = creator.partition(":")
    return user, project


def resource_uuid(value: str, creator: str | None) -> str:
    """The resource's UUID: itself if it is one, else uuid5 of ``value`` and the creator."""
    if "/" in value:
        raise ValueError("'/' is not supported in resource id")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        if len(value) > 289:
            raise ValueError("transformable resource id >289 max allowed characters") from None
        return str(uuid.uuid5(RESOURCE_ID_NAMESPACE, value + "\x00" + (creator or "\x00")))


@dataclass(frozen=True)
class Visibility:
    """Which objects a rule lets the caller act on."""

    everything: bool
    own_project: str | None = None
    created_by_project: str | None = None
    created_by_user: str | None = None

    @property
    def nothing(self) -> bool:
        return not (
            self.everything or self.own_project or self.created_by_project or self.created_by_user
        )

    def allows(self, project_id: str | None, creator: str | None) -> bool:
        if self.everything:
            return True
        user, project = split_creator(creator)
        return bool(
            (self.own_project and project_id == self.own_project)
            or (self.created_by_project and project == self.created_by_project)
            or (self.created_by_user and user == self.created_by_user)
        )

    def clause(
        self,
        project_column: Any | None,
        created_by_project_column: Any,
        created_by_user_column: Any,
    ) -> ColumnElement[bool]:
        if self.everything:
            return true()
        conditions: list[ColumnElement[bool]] = []
        if self.own_project and project_column is not None:
            conditions.append(project_column == self.own_project)
        if self.created_by_project:
            conditions.append(created_by_project_column == self.created_by_project)
        if self.created_by_user:
            conditions.append(created_by_user_column == self.created_by_user)
        return or_(*conditions) if conditions else false()


class TelemetryCore:
    def __init__(self, db: Database, enforcer: Enforcer, settings: TelemetrySettings) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings

    def enforce(
        self, ctx: RequestContext, rule: str, target: Mapping[str, Any] | None = None
    ) -> None:
        self.enforcer.enforce(ctx, rule, target or {})

    def allowed(
        self, ctx: RequestContext, rule: str, target: Mapping[str, Any] | None = None
    ) -> bool:
        return self.enforcer.authorize(ctx, rule, target or {})

    def visibility(
        self, ctx: RequestContext, rule: str, owner_key: str = "project_id"
    ) -> Visibility:
        """What ``rule`` grants: everything, or some of the caller's objects.

        ``owner_key`` is the target key of the owner check (``resource.project_id``
        for metrics).  PolicyNotAuthorized when it grants nothing at all.
        """
        if self.allowed(ctx, rule, {}):
            return Visibility(everything=True)
        owner_target: dict[str, Any] = {}
        node = owner_target
        parts = owner_key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = ctx.project_id
        found = Visibility(
            everything=False,
            own_project=ctx.project_id if self.allowed(ctx, rule, owner_target) else None,
            created_by_project=ctx.project_id
            if self.allowed(ctx, rule, {"created_by_project_id": ctx.project_id})
            else None,
            created_by_user=ctx.user_id
            if self.allowed(ctx, rule, {"created_by_user_id": ctx.user_id})
            else None,
        )
        if found.nothing:
            raise PolicyNotAuthorized(action=rule)
        return found
