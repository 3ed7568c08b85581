"""Glance's tasks API (``/v2/tasks``) on a cloud that allows no web-download:
who may use it, what it refuses, and how a task that cannot fetch ends.  The
import from an allowed host is in ``test_stores.py``, whose cloud allows one."""

from __future__ import annotations

from typing import Any

from openstack import exceptions

from tests.functional.image.conftest import ImageAPI
from tests.support.errors import glance_error
from tests.support.names import unique


def _input(url: str, name: str) -> dict[str, Any]:
    return {
        "import_from": url,
        "import_from_format": "raw",
        "image_properties": {"name": name, "disk_format": "raw", "container_format": "bare"},
    }


def test_task_from_a_host_not_allowed_fails_and_leaves_no_image(admin: Any) -> None:
    name = unique("task-image")
    task = admin.image.create_task(type="import", input=_input("http://127.0.0.1:9/x.raw", name))
    assert task.status == "pending" and task.type == "import"
    done = admin.image.wait_for_task(task, status="failure", interval=0.2, wait=60)
    assert done.result is None
    assert "web-download" in done.message, done.message
    assert done.expires_at is not None
    assert admin.image.find_image(name) is None
    listed = {t.id: t for t in admin.image.tasks(type="import", status="failure")}
    assert task.id in listed and listed[task.id].input is None  # lists omit the input


def test_tasks_are_for_administrators(demo: Any, demo_api: ImageAPI) -> None:
    denied = demo_api.post(
        "/v2/tasks", json={"type": "import", "input": _input("http://a/x", unique("t"))}
    )
    glance_error(denied, 403)
    glance_error(demo_api.get("/v2/tasks"), 403)
    try:
        list(demo.image.tasks())
    except exceptions.ForbiddenException:
        pass
    else:
        raise AssertionError("a member listed the tasks")


def test_bad_task_requests(admin_api: ImageAPI) -> None:
    def create(body: Any) -> Any:
        return admin_api.post("/v2/tasks", json=body)

    glance_error(create({"type": "export", "input": {}}), 400, "Invalid type value")
    missing = _input("http://a/x", "n")
    del missing["import_from_format"]
    glance_error(create({"type": "import", "input": missing}), 400, "import_from_format")
    local = create({"type": "import", "input": _input("file:///etc/passwd", "n")})
    glance_error(local, 400, "File based imports are not allowed")
    ftp = create({"type": "import", "input": _input("ftp://example.com/x", "n")})
    glance_error(ftp, 400, "supported uri")
    glance_error(admin_api.get("/v2/tasks/nope"), 404, "nope")
    glance_error(admin_api.get("/v2/tasks", params={"sort_key": "input"}), 400, "sort key")


def test_task_list_pages_and_schemas(admin: Any, admin_api: ImageAPI) -> None:
    ids = [
        admin.image.create_task(type="import", input=_input("http://127.0.0.1:9/x", unique("t"))).id
        for _ in range(3)
    ]
    first = admin_api.get("/v2/tasks", params={"type": "import", "limit": 2}).json()
    assert len(first["tasks"]) == 2 and "next" in first
    assert first["schema"] == "/v2/schemas/tasks"
    rest = admin_api.get(first["next"]).json()
    seen = [t["id"] for t in first["tasks"] + rest["tasks"]]
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
    shown = admin_api.get(f"/v2/tasks/{ids[0]}").json()
    assert shown["self"] == f"/v2/tasks/{ids[0]}" and shown["input"]["import_from_format"] == "raw"
    assert admin_api.get("/v2/schemas/task").json()["name"] == "task"
    assert admin_api.get("/v2/schemas/tasks").json()["name"] == "tasks"
    for task_id in ids:
        admin.image.wait_for_task(admin.image.get_task(task_id), "failure", interval=0.2, wait=60)
