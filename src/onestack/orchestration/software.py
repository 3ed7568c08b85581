"""Software configs and deployments: the API's storage (``/software_configs``,
``/software_deployments``, ``/software_deployments/metadata/{server_id}``).

Configs are immutable; a deployment applies a config to a server with input
values and records the outputs the server reports (by updating the deployment).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.orchestration.core import OrchestrationCore
from onestack.orchestration.exceptions import EntityNotFound, HTTPBadRequest
from onestack.orchestration.models import SoftwareConfig, SoftwareDeployment

DEPLOY_ACTIONS = ("CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME", "INIT")
DEPLOY_STATUSES = ("IN_PROGRESS", "COMPLETE", "FAILED")


def _config_doc(body: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key in ("config", "inputs", "outputs", "options"):
        out[key] = body.get(key)
    if out["config"] is not None and not isinstance(out["config"], str):
        out["config"] = str(out["config"])
    for key in ("inputs", "outputs"):
        if out[key] is not None and not isinstance(out[key], list):
            raise HTTPBadRequest(detail=f"{key} must be a list")
        out[key] = out[key] or []
    return out


class SoftwareStore:
    """What the engine's software resources use (no request context: the stack's own)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def store_config(self, project_id: str, body: Mapping[str, Any]) -> str:
        row = SoftwareConfig(
            id=str(uuid.uuid4()),
            project_id=project_id,
            name=body.get("name"),
            group=body.get("group") or "Heat::Ungrouped",
            config=_config_doc(body),
            created_at=utcnow(),
        )
        with self.db.writer() as session:
            session.add(row)
        return row.id

    def drop_config(self, config_id: str) -> None:
        with self.db.writer() as session:
            row = session.get(SoftwareConfig, config_id)
            if row is not None:
                session.delete(row)

    def config_text(self, config_id: str) -> str | None:
        with self.db.reader() as session:
            row = session.get(SoftwareConfig, config_id)
            return str(row.config.get("config") or "") if row is not None else None


