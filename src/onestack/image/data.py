"""Image data: upload (``PUT /file``), staging and import, download.

An upload moves the image ``queued -> saving -> active``.  The bytes stream
through a :class:`~onestack.image.upload.DataSink` into a store writer (a
temporary file, fsynced and renamed on success).  Whatever goes wrong —
data that contradicts the declared size, hashes or ``disk_format``, a quota,
the client going away — the writer is aborted, no file is left behind and
the image goes back to ``queued``, so the client can simply retry.

Staging (``PUT /stage``) does the same into the staging area and leaves the
image ``uploading``; ``POST /import`` with ``glance-direct`` then moves the
staged file into the store (``importing -> active``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, ServiceUnavailable
from onestack.common.faults import FaultKind
from onestack.common.quota import UNLIMITED
from onestack.image import states
from onestack.image.core import ImageCore, mib
from onestack.image.exceptions import ImageGone, InvalidStatus, LimitExceeded
from onestack.image.models import Image, ImageTask
from onestack.image.store import StoreWriter
from onestack.image.upload import (
    DECLARED_MD5,
    DECLARED_SHA256,
    HASH_ALGO,
    DataSink,
    Expectations,
)

IMPORT_METHODS = ("glance-direct",)
CHUNK = 4 << 20


@dataclass
class Transfer:
    """One upload or staging in flight."""

    image_id: str
    owner: str | None
    staged: bool
    disk_format: str | None
    container_format: str | None
    writer: StoreWriter
    sink: DataSink


def _declared(image: Image, names: tuple[str, ...]) -> str | None:
    for prop in image.properties:
        if prop.name in names and prop.value:
            return prop.value
    return None


class ImageDataManager:
    def __init__(self, core: ImageCore) -> None:
        self.core = core

    # -- upload and staging -------------------------------------------------

    def begin(
        self, ctx: RequestContext, image_id: str, size: int | None, *, staged: bool = False
    ) -> Transfer:
        """Claim a queued image for an upload of ``size`` bytes (None: unknown)."""
        core = self.core
        cap = core.settings.image_size_cap
        wanted = states.UPLOADING if staged else states.SAVING
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "stage_image" if staged else "upload_image", image)
            if image.status != states.QUEUED:
                raise InvalidStatus(current=image.status, wanted=wanted)
            if not image.disk_format or not image.container_format:
                raise BadRequest(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            if size is not None and size > cap:
                raise LimitExceeded(reason=f"Image exceeds the storage quota: {size} > {cap}.")
            resource = "image_stage_total" if staged else "image_size_total"
            limit, limit_reason = cap, f"The image is larger than the limit of {cap} bytes."
            if image.owner:
                deltas = {"image_count_uploading": 1}
                if size:
                    deltas[resource] = mib(size)
                core.quotas.check(session, image.owner, deltas)
                usage = core.quotas.usage(session, image.owner)[resource]
                if usage.limit != UNLIMITED:
                    room = max(usage.limit - usage.in_use, 0) << 20
                    if room < limit:
                        limit = room
                        limit_reason = f"The upload would exceed the {resource} quota."
            expect = Expectations(
                size=size,
                md5=_declared(image, DECLARED_MD5),
                sha256=_declared(image, DECLARED_SHA256),
                limit=limit,
                limit_reason=limit_reason,
            )
            image.status = wanted
            image.staged_size = None
            image.updated_at = utcnow()
            owner, disk_format, container_format = (
                image.owner,
                image.disk_format,
                image.container_format,
            )
        store = core.store_for(staged)
        try:
            writer = store.writer(image_id)
        except BaseException:
            self._release(image_id, wanted)
            raise
        return Transfer(
            image_id, owner, staged, disk_format, container_format, writer, DataSink(writer, expect)
        )

    def _release(self, image_id: str, status: str) -> None:
        with self.core.db.writer() as session:
            image = session.get(Image, image_id)
            if image is not None and image.status == status and image.staged_size is None:
                image.status = states.QUEUED
                image.updated_at = utcnow()

    def abort(self, transfer: Transfer) -> None:
        """Forget a failed transfer: no data kept, the image back to queued."""
        transfer.writer.abort()
        self._release(transfer.image_id, states.UPLOADING if transfer.staged else states.SAVING)

    def finish(self, transfer: Transfer) -> None:
        """Verify and commit the data; the image becomes active (or stays staged)."""
        core = self.core
        sink = transfer.sink
        wanted = states.UPLOADING if transfer.staged else states.SAVING
        fault = core.faults.take(FaultKind.IMAGE_UPLOAD, transfer.owner)
        if fault is not None:
            # an injected store failure: no data kept, the image killed (as Glance's
            # upload ends when its store fails)
            transfer.writer.abort()
            with core.db.writer() as session:
                image = session.get(Image, transfer.image_id)
                if image is not None and image.status == wanted:
                    image.status = states.KILLED
                    image.updated_at = utcnow()
            raise ServiceUnavailable(fault.reason())
        try:
            virtual_size = sink.verify(transfer.disk_format, transfer.container_format)
            location = transfer.writer.commit()
        except BaseException:
            self.abort(transfer)
            raise
        try:
            with core.db.writer() as session:
                image = session.get(Image, transfer.image_id)
                if image is None:
                    raise ImageGone(image_id=transfer.image_id)
                if image.status != wanted:
                    raise Conflict(f"Image {image.id} changed to {image.status} during the upload.")
                if transfer.owner and not transfer.staged:
                    core.quotas.check(session, transfer.owner, {"image_size_total": mib(sink.size)})
                image.checksum = sink.checksum
                image.os_hash_algo = HASH_ALGO
                image.os_hash_value = sink.hash_value
                image.virtual_size = virtual_size
                image.location = location
                if transfer.staged:
                    image.staged_size = sink.size
                else:
                    image.size = sink.size
                    image.status = states.ACTIVE
                image.updated_at = utcnow()
        except BaseException:
            core.store_for(transfer.staged).delete(location)
            self._release(transfer.image_id, wanted)
            raise

    def upload_file(self, ctx: RequestContext, image_id: str, path: Path) -> None:
        """Upload a local file (the caller keeps it)."""
        transfer = self.begin(ctx, image_id, path.stat().st_size)
        try:
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK):
                    transfer.sink.write(chunk)
        except BaseException:
            self.abort(transfer)
            raise
        self.finish(transfer)

    # -- import ---------------------------------------------------------------

    def import_image(self, ctx: RequestContext, image_id: str, body: Any) -> None:
        core = self.core
        method = body.get("method") if isinstance(body, dict) else None
        name = method.get("name") if isinstance(method, dict) else None
        if not isinstance(name, str):
            raise BadRequest("The import request needs 'method': {'name': ...}.")
        if name not in IMPORT_METHODS:
            raise BadRequest(
                f"Import method {name} is not enabled; onestack supports "
                f"{', '.join(IMPORT_METHODS)}."
            )
        stores = body.get("stores")
        if stores is not None and (not isinstance(stores, list) or set(stores) - {"file"}):
            raise Conflict("Unknown store requested; onestack has the store 'file' only.")
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "import_image", image)
            if image.status != states.UPLOADING or image.staged_size is None or not image.location:
                raise Conflict(
                    f"Image {image_id} has no staged data to import (status {image.status})."
                )
            if image.owner:
                core.quotas.check(
                    session, image.owner, {"image_size_total": mib(image.staged_size)}
                )
            image.status = states.IMPORTING
            staged_location, size = image.location, image.staged_size
            task_id = str(uuid.uuid4())
            session.add(
                ImageTask(
                    id=task_id,
                    image_id=image_id,
                    type="api_image_import",
                    status="processing",
                    owner=ctx.project_id,
                    user_id=ctx.user_id,
                    request_id=ctx.request_id,
                    input={
                        "image_id": image_id,
                        "import_req": body,
                        "backend": ["file"],
                    },
                )
            )
        try:
            location = core.store.adopt(image_id, core.staging.local_path(staged_location))
        except BaseException as exc:
            with core.db.writer() as session:
                row = session.get(Image, image_id)
                if row is not None and row.status == states.IMPORTING:
                    row.status = states.UPLOADING
                _finish_task(session, task_id, "failure", message=str(exc))
            raise
        with core.db.writer() as session:
            done = session.get(Image, image_id)
            if done is None:
                core.store.delete(location)
                raise ImageGone(image_id=image_id)
            done.location = location
            done.size = size
            done.staged_size = None
            done.status = states.ACTIVE
            done.updated_at = utcnow()
            _finish_task(session, task_id, "success", result={"image_id": image_id})

    def tasks(self, ctx: RequestContext, image_id: str) -> list[ImageTask]:
        """The image's import tasks, oldest first."""
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_image", image)
            return list(
                session.scalars(
                    select(ImageTask)
                    .where(ImageTask.image_id == image_id)
                    .order_by(ImageTask.created_at, ImageTask.id)
                )
            )

    # -- after a crash ----------------------------------------------------------

    def reconcile(self) -> int:
        """Uploads in flight go back to queued (imports to staged), temp files go.

        Returns how many uploads were reset.
        """
        core = self.core
        core.store.clean_incoming()
        core.staging.clean_incoming()
        with core.db.writer() as session:
            rows = list(session.scalars(select(Image).where(Image.status == states.SAVING)))
            for image in rows:
                image.status = states.QUEUED
            for image in session.scalars(select(Image).where(Image.status == states.IMPORTING)):
                image.status = states.UPLOADING
        return len(rows)

    # -- download -------------------------------------------------------------

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        """The active image's data file (for other services; no download policy)."""
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            if image.status != states.ACTIVE or not image.location:
                raise Conflict(f"Image {image_id} is {image.status}, not active; it has no data.")
            location = image.location
        return core.store.local_path(location)

    def download(self, ctx: RequestContext, image_id: str) -> tuple[Image, Path | None]:
        """The image and its data file (None when it has no data yet)."""
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "download_image", image)
        if image.status == states.DEACTIVATED and not ctx.is_admin:
            raise Forbidden(
                "The requested image has been deactivated. Image data download is forbidden."
            )
        if image.status not in states.HAS_DATA or not image.location:
            return image, None
        return image, core.store.local_path(image.location)


def _finish_task(
    session: Session,
    task_id: str,
    status: str,
    *,
    message: str = "",
    result: dict[str, Any] | None = None,
) -> None:
    task = session.get(ImageTask, task_id)
    if task is not None:
        task.status = status
        task.message = message
        task.result = result
        task.updated_at = utcnow()
