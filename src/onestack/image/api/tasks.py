"""``/v2/tasks`` and ``/v2/schemas/task(s)``: Glance's tasks API (logic in
``onestack.image.tasks``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.image.api.deps import manager, query
from onestack.image.api.views import timestamp
from onestack.image.models import ImageTask
from onestack.image.tasks import STATUSES

router = APIRouter()
Ctx = Depends(require_context)
Body = Depends(json_body)
#: how long a finished task is kept, as Glance's task_time_to_live (hours)
TIME_TO_LIVE = timedelta(hours=48)
#: what a task list leaves out (Glance shows these on the task itself only)
DETAIL_ONLY = ("input", "result", "message")


def task(row: ImageTask) -> dict[str, Any]:
    done = row.status in ("success", "failure")
    return {
        "id": row.id,
        "type": row.type,
        "status": row.status,
        "owner": row.owner,
        "input": row.input,
        "result": row.result,
        "message": row.message,
        "expires_at": timestamp(row.updated_at + TIME_TO_LIVE) if done else None,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "self": f"/v2/tasks/{row.id}",
        "schema": "/v2/schemas/task",
    }


@router.post("/v2/tasks")
def create_task(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    row = manager(request).tasks.create(ctx, body)
    return JSONResponse(task(row), status_code=201, headers={"Location": f"/v2/tasks/{row.id}"})


@router.get("/v2/tasks")
def list_tasks(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    params = query(request)
    rows, next_marker = manager(request).tasks.list(ctx, params)
    kept = [(k, v) for k, v in params if k != "marker"]
    body: dict[str, Any] = {
        "tasks": [{k: v for k, v in task(r).items() if k not in DETAIL_ONLY} for r in rows],
        "first": "/v2/tasks" + (f"?{urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/tasks",
    }
    if next_marker is not None:
        body["next"] = f"/v2/tasks?{urlencode([*kept, ('marker', next_marker)])}"
    return JSONResponse(body)


@router.get("/v2/tasks/{task_id}")
def show_task(request: Request, task_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(task(manager(request).tasks.get(ctx, task_id)))


def task_schema() -> dict[str, Any]:
    def text(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    return {
        "name": "task",
        "properties": {
            "id": text(
                "An identifier for the task",
                pattern="^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
            ),
            "type": text(
                "The type of task represented by this content",
                enum=["import", "api_image_import"],
            ),
            "status": text("The current status of this task", enum=list(STATUSES)),
            "input": {
                "type": ["null", "object"],
                "description": "The parameters required by task, JSON blob",
            },
            "result": {"type": ["null", "object"], "description": "The result of current task"},
            "owner": text("An identifier for the owner of this task"),
            "message": text("Human-readable informative message only included when appropriate"),
            "expires_at": {
                "type": ["null", "string"],
                "description": "Datetime when this resource would be subject to removal",
            },
            "created_at": text("Datetime when this resource was created"),
            "updated_at": text("Datetime when this resource was updated"),
            "self": {"type": "string", "readOnly": True},
            "schema": {"type": "string", "readOnly": True},
        },
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


@router.get("/v2/schemas/task")
def schema(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(task_schema())


@router.get("/v2/schemas/tasks")
def schemas(ctx: RequestContext = Ctx) -> JSONResponse:
    entity = task_schema()
    listed = {k: v for k, v in entity["properties"].items() if k not in DETAIL_ONLY}
    return JSONResponse(
        {
            "name": "tasks",
            "properties": {
                "tasks": {
                    "type": "array",
                    "items": {"name": "task", "properties": listed, "links": entity["links"]},
                },
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }
    )