class SoftwareManager:
    def __init__(self, core: OrchestrationCore) -> None:
        self.core = core
        self.store = SoftwareStore(core.db)

    def _config(self, session: Any, ctx: RequestContext, config_id: str) -> SoftwareConfig:
        row = session.get(SoftwareConfig, config_id)
        if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
            raise EntityNotFound(entity="Software Config", name=config_id)
        return row

    def create_config(self, ctx: RequestContext, body: Mapping[str, Any]) -> SoftwareConfig:
        self.core.enforce(ctx, "software_configs:create")
        if not isinstance(body, Mapping):
            raise HTTPBadRequest(detail="The body must be an object")
        config_id = self.store.store_config(ctx.project_id or "", body)
        with self.core.db.reader() as session:
            return self._config(session, ctx, config_id)

    def list_configs(
        self, ctx: RequestContext, limit: int | None, marker: str | None
    ) -> list[SoftwareConfig]:
        self.core.enforce(ctx, "software_configs:index")
        with self.core.db.reader() as session:
            stmt = select(SoftwareConfig).where(SoftwareConfig.project_id == ctx.project_id)
            rows = list(
                session.scalars(stmt.order_by(SoftwareConfig.created_at, SoftwareConfig.id))
            )
        if marker:
            ids = [r.id for r in rows]
            rows = rows[ids.index(marker) + 1 :] if marker in ids else []
        return rows[:limit] if limit is not None else rows

    def get_config(self, ctx: RequestContext, config_id: str) -> SoftwareConfig:
        self.core.enforce(ctx, "software_configs:show")
        with self.core.db.reader() as session:
            return self._config(session, ctx, config_id)

    def delete_config(self, ctx: RequestContext, config_id: str) -> None:
        self.core.enforce(ctx, "software_configs:delete")
        with self.core.db.writer() as session:
            session.delete(self._config(session, ctx, config_id))

    # -- deployments ----------------------------------------------------------------------------

    def _deployment(
        self, session: Any, ctx: RequestContext, deployment_id: str
    ) -> SoftwareDeployment:
        row = session.get(SoftwareDeployment, deployment_id)
        if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
            raise EntityNotFound(entity="Software Deployment", name=deployment_id)
        return row

    def create_deployment(self, ctx: RequestContext, body: Mapping[str, Any]) -> SoftwareDeployment:
        self.core.enforce(ctx, "software_deployments:create")
        if not isinstance(body, Mapping) or not body.get("config_id") or not body.get("server_id"):
            raise HTTPBadRequest(detail="config_id and server_id are required")
        action = str(body.get("action") or "INIT")
        status = str(body.get("status") or "COMPLETE")
        if action not in DEPLOY_ACTIONS or status not in DEPLOY_STATUSES:
            raise HTTPBadRequest(detail="Invalid action or status")
        with self.core.db.writer() as session:
            self._config(session, ctx, str(body["config_id"]))
            row = SoftwareDeployment(
                id=str(uuid.uuid4()),
                project_id=ctx.project_id,
                config_id=str(body["config_id"]),
                server_id=str(body["server_id"]),
                action=action,
                status=status,
                status_reason=str(body.get("status_reason") or ""),
                input_values=dict(body.get("input_values") or {}),
                output_values={},
                created_at=utcnow(),
            )
            session.add(row)
            return row

    def list_deployments(
        self, ctx: RequestContext, server_id: str | None
    ) -> list[SoftwareDeployment]:
        self.core.enforce(ctx, "software_deployments:index")
        with self.core.db.reader() as session:
            stmt = select(SoftwareDeployment).where(SoftwareDeployment.project_id == ctx.project_id)
            if server_id:
                stmt = stmt.where(SoftwareDeployment.server_id == server_id)
            return list(session.scalars(stmt.order_by(SoftwareDeployment.created_at)))

    def get_deployment(self, ctx: RequestContext, deployment_id: str) -> SoftwareDeployment:
        self.core.enforce(ctx, "software_deployments:show")
        with self.core.db.reader() as session:
            return self._deployment(session, ctx, deployment_id)

    def update_deployment(
        self, ctx: RequestContext, deployment_id: str, body: Mapping[str, Any]
    ) -> SoftwareDeployment:
        self.core.enforce(ctx, "software_deployments:update")
        if not isinstance(body, Mapping):
            raise HTTPBadRequest(detail="The body must be an object")
        with self.core.db.writer() as session:
            row = self._deployment(session, ctx, deployment_id)
            if body.get("config_id"):
                self._config(session, ctx, str(body["config_id"]))
                row.config_id = str(body["config_id"])
            for key in ("action", "status", "status_reason"):
                if body.get(key) is not None:
                    setattr(row, key, str(body[key]))
            if row.action not in DEPLOY_ACTIONS or row.status not in DEPLOY_STATUSES:
                raise HTTPBadRequest(detail="Invalid action or status")
            if body.get("input_values") is not None:
                row.input_values = dict(body["input_values"])
            if body.get("output_values") is not None:
                row.output_values = dict(body["output_values"])
            row.updated_at = utcnow()
            return row

    def delete_deployment(self, ctx: RequestContext, deployment_id: str) -> None:
        self.core.enforce(ctx, "software_deployments:delete")
        with self.core.db.writer() as session:
            session.delete(self._deployment(session, ctx, deployment_id))

    def metadata(self, ctx: RequestContext, server_id: str) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "software_deployments:metadata")
        out = []
        with self.core.db.reader() as session:
            rows = session.scalars(
                select(SoftwareDeployment)
                .where(
                    SoftwareDeployment.server_id == server_id,
                    SoftwareDeployment.project_id == ctx.project_id,
                )
                .order_by(SoftwareDeployment.created_at)
            )
            for row in rows:
                config = session.get(SoftwareConfig, row.config_id)
                if config is None:
                    continue
                inputs = []
                for item in config.config.get("inputs") or []:
                    value = dict(item)
                    value["value"] = row.input_values.get(item.get("name"), item.get("default"))
                    inputs.append(value)
                inputs.append(
                    {
                        "type": "String",
                        "name": "deploy_server_id",
                        "value": server_id,
                        "description": "ID of the server being deployed to",
                    }
                )
                inputs.append(
                    {
                        "type": "String",
                        "name": "deploy_action",
                        "value": row.action,
                        "description": "Name of the current action being deployed",
                    }
                )
                out.append(
                    {
                        "id": config.id,
                        "name": config.name,
                        "group": config.group,
                        "config": config.config.get("config"),
                        "inputs": inputs,
                        "outputs": config.config.get("outputs") or [],
                        "options": config.config.get("options"),
                        "creation_time": _iso(row.created_at),
                        "updated_time": _iso(row.updated_at),
                    }
                )
        return out


def _iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None
