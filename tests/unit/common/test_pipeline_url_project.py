"""The pipeline's UrlProject step: a project id after the version segment moves
into the request state, collections stay where they are."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec, ProjectPath, UrlProject

SPEC = PipelineSpec(
    service="volume",
    error_style=ErrorStyle.NOVA,
    project_path=ProjectPath("v3", frozenset({"volumes", "limits"})),
)


def _seen(path: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(path=scope["path"], raw=scope["raw_path"], state=scope.get("state", {}))

    step = UrlProject(app, SPEC)
    scope = {"type": "http", "path": path, "raw_path": path.encode(), "state": {}}
    asyncio.run(step(scope, None, None))
    return seen


@pytest.mark.parametrize(
    ("path", "routed", "project"),
    [
        ("/v3/p1/volumes/detail", "/v3/volumes/detail", "p1"),
        ("/v3/p1", "/v3/", "p1"),
        ("/v3/volumes/detail", "/v3/volumes/detail", None),
        ("/v3/limits", "/v3/limits", None),
        ("/v3/", "/v3/", None),
        ("/", "/", None),
        ("/v2/p1/volumes", "/v2/p1/volumes", None),
    ],
)
def test_project_ids_move_into_the_state(path: str, routed: str, project: str | None) -> None:
    seen = _seen(path)
    assert (seen["path"], seen["raw"]) == (routed, routed.encode())
    assert seen["state"].get("url_project_id") == project
