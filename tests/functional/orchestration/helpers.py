"""Shared by the orchestration tests: raw API calls, waiting for stacks, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.server import RunningCloud


def api(conn: Any, method: str, path: str, **kwargs: Any) -> Any:
    """A raw orchestration request (no exception on errors, no redirect following)."""
    return getattr(conn.orchestration, method)(path, raise_exc=False, **kwargs)


def create(conn: Any, name: str, template: dict[str, Any] | str, **fields: Any) -> str:
    body = {"stack_name": name, "template": template, **fields}
    answer = api(conn, "post", "/stacks", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["stack"]["id"])


def stack(conn: Any, name: str, stack_id: str) -> dict[str, Any]:
    answer = api(conn, "get", f"/stacks/{name}/{stack_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["stack"])


def wait(conn: Any, name: str, stack_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The stack once no action is in progress."""
    deadline = time.monotonic() + timeout
    while True:
        shown = stack(conn, name, stack_id)
        if not shown["stack_status"].endswith("IN_PROGRESS"):
            return shown
        assert time.monotonic() < deadline, f"stack still {shown['stack_status']}"
        time.sleep(0.1)


def delete(conn: Any, name: str, stack_id: str, timeout: float = 60.0) -> dict[str, Any]:
    answer = api(conn, "delete", f"/stacks/{name}/{stack_id}")
    assert answer.status_code == 204, answer.text
    return wait(conn, name, stack_id, timeout)


def resources(conn: Any, stack_name: str, stack_id: str, **params: Any) -> list[dict[str, Any]]:
    answer = api(conn, "get", f"/stacks/{stack_name}/{stack_id}/resources", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["resources"])


def openstack(
    cloud: RunningCloud,
    *args: str,
    user: str = "onestack-demo",
    check: bool = True,
    cwd: Path | None = None,
    timeout: float = 240,
) -> Any:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", user, *args]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
    )
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
        if "-f" in args and "json" in args and result.stdout.strip():
            out = result.stdout
            # --wait prints the events first, then the document
            starts = [i for i, line in enumerate(out.splitlines()) if line[:1] in ("{", "[")]
            return json.loads("\n".join(out.splitlines()[starts[0] :])) if starts else None
    return result


def heat_error(answer: Any, status: int, type_name: str, *words: str) -> dict[str, Any]:
    """Heat's error body: code, title, explanation, error.type, error.message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == status and body["title"] and body["explanation"]
    assert body["error"]["type"] == type_name, body
    for word in words:
        assert word in body["error"]["message"], body
    return dict(body)
