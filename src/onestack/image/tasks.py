"""Glance's tasks API (``/v2/tasks``): the ``import`` task, administrators only
(Glance's default policy, ``image:tasks_api_access``).

``POST /v2/tasks`` with ``{"type": "import", "input": {"import_from": URL,
"import_from_format": ..., "image_properties": {...}}}`` records a ``pending``
task and answers 201 at once; a thread then creates the image from
``image_properties`` and fills it through the ``web-download`` import, so the
URL must pass the same filtering (``image.web_download_allowed``).  The task
ends ``success`` with ``result.image_id``, or ``failure`` with the reason in
``message``; a failed import deletes the image it created.  A URL that is not
http(s) is refused at once (400), as current Glance does.  Every task is listed
here, the ``api_image_import`` tasks of ``POST /v2/images/{id}/import`` too.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, NotFound, OneStackError
from onestack.image import states
from onestack.image.core import ImageCore
from onestack.image.images import ImageRecords
from onestack.image.imports import WEB_DOWNLOAD, ImageImporter, finish_task
from onestack.image.listing import page_order
from onestack.image.models import ImageTask

LOG = logging.getLogger(__name__)

TYPES = ("import",)
STATUSES = ("pending", "processing", "success", "failure")
IMPORT_INPUT = ("import_from", "import_from_format", "image_properties")
SORT_KEYS = {
    "created_at": ImageTask.created_at,
    "updated_at": ImageTask.updated_at,
    "id": ImageTask.id,
    "type": ImageTask.type,
    "status": ImageTask.status,
}


class TaskNotFound(NotFound):
    msg_fmt = "Task with the given id {task_id} not found"


def _check_input(task_input: Any) -> dict[str, Any]:
    if not isinstance(task_input, dict):
        raise BadRequest("Task input must be a JSON object.")
    for key in IMPORT_INPUT:
        if key not in task_input:
            raise BadRequest(f"Input does not contain '{key}' field")
    if not isinstance(task_input["image_properties"], dict):
        raise BadRequest("'image_properties' must be a JSON object.")
    if not isinstance(task_input["import_from_format"], str):
        raise BadRequest("'import_from_format' must be a string.")
    source = task_input["import_from"]
    if not isinstance(source, str):
        raise BadRequest("'import_from' must be a URI.")
    scheme = urlsplit(source).scheme
    if scheme == "file":
        raise BadRequest(
            "File based imports are not allowed. Please use a non-local source of image data."
        )
    if scheme not in ("http", "https") or not urlsplit(source).hostname:
        raise BadRequest(
            f"The given uri is not valid. Please specify a valid uri from the following "
            f"list of supported uri ['http', 'https']: {source}"
        )
    return task_input


class TaskManager:
    def __init__(
        self,
        core: ImageCore,
        images: ImageRecords,
        importer: ImageImporter,
        start: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """``start`` runs a task's work off the request (a daemon thread by default)."""
        self.core = core
        self.images = images
        self.importer = importer
        self.start = start or self._thread

    @staticmethod
    def _thread(work: Callable[[], None]) -> None:
        threading.Thread(target=work, name="image task", daemon=True).start()

    def _access(self, ctx: RequestContext, action: str) -> None:
        self.core.enforce_owner(ctx, "tasks_api_access", ctx.project_id)
        self.core.enforce_owner(ctx, action, ctx.project_id)

    # -- the API ----------------------------------------------------------------------

    def create(self, ctx: RequestContext, body: Any) -> ImageTask:
        self._access(ctx, "add_task")
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        unknown = sorted(set(body) - {"type", "input"})
        if unknown:
            raise BadRequest(f"Attribute(s) {', '.join(unknown)} are not allowed in a task.")
        kind = body.get("type")
        if kind not in TYPES:
            raise BadRequest(f"Invalid type value: {kind}")
        task_input = _check_input(body.get("input"))
        task = ImageTask(
            id=str(uuid.uuid4()),
            image_id=None,
            type=kind,
            status="pending",
            owner=ctx.project_id,
            user_id=ctx.user_id,
            request_id=ctx.request_id,
            input=task_input,
            message="",
        )
        with self.core.db.writer() as session:
            session.add(task)
        self.start(lambda: self.run(ctx, task.id))
        return task

    def get(self, ctx: RequestContext, task_id: str) -> ImageTask:
        self._access(ctx, "get_task")
        with self.core.db.reader() as session:
            task = session.get(ImageTask, task_id)
            if task is None or not (ctx.is_admin or task.owner == ctx.project_id):
                raise TaskNotFound(task_id=task_id)
            return task

    def list(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> tuple[list[ImageTask], str | None]:
        """One page of tasks, and the marker of the next page."""
        self._access(ctx, "get_tasks")
        params = dict(query)
        limit, key, direction = page_order(self.core, params, SORT_KEYS)
        status = params.get("status")
        if status is not None and status not in STATUSES:
            raise BadRequest(f"Invalid status value: {status}")
        stmt = select(ImageTask)
        if not ctx.is_admin:
            stmt = stmt.where(ImageTask.owner == ctx.project_id)
        if status is not None:
            stmt = stmt.where(ImageTask.status == status)
        if "type" in params:
            stmt = stmt.where(ImageTask.type == params["type"])
        column = SORT_KEYS[key]
        if direction == "asc":
            stmt = stmt.order_by(column.asc(), ImageTask.id.asc())
        else:
            stmt = stmt.order_by(column.desc(), ImageTask.id.desc())
        with self.core.db.reader() as session:
            rows = list(session.scalars(stmt))
        marker = params.get("marker")
        if marker is not None:
            ids = [r.id for r in rows]
            if marker not in ids:
                raise BadRequest(f"Invalid marker. Task {marker} could not be found.")
            rows = rows[ids.index(marker) + 1 :]
        page = rows[:limit]
        return page, (page[-1].id if limit and len(rows) > limit else None)

    # -- the work -----------------------------------------------------------------------

    def _status(self, task_id: str, status: str, image_id: str | None = None) -> None:
        with self.core.db.writer() as session:
            task = session.get(ImageTask, task_id)
            if task is not None:
                task.status = status
                if image_id is not None:
                    task.image_id = image_id
                task.updated_at = utcnow()

    def _finish(self, task_id: str, status: str, message: str = "", image_id: str = "") -> None:
        """The task's end; a failed task lets go of its image first (deleting the image
        would take the task with it)."""
        with self.core.db.writer() as session:
            task = session.get(ImageTask, task_id)
            if task is not None and status != "success":
                task.image_id = None
            result = {"image_id": image_id} if status == "success" else None
            finish_task(session, task_id, status, message=message, result=result)

    def run(self, ctx: RequestContext, task_id: str) -> None:
        """Create the image and import its data; the task records how it ended."""
        with self.core.db.reader() as session:
            task = session.get(ImageTask, task_id)
            if task is None:
                return
            task_input: dict[str, Any] = dict(task.input)
        self._status(task_id, "processing")
        image_id: str | None = None
        try:
            properties: dict[str, Any] = task_input["image_properties"]
            image = self.images.create(ctx, dict(properties))
            image_id = image.id
            self._status(task_id, "processing", image_id)
            method = {"name": WEB_DOWNLOAD, "uri": task_input["import_from"]}
            self.importer.import_image(ctx, image_id, {"method": method})
            failure = self._import_failure(image_id)
        except OneStackError as exc:
            failure = str(exc)
        except Exception as exc:  # the task must end; the log keeps the trace
            LOG.exception("image task %s failed", task_id)
            failure = f"The import failed: {exc}"
        if failure is None and image_id is not None:
            self._finish(task_id, "success", image_id=image_id)
            return
        LOG.warning("image task %s failed: %s", task_id, failure)
        self._finish(task_id, "failure", message=failure or "The import failed.")
        if image_id is not None:
            try:
                self.images.delete(RequestContext.admin(), image_id)
            except OneStackError as exc:
                LOG.warning("image task %s: image %s was not deleted: %s", task_id, image_id, exc)

    def _import_failure(self, image_id: str) -> str | None:
        """None when the image is active, else why its import failed."""
        with self.core.db.reader() as session:
            image = self.core.load(session, RequestContext.admin(), image_id)
            if image.status == states.ACTIVE:
                return None
            last = session.scalars(
                select(ImageTask)
                .where(ImageTask.image_id == image_id, ImageTask.type == "api_image_import")
                .order_by(ImageTask.created_at.desc())
            ).first()
            return (last.message if last is not None else "") or (
                f"The image is {image.status} after its import."
            )

    def reconcile(self) -> int:
        """After a crash: import tasks still pending or processing have failed."""
        with self.core.db.writer() as session:
            rows = list(
                session.scalars(
                    select(ImageTask).where(
                        ImageTask.type.in_(TYPES),
                        ImageTask.status.in_(("pending", "processing")),
                    )
                )
            )
            for task in rows:
                task.status = "failure"
                task.message = "The task was interrupted by a restart of the image service."
                task.updated_at = utcnow()
            return len(rows)
